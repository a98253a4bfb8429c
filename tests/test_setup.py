"""A new clinic set up in the window, then administered, as a person does it: by keyboard."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from driving import in_modal, main_window
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QFileDialog,
    QMessageBox,
    QWidget,
)
from test_editor import assert_unique_alt_keys

from ptdoc.access import login
from ptdoc.domain import Credential, UnitMethod
from ptdoc.errors import PasswordChangeRequired
from ptdoc.identifiers import npi_with_check_digit
from ptdoc.services import Workspace
from ptdoc.store import Store
from ptdoc.ui.login import LoginDialog
from ptdoc.ui.setup_wizard import SetupWizard

ADMIN_PASSWORD = "lakeside-admin"
CLINIC_NPI = npi_with_check_digit("123456789")
JANE_NPI = npi_with_check_digit("187654321")
PAT_NPI = npi_with_check_digit("145678912")


def alt(qtbot, letter: str, button: bool = False) -> QWidget:
    """Alt+letter where the keyboard is; returns the widget that has the focus then. A
    button's mnemonic clicks it a moment later (Qt animates the press): ``button`` waits for
    the click of the button underlined with that letter."""
    target = QApplication.focusWidget() or QApplication.activeWindow()
    key = getattr(Qt.Key, f"Key_{letter.upper()}")
    if not button:
        qtbot.keyClick(target, key, Qt.KeyboardModifier.AltModifier)
        return QApplication.focusWidget()
    window = QApplication.activeWindow()
    pressed = [b for b in window.findChildren(QAbstractButton) if b.isVisibleTo(window)
               and f"&{letter}" in b.text().lower()]
    assert len(pressed) == 1, (letter, [b.text() for b in pressed])
    with qtbot.waitSignal(pressed[0].clicked, timeout=3000):
        qtbot.keyClick(target, key, Qt.KeyboardModifier.AltModifier)
    return QApplication.focusWidget()


def fill(qtbot, letter: str, text: str) -> QWidget:
    """Alt+letter to a field, replace what it holds with ``text``."""
    widget = alt(qtbot, letter)
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    if text:
        qtbot.keyClicks(widget, text)
    else:
        qtbot.keyClick(widget, Qt.Key.Key_Delete)
    return widget


def choose(qtbot, letter: str, text: str) -> QWidget:
    """Alt+letter to a list box and type the start of an entry (after the keyboard search of
    the last typing has lapsed, as it has for a person)."""
    QTest.qWait(QApplication.keyboardInputInterval() + 50)
    box = alt(qtbot, letter)
    qtbot.keyClicks(box, text)
    return box


def type_keys(qtbot, text: str) -> None:
    """One key at a time where each goes (the first key opens a cell's editor)."""
    for char in text:
        qtbot.keyClick(QApplication.focusWidget(), char)


def enter(qtbot) -> None:
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    QTest.qWait(50)  # the cell's editor commits after the key


def shot(widget: QWidget, artifacts: Path, name: str) -> None:
    folder = artifacts / "setup"
    folder.mkdir(exist_ok=True)
    QApplication.processEvents()
    assert widget.frameGeometry().width() <= 1366 and widget.frameGeometry().height() <= 768
    widget.grab().save(str(folder / f"{name}.png"))


def audit(store: Store) -> list[tuple]:
    return [(r["actor"], r["action"], r["entity"], r["detail"])
            for r in store.db.query("SELECT actor, action, entity, detail FROM audit "
                                    "ORDER BY id")]


@pytest.fixture
def wizard(qtbot, store: Store) -> SetupWizard:
    wiz = SetupWizard(store)
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.activateWindow()
    qtbot.waitUntil(wiz.isActiveWindow)
    return wiz


def run_setup(qtbot, wizard: SetupWizard, artifacts: Path, monkeypatch: pytest.MonkeyPatch,
              patients: Path | None = None) -> None:
    """The five steps by keyboard; the last imports ``patients`` (a CSV file) or skips."""
    store = wizard.store
    # 1. The clinic; a group NPI with a wrong check digit is refused beside its field.
    assert wizard.currentPage() is wizard.clinic_page
    assert_unique_alt_keys(wizard, "setup: clinic")
    form = wizard.clinic_page.form
    fill(qtbot, "m", "Lakeside Physical Therapy")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    qtbot.keyClicks(QApplication.focusWidget(), "12 Shore Road, Duluth MN")
    assert form.address.text() == "12 Shore Road, Duluth MN"
    fill(qtbot, "p", "218-555-0100")
    fill(qtbot, "i", "1234567890")
    fill(qtbot, "t", "America/Chicago")
    fill(qtbot, "k", "15")
    assert form.place_of_service.currentText() == "11 (office)"  # the default
    fill(qtbot, "l", "5")  # not a place-of-service code
    enter(qtbot)
    assert wizard.currentPage() is wizard.clinic_page
    assert "check digit" in form.error_text("npi") and "1234567890" in form.error_text("npi")
    assert "two-digit CMS place-of-service code" in form.error_text("place_of_service")
    assert "22 (on campus-outpatient hospital)" in form.error_text("place_of_service")
    assert QApplication.focusWidget() is form.npi
    shot(wizard, artifacts, "1-clinic-refused-npi")
    fill(qtbot, "i", CLINIC_NPI)
    fill(qtbot, "l", "19")  # a hospital's off-campus outpatient department
    enter(qtbot)

    # 2. The first administrator (passwords that differ are refused beside the second).
    assert wizard.currentPage() is wizard.admin_page
    assert_unique_alt_keys(wizard, "setup: administrator")
    admin_form = wizard.admin_page.form
    fill(qtbot, "m", "owner")
    fill(qtbot, "a", "Olivia Owner")
    fill(qtbot, "w", ADMIN_PASSWORD)
    fill(qtbot, "g", ADMIN_PASSWORD + "x")
    enter(qtbot)
    assert wizard.currentPage() is wizard.admin_page
    assert "differ" in admin_form.passwords.error_text("password_again")
    assert store.users.count() == 0
    shot(wizard, artifacts, "2-administrator")
    fill(qtbot, "g", ADMIN_PASSWORD)
    enter(qtbot)

    # 3. Users: one added with Alt+D, one typed and taken by Next (Enter).
    assert wizard.currentPage() is wizard.users_page, (
        wizard.admin_page.message.text(), [e.text() for e in admin_form.errors.values()],
        [e.text() for e in admin_form.passwords.errors.values()], store.users.count())
    assert_unique_alt_keys(wizard, "setup: users")
    fill(qtbot, "m", "jdoe")
    fill(qtbot, "a", "Jane Doe")
    choose(qtbot, "r", "D")  # DPT
    fill(qtbot, "i", JANE_NPI)
    fill(qtbot, "w", "jane-password")
    fill(qtbot, "g", "jane-password")
    alt(qtbot, "d", button=True)
    uf = wizard.users_page.form
    assert wizard.users_page.added.count() == 1, (
        wizard.users_page.message.text(), [e.text() for e in uf.errors.values()],
        [e.text() for e in uf.passwords.errors.values()], uf.credential.currentText(),
        QApplication.focusWidget())
    assert wizard.users_page.form.username.text() == ""
    fill(qtbot, "m", "sfront")
    fill(qtbot, "a", "Sam Front")
    choose(qtbot, "r", "F")  # front desk
    fill(qtbot, "w", "4321")
    fill(qtbot, "g", "4321")
    shot(wizard, artifacts, "3-users")
    enter(qtbot)

    # 4. Payers: one by Alt+D, the last by Enter, which goes on.
    assert wizard.currentPage() is wizard.payers_page
    assert_unique_alt_keys(wizard, "setup: payers")
    fill(qtbot, "m", "Medicare Part B")
    alt(qtbot, "d", button=True)
    fill(qtbot, "m", "Acme Health")
    choose(qtbot, "r", "C")  # commercial
    shot(wizard, artifacts, "4-payers")
    enter(qtbot)

    # 5. Fees (optional): the table has the keyboard; an amount typed in 97110's row is saved.
    assert wizard.currentPage() is wizard.fees_page
    assert_unique_alt_keys(wizard, "setup: fees")
    fees = wizard.fees_page.tab
    assert fees is not None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is fees.table)
    for _ in range(fees.codes.index("97110")):
        qtbot.keyClick(fees.table, Qt.Key.Key_Down)
    type_keys(qtbot, "$31.25")  # as a price is written
    enter(qtbot)
    year = wizard.workspace.today().year
    assert fees.message.text() == f"✓ 97110 {year}: $31.25 saved."
    shot(wizard, artifacts, "5-fees")
    enter(qtbot)

    # 6. Patients (optional): the old system's list, or nothing; Enter finishes.
    assert wizard.currentPage() is wizard.patients_page
    assert_unique_alt_keys(wizard, "setup: patients")
    if patients is not None:
        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(
            lambda *_a, **_k: (str(patients), "CSV files (*.csv *.txt)")))
        alt(qtbot, "i", button=True)
        assert_unique_alt_keys(wizard, "setup: patients imported")
    shot(wizard, artifacts, f"6-patients-{'imported' if patients else 'skipped'}")
    enter(qtbot)
    qtbot.waitUntil(lambda: not wizard.isVisible())
    assert wizard.result() == SetupWizard.DialogCode.Accepted


def test_a_new_clinic_is_set_up_and_administered_by_keyboard(qtbot, wizard: SetupWizard,
                                                              artifacts: Path, monkeypatch):
    store = wizard.store
    run_setup(qtbot, wizard, artifacts, monkeypatch)

    clinic = store.clinic.get()
    assert clinic is not None
    assert (clinic.name, clinic.npi, clinic.time_zone, clinic.idle_lock_minutes,
            clinic.place_of_service) == (
        "Lakeside Physical Therapy", CLINIC_NPI, "America/Chicago", 15, "19")
    users = {u.username: u for u in store.users.all()}
    assert {n: (u.credential, u.npi) for n, u in users.items()} == {
        "owner": (Credential.ADMIN, None), "jdoe": (Credential.DPT, JANE_NPI),
        "sfront": (Credential.FRONT_DESK, None)}
    assert {p.name: p.unit_method for p in store.payers.all()} == {
        "Medicare Part B": UnitMethod.CMS, "Acme Health": UnitMethod.PER_CODE}
    log = audit(store)
    assert ("owner", "admin", "clinic", "") in log
    assert sum(1 for r in log if r[:3] == ("owner", "admin", "user")
               and r[3] == "create") == 3
    # the initial password the administrator gave is temporary: it signs in only to change it
    with pytest.raises(PasswordChangeRequired):
        login(store, "jdoe", "jane-password")
    assert login(store, "jdoe", "jane-password", temporary_ok=True).username == "jdoe"
    assert not store.users.must_change_password(users["owner"].id)  # the owner chose theirs
    assert store.patients.count() == 0  # the optional step was skipped
    assert store.fees.for_year(wizard.workspace.today().year) == {"97110": Decimal("31.25")}
    assert ("owner", "admin", "fee_schedule", "97110") in log

    # Sign in as the new administrator, preselected.
    dialog = LoginDialog(store, clinic.name)
    qtbot.addWidget(dialog)
    dialog.form.reload_users("owner")
    dialog.show()
    qtbot.waitUntil(dialog.isVisible)
    qtbot.keyClicks(dialog.secret, ADMIN_PASSWORD)
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    assert dialog.user is not None and dialog.user.username == "owner"

    window = main_window(qtbot, Workspace(store, dialog.user))
    assert window.admin_action.isEnabled()
    qtbot.keyClick(window.table, Qt.Key.Key_A,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    admin = window.admin_window
    assert admin is not None and admin.isVisible()
    admin.activateWindow()
    qtbot.waitUntil(admin.isActiveWindow)
    users_tab = admin.users
    for tab in range(admin.tabs.count()):
        admin.tabs.setCurrentIndex(tab)
        assert_unique_alt_keys(admin, admin.tabs.tabText(tab))
        shot(admin, artifacts, f"admin-{tab + 1}-{admin.tabs.tabText(tab).replace('&', '')}")
    alt(qtbot, "u")
    assert admin.tabs.currentWidget() is users_tab

    # Add a PT.
    def add_pt(dialog: QWidget) -> None:
        assert_unique_alt_keys(dialog, "add user")
        fill(qtbot, "m", "pat")
        fill(qtbot, "a", "Pat Therapist")
        qtbot.keyClick(alt(qtbot, "r"), Qt.Key.Key_Home)  # the first: PT
        fill(qtbot, "i", "")
        fill(qtbot, "w", "pat-initial")
        fill(qtbot, "g", "pat-initial")
        enter(qtbot)  # NPI is required for a PT: refused beside the field, the dialog stays
        assert "NPI is required" in dialog.form.error_text("npi"), (
            [e.text() for e in dialog.form.errors.values()], dialog.message.text(),
            QApplication.focusWidget(), dialog.form.credential.currentText(), dialog.isVisible())
        shot(dialog, artifacts, "admin-add-user-refused")
        fill(qtbot, "i", PAT_NPI)
        enter(qtbot)
        assert not dialog.isVisible()
    in_modal(lambda: alt(qtbot, "d", button=True), add_pt)
    pat = store.users.by_username("pat")
    assert pat is not None and (pat.credential, pat.npi) == (Credential.PT, PAT_NPI)
    assert users_tab.message.isVisible() and users_tab.message.text() == "✓ User pat added."

    # Reset the PT's password: the new one signs in, the audit log names the administrator.
    assert users_tab.users[users_tab.table.currentRow()].username == "pat"

    def reset(dialog: QWidget) -> None:
        assert_unique_alt_keys(dialog, "reset password")
        fill(qtbot, "w", "pat-new-password")
        fill(qtbot, "g", "pat-new-password")
        enter(qtbot)
    in_modal(lambda: alt(qtbot, "r", button=True), reset)
    assert users_tab.message.accessibleName().startswith("The password of pat is reset")
    with pytest.raises(PasswordChangeRequired):  # temporary until pat chooses their own
        login(store, "pat", "pat-new-password")
    assert store.users.must_change_password(pat.id)
    assert ("owner", "admin", "user", "temporary password") in audit(store)

    # Disable the front desk user (the confirmation is the system's box).
    asked: list[str] = []

    def yes(_parent: object, _title: str, text: str, *_args: object) -> object:
        asked.append(text)
        return QMessageBox.StandardButton.Yes
    monkeypatch.setattr(QMessageBox, "question", staticmethod(yes))
    admin.activateWindow()  # as the window manager does when the dialog above it closes
    qtbot.waitUntil(admin.isActiveWindow)
    row = next(i for i, u in enumerate(users_tab.users) if u.username == "sfront")
    users_tab.table.setFocus()
    users_tab.table.setCurrentCell(row, 0)
    alt(qtbot, "b", button=True)
    assert asked and "Sam Front" in asked[0]
    assert store.users.by_username("sfront").active is False
    assert users_tab.table.item(row, 4).text() == "disabled"
    assert users_tab.message.text() == "✓ Sam Front, front desk disabled: they cannot sign " \
        "in any more."
    # The last administrator is refused, with the reason beside the list.
    row = next(i for i, u in enumerate(users_tab.users) if u.username == "owner")
    users_tab.table.setCurrentCell(row, 0)
    alt(qtbot, "b", button=True)
    assert "last active administrator" in users_tab.message.accessibleName()
    assert store.users.by_username("owner").active

    # Edit a payer's rules.
    alt(qtbot, "y")
    payers = admin.payers
    assert admin.tabs.currentWidget() is payers
    alt(qtbot, "l")
    acme = next(i for i in range(payers.list.count())
                if payers.list.item(i).text().startswith("Acme"))
    payers.list.setCurrentRow(acme)
    choose(qtbot, "t", "C")  # CMS total time
    kx = alt(qtbot, "k", button=True)
    assert kx is payers.rules.flags["kx_applies"] and kx.isChecked()  # Alt toggles a box
    alt(qtbot, "v", button=True)
    acme_payer = next(p for p in store.payers.all() if p.name == "Acme Health")
    assert acme_payer.unit_method is UnitMethod.CMS and acme_payer.kx_applies
    assert payers.message.text() == "✓ Billing rules of Acme Health saved."
    assert ("owner", "admin", "payer", "settings") in audit(store)

    # Type fees into the table: nonsense is refused beside the table, an amount is saved.
    alt(qtbot, "s")
    fees = admin.fees
    alt(qtbot, "o")
    row = fees.codes.index("97110")
    fees.table.setCurrentCell(row, fees.COL_AMOUNT)
    type_keys(qtbot, "ten")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    QTest.qWait(50)  # the cell's editor commits after the key
    assert "97110" in fees.message.accessibleName() and "'ten'" in fees.message.accessibleName()
    shot(admin, artifacts, "admin-fee-refused")
    year = window.workspace.today().year
    assert store.fees.for_year(year)["97110"] == Decimal("31.25")  # the setup's, kept
    fees.table.setCurrentCell(row, fees.COL_AMOUNT)
    type_keys(qtbot, "29.50")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    QTest.qWait(50)  # the cell's editor commits after the key
    assert store.fees.for_year(year)["97110"] == Decimal("29.50")
    assert fees.message.isVisible() and fees.message.text() == f"✓ 97110 {year}: $29.50 saved."
    assert ("owner", "admin", "fee_schedule", "97110") in audit(store)
    admin.close()


def test_administration_is_only_for_administrators(qtbot, clinic):
    window = main_window(qtbot, clinic.as_("pt"))
    assert not window.admin_action.isEnabled()
    qtbot.keyClick(window.table, Qt.Key.Key_A,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.admin_window is None
    window.close()


def test_the_clinic_form_refuses_a_zone_that_is_not_one(qtbot, wizard: SetupWizard):
    fill(qtbot, "m", "A Clinic")
    fill(qtbot, "t", "Mars/Olympus")
    enter(qtbot)
    form = wizard.clinic_page.form
    assert wizard.currentPage() is wizard.clinic_page
    assert "IANA" in form.error_text("time_zone")
    assert QApplication.focusWidget() is form.time_zone
    QTest.qWait(0)


def test_the_setup_imports_the_old_systems_patient_list(qtbot, wizard: SetupWizard,
                                                         artifacts: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    export = tmp_path / "patients.csv"
    export.write_bytes("\ufeffmrn,first_name,last_name,date_of_birth,payer,member_id\r\n"
                       "OLD-7,Ann,Lee,03/04/1950,Acme Health,W1\r\n"
                       "OLD-8,Bo,,1960-01-01,,\r\n"
                       ",Cy,Oh,1961-02-03,Blue Star,B2\r\n".encode())
    run_setup(qtbot, wizard, artifacts, monkeypatch, export)
    panel = wizard.patients_page.panel
    assert panel.summary.text() == ("patients.csv: 1 added, 0 already here, 2 refused. The "
                                    "refused rows were not imported.")
    refused = dict(panel.refused_rows())
    assert "last name is missing" in refused["3"]
    assert "no payer named 'Blue Star'" in refused["4"]
    store = wizard.store
    ann = store.patients.by_mrn("OLD-7")
    acme = next(p for p in store.payers.all() if p.name == "Acme Health")
    assert (ann.first_name, ann.payer_id, ann.member_id) == ("Ann", acme.id, "W1")
    assert store.patients.count() == 1
    # The import is the new administrator's, in the audit log.
    assert ("owner", "import", "patient", "csv: 1 added, 0 already here, 2 refused") in \
        audit(store)
