"""A patient's progression in one exercise: load, reps and hold across visits."""

from __future__ import annotations

import itertools
from decimal import Decimal

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from ptdoc.domain import Patient
from ptdoc.paper import date_ticks, sets_reps
from ptdoc.services import Workspace
from ptdoc.ui.widgets import hbox

SERIES = (("load", "Load", "#1f77b4"), ("reps", "Reps", "#d62728"),
          ("hold_seconds", "Hold (s)", "#2ca02c"))


class ProgressionChart(QWidget):
    """Each series scaled to its own maximum: the shape of the progression is what matters."""

    def __init__(self) -> None:
        super().__init__(objectName="progression_chart")
        self.rows: list[dict] = []
        self.setMinimumSize(520, 260)
        self.setAccessibleName("Progression chart")

    def set_rows(self, rows: list[dict]) -> None:
        self.rows = rows
        summary = "; ".join(f"{r['date']}: {sets_reps(r['sets'], r['reps']) or 'no sets'}"
                            f"{' ' + str(r['load']) + (r['load_unit'] or '') if r['load'] else ''}"
                            for r in rows)
        self.setAccessibleDescription(summary)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        left, top, right, bottom = 40, 30, self.width() - 20, self.height() - 44
        p.setPen(QPen(QColor("#888")))
        p.drawLine(left, bottom, right, bottom)
        p.drawLine(left, top, left, bottom)
        if not self.rows:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No visits with this exercise")
            return
        n = len(self.rows)
        xs = [left + (right - left) * (i / max(1, n - 1)) for i in range(n)]
        # A date is about 40 px wide: as many as fit, evenly spread, first and last kept.
        for i in date_ticks(n, int((right - left) // 48)):
            p.drawText(QPointF(xs[i] - 18, bottom + 16), str(self.rows[i]["date"])[5:])
        p.setPen(QPen(QColor("#444")))
        p.drawText(QPointF((left + right) / 2 - 60, bottom + 34), "Visit date (month-day)")
        p.save()
        p.translate(12, (top + bottom) / 2 + 55)
        p.rotate(-90)
        p.drawText(QPointF(0, 0), "% of its highest value")
        p.restore()
        for legend, (key, label, colour) in enumerate(SERIES):
            values = [Decimal(str(r[key])) if r[key] is not None else None for r in self.rows]
            present = [v for v in values if v is not None]
            p.setPen(QPen(QColor(colour), 2))
            units = [r["load_unit"] for r in self.rows if r.get("load_unit")]
            unit = f" {units[-1]}" if key == "load" and units else ""
            # Each line is a share of its own highest value, which the legend gives.
            most = f" (max {max(present):g}{unit})" if present else ""
            p.drawText(QPointF(left + 10 + legend * 150, top - 10), f"— {label}{most}")
            if not present:
                continue
            peak = max(present) or Decimal(1)
            points = [QPointF(xs[i], bottom - float(v / peak) * (bottom - top - 10))
                      for i, v in enumerate(values) if v is not None]
            for a, b in itertools.pairwise(points):
                p.drawLine(a, b)
            for point in points:
                p.drawEllipse(point, 3, 3)


class ProgressionDialog(QDialog):
    def __init__(self, workspace: Workspace, patient: Patient, exercise: str | None,
                 parent: QWidget | None = None, session_id: int | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.patient = patient
        self.session_id = session_id  # the note open: plotted with the signed visits
        self.setWindowTitle(f"Progression — {patient.display_name}")
        self.exercise = QComboBox(objectName="progression_exercise")
        self.exercise.addItems(workspace.store.sessions.exercise_names(patient.id or 0,
                                                                     session_id))
        label = QLabel("&Exercise:")
        label.setBuddy(self.exercise)
        self.chart = ProgressionChart()
        self.table = QLabel(objectName="progression_values")
        self.table.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.exercise)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.table)
        close = QPushButton("&Close", objectName="progression_close")
        close.clicked.connect(self.accept)
        layout.addLayout(hbox(None, close))
        self.exercise.currentTextChanged.connect(self._show)
        if exercise:
            self.exercise.setCurrentText(exercise)
        self._show(self.exercise.currentText())

    def _show(self, name: str) -> None:
        rows = self.workspace.exercise_history(self.patient.id or 0, name,
                                               self.session_id) if name else []
        self.chart.set_rows(rows)
        self.table.setText(self.chart.accessibleDescription() or "No visits yet.")
