"""Register or correct a patient: demographics, MRN, primary and secondary payer. A likely
duplicate is shown before saving, with the choice to open that patient or save anyway."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ptdoc.domain import Patient, Sex
from ptdoc.errors import KnownError, ValidationError
from ptdoc.fields import DATE_FORMS, parse_date
from ptdoc.services import Workspace
from ptdoc.services.patients import NEW_MRN
from ptdoc.ui.new_session import patient_line
from ptdoc.ui.widgets import FieldError, add_field, show_problems

NOTICE_STYLE = "QFrame { background: #fff6d5; border: 1px solid #d9c36c; }"


class PatientDialog(QDialog):
    """``patient`` None registers a new one. After exec(): ``saved`` is the stored patient,
    or ``open_existing`` the patient the user chose to open instead of a duplicate."""

    def __init__(self, workspace: Workspace, patient: Patient | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.original = patient
        self.saved: Patient | None = None
        self.open_existing: Patient | None = None
        self.duplicates: list[Patient] = []
        self.setWindowTitle("New patient" if patient is None else
                            f"Patient {patient.display_name}")
        self.setObjectName("patient_dialog")
        form = QFormLayout()
        self.first = QLineEdit()
        self.last = QLineEdit()
        self.born = QLineEdit(placeholderText=DATE_FORMS)
        self.sex = QComboBox()
        self.sex.addItem("Not recorded", None)
        for s in Sex:
            self.sex.addItem(s.value.capitalize(), s.value)
        self.phone = QLineEdit()
        self.address = QLineEdit()
        self.mrn = QLineEdit(placeholderText="assigned on saving (the clinic's next)")
        self.payer = QComboBox()
        self.member_id = QLineEdit()
        self.second_payer = QComboBox()
        self.second_member_id = QLineEdit()
        for box, none in ((self.payer, "No payer (self-pay)"),
                          (self.second_payer, "No secondary payer")):
            box.addItem(none, None)
            for p in workspace.payers():
                box.addItem(p.name, p.id)
        self.errors: dict[str, FieldError] = {}
        for label, widget, name in (
                ("&First name:", self.first, "first_name"),
                ("&Last name:", self.last, "last_name"),
                ("Date of &birth:", self.born, "date_of_birth"),
                ("Se&x:", self.sex, "sex"),
                ("P&hone:", self.phone, "phone"),
                ("Add&ress:", self.address, "address"),
                ("&MRN:", self.mrn, "mrn"),
                ("&Payer:", self.payer, "payer_id"),
                ("Memb&er ID:", self.member_id, "member_id"),
                ("Se&condary payer:", self.second_payer, "secondary_payer_id"),
                ("Secondary member &ID:", self.second_member_id, "secondary_member_id")):
            self.errors[name] = add_field(form, label, widget, name)
        self.errors["form"] = FieldError("form")

        # The duplicate question, inside the form so nothing typed is lost by answering it.
        self.duplicate_box = QFrame(objectName="duplicate_box")
        self.duplicate_box.setStyleSheet(NOTICE_STYLE)
        self.duplicate_text = QLabel(objectName="duplicate_text")
        self.duplicate_text.setWordWrap(True)
        self.open_button = QPushButton("&Open the existing patient", objectName="open_existing")
        self.anyway_button = QPushButton("Save &anyway", objectName="save_anyway")
        column = QVBoxLayout(self.duplicate_box)
        column.addWidget(self.duplicate_text)
        column.addWidget(self.open_button)
        column.addWidget(self.anyway_button)
        self.duplicate_box.hide()

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save |
                                   QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("&Save")
        self.save_button.setObjectName("patient_save")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Cancel")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.duplicate_box)
        layout.addWidget(self.errors["form"])
        layout.addWidget(buttons)
        buttons.accepted.connect(lambda: self._save(allow_duplicate=False))
        buttons.rejected.connect(self.reject)
        self.open_button.clicked.connect(self._open_existing)
        self.anyway_button.clicked.connect(lambda: self._save(allow_duplicate=True))
        if patient is not None:
            self._load(patient)
        self.resize(560, self.sizeHint().height())
        self.first.setFocus()

    def _load(self, p: Patient) -> None:
        self.first.setText(p.first_name)
        self.last.setText(p.last_name)
        self.born.setText(p.date_of_birth.isoformat())
        self.sex.setCurrentIndex(max(0, self.sex.findData(p.sex.value if p.sex else None)))
        self.phone.setText(p.phone)
        self.address.setText(p.address)
        self.mrn.setText(p.mrn)
        self.payer.setCurrentIndex(max(0, self.payer.findData(p.payer_id)))
        self.member_id.setText(p.member_id)
        self.second_payer.setCurrentIndex(max(0, self.second_payer.findData(
            p.secondary_payer_id)))
        self.second_member_id.setText(p.secondary_member_id)

    def typed(self) -> Patient:
        """The patient as typed; raises ValidationError naming every field refused."""
        born = parse_date(self.born.text(), "Date of birth", "date_of_birth")
        if born is None:
            raise ValidationError.single("date_of_birth", f"Date of birth is required "
                                                          f"({DATE_FORMS})")
        sex = self.sex.currentData()
        patient = Patient(
            self.mrn.text().strip() or NEW_MRN, self.first.text().strip(),
            self.last.text().strip(), born, self.payer.currentData(),
            self.member_id.text().strip(), sex=Sex(sex) if sex else None,
            phone=self.phone.text().strip(), address=self.address.text().strip(),
            secondary_payer_id=self.second_payer.currentData(),
            secondary_member_id=self.second_member_id.text().strip())
        if self.original is not None:
            patient = replace(patient, id=self.original.id)
        return patient

    def _save(self, allow_duplicate: bool) -> None:
        ws = self.workspace
        try:
            patient = self.typed()
            duplicates = [] if allow_duplicate else ws.likely_duplicates(patient)
            if duplicates:
                self._ask_about(duplicates)
                return
            if self.original is None:
                self.saved = ws.add_patient(patient, assign_mrn=not self.mrn.text().strip())
            else:
                ws.update_patient(patient)
                self.saved = patient
        except KnownError as exc:
            show_problems(self.errors, exc, "form")
            return
        self.accept()

    def _ask_about(self, duplicates: list[Patient]) -> None:
        for error in self.errors.values():
            error.clear_message()
        self.duplicates = duplicates
        names = "\n".join(f"• {patient_line(d)}" for d in duplicates)
        self.duplicate_text.setText(f"Probably already registered (the same name and date of "
                                    f"birth, or the same member ID):\n{names}")
        self.duplicate_box.show()
        self.open_button.setFocus()

    def _open_existing(self) -> None:
        self.open_existing = self.duplicates[0]
        self.accept()
