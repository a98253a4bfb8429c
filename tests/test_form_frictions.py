"""What a new clinic's first day met in the forms: dates and amounts written the ways people
write them, reasons that go once the field is corrected and can be read whole, Enter and Alt
keys where the hands are, and titles and statuses that say enough. Driven by keyboard and
mouse; the database is real."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from conftest import PASSWORD, TODAY, Clinic
from driving import in_modal, main_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from test_editor import assert_unique_alt_keys, start_session
from test_setup import enter, fill, type_keys, wizard  # noqa: F401 (the wizard fixture)

from ptdoc.ui.admin_window import FeesTab
from ptdoc.ui.appointment import AppointmentDialog
from ptdoc.ui.setup_wizard import SetupWizard
from ptdoc.ui.widgets import FieldError

ALT = Qt.KeyboardModifier.AltModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def shot(widget: QWidget, artifacts: Path, name: str) -> None:
    folder = artifacts / "forms"
    folder.mkdir(exist_ok=True)
    QApplication.processEvents()
    widget.grab().save(str(folder / f"{name}.png"))


def press(qtbot, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key, modifiers)


def assert_readable(error: FieldError, below: QWidget) -> None:
    """The whole reason shows: the label has the height its wrapped text needs at its width,
    and the next field starts below it (not over it, not squeezed under it)."""
    QApplication.processEvents()
    assert error.isVisible()
    assert error.height() >= QLabel.heightForWidth(error, error.width()), (
        error.height(), QLabel.heightForWidth(error, error.width()), error.text())
    window = error.window()
    bottom = error.mapTo(window, error.rect().bottomLeft()).y()
    assert below.mapTo(window, below.rect().topLeft()).y() > bottom, error.text()
    assert below.height() >= below.sizeHint().height(), (below.height(), below.sizeHint())


def test_new_patient_takes_a_us_date_of_birth(qtbot, clinic: Clinic, artifacts: Path):
    window = main_window(qtbot, clinic.as_("desk"))

    def register(dialog) -> None:
        qtbot.keyClicks(dialog.first, "Rosa")
        press(qtbot, Qt.Key.Key_Tab)
        qtbot.keyClicks(QApplication.focusWidget(), "Diaz")
        press(qtbot, Qt.Key.Key_B, ALT)
        qtbot.keyClicks(QApplication.focusWidget(), "31/12/1950")  # a day-first date
        error = dialog.errors["date_of_birth"]
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        assert "YYYY-MM-DD or MM/DD/YYYY" in error.text() and "31/12/1950" in error.text()
        assert "the month first" in error.text()
        assert_readable(error, dialog.sex)
        shot(dialog, artifacts, "new-patient-refused-date")
        # Correcting the date takes its reason away at the first key.
        press(qtbot, Qt.Key.Key_B, ALT)
        press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(QApplication.focusWidget(), "3")
        assert not error.isVisible()
        qtbot.keyClicks(QApplication.focusWidget(), "/9/1951")
        press(qtbot, Qt.Key.Key_S, ALT)
        qtbot.waitUntil(lambda: not dialog.isVisible())

    in_modal(lambda: qtbot.keyClick(window, Qt.Key.Key_N, CTRL_SHIFT), register)
    found = clinic.as_("desk").search_patients("03/09/1951")  # searched as it was typed
    assert [(p.first_name, p.last_name, p.date_of_birth) for p in found] == [
        ("Rosa", "Diaz", dt.date(1951, 3, 9))]


def go_to_fee(qtbot, tab: FeesTab, code: str) -> None:
    tab.table.setFocus()
    tab.table.setCurrentCell(0, FeesTab.COL_AMOUNT)
    for _ in range(tab.codes.index(code)):
        qtbot.keyClick(tab.table, Qt.Key.Key_Down)


def test_fee_amounts_take_a_dollar_sign_and_thousands_commas(qtbot, clinic: Clinic,
                                                           artifacts: Path):
    window = main_window(qtbot, clinic.as_("boss"))
    press(qtbot, Qt.Key.Key_A, CTRL_SHIFT)
    admin = window.admin_window
    assert admin is not None
    admin.activateWindow()
    qtbot.waitUntil(admin.isActiveWindow)
    press(qtbot, Qt.Key.Key_S, ALT)  # Fee &schedule
    tab = admin.fees
    assert admin.tabs.currentWidget() is tab
    year = tab.year.value()
    cell = {code: tab.table.item(tab.codes.index(code), FeesTab.COL_AMOUNT)
            for code in ("97110", "97750")}

    go_to_fee(qtbot, tab, "97110")
    type_keys(qtbot, "$31.75")
    enter(qtbot)
    assert tab.message.text() == f"✓ 97110 {year}: $31.75 saved."
    assert cell["97110"].text() == "31.75"
    go_to_fee(qtbot, tab, "97750")
    type_keys(qtbot, "1,250")
    enter(qtbot)
    assert tab.message.text() == f"✓ 97750 {year}: $1250 saved."
    stored = clinic.store.fees.for_year
    assert (stored(year)["97110"], stored(year)["97750"]) == (Decimal("31.75"), Decimal(1250))
    assert "97012" not in stored(year)

    # Nonsense is refused beside the table and the cell goes back to what is stored, so
    # nothing on screen looks saved that is not.
    go_to_fee(qtbot, tab, "97110")
    type_keys(qtbot, "31,75")
    enter(qtbot)
    assert "'31,75' is not saved ($31.75 stays)" in tab.message.text()
    assert "$31.75 or 1,250" in tab.message.text()
    assert cell["97110"].text() == "31.75"
    go_to_fee(qtbot, tab, "97012")
    type_keys(qtbot, "lots")
    enter(qtbot)
    assert "'lots' is not saved (no fee is set)" in tab.message.text()
    assert tab.table.item(tab.codes.index("97012"), FeesTab.COL_AMOUNT).text() == ""
    assert stored(year)["97110"] == Decimal("31.75") and "97012" not in stored(year)
    shot(admin, artifacts, "fee-refused")


def test_setup_reasons_go_when_their_field_is_corrected(qtbot, wizard: SetupWizard,  # noqa: F811
                                                         artifacts: Path):
    form = wizard.clinic_page.form
    enter(qtbot)  # Next with nothing typed
    assert wizard.currentPage() is wizard.clinic_page
    assert "Clinic name is required" in form.error_text("name")
    fill(qtbot, "m", "L")
    assert form.error_text("name") == ""
    qtbot.keyClicks(form.name, "akeside Physical Therapy")
    fill(qtbot, "i", "1234567890")  # a wrong check digit
    fill(qtbot, "l", "5")  # not a place-of-service code
    enter(qtbot)
    assert "check digit" in form.error_text("npi")
    assert "place-of-service" in form.error_text("place_of_service")
    fill(qtbot, "i", "123456789")  # still being typed: its reason has gone, the other stays
    assert form.error_text("npi") == ""
    assert "place-of-service" in form.error_text("place_of_service")
    fill(qtbot, "l", "19")
    assert form.error_text("place_of_service") == ""
    qtbot.keyClicks(form.npi, "3")
    enter(qtbot)
    assert wizard.currentPage() is wizard.admin_page

    # Two refusals on the administrator's step: every field keeps its height, every reason
    # its lines.
    admin = wizard.admin_page.form
    fill(qtbot, "m", "Owner!")
    enter(qtbot)
    assert "User name" in admin.error_text("username")
    assert "Full name is required" in admin.error_text("full_name")
    assert "Password" in admin.passwords.error_text("password")
    assert_readable(admin.errors["username"], admin.full_name)
    assert_readable(admin.errors["full_name"], admin.credential)
    assert_readable(admin.passwords.errors["password"], admin.passwords.again)
    shot(wizard, artifacts, "setup-administrator-refused")
    fill(qtbot, "w", "owner-password")
    assert admin.passwords.error_text("password") == ""
    assert "Full name is required" in admin.error_text("full_name")  # not corrected yet


def test_enter_adds_the_chosen_code_and_alt_a_does_too(qtbot, clinic: Clinic):
    window = main_window(qtbot, clinic.as_("pt"))
    editor = start_session(qtbot, window)
    press(qtbot, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    codes = editor.steps[3]
    assert editor.current == 3
    assert_unique_alt_keys(window, "Time and codes")
    before = len(editor.session.services)
    press(qtbot, Qt.Key.Key_D, ALT)  # Add co&de
    assert codes.code_box.hasFocus()
    qtbot.keyClicks(codes.code_box, "97530")  # the keyboard search of a closed list
    assert codes.code_box.currentData() == "97530"
    press(qtbot, Qt.Key.Key_Return)
    assert [s.code for s in editor.session.services][before:] == ["97530"]
    assert codes.table.hasFocus()  # on the new line's minutes
    press(qtbot, Qt.Key.Key_D, ALT)
    with qtbot.waitSignal(codes.add_button.clicked, timeout=3000):
        press(qtbot, Qt.Key.Key_A, ALT)
    assert [s.code for s in editor.session.services][before:] == ["97530", "97530"]


def test_a_signed_note_names_its_mrn_and_booking_shows_its_whole_title(qtbot, clinic: Clinic,
                                                                       artifacts: Path):
    window = main_window(qtbot, clinic.as_("pt"))
    draft = clinic.complete_draft("pt", TODAY)
    window.open_session(draft.id)
    editor = window.editor
    assert f"MRN {clinic.patient.mrn}" in editor.banner.text()
    press(qtbot, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    sign = editor.steps[5]
    sign.secret.setFocus()
    qtbot.keyClicks(sign.secret, PASSWORD)
    qtbot.keyClick(sign.secret, Qt.Key.Key_Return)
    assert editor.session.signature is not None
    assert "signed" in editor.banner.text()
    assert f"MRN {clinic.patient.mrn}" in editor.banner.text()
    shot(window, artifacts, "signed-note-header")

    def book(dialog) -> None:
        assert isinstance(dialog, AppointmentDialog)
        assert dialog.windowTitle() == "Next appointment of Lee, Ann"
        # The title bar holds the whole title beside its icon and buttons.
        title = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle())
        assert dialog.width() >= title + 150, (dialog.width(), title)
        shot(dialog, artifacts, "booking")

    in_modal(lambda: qtbot.mouseClick(sign.next_visit_button, Qt.MouseButton.LeftButton),
             book)
