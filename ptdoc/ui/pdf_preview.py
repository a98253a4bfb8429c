"""Preview a PDF inside ptdoc, print it through the system dialog, or save it.

PySide6's PyPI wheels do not ship QtPdf, so pages are rendered with PDFium (pypdfium2) into
images: the same pixels for the screen and, at the printer's resolution, for paper.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAction, QImage, QKeySequence, QPainter, QPixmap
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ptdoc.errors import AccountDisabled
from ptdoc.files import write_private
from ptdoc.ui.widgets import hbox


def show_pdf(make: Callable[[], PdfPreview]) -> None:
    """Make the paper and show its preview; a user disabled meanwhile gets none (the window
    has gone back to the sign-in screen, which says why)."""
    try:
        preview = make()
    except AccountDisabled:
        return
    preview.exec()


def page_count(pdf: bytes) -> int:
    return len(pdfium.PdfDocument(pdf))


def render_pages(pdf: bytes, dpi: float = 96, first: int = 0,
                 last: int | None = None) -> list[QImage]:
    """Pages as images (PDF points are 1/72 inch)."""
    doc = pdfium.PdfDocument(pdf)
    images = []
    for index in range(first, len(doc) if last is None else min(last + 1, len(doc))):
        bitmap = doc[index].render(scale=dpi / 72)
        # PDFium writes BGRA bytes, which is QImage's RGB32 in memory on little-endian CPUs.
        image = QImage(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride,
                       QImage.Format.Format_RGB32 if bitmap.n_channels == 4
                       else QImage.Format.Format_BGR888)
        images.append(image.copy())
    return images


def print_pdf(pdf: bytes, printer: QPrinter) -> int:
    """Paint every page on the printer at its resolution; the number of pages printed."""
    painter = QPainter()
    if not painter.begin(printer):
        return 0
    count = page_count(pdf)
    try:
        for index in range(count):
            if index:
                printer.newPage()
            image = render_pages(pdf, printer.resolution(), index, index)[0]
            area = painter.viewport()
            size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawImage(QRect(area.x(), area.y(), size.width(), size.height()), image)
    finally:
        painter.end()
    return count


class PdfPreview(QDialog):
    """The document's pages, with Print (Ctrl+P) and Save as PDF (Ctrl+S)."""

    def __init__(self, pdf: bytes, title: str, suggested_name: str,
                 on_output: Callable[[str], None], parent: QWidget | None = None):
        super().__init__(parent)
        self.pdf = pdf
        self.suggested_name = suggested_name
        self.on_output = on_output  # told "print" or "save", for the audit log
        self.setWindowTitle(title)
        self.setObjectName("pdf_preview")
        pages = QWidget()
        column = QVBoxLayout(pages)
        self.images = render_pages(pdf, 80)
        for number, image in enumerate(self.images, start=1):
            label = QLabel(objectName=f"preview_page_{number}")
            label.setPixmap(QPixmap.fromImage(image))
            label.setAccessibleName(f"Page {number} of {len(self.images)}")
            column.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
        self.scroll = QScrollArea(objectName="preview_pages")
        self.scroll.setWidget(pages)
        self.scroll.setAccessibleName("Pages")
        self.scroll.setWidgetResizable(True)
        self.status = QLabel(f"{len(self.images)} page{'s' * (len(self.images) != 1)}",
                             objectName="preview_status")
        self.print_button = QPushButton("Print…", objectName="preview_print")
        self.save_button = QPushButton("Save as PDF…", objectName="preview_save")
        self.close_button = QPushButton("Close", objectName="preview_close")
        for button, keys, slot in ((self.print_button, QKeySequence.StandardKey.Print,
                                    self.print_document),
                                   (self.save_button, QKeySequence.StandardKey.Save,
                                    self.save_document)):
            action = QAction(button.text(), self)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(slot)
            self.addAction(action)
            button.clicked.connect(action.trigger)
            button.setToolTip(action.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
        self.close_button.clicked.connect(self.accept)
        row = hbox(self.status, self.print_button, self.save_button, self.close_button,
                   grow=self.status)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(row)
        screen = self.screen().availableGeometry() if self.screen() else None
        self.resize(760, min(900, screen.height() - 60) if screen else 700)

    def print_document(self, printer: QPrinter | None = None) -> None:
        if printer is None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            dialog = QPrintDialog(printer, self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
        printed = print_pdf(self.pdf, printer)
        if printed:
            self.on_output("print")
            self.status.setText(f"Sent {printed} page{'s' * (printed != 1)} to the printer")

    def save_document(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save as PDF", self.suggested_name,
                                                  "PDF (*.pdf)")
            if not path:
                return
        try:
            write_private(Path(path), self.pdf)  # patient data: 0600
        except OSError as exc:
            self.status.setText(f"Could not save {path}: {exc.strerror}")
            return
        self.on_output("save")
        self.status.setText(f"Saved {path}")
