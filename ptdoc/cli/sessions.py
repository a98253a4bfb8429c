"""Sessions: list them, export and import the interchange file, add an addendum."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ptdoc.cli.common import (
    EXIT_OK,
    actions,
    date_arg,
    day_of,
    positive_int,
    signed_in,
    write_out,
)


def register(sub, common: argparse.ArgumentParser) -> dict:
    """Add this subject's commands to the parser; their handlers by command."""
    p = sub.add_parser("sessions", parents=[common], help="list sessions")
    p.add_argument("--date", type=date_arg, help="date of service, YYYY-MM-DD or 'today'")
    p.add_argument("--patient", metavar="MRN", help="only this patient's sessions")
    p.add_argument("--status", choices=["draft", "signed"])
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("session", parents=[common], help="export or import one session")
    ssub = actions(p, required=True)
    e = ssub.add_parser("export", parents=[common], help="write a session as interchange JSON")
    e.add_argument("id", type=positive_int)
    e.add_argument("--json", action="store_true", help="JSON output (the interchange format)")
    e.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    i = ssub.add_parser("import", parents=[common], help="import a session JSON file")
    i.add_argument("file", type=Path)
    i.add_argument("--as-draft", action="store_true",
                   help="store it as a draft (to review and sign here), whatever it carries")
    a = ssub.add_parser("addendum", parents=[common],
                        help="add an addendum to a signed session, signed with your password "
                             "or PIN (the one you sign in with here; --password-stdin reads it)")
    a.add_argument("id", type=positive_int)
    a.add_argument("--kind", required=True, choices=["amendment", "correction", "late entry"])
    a.add_argument("--reason", required=True, help="why the addendum is written")
    a.add_argument("--text", required=True, help="what it says")
    return {"sessions": _cmd_sessions, "session": _cmd_session}


def _cmd_sessions(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.domain import SessionStatus

    with signed_in(args, db_path) as ws:
        rows = ws.sessions(
            date=day_of(args.date, ws), patient_mrn=args.patient,
            status=SessionStatus(args.status) if args.status else None)
    if args.json:
        print(json.dumps([_listing_json(r) for r in rows], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not rows:
        print("No sessions.")
    for r in rows:
        time_in = r.time_in.strftime("%H:%M") if r.time_in else "--:--"
        print(f"{r.id:>6}  {r.date_of_service}  {time_in}  {r.mrn:<10}  {r.patient_name:<28}  "
              f"{(r.clinician or '-'):<24}  {r.note_type.value:<15}  {r.status.value}")
    return EXIT_OK


def _listing_json(r) -> dict:  # r: SessionListing
    return {"id": r.id, "date": r.date_of_service.isoformat(),
            "time_in": r.time_in.strftime("%H:%M") if r.time_in else None,
            "patient": r.mrn, "patient_name": r.patient_name,
            "clinician": r.clinician_username, "clinician_name": r.clinician,
            "status": r.status.value, "note_type": r.note_type.value}


def _cmd_session(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc import interchange

    if args.action == "export":
        with signed_in(args, db_path) as ws:
            text = interchange.dumps(ws.export_session(args.id))
        if args.output:
            write_out(args.output, text)
            print(f"Session {args.id} written to {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return EXIT_OK
    if args.action == "addendum":
        return _cmd_addendum(args, db_path)
    doc = interchange.loads(interchange.read_file(args.file))
    with signed_in(args, db_path) as ws:
        session = ws.import_session(doc, as_draft=args.as_draft)
    print(f"Imported as session {session.id} ({session.status.value}, "
          f"{session.date_of_service}, patient {doc.patient.mrn})")
    return EXIT_OK


def _cmd_addendum(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.domain import AddendumKind

    with signed_in(args, db_path) as ws:
        # The password just typed to act as the author signs the addendum, proved as when
        # signing a note (slowed and locked out after wrong tries, audited).
        proof = ws.prove_signer(args.secrets.signed_in_with or "")
        added = ws.add_addendum(args.id, AddendumKind(args.kind), args.reason, args.text, proof)
    print(f"{added.kind.value.capitalize()} added to session {args.id} by {added.author_name}")
    return EXIT_OK
