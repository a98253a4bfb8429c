"""Patients and their care: register, import, list and find patients; plans of care
(episodes); appointments."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from ptdoc import fields
from ptdoc.cli.common import (
    EXIT_OK,
    EXIT_PROBLEM,
    UsageError,
    actions,
    date_arg,
    day_of,
    err,
    signed_in,
)


def _date(text: str) -> dt.date:
    """A date argument: YYYY-MM-DD (or MM/DD/YYYY, as US systems write it)."""
    from ptdoc.errors import ValidationError

    try:
        value = fields.parse_date(text, "The date", "date")
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.problems[0].message) from None
    if value is None:
        raise argparse.ArgumentTypeError(f"the date is empty (write {fields.DATE_FORMS})")
    return value


def _moment(text: str) -> tuple[dt.date, dt.time | None]:
    """'YYYY-MM-DD HH:MM' (or a date alone)."""
    from ptdoc.errors import ValidationError

    day, _, time = text.strip().partition(" ")
    try:
        return _date(day), fields.parse_time(time, "The time", "at")
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.problems[0].message) from None


def register(sub, common: argparse.ArgumentParser) -> dict:
    """Add this subject's commands to the parser; their handlers by command."""
    p = sub.add_parser("patients", parents=[common], help="list or find patients")
    p.add_argument("--search", metavar="TEXT", default="",
                   help="MRN, first or last name (its beginning), or date of birth")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("patient", parents=[common], help="register, import or show a patient")
    psub = actions(p, required=True)
    a = psub.add_parser("add", parents=[common], help="register a patient")
    a.add_argument("--first", required=True, help="first name")
    a.add_argument("--last", required=True, help="last name")
    a.add_argument("--dob", required=True, type=_date,
                   help="date of birth, YYYY-MM-DD or MM/DD/YYYY")
    a.add_argument("--mrn", help="the MRN (default: the clinic's next, such as RPT-00001)")
    a.add_argument("--sex", choices=["female", "male", "other", "unknown"])
    a.add_argument("--phone", default="")
    a.add_argument("--address", default="")
    a.add_argument("--payer", metavar="NAME", help="primary payer, as 'ptdoc payers' names it")
    a.add_argument("--member-id", default="", metavar="ID", help="member ID with that payer")
    a.add_argument("--secondary-payer", metavar="NAME")
    a.add_argument("--secondary-member-id", default="", metavar="ID")
    a.add_argument("--allow-duplicate", action="store_true",
                   help="register even when a patient with the same name and date of birth, "
                        "or the same member ID, is here")
    i = psub.add_parser("import", parents=[common], help="register the patients of a CSV file")
    i.add_argument("file", type=Path, help="CSV with a header: mrn, first_name, last_name, "
                                           "date_of_birth, sex, phone, payer, member_id")
    s = psub.add_parser("show", parents=[common], help="a patient's page")
    s.add_argument("mrn")
    s.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("episodes", parents=[common], help="a patient's episodes of care")
    p.add_argument("--patient", required=True, metavar="MRN")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("episode", parents=[common],
                       help="open, certify, update or discharge an episode (a PT)")
    esub = actions(p, required=True)
    a = esub.add_parser("add", parents=[common], help="open an episode under a plan of care")
    a.add_argument("--patient", required=True, metavar="MRN")
    a.add_argument("--start", required=True, type=_date, help="plan start date")
    _plan_arguments(a, diagnosis_required=True)
    for name, what in (("certify", "the physician certified the plan"),
                       ("recertify", "a new certification period"),
                       ("update", "change the plan (as at a progress report)"),
                       ("discharge", "end the episode")):
        e = esub.add_parser(name, parents=[common], help=what)
        e.add_argument("id", type=int, help="the episode's number ('ptdoc episodes')")
        if name == "discharge":
            e.add_argument("--on", required=True, type=_date, help="discharge date")
        else:
            _plan_arguments(e, diagnosis_required=False)
    h = esub.add_parser("history", parents=[common], help="what changed in the plan, by whom")
    h.add_argument("id", type=int)
    h.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("appointment", parents=[common], help="book a patient's next visit")
    asub = actions(p, required=True)
    a = asub.add_parser("set", parents=[common], help="book (or move) the next appointment")
    a.add_argument("--patient", required=True, metavar="MRN")
    a.add_argument("--at", required=True, type=_moment, metavar="'YYYY-MM-DD HH:MM'")
    a.add_argument("--clinician", metavar="USER", help="the PT, DPT or PTA (a user name)")
    a.add_argument("--double-book", action="store_true",
                   help="book even though the clinician has another patient at that time "
                        "(a group visit)")
    c = asub.add_parser("cancel", parents=[common], help="cancel the next appointment")
    c.add_argument("--patient", required=True, metavar="MRN")

    p = sub.add_parser("appointments", parents=[common],
                       help="a day's booked patients who have no note yet")
    p.add_argument("--date", type=date_arg, default=0, help="YYYY-MM-DD or 'today' (default)")
    p.add_argument("--json", action="store_true", help="print JSON")
    return {"patients": _cmd_patients, "patient": _cmd_patient, "episodes": _cmd_episodes,
            "episode": _cmd_episode, "appointment": _cmd_appointment,
            "appointments": _cmd_appointments}


def _plan_arguments(p: argparse.ArgumentParser, diagnosis_required: bool) -> None:
    p.add_argument("--diagnosis", action="append", required=diagnosis_required,
                   metavar="CODE", help="an ICD-10-CM code (repeat for more; replaces the "
                                        "list when changing a plan)")
    p.add_argument("--goal", action="append", metavar="TEXT",
                   help="a goal, such as 'STG: ...' or 'LTG: ...' (repeat; replaces the list)")
    p.add_argument("--frequency", help="such as '2x/week'")
    p.add_argument("--duration", help="such as '8 weeks'")
    p.add_argument("--physician", metavar="NAME", help="the referring physician")
    p.add_argument("--physician-npi", metavar="NPI")
    p.add_argument("--certified-on", type=_date, metavar="DATE")
    p.add_argument("--certified-through", type=_date, metavar="DATE")
    p.add_argument("--order-on-file", action=argparse.BooleanOptionalAction, default=None)


def _plan_changes(args: argparse.Namespace) -> dict:
    from ptdoc.identifiers import normalize_icd10

    changes = {"diagnoses": tuple(normalize_icd10(c) for c in args.diagnosis)
               if args.diagnosis else None,
               "goals": tuple(args.goal) if args.goal else None,
               "frequency": args.frequency, "duration": args.duration,
               "physician_name": args.physician, "physician_npi": args.physician_npi,
               "certified_on": args.certified_on, "certified_through": args.certified_through,
               "order_on_file": args.order_on_file}
    return {k: v for k, v in changes.items() if v is not None}


def _patient_json(p, payers: dict) -> dict:  # p: Patient
    return {"mrn": p.mrn, "first_name": p.first_name, "last_name": p.last_name,
            "date_of_birth": p.date_of_birth.isoformat(),
            "sex": p.sex.value if p.sex else None, "phone": p.phone, "address": p.address,
            "payer": payers.get(p.payer_id), "member_id": p.member_id,
            "secondary_payer": payers.get(p.secondary_payer_id),
            "secondary_member_id": p.secondary_member_id}


def _cmd_patients(args: argparse.Namespace, db_path: Path) -> int:
    with signed_in(args, db_path) as ws:
        patients = ws.search_patients(args.search, limit=10_000)
        payers = {p.id: p.name for p in ws.payers()}
    if args.json:
        print(json.dumps([_patient_json(p, payers) for p in patients], ensure_ascii=False,
                         indent=2))
        return EXIT_OK
    if not patients:
        print("No patients." if not args.search else f"No patient matches '{args.search}'.")
    for p in patients:
        print(f"{p.mrn:<12} {p.display_name:<32} {p.date_of_birth}  "
              f"{payers.get(p.payer_id, '-'):<24} {p.member_id}")
    return EXIT_OK


def _cmd_patient(args: argparse.Namespace, db_path: Path) -> int:
    if args.action == "add":
        return _patient_add(args, db_path)
    if args.action == "import":
        return _patient_import(args, db_path)
    return _patient_show(args, db_path)


def _patient_add(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.domain import Patient, Sex
    from ptdoc.services.patients import NEW_MRN

    with signed_in(args, db_path) as ws:
        payer = ws.payer_named(args.payer) if args.payer else None
        second = ws.payer_named(args.secondary_payer) if args.secondary_payer else None
        if args.member_id and payer is None:
            raise UsageError("--member-id needs --payer (the payer the member ID is with)")
        patient = Patient(args.mrn or NEW_MRN, args.first.strip(), args.last.strip(),
                          args.dob, payer.id if payer else None, args.member_id.strip(),
                          sex=Sex(args.sex) if args.sex else None, phone=args.phone.strip(),
                          address=args.address.strip(),
                          secondary_payer_id=second.id if second else None,
                          secondary_member_id=args.secondary_member_id.strip())
        same = ws.likely_duplicates(patient)
        if same and not args.allow_duplicate:
            listed = "; ".join(f"{p.mrn} {p.display_name}, born {p.date_of_birth}"
                               f"{', member ' + p.member_id if p.member_id else ''}"
                               for p in same[:3])
            raise UsageError(f"probably registered already: {listed} (same name and date of "
                             "birth, or member ID); add --allow-duplicate if this is another "
                             "person")
        saved = ws.add_patient(patient, assign_mrn=not args.mrn)
    print(f"Registered {saved.display_name} as {saved.mrn}")
    return EXIT_OK


def _patient_import(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc import patient_csv
    from ptdoc.errors import ValidationError

    try:
        data = patient_csv.load(args.file)
    except ValidationError as exc:
        raise UsageError(str(exc)) from exc
    with signed_in(args, db_path) as ws:
        result = ws.import_patients(data)
    for row in result.added:
        print(f"line {row.line}: added {row.mrn} {row.name}")
    for row in result.already_here:
        print(f"line {row.line}: already here as {row.mrn} {row.name}")
    print(result.summary())
    for problem in result.refused:
        err(f"{args.file}: {problem}")
    return EXIT_PROBLEM if result.refused else EXIT_OK


def _patient_show(args: argparse.Namespace, db_path: Path) -> int:
    with signed_in(args, db_path) as ws:
        page = ws.patient_page(ws.patient_by_mrn(args.mrn).id or 0)
        payers = {p.id: p.name for p in ws.payers()}
        when = page.next_appointment.when if page.next_appointment else None
    p = page.patient
    if args.json:
        print(json.dumps({
            **_patient_json(p, payers),
            "episodes": [{"id": e.id, "start_date": e.start_date.isoformat(),
                          "diagnoses": list(e.diagnoses),
                          "discharged_on": e.discharged_on.isoformat()
                          if e.discharged_on else None} for e in page.episodes],
            "visits": [{"id": v.id, "date": v.date_of_service.isoformat(),
                        "note_type": v.note_type.value, "status": v.status.value}
                       for v in page.visits],
            "next_appointment": when, "next_appointment_with": page.next_appointment_with},
            ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"{p.display_name}  MRN {p.mrn}  born {p.date_of_birth}"
          f"{'  ' + p.sex.value if p.sex else ''}")
    for label, value in (("Phone", p.phone), ("Address", p.address),
                         ("Payer", f"{payers.get(p.payer_id, '')} {p.member_id}".strip()),
                         ("Secondary payer", f"{payers.get(p.secondary_payer_id, '')} "
                                             f"{p.secondary_member_id}".strip())):
        if value:
            print(f"{label}: {value}")
    with_whom = f" with {page.next_appointment_with}" if page.next_appointment_with else ""
    print(f"Next appointment: {when + with_whom if when else 'not scheduled'}")
    for e in page.episodes:
        end = f", discharged {e.discharged_on}" if e.discharged_on else ""
        print(f"Episode {e.id}: from {e.start_date}{end}; {', '.join(e.diagnoses)}")
    for v in page.visits:
        # the number is the session's id, as 'ptdoc check --session ID' takes it
        print(f"Session {v.id}: {v.date_of_service} {v.note_type.value}, {v.status.value}")
    return EXIT_OK


def _cmd_episodes(args: argparse.Namespace, db_path: Path) -> int:
    with signed_in(args, db_path) as ws:
        episodes = ws.episodes_of(ws.patient_by_mrn(args.patient).id or 0)
    if args.json:
        from ptdoc.codec import to_plain

        print(json.dumps([{k: v for k, v in to_plain(e).items() if k != "patient_id"}
                          for e in episodes], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not episodes:
        print(f"No episodes for {args.patient}.")
    for e in episodes:
        _print_episode(e)
    return EXIT_OK


def _print_episode(e) -> None:  # e: Episode
    cert = (f"certified {e.certified_on} through {e.certified_through}" if e.certified_on
            else f"not certified yet (through {e.certified_through or '-'})")
    print(f"Episode {e.id}: from {e.start_date}; {', '.join(e.diagnoses)}; {cert}; "
          f"order {'on file' if e.order_on_file else 'not on file'}"
          f"{'; discharged ' + str(e.discharged_on) if e.discharged_on else ''}")
    if e.frequency or e.duration:
        print(f"  {' for '.join(x for x in (e.frequency, e.duration) if x)}")
    if e.physician_name:
        print(f"  referred by {e.physician_name} (NPI {e.physician_npi or '-'})")
    for goal in e.goals:
        print(f"  goal: {goal}")


def _cmd_episode(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.domain import Episode

    with signed_in(args, db_path) as ws:
        if args.action == "add":
            patient = ws.patient_by_mrn(args.patient)
            changes = _plan_changes(args)
            episode = ws.add_episode(Episode(patient.id or 0, args.start, **changes))
            print(f"Opened episode {episode.id} for {patient.mrn} from {episode.start_date}")
            return EXIT_OK
        if args.action == "history":
            rows = ws.episode_history(args.id)
            if args.json:
                print(json.dumps([{"at": r.at.isoformat(), "by": r.actor, "action": r.action,
                                   "changes": r.changes} for r in rows], ensure_ascii=False,
                                 indent=2))
                return EXIT_OK
            from ptdoc import clock

            for r in rows:
                print(f"{clock.stamp(r.at, ws.time_zone())}  {r.actor}  {r.action}")
                for name, (old, new) in r.changes.items():
                    print(f"  {name}: {json.dumps(old)} -> {json.dumps(new)}")
            return EXIT_OK
        if args.action == "discharge":
            episode = ws.discharge_episode(args.id, args.on)
        else:
            changes = _plan_changes(args)
            if args.action == "certify":
                if "certified_on" not in changes:
                    raise UsageError("give --certified-on DATE (when the physician signed)")
                episode = ws.revise_episode(args.id, "certify", **changes)
            elif args.action == "recertify":
                if "certified_on" not in changes or "certified_through" not in changes:
                    raise UsageError("give --certified-on and --certified-through")
                episode = ws.revise_episode(args.id, "recertify", **changes)
            else:
                if not changes:
                    raise UsageError("give what changes (see 'ptdoc episode update --help')")
                episode = ws.revise_episode(args.id, "progress report", **changes)
    _print_episode(episode)
    return EXIT_OK


def _cmd_appointment(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.errors import DoubleBooking

    with signed_in(args, db_path) as ws:
        patient = ws.patient_by_mrn(args.patient)
        if args.action == "cancel":
            count = ws.cancel_next_appointment(patient.id or 0)
            print(f"Cancelled {count} appointment(s) of {patient.mrn}")
            return EXIT_OK
        clinician = None
        if args.clinician:
            clinician = ws.store.users.by_username(args.clinician)
            if clinician is None:
                raise UsageError(f"no user '{args.clinician}' (see 'ptdoc users')")
        day, time = args.at
        try:
            booked = ws.set_appointment(patient.id or 0, day, time,
                                        clinician.id if clinician else None, args.double_book)
        except DoubleBooking as exc:
            raise UsageError(f"--at: {exc.problems[0].message}; to book both, add "
                             "--double-book") from None
    with_whom = f" with {clinician.display}" if clinician else ""
    print(f"{patient.mrn} {patient.display_name}: next appointment {booked.when}{with_whom}")
    return EXIT_OK


def _cmd_appointments(args: argparse.Namespace, db_path: Path) -> int:
    with signed_in(args, db_path) as ws:
        day = day_of(args.date, ws)
        assert day is not None
        rows = ws.expected_without_note(day)
    if args.json:
        print(json.dumps([{"patient": r.patient.mrn, "patient_name": r.patient.display_name,
                           "time": r.appointment.time.strftime("%H:%M")
                           if r.appointment.time else None, "clinician": r.clinician or None,
                           "double_booked_with": list(r.double_booked_with)}
                          for r in rows], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not rows:
        print(f"Nobody booked on {day} is without a note.")
    for r in rows:
        time = r.appointment.time.strftime("%H:%M") if r.appointment.time else "--:--"
        print(f"{time}  {r.patient.mrn:<12} {r.patient.display_name:<32} {r.clinician or '-'}"
              + (f"  DOUBLE-BOOKED with {' and '.join(r.double_booked_with)}"
                 if r.double_booked_with else ""))
    return EXIT_OK
