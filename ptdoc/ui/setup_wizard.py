"""First run: a clinic's database with no users is set up here, step by step: the clinic,
its first administrator, its users, its payers, (optional) its fees, and (optional) its
patient list from the old system. Then the normal sign-in follows.

Each step saves through the services when it is left with Next: the administrator is created
by ``first_administrator`` (the step cannot be gone back to: the account exists), and
everything after it is done as that administrator, so the audit log names them.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from ptdoc.domain import Clinic, Credential, User
from ptdoc.errors import KnownError, ValidationError
from ptdoc.services import Workspace
from ptdoc.store import Store
from ptdoc.ui.admin_forms import ClinicForm, Form, PayerForm, UserForm
from ptdoc.ui.admin_window import FeesTab
from ptdoc.ui.patient_import import ImportPanel
from ptdoc.ui.widgets import FieldError, hbox


class _Page(QWizardPage):
    def __init__(self, title: str, subtitle: str, form: Form):
        super().__init__()
        self.setTitle(title)
        self.setSubTitle(subtitle)
        self.form = form
        self.message = FieldError("page")
        self.layout_ = QVBoxLayout(self)
        self.layout_.addWidget(form)
        self.layout_.addWidget(self.message)

    def attempt(self, act: Callable[[], object]) -> bool:
        """Run a step's act; a refusal is shown beside its field (or on the page)."""
        self.message.clear_message()
        try:
            act()
        except ValidationError as exc:
            self.form.show_errors(exc)
            return False
        except KnownError as exc:
            self.message.show_message(str(exc))
            return False
        self.form.clear_errors()
        return True


class _ListPage(_Page):
    """A form that adds one item at a time to a list (users, payers); Next adds what is typed."""

    def __init__(self, title: str, subtitle: str, form: Form, button: str, listed: str):
        super().__init__(title, subtitle, form)
        self.add_button = QPushButton(button, objectName="add_button")
        self.add_button.setAutoDefault(False)  # Enter is Next (or Finish), Alt+letter adds
        self.added = QListWidget(objectName="added")
        self.added.setAccessibleName(listed)
        caption = QLabel(listed)
        self.layout_.insertLayout(1, hbox(None, self.add_button))
        self.layout_.addWidget(caption)
        self.layout_.addWidget(self.added, 1)
        self.add_button.clicked.connect(lambda: self.add())

    def typed(self) -> bool:
        raise NotImplementedError

    def add(self) -> bool:
        raise NotImplementedError

    def validatePage(self) -> bool:
        return not self.typed() or self.add()


class SetupWizard(QWizard):
    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("setup_wizard")
        self.setWindowTitle("ptdoc — set up a new clinic")
        self.store = store
        self.clinic: Clinic | None = None
        self.admin: User | None = None
        self.workspace: Workspace | None = None  # the new administrator's, after step 2
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.clinic_page = ClinicPage(self)
        self.admin_page = AdminPage(self)
        self.users_page = UsersPage(self)
        self.payers_page = PayersPage(self)
        self.fees_page = FeesPage(self)
        self.patients_page = PatientsPage(self)
        for page in (self.clinic_page, self.admin_page, self.users_page, self.payers_page,
                     self.fees_page, self.patients_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Create administrator")
        self.resize(720, 620)  # fits a 1366x768 screen with its frame


class ClinicPage(_Page):
    def __init__(self, wizard: SetupWizard):
        super().__init__("The clinic", "Its name and address print on every note; the group "
                         "NPI is checked by its check digit; the place of service goes on "
                         "every claim line; times show in its time zone.",
                         ClinicForm())
        self.wizard_ = wizard

    def validatePage(self) -> bool:
        def keep() -> None:
            self.wizard_.clinic = self.form.value()
        return self.attempt(keep)


class AdminPage(_Page):
    def __init__(self, wizard: SetupWizard):
        super().__init__("The first administrator", "The administrator adds users, resets "
                         "passwords and changes the clinic's settings, payers and fees.",
                         UserForm(credential=Credential.ADMIN))
        self.wizard_ = wizard
        self.setCommitPage(True)  # the account exists once this step is left

    def validatePage(self) -> bool:
        wizard = self.wizard_

        def create() -> None:
            user, secret = self.form.value()
            admin = Workspace(wizard.store, None).first_administrator(user, secret or "")
            workspace = Workspace(wizard.store, admin)
            if wizard.clinic is not None:
                workspace.save_clinic(wizard.clinic)
            wizard.admin, wizard.workspace = admin, workspace
        return self.attempt(create)


class UsersPage(_ListPage):
    def __init__(self, wizard: SetupWizard):
        super().__init__("The clinic's users", "Add each therapist, assistant, aide and front "
                         "desk person (Alt+D adds one and clears the form; Next adds what is "
                         "typed and goes on). Users can also be added later under "
                         "File ▸ Administration.", UserForm(), "A&dd user", "Users added:")
        self.wizard_ = wizard

    def typed(self) -> bool:
        return bool(self.form.username.text().strip() or self.form.full_name.text().strip())

    def add(self) -> bool:
        def add_user() -> None:
            assert self.wizard_.workspace is not None
            user, secret = self.form.value()
            user = self.wizard_.workspace.add_user(user, secret or "")
            self.added.addItem(f"{user.username} — {user.display}")
            self.form.clear()
        if self.attempt(add_user):
            self.form.username.setFocus()
            return True
        return False


class PayersPage(_ListPage):
    def __init__(self, wizard: SetupWizard):
        super().__init__("Payers", "Add the clinic's payers; each starts from its profile's "
                         "billing rules, which can be changed under File ▸ Administration.",
                         PayerForm(), "A&dd payer", "Payers added:")
        self.wizard_ = wizard

    def typed(self) -> bool:
        return bool(self.form.name.text().strip())

    def add(self) -> bool:
        def add_payer() -> None:
            assert self.wizard_.workspace is not None
            payer = self.wizard_.workspace.add_payer(self.form.value())
            self.added.addItem(f"{payer.name} — {self.form.profile.currentText()}")
            self.form.clear()
        if self.attempt(add_payer):
            self.form.name.setFocus()
            return True
        return False


class FeesPage(QWizardPage):
    """This year's charge per unit for each code, typed now or later under File ▸
    Administration ▸ Fee schedule; superbills and the charges export list a code without a
    fee as missing, never guess it."""

    def __init__(self, wizard: SetupWizard):
        super().__init__()
        self.wizard_ = wizard
        self.setTitle("Fees (optional)")
        self.setSubTitle("The clinic's charge per unit for each code, printed on superbills "
                         "and the charges export. Type an amount and press Enter; Next goes "
                         "on. Fees can be changed later under File ▸ Administration.")
        self.tab: FeesTab | None = None
        self.layout_ = QVBoxLayout(self)

    def initializePage(self) -> None:
        # The schedule is saved as the new administrator, who exists from step 2.
        if self.tab is None and self.wizard_.workspace is not None:
            self.tab = FeesTab(self.wizard_.workspace)
            self.layout_.addWidget(self.tab)
        if self.tab is not None:
            self.tab.table.setCurrentCell(0, FeesTab.COL_AMOUNT)
            # After the wizard has given the page's first field (the year) the focus.
            QTimer.singleShot(0, self.tab.table.setFocus)


class PatientsPage(QWizardPage):
    """The patient list from the old system, imported now or later (File ▸ Import
    patients…); Finish without a file skips it."""

    def __init__(self, wizard: SetupWizard):
        super().__init__()
        self.setTitle("Patients (optional)")
        self.setSubTitle("Import the patient list exported from the old system now, or "
                         "Finish and import it later under File ▸ Import patients…")
        self.panel = ImportPanel(lambda: wizard.workspace)
        QVBoxLayout(self).addWidget(self.panel)
