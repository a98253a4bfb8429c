"""The forms of setting up a clinic, each one widget used by both the first-run setup and the
administration window: the clinic's settings, a user, a password, a new payer, a payer's
billing rules.

A form reads its inputs into a domain value (``value()``), which validates itself; a refusal
is shown beside the field it names (``show_errors``), never in a box.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from ptdoc import auth, clock, fields
from ptdoc.catalog import payer_from_profile, payer_profiles
from ptdoc.domain import (
    OFFICE,
    PLACES_OF_SERVICE,
    Clinic,
    Credential,
    Payer,
    UnitMethod,
    User,
    place_of_service_text,
)
from ptdoc.errors import Problem, ValidationError
from ptdoc.ui.widgets import FieldError, add_field, show_problems

CREDENTIAL_TEXT = {Credential.PT: "PT (physical therapist)",
                   Credential.DPT: "DPT (doctor of physical therapy)",
                   Credential.PTA: "PTA (physical therapist assistant)",
                   Credential.AIDE: "Aide", Credential.FRONT_DESK: "Front desk",
                   Credential.ADMIN: "Administrator"}


class Form(QWidget):
    """A form whose inputs have an error line each (keyed by the domain's field names)."""

    def __init__(self, name: str):
        super().__init__(objectName=name)
        self.layout_ = QFormLayout(self)
        self.errors: dict[str, FieldError] = {}
        self.inputs: dict[str, QWidget] = {}

    def field(self, label: str, widget: QWidget, name: str) -> None:
        self.errors[name] = add_field(self.layout_, label, widget, name)
        self.inputs[name] = widget

    def clear_errors(self) -> None:
        for error in self.errors.values():
            error.clear_message()

    def show_errors(self, exc: ValidationError) -> None:
        """Each problem beside its field (the first such field gets the focus); a problem
        this form has no field for goes beside the first field, so nothing is hidden."""
        shown = show_problems(self.errors, exc, next(iter(self.errors)))
        first = next((self.inputs[name] for name in self.errors if name in shown), None)
        if first is not None:
            first.setFocus()
            if isinstance(first, QLineEdit):
                first.selectAll()

    def error_text(self, name: str) -> str:
        error = self.errors[name]
        return error.accessibleName() if error.isVisible() else ""


def _line(text: str = "", password: bool = False) -> QLineEdit:
    line = QLineEdit(text)
    if password:
        line.setEchoMode(QLineEdit.EchoMode.Password)
    return line


def _npi(text: str) -> str | None:
    return text.strip() or None


class ClinicForm(Form):
    """Name, address, phone, group NPI, place of service (a CMS code: chosen, or typed),
    time zone (a searchable list of IANA names), the idle-lock minutes and how long a draft
    open on another workstation may go unsaved before it may be taken over."""

    def __init__(self, clinic: Clinic | None = None):
        super().__init__("clinic_form")
        self.name = _line(clinic.name if clinic else "")
        self.address = _line(clinic.address if clinic else "")
        self.phone = _line(clinic.phone if clinic else "")
        self.npi = _line(clinic.npi or "" if clinic else "")
        self.npi.setPlaceholderText("10 digits, optional")
        self.time_zone = QComboBox()
        self.time_zone.setEditable(True)
        self.time_zone.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.time_zone.addItems(sorted(zoneinfo.available_timezones()))
        completer = QCompleter(self.time_zone.model(), self.time_zone)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)  # "chicago" finds America/Chicago
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.time_zone.setCompleter(completer)
        self.time_zone.setEditText(clinic.time_zone if clinic else clock.workstation_zone())
        self.idle_lock = QSpinBox()
        self.idle_lock.setRange(int(fields.IDLE_LOCK.low), int(fields.IDLE_LOCK.high))
        self.idle_lock.setValue(clinic.idle_lock_minutes if clinic else 10)
        self.idle_lock.setSuffix(" minutes")
        self.draft_idle = QSpinBox(objectName="draft_idle")
        self.draft_idle.setRange(int(fields.DRAFT_IDLE.low), int(fields.DRAFT_IDLE.high))
        self.draft_idle.setValue(clinic.draft_idle_minutes if clinic else
                                 fields.DRAFT_IDLE_DEFAULT)
        self.draft_idle.setSuffix(" minutes without a save")
        self.draft_idle.setToolTip("A draft open on another workstation and not saved there "
                                   "for this long may be taken over (ptdoc asks first)")
        # Editable: "22" typed is enough; a code that is not one is refused beside the field.
        # No inline completion: it would take the Enter that goes on to the next step.
        self.place_of_service = QComboBox()
        self.place_of_service.setEditable(True)
        self.place_of_service.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.place_of_service.setCompleter(None)
        for code in PLACES_OF_SERVICE:
            self.place_of_service.addItem(place_of_service_text(code), code)
        self.place_of_service.setEditText(place_of_service_text(
            clinic.place_of_service if clinic else OFFICE))
        self.field("Clinic na&me:", self.name, "name")
        self.field("A&ddress:", self.address, "address")
        self.field("&Phone:", self.phone, "phone")
        self.field("Group NP&I:", self.npi, "npi")
        self.field("P&lace of service:", self.place_of_service, "place_of_service")
        self.field("&Time zone:", self.time_zone, "time_zone")
        self.field("Idle loc&k after:", self.idle_lock, "idle_lock_minutes")
        self.field("Open d&rafts idle after:", self.draft_idle, "draft_idle_minutes")

    def value(self) -> Clinic:
        """The clinic as typed (ValidationError naming each wrong field)."""
        # The code is what comes before the name ("22 (on campus-outpatient hospital)").
        typed = self.place_of_service.currentText().strip()
        place = typed.split(" ", 1)[0] if typed else ""
        return Clinic(self.name.text().strip(), self.address.text().strip(),
                      self.phone.text().strip(), _npi(self.npi.text()),
                      self.idle_lock.value(), self.time_zone.currentText().strip(), place,
                      self.draft_idle.value())


class PasswordForm(Form):
    """A new password or PIN, typed twice."""

    def __init__(self) -> None:
        super().__init__("password_form")
        self.password = _line(password=True)
        self.again = _line(password=True)
        self.field("Pass&word or PIN:", self.password, "password")
        self.field("Password a&gain:", self.again, "password_again")

    def value(self) -> str:
        secret = self.password.text()
        problems = []
        if not secret:
            problems.append(Problem("password", "Password: type a password of 8 or more "
                                                "characters, or a PIN of 4 or more digits"))
        elif secret != self.again.text():
            problems.append(Problem("password_again", "The two passwords differ: type the "
                                                      "same password twice"))
        if problems:
            raise ValidationError(problems)
        auth.check_secret(secret)
        return secret

    def clear(self) -> None:
        self.password.clear()
        self.again.clear()


class UserForm(Form):
    """A user: user name, full name, credential, NPI (for clinicians) and, for a new user, the
    initial password twice. ``credential`` fixes the credential (the first administrator);
    editing an existing user leaves out the user name and the password."""

    def __init__(self, user: User | None = None, credential: Credential | None = None,
                 with_password: bool = True):
        super().__init__("user_form")
        self.existing = user
        self.username = _line(user.username if user else "")
        self.username.setPlaceholderText("lower-case letters, digits, '.', '_' or '-'")
        self.full_name = _line(user.full_name if user else "")
        self.credential = QComboBox()
        for cred in Credential:
            self.credential.addItem(CREDENTIAL_TEXT[cred], cred.value)  # Qt keeps a str
        chosen = credential or (user.credential if user else Credential.PT)
        self.credential.setCurrentIndex(self.credential.findData(chosen.value))
        self.credential.setEnabled(credential is None)
        self.npi = _line(user.npi or "" if user else "")
        self.npi.setPlaceholderText("10 digits; required for a PT or DPT")
        self.field("User na&me:", self.username, "username")
        self.username.setEnabled(user is None)
        self.field("Full n&ame:", self.full_name, "full_name")
        self.field("C&redential:", self.credential, "credential")
        self.field("NP&I:", self.npi, "npi")
        self.passwords = PasswordForm() if with_password else None
        if self.passwords is not None:
            self.layout_.addRow(self.passwords)
            self.passwords.layout_.setContentsMargins(0, 0, 0, 0)

    def value(self) -> tuple[User, str | None]:
        """The user and the initial password as typed; every wrong field at once."""
        problems: list[Problem] = []
        user: User | None = None
        try:
            user = User(self.username.text().strip(), self.full_name.text().strip(),
                        Credential(self.credential.currentData()), _npi(self.npi.text()),
                        id=self.existing.id if self.existing else None)
            if self.existing is not None:
                user = replace(user, active=self.existing.active)
        except ValidationError as exc:
            problems += exc.problems
        secret: str | None = None
        if self.passwords is not None:
            try:
                secret = self.passwords.value()
            except ValidationError as exc:
                problems += exc.problems
        if problems or user is None:
            raise ValidationError(problems)
        return user, secret

    def show_errors(self, exc: ValidationError) -> None:
        mine = [p for p in exc.problems if not p.field.startswith("password")]
        theirs = [p for p in exc.problems if p.field.startswith("password")]
        if mine or not theirs:
            super().show_errors(ValidationError(mine) if mine else exc)
        else:
            self.clear_errors()
        if self.passwords is not None:
            self.passwords.clear_errors()
            if theirs:
                self.passwords.show_errors(ValidationError(theirs))
                if mine:
                    self.inputs[mine[0].field if mine[0].field in self.inputs
                                else "username"].setFocus()

    def clear(self) -> None:
        for line in (self.username, self.full_name, self.npi):
            line.clear()
        if self.passwords is not None:
            self.passwords.clear()
        self.clear_errors()


class PayerForm(Form):
    """A new payer: its name and the profile its billing rules start from."""

    def __init__(self) -> None:
        super().__init__("payer_form")
        self.name = _line()
        self.profile = QComboBox()
        for key, profile in payer_profiles().items():
            self.profile.addItem(profile["label"], key)
        self.field("Payer na&me:", self.name, "name")
        self.field("P&rofile:", self.profile, "profile")

    def value(self) -> Payer:
        return payer_from_profile(self.name.text().strip(), self.profile.currentData())

    def clear(self) -> None:
        self.name.clear()
        self.clear_errors()


class PayerRulesForm(Form):
    """How one payer bills: the unit method and the GP, CQ, KX and code-pair rules."""

    FLAGS = (("gp_required", "&GP modifier required"), ("cq_applies", "C&Q applies (PTA)"),
             ("kx_applies", "&KX threshold applies"), ("code_pair_edits", "Code-&pair edits"))

    def __init__(self) -> None:
        super().__init__("payer_rules_form")
        self.payer: Payer | None = None
        self.unit_method = QComboBox()
        self.unit_method.addItem("CMS total time (8-minute rule)", UnitMethod.CMS.value)
        self.unit_method.addItem("Per code (each code on its own)", UnitMethod.PER_CODE.value)
        self.field("Uni&t method:", self.unit_method, "unit_method")
        self.flags: dict[str, QCheckBox] = {}
        for name, text in self.FLAGS:
            box = QCheckBox(text, objectName=f"flag_{name}")
            self.flags[name] = box
            self.layout_.addRow("", box)
        self.setEnabled(False)

    def show_payer(self, payer: Payer | None) -> None:
        self.payer = payer
        self.setEnabled(payer is not None)
        self.clear_errors()
        if payer is None:
            return
        self.unit_method.setCurrentIndex(self.unit_method.findData(payer.unit_method.value))
        for name, box in self.flags.items():
            box.setChecked(bool(getattr(payer, name)))

    def value(self) -> Payer:
        if self.payer is None:
            raise ValidationError.single("unit_method", "Choose a payer in the list first")
        return replace(self.payer, unit_method=UnitMethod(self.unit_method.currentData()),
                       **{name: box.isChecked() for name, box in self.flags.items()})
