"""Administration (administrators only): users, the clinic's settings, payers and the fee
schedule, on the forms the first-run setup uses. Every change goes through the services,
which check the role again and audit it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ptdoc import fields
from ptdoc.catalog import codes
from ptdoc.domain import User
from ptdoc.errors import AccountDisabled, KnownError, ValidationError
from ptdoc.services import Workspace
from ptdoc.ui.admin_forms import (
    CREDENTIAL_TEXT,
    ClinicForm,
    Form,
    PasswordForm,
    PayerForm,
    PayerRulesForm,
    UserForm,
)
from ptdoc.ui.widgets import FieldError, hbox


def attempt(form: Form, message: FieldError, act: Callable[[], object]) -> bool:
    """Do what the form asks; a refusal goes beside its field, anything else on the page."""
    message.clear_message()
    try:
        act()
    except AccountDisabled:
        raise  # the main window signs out
    except ValidationError as exc:
        form.show_errors(exc)
        return False
    except KnownError as exc:
        message.show_message(str(exc))
        return False
    form.clear_errors()
    return True


class FormDialog(QDialog):
    """One form with OK and Cancel; OK does ``act`` and closes only when it was accepted."""

    def __init__(self, title: str, form: Form, act: Callable[[], object], parent: QWidget):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = form
        self.message = FieldError("dialog")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        buttons.accepted.connect(lambda: attempt(form, self.message, act) and self.accept())
        buttons.rejected.connect(self.reject)


def _table(name: str, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers), objectName=name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _labelled(text: str, widget: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(widget)
    return label


class UsersTab(QWidget):
    def __init__(self, workspace: Workspace):
        super().__init__(objectName="users_tab")
        self.workspace = workspace
        self.table = _table("users_table", ["User", "Name", "Credential", "NPI", "Status"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.add_button = QPushButton("A&dd user…", objectName="add_user")
        self.edit_button = QPushButton("&Edit user…", objectName="edit_user")
        self.reset_button = QPushButton("&Reset password…", objectName="reset_password")
        self.disable_button = QPushButton("Disa&ble user", objectName="disable_user")
        self.message = FieldError("users")
        layout = QVBoxLayout(self)
        layout.addWidget(_labelled("&List of users:", self.table))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(hbox(self.add_button, self.edit_button, self.reset_button,
                              self.disable_button, None))
        self.add_button.clicked.connect(self.add_user)
        self.edit_button.clicked.connect(self.edit_user)
        self.reset_button.clicked.connect(self.reset_password)
        self.disable_button.clicked.connect(self.disable_user)
        self.users: list[User] = []
        self.reload()

    def reload(self, select: str | None = None) -> None:
        self.users = self.workspace.store.users.all()
        self.table.setRowCount(len(self.users))
        for row, user in enumerate(self.users):
            for col, text in enumerate((user.username, user.full_name,
                                        CREDENTIAL_TEXT[user.credential], user.npi or "",
                                        "active" if user.active else "disabled")):
                self.table.setItem(row, col, QTableWidgetItem(text))
            if user.username == select:
                self.table.selectRow(row)
        if select is None and self.users:
            self.table.selectRow(0)

    def selected(self) -> User | None:
        row = self.table.currentRow()
        if 0 <= row < len(self.users):
            return self.users[row]
        self.message.show_message("Choose a user in the list first.")
        return None

    def add_user(self) -> None:
        form = UserForm()

        def add() -> None:
            user, secret = form.value()
            added = self.workspace.add_user(user, secret or "")
            self.reload(added.username)
            self.message.show_done(f"User {added.username} added.")
        FormDialog("Add a user", form, add, self).exec()

    def edit_user(self) -> None:
        user = self.selected()
        if user is None:
            return
        form = UserForm(user, with_password=False)

        def save() -> None:
            changed, _ = form.value()
            self.workspace.update_user(changed)
            self.reload(user.username)
            self.message.show_done(f"User {user.username} saved.")
        FormDialog(f"Edit {user.username}", form, save, self).exec()

    def reset_password(self) -> None:
        user = self.selected()
        if user is None:
            return
        form = PasswordForm()

        def reset() -> None:
            # One's own password needs the current one (``ptdoc user password``): refused
            # here with that reason. Anyone else's is an administrator's reset.
            self.workspace.set_secret(user.username, form.value())
            self.message.show_done(f"The password of {user.username} is reset: give it "
                                      "to them in person. It is temporary: they choose "
                                      "their own at their next sign-in.")
        FormDialog(f"Reset the password of {user.username}", form, reset, self).exec()

    def disable_user(self) -> None:
        user = self.selected()
        if user is None:
            return
        answer = QMessageBox.question(self, "Disable user", f"Disable {user.display}? They "
                                      "cannot sign in any more; what they signed stays.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.workspace.disable_user(user.username)
        except AccountDisabled:
            raise
        except KnownError as exc:
            self.message.show_message(str(exc))
            return
        self.reload(user.username)
        self.message.show_done(f"{user.display} disabled: they cannot sign in any more.")


class ClinicTab(QWidget):
    def __init__(self, workspace: Workspace):
        super().__init__(objectName="clinic_tab")
        self.workspace = workspace
        self.form = ClinicForm(workspace.clinic())
        self.save_button = QPushButton("Sa&ve clinic", objectName="save_clinic")
        self.message = FieldError("clinic")
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.message)
        layout.addLayout(hbox(None, self.save_button))
        layout.addStretch(1)
        self.save_button.clicked.connect(
            lambda: attempt(self.form, self.message, self.save))

    def save(self) -> None:
        self.workspace.save_clinic(self.form.value())
        self.message.show_done("Clinic settings saved.")


class PayersTab(QWidget):
    def __init__(self, workspace: Workspace):
        super().__init__(objectName="payers_tab")
        self.workspace = workspace
        self.list = QListWidget(objectName="payers_list")
        self.new_form = PayerForm()
        self.add_button = QPushButton("A&dd payer", objectName="add_payer")
        self.rules = PayerRulesForm()
        self.save_button = QPushButton("Sa&ve payer", objectName="save_payer")
        self.message = FieldError("payers")
        left = QVBoxLayout()
        left.addWidget(_labelled("&List of payers:", self.list))
        left.addWidget(self.list, 1)
        left.addWidget(self.new_form)
        left.addLayout(hbox(None, self.add_button))
        right = QVBoxLayout()
        right.addWidget(QLabel("Billing rules of the chosen payer:"))
        right.addWidget(self.rules)
        right.addLayout(hbox(None, self.save_button))
        right.addWidget(self.message)
        right.addStretch(1)
        row = QHBoxLayout(self)
        row.addLayout(left, 1)
        row.addLayout(right, 1)
        self.list.currentItemChanged.connect(
            lambda item, _old: self.rules.show_payer(
                item.data(Qt.ItemDataRole.UserRole) if item else None))
        self.add_button.clicked.connect(self.add)
        self.new_form.name.returnPressed.connect(self.add)
        self.save_button.clicked.connect(self.save)
        self.reload()

    def reload(self, select: int | None = None) -> None:
        self.list.clear()
        for payer in self.workspace.store.payers.all():
            item = QListWidgetItem(f"{payer.name} ({payer.profile}, {payer.unit_method})")
            item.setData(Qt.ItemDataRole.UserRole, payer)
            self.list.addItem(item)
            if payer.id == select:
                self.list.setCurrentItem(item)
        if select is None and self.list.count():
            self.list.setCurrentRow(0)

    def add(self) -> None:
        def add() -> None:
            payer = self.workspace.add_payer(self.new_form.value())
            self.new_form.clear()
            self.reload(payer.id)
            self.message.show_done(f"Payer {payer.name} added.")
        attempt(self.new_form, self.message, add)

    def save(self) -> None:
        def save() -> None:
            payer = self.rules.value()
            self.workspace.update_payer(payer)
            self.reload(payer.id)
            self.message.show_done(f"Billing rules of {payer.name} saved.")
        attempt(self.rules, self.message, save)


class FeesTab(QWidget):
    """The fee schedule of a year: one row per code; typing an amount saves it."""

    COL_AMOUNT = 2

    def __init__(self, workspace: Workspace):
        super().__init__(objectName="fees_tab")
        self.workspace = workspace
        self.year = QSpinBox(objectName="fee_year")
        self.year.setRange(int(fields.YEAR.low), int(fields.YEAR.high))
        self.year.setValue(workspace.today().year)
        self.table = _table("fee_table", ["Code", "Description", "Amount ($)"])
        # Code and amount always in view; a long description is cut, not the table scrolled.
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.message = FieldError("fees")
        layout = QVBoxLayout(self)
        layout.addLayout(hbox(_labelled("Ye&ar:", self.year), self.year, None))
        layout.addWidget(_labelled("Amounts by c&ode (type an amount and press Enter):",
                                   self.table))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        self.codes = sorted(codes())
        self.saved: dict[str, Decimal] = {}  # the year's stored amounts, as shown
        self.year.valueChanged.connect(lambda _year: self.reload())
        self.table.itemChanged.connect(self._edited)
        self.reload()

    def reload(self) -> None:
        self.saved = self.workspace.store.fees.for_year(self.year.value())
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.codes))
        for row, code in enumerate(self.codes):
            info = codes()[code]
            for col, text in enumerate((code, info.description, self._shown(code))):
                item = QTableWidgetItem(text)
                if col != self.COL_AMOUNT:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, col, item)
        self.table.blockSignals(False)
        self.message.clear_message()

    def _shown(self, code: str) -> str:
        return str(self.saved[code]) if code in self.saved else ""

    def _edited(self, item: QTableWidgetItem) -> None:
        if item.column() != self.COL_AMOUNT:
            return
        code = self.codes[item.row()]
        text = item.text()
        try:
            amount = fields.parse_amount(text, "amount")
            if amount is None:
                raise ValidationError.single("amount", f"{fields.AMOUNT.expected()} "
                                                       "(got nothing)")
            self.workspace.set_fee(code, self.year.value(), amount)
        except AccountDisabled:
            raise
        except KnownError as exc:
            # The cell shows what is stored, never a refused amount that would look saved
            # (the selected row's colour hides any mark); the message keeps what was typed.
            self.table.blockSignals(True)
            item.setText(self._shown(code))
            self.table.blockSignals(False)
            kept = f"${self.saved[code]} stays" if code in self.saved else "no fee is set"
            self.message.show_message(f"{code} {self.year.value()}: '{fields.clip(text)}' is "
                                      f"not saved ({kept}). {exc}")
            return
        self.saved[code] = amount
        self.table.blockSignals(True)
        item.setText(str(amount))
        self.table.blockSignals(False)
        self.message.show_done(f"{code} {self.year.value()}: ${amount} saved.")
        self.table.scrollToItem(item)  # the message below may have taken the row's room


class AdminWindow(QDialog):
    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("admin_window")
        self.setWindowTitle("ptdoc — administration")
        self.users = UsersTab(workspace)
        self.clinic = ClinicTab(workspace)
        self.payers = PayersTab(workspace)
        self.fees = FeesTab(workspace)
        self.tabs = QTabWidget(objectName="admin_tabs")
        self.tabs.addTab(self.users, "&Users")
        self.tabs.addTab(self.clinic, "&Clinic")
        self.tabs.addTab(self.payers, "Pa&yers")
        self.tabs.addTab(self.fees, "Fee &schedule")
        close = QPushButton("Close", objectName="admin_close")
        close.setAutoDefault(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addLayout(hbox(None, close))
        close.clicked.connect(self.close)
        self.resize(900, 620)  # fits a 1366x768 screen with its frame
