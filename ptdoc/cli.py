"""The ``ptdoc`` command: the GUI by default, and real subcommands for scripts and tests.

Exit codes: 0 success, 1 the command ran and found a problem (a check that blocks, a database
that cannot be used), 2 bad input (arguments, unknown ids, invalid files). Every error is one
line on stderr; tracebacks go to the log file only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ptdoc import __version__, clock, fields, files, interchange, logfile, paths
from ptdoc.errors import (
    KnownError,
    NotFound,
    PermissionDenied,
    RecordLocked,
    ValidationError,
)

log = logging.getLogger(__name__)

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


class UsageError(KnownError):
    """Bad arguments: reported in one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _date(text: str) -> dt.date | int:
    """A date, or days from the clinic's today ('today', 'yesterday'): the clinic's zone is
    known once the database is open, so ``_day`` resolves those."""
    words = {"today": 0, "yesterday": -1}
    if text in words:
        return words[text]
    try:
        value = fields.parse_date(text, "The date", "date")
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value is None:
        raise argparse.ArgumentTypeError("the date is empty (write YYYY-MM-DD)")
    return value


def _day(value: dt.date | int | None, ws) -> dt.date | None:  # ws: services.Workspace
    if isinstance(value, int):
        return ws.today() + dt.timedelta(days=value)
    return value


def _time_zone(text: str) -> str:
    if not clock.is_zone(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not {clock.ZONE_EXAMPLE}")
    return text


def _positive_int(text: str) -> int:
    # ASCII digits and at most 18 of them: an id SQLite can hold ('²'.isdigit() is True).
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) == 0:
        raise argparse.ArgumentTypeError(f"'{fields.clip(text)}' is not a session id (a "
                                         "positive number)")
    return int(text)


def _year(text: str) -> int:
    try:
        value = fields.parse_int(text, fields.YEAR, "year")
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value is None:
        raise argparse.ArgumentTypeError("the year is empty")
    return value


def _actions(parser: argparse.ArgumentParser, required: bool = False) -> Any:
    """The ACTION level of a two-word command (``ptdoc user add``, ``ptdoc fees set``)."""
    return parser.add_subparsers(dest="action", metavar="ACTION", required=required,
                                 parser_class=_Parser)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, default=argparse.SUPPRESS, metavar="PATH",
                        help=f"database file (default: ${paths.DB_ENV} or "
                             f"{paths.default_db_path()})")
    parser = _Parser(prog="ptdoc", parents=[common],
                     description="Document supervised therapeutic-exercise sessions. Without a "
                                 "command, starts the window.")
    parser.add_argument("--version", action="version", version=f"ptdoc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("demo", parents=[common], help="build a demo clinic in a new database")
    p.add_argument("--force", action="store_true",
                   help="replace an existing database (it is backed up first)")

    p = sub.add_parser("sessions", parents=[common], help="list sessions")
    p.add_argument("--date", type=_date, help="date of service, YYYY-MM-DD or 'today'")
    p.add_argument("--patient", metavar="MRN", help="only this patient's sessions")
    p.add_argument("--status", choices=["draft", "signed"])
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("session", parents=[common], help="export or import one session")
    ssub = _actions(p, required=True)
    e = ssub.add_parser("export", parents=[common], help="write a session as interchange JSON")
    e.add_argument("id", type=_positive_int)
    e.add_argument("--json", action="store_true", help="JSON output (the interchange format)")
    e.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    i = ssub.add_parser("import", parents=[common], help="import a session JSON file")
    i.add_argument("file", type=Path)
    i.add_argument("--as-draft", action="store_true",
                   help="store it as a draft (to review and sign here), whatever it carries")

    p = sub.add_parser("units", help="billing units from minutes",
                       description="Units for timed codes given as CODE=MINUTES and untimed "
                                   "codes given as CODE (their minutes, if given, count toward "
                                   "total treatment time only).")
    p.add_argument("--method", choices=["cms", "per-code"], default="cms",
                   help="CMS total-time method (default) or the per-code method")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("codes", nargs="*", metavar="CODE[=MINUTES]")

    p = sub.add_parser("check", parents=[common], help="judge a session: findings and billing",
                       description="Exit 0 when nothing blocks, 1 when something blocks, "
                                   "2 on bad input.")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("file", nargs="?", type=Path, help="a session interchange file")
    target.add_argument("--session", type=_positive_int, metavar="ID",
                        help="a session in the database")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("users", parents=[common], help="list users")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("user", parents=[common], help="add a user or change one")
    usub = _actions(p, required=True)
    s = usub.add_parser("add", parents=[common], help="add a user (password read from stdin)")
    s.add_argument("username")
    s.add_argument("--name", required=True, help="full name")
    s.add_argument("--credential", required=True,
                   choices=["PT", "DPT", "PTA", "aide", "front desk", "admin"])
    s.add_argument("--npi", help="required for PT and DPT")
    s = usub.add_parser("password", parents=[common],
                        help="set a user's password or PIN (read from stdin)")
    s.add_argument("username")
    s = usub.add_parser("disable", parents=[common], help="stop a user from signing in")
    s.add_argument("username")

    p = sub.add_parser("payers", parents=[common], help="list payers and their billing rules")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("payer", parents=[common], help="change a payer's billing rules")
    psub = _actions(p, required=True)
    s = psub.add_parser("set", parents=[common], help="set a payer's unit method and modifiers")
    s.add_argument("name", help="the payer's name as 'ptdoc payers' shows it")
    s.add_argument("--unit-method", choices=["cms", "per-code"])
    for flag, what in (("gp", "GP on every PT line"), ("cq", "CQ when a PTA furnished it"),
                       ("kx", "KX past the yearly threshold"),
                       ("pair-edits", "code-pair edits")):
        s.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, help=what)

    p = sub.add_parser("clinic", parents=[common], help="show or change the clinic's settings")
    p.add_argument("--json", action="store_true", help="print JSON")
    csub = _actions(p)
    s = csub.add_parser("set", parents=[common], help="change clinic settings")
    s.add_argument("--name")
    s.add_argument("--address")
    s.add_argument("--phone")
    s.add_argument("--npi", help="the clinic's group NPI")
    s.add_argument("--idle-lock", type=int, metavar="MINUTES",
                   help="lock the window after this many idle minutes (1-240)")
    s.add_argument("--time-zone", type=_time_zone, metavar="ZONE",
                   help="the clinic's IANA time zone, such as America/Chicago: signature and "
                        "print times are shown in it (a new clinic starts in this computer's)")

    p = sub.add_parser("fees", parents=[common], help="the fee schedule (allowed amount per "
                                                      "code), for year-to-date KX tracking")
    p.add_argument("--year", type=_year, default=None, help="default: this year")
    p.add_argument("--json", action="store_true", help="print JSON")
    fsub = _actions(p)
    s = fsub.add_parser("set", parents=[common], help="set one code's allowed amount")
    s.add_argument("code")
    s.add_argument("amount", help="dollars, such as 29.50")
    s.add_argument("--year", type=_year, default=None, help="default: this year")

    p = sub.add_parser("export", parents=[common], help="the daily note of a session as PDF")
    p.add_argument("--session", type=_positive_int, required=True, metavar="ID")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.pdf")

    p = sub.add_parser("summaries", parents=[common],
                       help="session summaries (one page each) or the day sheet, as PDF")
    p.add_argument("--date", type=_date, required=True, help="YYYY-MM-DD or 'today'")
    p.add_argument("-o", "--output", type=Path, metavar="FILE.pdf",
                   help="default: summaries-DATE.pdf (or day-sheet-DATE.pdf) here")
    p.add_argument("--day-sheet", action="store_true",
                   help="every session of the day on one sheet, for closing out the day")

    p = sub.add_parser("backup", parents=[common], help="back up the database")
    p.add_argument("dest", nargs="?", type=Path,
                   help="file or folder (default: the backups folder beside the database)")
    p = sub.add_parser("restore", parents=[common],
                       help="replace the database with a checked backup")
    p.add_argument("file", type=Path)
    p.add_argument("--force", action="store_true",
                   help="do not ask before replacing the database (needed when standard input "
                        "is not a terminal)")

    sub.add_parser("verify", parents=[common],
                   help="check the audit log's hash chain and every signed note's signature")

    p = sub.add_parser("gui", parents=[common], help="start the window (the default)")
    p.add_argument("--no-demo", action="store_true",
                   help="do not create a demo clinic when the database does not exist")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    log_file = logfile.setup_logging()
    try:
        args = build_parser().parse_args(argv)
        db_path = getattr(args, "db", None) or paths.default_db_path()
        command = args.command or "gui"
        return COMMANDS[command](args, Path(db_path))
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except (ValidationError, NotFound, PermissionDenied, RecordLocked) as exc:
        _err(_one_line(exc))
        return EXIT_USAGE
    except KnownError as exc:
        _err(str(exc))
        return EXIT_PROBLEM
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line here, the traceback in the log
        log.exception("unexpected error in: ptdoc %s", " ".join(map(repr, argv or sys.argv[1:])))
        where = f"details in {log_file}" if log_file else "no log file could be written"
        _err(f"internal error ({type(exc).__name__}: {fields.clip(_first_line(exc), 120)}); "
             f"{where}; please report it")
        return 70


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""


def _one_line(exc: KnownError) -> str:
    if isinstance(exc, ValidationError) and len(exc.problems) > 1:
        return f"{len(exc.problems)} problems: " + "; ".join(
            f"{p.field}: {p.message}" if p.field else p.message for p in exc.problems)
    if isinstance(exc, ValidationError) and exc.problems and exc.problems[0].field:
        return f"{exc.problems[0].field}: {exc.problems[0].message}"
    return str(exc)


def _err(message: str) -> None:
    # One line whatever the message holds (a file's text, a newline in an argument).
    # An argument that is not valid UTF-8 arrives with surrogates: shown escaped, not a crash.
    line = " ".join(message.split("\n")).encode("utf-8", "backslashreplace").decode("utf-8")
    print(f"ptdoc: {line}", file=sys.stderr)


def _open_existing(db_path: Path, create: bool = False):  # -> Store (lazy import: fast --help)
    from ptdoc.store import Store

    if not db_path.exists() and not create:
        raise NotFound(f"No database at {db_path}. Start ptdoc once, run 'ptdoc demo', or "
                       f"choose one with --db PATH or {paths.DB_ENV}.")
    return Store.open(db_path)


def _cmd_demo(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc import db as dbmod
    from ptdoc.demo import DEMO_TIME_ZONE, build_demo

    if db_path.exists():
        if not args.force:
            raise UsageError(f"{db_path} already exists; use --force to replace it (it is "
                             "backed up, or moved aside when it is not a ptdoc database, "
                             "first) or --db PATH for another file")
        kept = dbmod.keep_current(db_path, "demo")
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
        print(f"Previous file kept at {kept}")
    with build_demo(db_path, clock.today(DEMO_TIME_ZONE)) as store:
        print(f"Demo clinic created at {db_path}: {store.patients.count()} patients, "
              f"{store.sessions.count()} sessions. Users: admin, mchen (DPT), jokafor (PT), "
              "lrivera (PTA), tnguyen (aide), pkim (front desk); password demo1234.")
    return EXIT_OK


def _cmd_sessions(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.domain import SessionStatus
    from ptdoc.services import Workspace

    with _open_existing(db_path) as store:
        ws = Workspace(store, None)
        rows = ws.sessions(
            date=_day(args.date, ws), patient_mrn=args.patient,
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
    from ptdoc.services import Workspace

    if args.action == "export":
        with _open_existing(db_path) as store:
            text = interchange.dumps(Workspace(store, None).export_session(args.id))
        if args.output:
            _write(args.output, text)
            print(f"Session {args.id} written to {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return EXIT_OK
    doc = interchange.loads(interchange.read_file(args.file))
    with _open_existing(db_path) as store:
        session = Workspace(store, None).import_session(doc, as_draft=args.as_draft)
    print(f"Imported as session {session.id} ({session.status.value}, "
          f"{session.date_of_service}, patient {doc.patient.mrn})")
    return EXIT_OK


def _write(path: Path, data: bytes | str) -> None:
    """A file with patient data: private to the user (0600)."""
    try:
        files.write_private(path, data)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") \
            from exc


def _writable(path: Path) -> None:
    """Refuse an unwritable destination before doing the work."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write {path}: the folder does not exist or is not "
                         "writable")


def _cmd_export(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.services import Workspace

    _writable(args.output)
    with _open_existing(db_path) as store:
        ws = Workspace(store, None)
        pdf = ws.note_pdf(args.session)
        _write(args.output, pdf)
        ws.record_output("note", [args.session], "save")
    print(f"Session {args.session} written to {args.output}")
    return EXIT_OK


def _cmd_summaries(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.services import Workspace

    kind = "day-sheet" if args.day_sheet else "summaries"
    with _open_existing(db_path) as store:
        ws = Workspace(store, None)
        day = _day(args.date, ws)
        assert day is not None  # --date is required
        out = args.output or Path(f"{kind}-{day.isoformat()}.pdf")
        _writable(out)
        ids = ws.day_ids(day)
        pdf = ws.day_sheet_pdf(day) if args.day_sheet else ws.summaries_pdf(ids)
        _write(out, pdf)
        ws.record_output(kind.replace("-", " "), ids, "save")
    count = len(ids)
    print(f"{count} session{'s' * (count != 1)} of {day} written to {out}")
    return EXIT_OK


def _cmd_backup(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc import db as dbmod
    from ptdoc.repositories import AuditAction

    stamp = f"ptdoc-backup-{dt.datetime.now():%Y%m%d-%H%M%S}.sqlite3"
    dest = args.dest or paths.backup_dir(db_path) / stamp
    if dest.is_dir():
        dest = dest / stamp
    with _open_existing(db_path) as store:
        try:
            dbmod.checked_backup(store.db, db_path, dest)
        except OSError as exc:
            raise UsageError(f"cannot write {dest}: {exc.strerror}") from exc
        store.audit.record(None, AuditAction.BACKUP, detail=dest.name)
    print(f"Backed up {db_path} to {dest}")
    return EXIT_OK


def _cmd_restore(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc import db as dbmod
    from ptdoc.repositories import AuditAction
    from ptdoc.store import Store

    dbmod.check_backup_file(args.file)
    if db_path.exists() and not args.force:
        _confirm_restore(db_path, args.file)
    kept = dbmod.restore(db_path, args.file)
    with Store.open(db_path) as store:
        store.audit.record(None, AuditAction.RESTORE, detail=args.file.name)
    print(f"Restored {db_path} from {args.file}" +
          (f"; the previous database was kept at {kept}" if kept else ""))
    return EXIT_OK


def _confirm_restore(db_path: Path, source: Path) -> None:
    """Restoring replaces a whole clinic: say what by what, and ask (y/N) on a terminal."""
    from ptdoc import db as dbmod

    what = (f"This replaces {db_path} ({dbmod.contents(db_path)}) with {source} "
            f"({dbmod.contents(source)}).")
    if not sys.stdin.isatty():
        raise UsageError(f"{what} Run it on a terminal to confirm, or add --force.")
    # The question goes to stderr, so it is seen even when the output is redirected.
    print(f"{what}\nReplace the database? [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageError("restore cancelled; nothing was changed")


def _cmd_gui(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc import qtcheck

    problem = qtcheck.display_problem(os.environ, sys.platform)
    if problem:
        raise KnownError(problem)
    missing = qtcheck.missing_qt_libraries()
    if missing:
        raise KnownError(missing)
    from ptdoc.ui.app import run

    return run(db_path, demo_if_missing=not getattr(args, "no_demo", False))


def _parse_units_args(items: list[str]) -> tuple[dict[str, int], dict[str, int | None]]:
    from ptdoc.catalog import lookup

    if not items:
        raise UsageError("give at least one CODE=MINUTES or untimed CODE")
    timed: dict[str, int] = {}
    untimed: dict[str, int | None] = {}
    for item in items:
        code, sep, text = item.partition("=")
        code = code.strip().upper()
        if not code:
            raise UsageError(f"'{item}': minutes given to nothing (write CODE=MINUTES)")
        info = lookup(code)
        if info is None:
            raise UsageError(f"unknown code '{fields.clip(code)}' (not a PT code ptdoc knows)")
        minutes = None
        if sep:
            try:
                minutes = fields.parse_int(text, fields.MINUTES, code)
            except ValidationError as exc:
                raise UsageError(f"'{fields.clip(item)}': {exc}") from None
            if minutes is None:
                raise UsageError(f"'{item}': give the minutes after '=' (CODE=MINUTES)")
        if info.timed:
            if minutes is None:
                raise UsageError(f"{code} is timed: give its minutes as {code}=MINUTES")
            timed[code] = timed.get(code, 0) + minutes
        else:
            untimed[code] = minutes if untimed.get(code) is None else \
                (untimed[code] or 0) + (minutes or 0)
    for code, minutes in [*timed.items(), *untimed.items()]:
        if (minutes or 0) > fields.MINUTES.high:
            raise UsageError(f"{code} has {minutes} minutes in all: "
                             f"{fields.MINUTES.expected()} per code")
    if len(timed) + len(untimed) > fields.MAX_SERVICES:
        raise UsageError(f"at most {fields.MAX_SERVICES} codes at once")
    total = sum(timed.values()) + sum(m or 0 for m in untimed.values())
    if total > fields.VISIT_MINUTES.high:
        raise UsageError(f"{total} minutes in all is longer than a day: "
                         f"{fields.VISIT_MINUTES.expected()}")
    return timed, untimed


def _cmd_units(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.billing import compute_units
    from ptdoc.domain import UnitMethod

    timed, untimed = _parse_units_args(args.codes)
    result = compute_units(timed, untimed, UnitMethod(args.method))
    if args.json:
        print(json.dumps({
            "method": result.method.value, "total_timed_minutes": result.total_timed_minutes,
            "total_units": result.total_units,
            "lines": [{"code": line.code, "minutes": line.minutes, "units": line.units}
                      for line in result.lines],
            "choices": list(result.choices), "explanation": list(result.explanation),
        }, indent=2))
        return EXIT_OK
    for line in result.lines:
        print(f"{line.code} {line.units}")
    if result.tied:
        print(f"Tie: {len(result.choices)} valid allocations; the first is shown.")
    for sentence in result.explanation:
        print(sentence)
    return EXIT_OK


def _cmd_check(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.review import review_context

    if args.session is not None:
        from ptdoc.services import Workspace

        with _open_existing(db_path) as store:
            ws = Workspace(store, None)
            judged = ws.review(store.sessions.get(args.session))
    else:
        from ptdoc.icd_index import IcdIndex
        from ptdoc.rule_context import RuleContext

        doc = interchange.loads(interchange.read_file(args.file))
        facts = doc.context
        ctx = RuleContext(
            session=doc.session, today=clock.today(), patient=doc.patient, payer=doc.payer,
            episode=doc.episode, users={u.id or 0: u for u in doc.clinicians},
            treatment_days_since_progress_report=facts.treatment_days_since_progress_report,
            year_to_date_amount=facts.year_to_date_amount, codes=IcdIndex.open())
        judged = review_context(ctx)
    lines = [{"code": line.code, "minutes": line.minutes, "units": line.units,
              "modifiers": list(line.modifier_codes)} for line in judged.claim.lines]
    if args.json:
        print(json.dumps({"findings": [
            {"code": f.code, "severity": f.severity.value, "field": f.field,
             "message": f.message, "source": f.source, "fix": f.fix} for f in judged.findings],
            "lines": lines}, indent=2, ensure_ascii=False))
    else:
        for f in judged.findings:
            print(f"{f.severity.value.upper():<8} {f.code} at {f.field}: {f.message} "
                  f"Fix: {f.fix}")
        if not judged.findings:
            print("No findings.")
        print("Billing:")
        for line in judged.claim.lines:
            mods = "-".join(line.modifier_codes)
            print(f"  {line.code} x{line.units}" + (f" {mods}" if mods else "") +
                  (f" ({line.minutes} min)" if line.minutes is not None else ""))
    return EXIT_PROBLEM if judged.blockers else EXIT_OK


def _read_secret() -> str:
    """The password or PIN from standard input (a prompt when it is a terminal)."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Password or PIN: ")
    return sys.stdin.readline().rstrip("\n")


def _cmd_users(args: argparse.Namespace, db_path: Path) -> int:
    with _open_existing(db_path) as store:
        users = store.users.all()
    if args.json:
        print(json.dumps([{"username": u.username, "name": u.full_name,
                           "credential": u.credential.value, "npi": u.npi, "active": u.active}
                          for u in users], indent=2, ensure_ascii=False))
        return EXIT_OK
    for u in users:
        print(f"{u.username:<16} {u.full_name:<28} {u.credential.value:<11} {u.npi or '-':<11} "
              f"{'active' if u.active else 'disabled'}")
    return EXIT_OK


def _cmd_user(args: argparse.Namespace, db_path: Path) -> int:
    from dataclasses import replace

    from ptdoc.domain import Credential, User
    from ptdoc.repositories import AuditAction
    from ptdoc.services import Workspace

    with _open_existing(db_path, create=args.action == "add") as store:
        ws = Workspace(store, None)
        if args.action == "add":
            user = User(args.username, args.name, Credential(args.credential), args.npi)
            ws.add_user(user, _read_secret())
            print(f"Added {user.display} as '{user.username}'")
            return EXIT_OK
        user = store.users.by_username(args.username)
        if user is None:
            raise NotFound(f"No user '{args.username}' (see 'ptdoc users')")
        if args.action == "password":
            ws.set_password(user.id or 0, _read_secret())
        else:
            with store.db.atomic():
                store.users.update(replace(user, active=False))
                store.audit.record(None, AuditAction.ADMIN, "user", user.id, "disable")
    print(f"Updated '{args.username}'")
    return EXIT_OK


_PAYER_FLAGS = {"gp": "gp_required", "cq": "cq_applies", "kx": "kx_applies",
                "pair_edits": "code_pair_edits"}


def _cmd_payers(args: argparse.Namespace, db_path: Path) -> int:
    with _open_existing(db_path) as store:
        payers = store.payers.all()
    if args.json:
        print(json.dumps([{"name": p.name, "profile": p.profile.value,
                           "unit_method": p.unit_method.value, "medicare": p.medicare,
                           **{flag: getattr(p, flag) for flag in _PAYER_FLAGS.values()}}
                          for p in payers], indent=2))
        return EXIT_OK
    for p in payers:
        rules = [label for label, flag in (("GP", "gp_required"), ("CQ", "cq_applies"),
                                           ("KX", "kx_applies"), ("pair edits",
                                                                  "code_pair_edits"))
                 if getattr(p, flag)]
        print(f"{p.name:<32} {p.profile.value:<20} {p.unit_method.value:<9} "
              f"{', '.join(rules) or '-'}")
    return EXIT_OK


def _cmd_payer(args: argparse.Namespace, db_path: Path) -> int:
    from dataclasses import replace

    from ptdoc.domain import UnitMethod
    from ptdoc.services import Workspace

    with _open_existing(db_path) as store:
        match = [p for p in store.payers.all() if p.name == args.name]
        if not match:
            raise NotFound(f"No payer named '{args.name}' (see 'ptdoc payers')")
        payer = match[0]
        if args.unit_method:
            payer = replace(payer, unit_method=UnitMethod(args.unit_method))
        for option, flag in _PAYER_FLAGS.items():
            value = getattr(args, option)
            if value is not None:
                payer = replace(payer, **{flag: value})
        Workspace(store, None).update_payer(payer)
    print(f"Updated {payer.name}")
    return EXIT_OK


def _cmd_clinic(args: argparse.Namespace, db_path: Path) -> int:
    from dataclasses import asdict, replace

    from ptdoc.domain import Clinic
    from ptdoc.services import Workspace

    with _open_existing(db_path, create=args.action == "set") as store:
        clinic = store.clinic.get() or Clinic("My clinic")
        if args.action == "set":
            changes = {k: v for k, v in (("name", args.name), ("address", args.address),
                                         ("phone", args.phone), ("npi", args.npi),
                                         ("idle_lock_minutes", args.idle_lock),
                                         ("time_zone", args.time_zone))
                       if v is not None}
            clinic = replace(clinic, **changes)
            Workspace(store, None).save_clinic(clinic)
    if args.json:
        print(json.dumps(asdict(clinic)))
    else:
        now = clock.stamp(clock.utcnow(), clinic.time_zone)
        print(f"{clinic.name}\n{clinic.address}\n{clinic.phone}\nNPI {clinic.npi or '-'}\n"
              f"Idle lock after {clinic.idle_lock_minutes} minutes\n"
              f"Time zone {clinic.time_zone} (now {now})")
    return EXIT_OK


def _cmd_fees(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.services import Workspace

    with _open_existing(db_path) as store:
        year = args.year or Workspace(store, None).today().year
        if args.action == "set":
            amount = fields.parse_decimal(args.amount, fields.AMOUNT, "amount")
            if amount is None:
                raise UsageError("give the amount in dollars, such as 29.50")
            Workspace(store, None).set_fee(args.code.upper(), year, amount)
            print(f"{args.code.upper()} {year}: ${amount}")
            return EXIT_OK
        fees = store.fees.for_year(year)
    if args.json:
        print(json.dumps({code: str(amount) for code, amount in sorted(fees.items())}))
    elif not fees:
        print(f"No fee schedule for {year}: set amounts with 'ptdoc fees set CODE AMOUNT'.")
    for code, amount in sorted(fees.items()):
        if not args.json:
            print(f"{code}  ${amount}")
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.services import Workspace

    with _open_existing(db_path) as store:
        chain, notes = Workspace(store, None).verify_records()
    legacy = sum(1 for _, verdict in notes if verdict.legacy)
    problems = list(chain.problems) + [f"session {sid}: {verdict.headline}"
                                       for sid, verdict in notes if not verdict.ok]
    print(f"Audit log: {chain.rows} rows, chain head {chain.head}")
    print(f"Signed notes: {len(notes)}" + (f" ({legacy} signed before keyed signatures, "
                                           "checked by SHA-256 only)" if legacy else ""))
    for problem in problems:
        print(f"PROBLEM {problem}")
    if problems:
        print(f"{len(problems)} problem{'s' * (len(problems) != 1)}: the record does not "
              "verify.")
        return EXIT_PROBLEM
    print("Everything verifies.")
    return EXIT_OK


COMMANDS = {"users": _cmd_users, "user": _cmd_user, "export": _cmd_export,
            "summaries": _cmd_summaries, "clinic": _cmd_clinic, "payers": _cmd_payers,
            "payer": _cmd_payer, "fees": _cmd_fees, "units": _cmd_units, "check": _cmd_check,
            "demo": _cmd_demo, "sessions": _cmd_sessions, "session": _cmd_session,
            "backup": _cmd_backup, "restore": _cmd_restore, "verify": _cmd_verify,
            "gui": _cmd_gui}

