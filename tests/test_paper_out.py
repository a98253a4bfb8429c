"""Every paper of a day, made at the command line as the front desk, a clinician and the
biller make it: each read back (pypdf, the csv module), audited with the sessions it held, and
rendered to PNG under artifacts/paper to be looked at."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from conftest import FEES, PASSWORD, TODAY, Clinic, sign
from pypdf import PdfReader
from test_charges import a_day_to_bill, checked_lines, run

from ptdoc.domain import AddendumKind, Patient, ServiceLine

GLIDES = "grade III PA glides L4-5, 8 min"


def text_of(path: Path) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(str(path)).pages]


def squeezed(texts: list[str]) -> str:
    """Without any space: a 40-character ID wraps inside a narrow cell, never cut."""
    return "".join("".join(texts).split())


def look(path: Path) -> list[Path]:
    """The PDF's pages as PNG beside it (what a person looks at)."""
    stem = path.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(stem)], check=True)
    return sorted(path.parent.glob(f"{stem.name}-*.png"))


def audited(clinic: Clinic, detail: str) -> dict[int, set[tuple[str, str]]]:
    """Session id -> (who, action) of the audit rows with this detail."""
    out: dict[int, set[tuple[str, str]]] = {}
    for e in clinic.store.audit.entries():
        if e["detail"] == detail:
            out.setdefault(e["entity_id"], set()).add((e["actor"], e["action"]))
    return out


def spreadsheet(qtbot, rows: list[dict[str, str]], path: Path) -> None:
    """The rows as a spreadsheet shows them, one cell each, saved as PNG to be looked at."""
    from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

    table = QTableWidget(len(rows), len(rows[0]))
    qtbot.addWidget(table)
    table.setHorizontalHeaderLabels(list(rows[0]))
    for i, row in enumerate(rows):
        for j, value in enumerate(row.values()):
            table.setItem(i, j, QTableWidgetItem(value))
    table.resizeColumnsToContents()
    width = table.verticalHeader().width() + sum(table.columnWidth(j)
                                                 for j in range(table.columnCount()))
    table.resize(width + 4, table.horizontalHeader().height() + 30 * len(rows) + 4)
    table.grab().save(str(path))


def test_every_paper_of_a_day_from_the_command_line(qtbot, capsys, clinic: Clinic,
                                                    db_target, artifacts: Path):
    folder = artifacts / "paper"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    ids = a_day_to_bill(clinic)
    # A long name and a 40-character member ID, a line that is not exercise saying what was
    # done and an addendum, on a signed note.
    patient = clinic.admin.add_patient(Patient(
        "MRN-LONG", "Maximiliana Josefina Esperanza", "Wolfeschlegelsteinhausen-Bergerdorff",
        dt.date(1948, 2, 29), clinic.payer.id,
        member_id="M789270834ABCDEFGH12345678901234567890XY"))
    assert len(patient.member_id) == 40
    episode = clinic.admin.add_episode(replace(clinic.episode, id=None, patient_id=patient.id))
    pt = clinic.as_("pt")
    draft = clinic.complete_draft("pt", TODAY, patient, episode)
    draft = pt.save_draft(replace(
        draft, services=(*draft.services, ServiceLine("97140", 15, 1, ("GP",), GLIDES)),
        total_treatment_minutes=45))
    long_one = sign(pt, draft.id).id
    pt.add_addendum(long_one, AddendumKind.LATE_ENTRY, "Phone call", "No soreness next day.",
                    pt.prove_signer(PASSWORD))
    day = sorted({*ids.values(), long_one})
    db = str(db_target)

    # the daily note (a clinician)
    note = folder / "note.pdf"
    assert run(capsys, "pt", "export", "--db", db, "--session", str(long_one), "-o",
               str(note))[0] == 0
    pages = text_of(note)
    for page in pages:  # the whole header on every page, nothing cut
        for field in (patient.display_name, f"member {patient.member_id}",
                      f"MRN {patient.mrn}", f"Date of service {TODAY}"):
            assert field in page, field
    whole = " ".join(pages)
    assert GLIDES in whole and "Late entry — PT User, PT" in whole
    look(note)

    # summaries two to a page and one per page, the day sheet, the superbills (the desk)
    two = folder / "summaries.pdf"
    one = folder / "summaries-one-per-page.pdf"
    sheet = folder / "day-sheet.pdf"
    bills = folder / "superbills.pdf"
    for args, out in ((["summaries", "--date", str(TODAY)], two),
                      (["summaries", "--date", str(TODAY), "--one-per-page"], one),
                      (["summaries", "--date", str(TODAY), "--day-sheet"], sheet),
                      (["superbill", "--date", str(TODAY)], bills)):
        code, _said, err = run(capsys, "desk", *args, "--db", db, "-o", str(out))
        assert code == 0, err
        look(out)
    assert len(text_of(two)) == 2 and len(text_of(one)) == 4  # 4 sessions
    title = f"Session summary — {patient.display_name} — {TODAY}"
    assert sum(title in " ".join(t.split()) for t in text_of(one)) == 1
    assert patient.member_id in squeezed(text_of(two))
    sheet_text = " ".join(text_of(sheet))
    assert f"MedicarePartB{patient.member_id}" in squeezed([sheet_text])
    assert "Totals by rendering provider" in sheet_text and "Totals by payer" in sheet_text
    assert "Notes not yet signed" in sheet_text and "DPT User, DPT" in sheet_text
    superbills = text_of(bills)
    assert len(superbills) == 4
    assert all("Place of service 11 (office)" in page for page in superbills)
    long_bill = next(page for page in superbills if patient.member_id in squeezed([page]))
    assert "97140" in long_bill and "NPI" in long_bill and "Total" in long_bill

    # the biller's charges, opened as a spreadsheet would: what check reports, priced
    charges = folder / "charges.csv"
    code, _said, err = run(capsys, "boss", "charges", "--db", db, "--date", str(TODAY), "-o",
                           str(charges), "--bom")
    assert code == 1 and f"session {ids['unsigned']}" in err  # the draft, on standard error
    with charges.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    signed = sorted({ids["two_codes"], ids["by_pta"], long_one})
    assert sorted({int(r["session_id"]) for r in rows}) == signed
    for sid in signed:
        mine = [(r["cpt_code"], int(r["units"]), r["modifiers"].split())
                for r in rows if int(r["session_id"]) == sid]
        assert mine == [(line["code"], line["units"], line["modifiers"])
                        for line in checked_lines(capsys, db_target, sid) if line["units"]]
    for r in rows:
        assert Decimal(r["charge"]) == Decimal(FEES[r["cpt_code"]]) * int(r["units"])
    spreadsheet(qtbot, rows, folder / "charges-csv.png")

    # each paper and file is in the audit log once for each session it held, and only those
    assert set(audited(clinic, "note pdf")) == {long_one}
    for detail, who in (("summary pdf", "desk"), ("day sheet pdf", "desk"),
                        ("superbill pdf", "desk")):
        assert sorted(audited(clinic, detail)) == day, detail
        assert all(rows == {(who, "export")} for rows in audited(clinic, detail).values())
    assert sorted(audited(clinic, "charges csv")) == signed
