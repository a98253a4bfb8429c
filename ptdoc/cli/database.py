"""The database file: the demo clinic, backup, restore, and the window."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ptdoc import clock, paths
from ptdoc.cli.common import (
    EXIT_OK,
    EXIT_PROBLEM,
    USER_ENV,
    UsageError,
    sign_in,
    signed_in,
)
from ptdoc.errors import KnownError

if TYPE_CHECKING:
    from ptdoc.repositories import ChainCheck
    from ptdoc.services.signing import NoteVerdict


def register(sub, common: argparse.ArgumentParser) -> dict:
    """Add this subject's commands to the parser; their handlers by command."""
    p = sub.add_parser("demo", parents=[common], help="build a demo clinic in a new database")
    p.add_argument("--force", action="store_true",
                   help="replace an existing database (it is backed up first)")

    p = sub.add_parser("backup", parents=[common], help="back up the database")
    p.add_argument("dest", nargs="?", type=Path,
                   help="file or folder (default: the backups folder beside the database)")

    p = sub.add_parser("restore", parents=[common],
                       help="replace the database with a checked backup")
    p.add_argument("file", type=Path)
    p.add_argument("--force", action="store_true",
                   help="do not ask before replacing the database (needed when standard input "
                        "is not a terminal)")

    p = sub.add_parser("migrate", parents=[common],
                       help="move the clinic of a database file to an empty PostgreSQL "
                            "database (the file is left as it is)")
    p.add_argument("--from", dest="source", type=Path, required=True, metavar="FILE",
                   help="the clinic's database file")
    p.add_argument("--to", dest="target", required=True, metavar="URL",
                   help="postgresql://OWNER@HOST/DBNAME: an empty database, as its owner")
    p.add_argument("--as-is", action="store_true",
                   help="move a file that does not verify as it is, its problems with it "
                        "(the server's copy must fail exactly as the file does)")

    sub.add_parser("verify", parents=[common],
                   help="check the audit log's hash chain and every signed note's signature")

    p = sub.add_parser("gui", parents=[common], help="start the window (the default)")
    p.add_argument("--no-demo", action="store_true",
                   help="do not create a demo clinic when the database does not exist")
    return {"demo": _cmd_demo, "backup": _cmd_backup, "restore": _cmd_restore,
            "verify": _cmd_verify, "gui": _cmd_gui, "migrate": _cmd_migrate}


def _cmd_migrate(args: argparse.Namespace, _db_path: Path) -> int:
    """The file's administrator signs in; the file is checked as ``verify`` checks it, and one
    that does not verify stays where it is unless ``--as-is`` moves it with its problems; every
    row is copied in one transaction, which commits only when the server's copy verifies as
    the file does (the same notes fail, the same audit chain)."""
    from ptdoc import db as dbmod
    from ptdoc import pg
    from ptdoc.permissions import Permission
    from ptdoc.repositories import AuditAction
    from ptdoc.services import Workspace
    from ptdoc.store import Store

    if not paths.is_server_url(args.target):
        raise UsageError(f"--to takes postgresql://USER@HOST/DBNAME, not {args.target!r}")
    if not dbmod.identify(args.source):
        raise UsageError(f"No database at {args.source}")
    with Store.open(args.source) as source:
        admin = sign_in(source, args)
        admin.require(Permission.BACKUP)
        zone = admin.time_zone()
        # Told to an administrator: each note's verdict, not what it says.
        file_chain, file_notes = admin.verify_records(why=False)
        failing = _failures(file_chain, file_notes)
        if failing and not args.as_is:
            return _refuse_unverified(args, file_chain, file_notes, zone)
        with Store.open(args.target) as target:
            server = Workspace(target, None)
            checked: list[tuple[ChainCheck, list[NoteVerdict]]] = []

            def same_as_file() -> None:  # in the copy's transaction: a refusal keeps nothing
                chain, notes = server.verify_records(why=False)
                differ = _differences(file_chain, file_notes, chain, notes)
                if differ:
                    raise _CopyDiffers(differ)
                checked.append((chain, notes))
                as_is = (f" as it was: {_failure_summary(file_chain, file_notes)}"
                         if failing else "")
                target.audit.record(admin.actor, AuditAction.ADMIN, "clinic",
                                    detail=f"moved from {args.source.name}{as_is}")

            try:
                counts = pg.copy_clinic(source.db, target.db,  # type: ignore[arg-type]
                                        check=same_as_file)
            except _CopyDiffers as exc:
                print(f"The server's copy does not verify as {args.source} does:")
                _print_problems(exc.differences, len(exc.differences))
                print(f"Nothing was kept on the server ({pg.shown(args.target)} is as it "
                      f"was) and {args.source} is as it was: keep using the file and report "
                      "this.")
                return EXIT_PROBLEM
    chain, notes = checked[0]
    named = (("patients", "patients"), ("sessions", "sessions"), ("audit", "audit log rows"))
    print(f"Copied {sum(counts.values())} rows from {args.source} to {pg.shown(args.target)}: "
          + ", ".join(f"{counts[t]} {words}" for t, words in named if t in counts))
    print(f"Signed notes: {len(notes)}; audit log: {chain.rows} rows, chain head {chain.head}")
    if not failing:
        print("Every signature verifies and the audit chain is intact on the server.")
        return EXIT_OK
    _print_problems(_record_problems(chain, notes, zone), failing)
    print(f"Moved as it was, with --as-is: on the server, as in the file, "
          f"{_failure_summary(chain, notes)}. 'ptdoc verify --db "
          f"{pg.shown(args.target)}' lists every problem.")
    return EXIT_OK


class _CopyDiffers(Exception):
    """The server's copy does not verify as the file does (raised inside the copy's
    transaction, so nothing of it is kept)."""

    def __init__(self, differences: list[str]):
        super().__init__("; ".join(differences))
        self.differences = differences


def _refuse_unverified(args: argparse.Namespace, chain: ChainCheck,
                       notes: list[NoteVerdict], zone: str | None) -> int:
    """A file that does not verify is not moved: a copy would carry its broken signatures to
    the server as if the move had broken them, and leave the server holding a clinic."""
    print(f"{args.source} does not verify: {_failure_summary(chain, notes)}.")
    _print_problems(_record_problems(chain, notes, zone), _failures(chain, notes))
    print(f"Nothing was moved: {args.source} is as it was, and nothing was written to the "
          f"server. 'ptdoc verify --db {args.source}' lists every problem; to move the "
          "clinic with them, as it is, run this again with --as-is (the server's copy must "
          "then fail exactly as the file does).")
    return EXIT_PROBLEM


def _failures(chain: ChainCheck, notes: list[NoteVerdict]) -> int:
    """How many things do not verify: broken audit rows and signed notes that fail."""
    return chain.broken + sum(1 for note in notes if not note.check.ok)


def _failure_summary(chain: ChainCheck, notes: list[NoteVerdict]) -> str:
    """"3 of 120 signed notes do not verify; 2 audit rows break the audit chain"."""
    failing = sum(1 for note in notes if not note.check.ok)
    parts = []
    if failing:
        parts.append(f"{failing:,} of {len(notes):,} signed notes "
                     f"{'does' if failing == 1 else 'do'} not verify")
    if chain.broken:
        parts.append(f"{chain.broken:,} audit row{'s' * (chain.broken != 1)} "
                     f"{'break' if chain.broken != 1 else 'breaks'} the audit chain")
    return "; ".join(parts) or "everything verifies"


def _differences(file_chain: ChainCheck, file_notes: list[NoteVerdict],
                 chain: ChainCheck, notes: list[NoteVerdict]) -> list[str]:
    """Where the server's verification differs from the file's (nothing: the copy is
    faithful, problems included)."""
    differ = []
    if (chain.rows, chain.head) != (file_chain.rows, file_chain.head):
        differ.append(f"the audit chain ends at row {chain.rows} ({chain.head}) on the "
                      f"server, at row {file_chain.rows} ({file_chain.head}) in the file")
    if chain.broken != file_chain.broken:
        differ.append(f"{chain.broken} broken audit rows on the server, "
                      f"{file_chain.broken} in the file")
    if len(notes) != len(file_notes):
        differ.append(f"{len(notes)} signed notes on the server, {len(file_notes)} in the "
                      "file")
    fails = {note.session_id for note in notes if not note.check.ok}
    file_fails = {note.session_id for note in file_notes if not note.check.ok}
    differ += [f"session {sid} does not verify on the server, and does in the file"
               for sid in sorted(fails - file_fails)]
    differ += [f"session {sid} verifies on the server, and does not in the file"
               for sid in sorted(file_fails - fails)]
    return differ


def _record_problems(chain: ChainCheck, notes: list[NoteVerdict],
                     zone: str | None) -> list[str]:
    """What does not verify: the audit chain's first breaks (``check_chain`` lists at most
    20; ``chain.broken`` counts them all), then each signed note that fails, by its id and
    dates, and why only for whoever may open notes (``verify_records``)."""
    from ptdoc.signature_check import DOES_NOT_VERIFY

    def verdict(note: NoteVerdict) -> str:
        if note.check.reason:
            return note.check.headline
        return (f"{DOES_NOT_VERIFY} (a clinician reads why with 'ptdoc check --session "
                f"{note.session_id}')")

    def dates(note: NoteVerdict) -> str:
        signed = f", signed {clock.stamp(note.signed_at, zone)}" if note.signed_at else ""
        return f"visit {note.date_of_service.isoformat()}{signed}"

    return list(chain.problems) + [f"session {n.session_id} ({dates(n)}): {verdict(n)}"
                                   for n in notes if not n.check.ok]


LISTED = 20  # a report after a move or a restore lists this many problems, then how many more


def _print_problems(problems: list[str], total: int, limit: int | None = LISTED) -> None:
    """One PROBLEM line each, at most ``limit`` of them (None: all that are listed), then how
    many of the ``total`` were not shown."""
    shown = problems if limit is None else problems[:limit]
    for problem in shown:
        print(f"PROBLEM {problem}")
    if total > len(shown):
        print(f"... and {total - len(shown):,} more")


def _report_records(chain: ChainCheck, notes: list[NoteVerdict],
                    problems: list[str], failed: str, verified: str) -> int:
    """The verification after a restore, and its exit code."""
    print(f"Signed notes: {len(notes)}; audit log: {chain.rows} rows, chain head {chain.head}")
    _print_problems(problems, _failures(chain, notes))
    if problems:
        print(failed)
        return EXIT_PROBLEM
    print(verified)
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace, db_path: Path) -> int:
    with signed_in(args, db_path) as ws:
        chain, notes = ws.verify_records()
        problems = _record_problems(chain, notes, ws.time_zone())
    legacy = sum(1 for note in notes if note.check.legacy)
    print(f"Audit log: {chain.rows} rows, chain head {chain.head}")
    print(f"Signed notes: {len(notes)}" + (f" ({legacy} signed before keyed signatures, "
                                           "checked by SHA-256 only)" if legacy else ""))
    total = _failures(chain, notes)
    _print_problems(problems, total, limit=None)  # every note; the chain's first breaks
    if total:
        print(f"{total} problem{'s' * (total != 1)}: the record does not verify.")
        return EXIT_PROBLEM
    print("Everything verifies.")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc import db as dbmod
    from ptdoc.demo import DEMO_TIME_ZONE, build_demo

    if paths.is_server_url(db_path):
        return _demo_on_server(str(db_path))
    if db_path.exists():
        if not args.force:
            raise UsageError(f"{db_path} already exists; use --force to replace it (it is "
                             "backed up, or moved aside when it is not a ptdoc database, "
                             "first) or --db PATH for another file")
        _administrator_of(db_path, args)
        kept = dbmod.keep_current(db_path, "demo")
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
        print(f"Previous file kept at {kept}")
    with build_demo(db_path, clock.today(DEMO_TIME_ZONE)) as store:
        print(f"Demo clinic created at {db_path}: {store.patients.count()} patients, "
              f"{store.sessions.count()} sessions. Users: admin, mchen (DPT), jokafor (PT), "
              "lrivera (PTA), tnguyen (aide), pkim (front desk); password demo1234.")
    return EXIT_OK


def _demo_on_server(url: str) -> int:
    """The demo clinic in a server's database holding no clinic (never replacing one)."""
    from ptdoc import pg
    from ptdoc.demo import DEMO_TIME_ZONE, build_demo

    try:
        store = build_demo(url, clock.today(DEMO_TIME_ZONE))
    except FileExistsError as exc:
        raise UsageError(f"{exc}; nothing was changed (a server's clinic is never replaced "
                         "by the demo)") from exc
    with store:
        print(f"Demo clinic created in {pg.shown(url)}: {store.patients.count()} patients, "
              f"{store.sessions.count()} sessions. Users: admin, mchen (DPT), jokafor (PT), "
              "lrivera (PTA), tnguyen (aide), pkim (front desk); password demo1234.")
    return EXIT_OK


def _cmd_backup(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc import db as dbmod
    from ptdoc.permissions import Permission
    from ptdoc.repositories import AuditAction

    if paths.is_server_url(db_path):
        return _backup_server(args, str(db_path))
    stamp = f"ptdoc-backup-{dt.datetime.now():%Y%m%d-%H%M%S}.sqlite3"
    dest = args.dest or paths.backup_dir(db_path) / stamp
    if dest.is_dir():
        dest = dest / stamp
    with signed_in(args, db_path) as ws:
        ws.require(Permission.BACKUP)
        try:
            dbmod.checked_backup(ws.store.db, db_path, dest)
        except OSError as exc:
            raise UsageError(f"cannot write {dest}: {exc.strerror}") from exc
        ws.store.audit.record(ws.actor, AuditAction.BACKUP, detail=dest.name)
    print(f"Backed up {db_path} to {dest}")
    return EXIT_OK


def _cmd_restore(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc import db as dbmod
    from ptdoc.repositories import AuditAction
    from ptdoc.store import Store

    if paths.is_server_url(db_path):
        return _restore_server(args, str(db_path))
    dbmod.check_backup_file(args.file)
    admin = _administrator_of(db_path, args)
    if db_path.exists() and not args.force:
        _confirm_restore(db_path, args.file)
    kept = dbmod.restore(db_path, args.file)
    with Store.open(db_path) as store:
        # The ids of the restored file are its own: the administrator is found by name there.
        actor = store.users.by_username(admin.username) if admin else None
        store.audit.record(actor, AuditAction.RESTORE, detail=args.file.name)
    print(f"Restored {db_path} from {args.file}" +
          (f"; the previous database was kept at {kept}" if kept else ""))
    return EXIT_OK


def _backup_server(args: argparse.Namespace, url: str) -> int:
    """pg_dump's custom format into a private file, read back before it is kept."""
    from ptdoc import pg, pg_backup
    from ptdoc.permissions import Permission
    from ptdoc.repositories import AuditAction

    database = url.split("?")[0].rsplit("/", 1)[-1] or "ptdoc"
    stamp = f"ptdoc-backup-{database}-{dt.datetime.now():%Y%m%d-%H%M%S}.dump"
    dest = args.dest or paths.server_backup_dir() / stamp
    if dest.is_dir():
        dest = dest / stamp
    with signed_in(args, url) as ws:  # the connection and the user are checked first
        ws.require(Permission.BACKUP)
        try:
            facts = pg_backup.dump(url, dest)
        except OSError as exc:
            raise UsageError(f"cannot write {dest}: {exc.strerror}") from exc
        ws.store.audit.record(ws.actor, AuditAction.BACKUP, detail=dest.name)
    print(f"Backed up {pg.shown(url)} to {dest} (pg_dump, custom format; schema "
          f"{facts.version}, {len(facts.tables)} tables)")
    return EXIT_OK


def _restore_server(args: argparse.Namespace, url: str) -> int:
    """Check the dump, say what it replaces and ask, restore in one transaction, then check
    every signature and the audit chain as ``verify`` does."""
    from ptdoc import pg, pg_backup
    from ptdoc.permissions import Permission
    from ptdoc.repositories import AuditAction
    from ptdoc.services import Workspace
    from ptdoc.session_store import announce_restore
    from ptdoc.store import Store

    facts = pg_backup.check_dump(args.file)
    db = pg.open_database(url, migrate=False)
    try:
        if not pg.owns_database(db):
            raise UsageError(f"restoring replaces the tables of {pg.shown(url)}, which only "
                             "the database's owner may do: give --db "
                             "postgresql://OWNER@HOST/DBNAME (the role that owns it)")
        admin = None
        if db.schema_version():
            store = Store(db)  # type: ignore[arg-type]
            ws = sign_in(store, args)
            ws.require(Permission.BACKUP)
            admin = ws.actor
            now = f"{store.sessions.count()} sessions, {store.patients.count()} patients"
        else:
            now = "no clinic yet"
    finally:
        db.close()
    if not args.force:
        _confirm(f"This replaces the clinic in {pg.shown(url)} ({now}) with "
                 f"{facts.describe()}.")
    kept = None
    if admin is not None:  # the clinic replaced is kept first, as a file's restore keeps it
        database = url.split("?")[0].rsplit("/", 1)[-1] or "ptdoc"
        kept = pg_backup.dump(url, paths.server_backup_dir() / f"ptdoc-before-restore-"
                              f"{database}-{dt.datetime.now():%Y%m%d-%H%M%S}.dump").path
    pg_backup.restore(url, args.file)
    try:
        store = Store.open(url)  # an older dump is brought to the current schema here
    except Exception as exc:  # whatever stopped the upgrade is undone the same way
        # Never left half upgraded: the clinic that was there comes back whole.
        logging.getLogger(__name__).exception("upgrading the restored %s", args.file)
        if kept is not None:
            pg_backup.restore(url, kept)
            with Store.open(url) as back:  # the schema of now: nothing to upgrade
                pg.grant_application_role(back.db)  # type: ignore[arg-type]
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise KnownError(
            f"The dump {args.file} (schema {facts.version}) could not be brought to this "
            f"ptdoc's schema ({why}); " + (f"the clinic that was there is back as it was "
                                           f"(kept at {kept})" if kept else
                                           "the database holds it at its old schema") +
            ". Choose another backup, or keep this one and report it.") from exc
    with store:
        pg.grant_application_role(store.db)  # type: ignore[arg-type]
        restored = Workspace(store, None)  # told to its owner: verdicts, not what notes say
        chain, notes = restored.verify_records(why=False)
        problems = _record_problems(chain, notes, restored.time_zone())
        actor = store.users.by_username(admin.username) if admin else None
        store.audit.record(actor, AuditAction.RESTORE, detail=args.file.name)
        announce_restore(store.db)  # windows left open list their day again
    print(f"Restored {pg.shown(url)} from {args.file}" +
          (f"; the previous clinic was kept at {kept}" if kept else ""))
    return _report_records(chain, notes, problems,
                           "The restored database does not verify: report this before working "
                           "in it.",
                           "Every signature verifies and the audit chain is intact.")


def _administrator_of(db_path: Path, args: argparse.Namespace):  # -> User | None
    """Replacing a clinic's database (restore, demo --force) is for its administrator, signed
    in. A file that cannot be opened as ptdoc's database (missing, damaged, foreign: what
    restore is for) has no users to ask; it is kept aside whole before it is replaced."""
    from ptdoc import db as dbmod
    from ptdoc.errors import DatabaseError
    from ptdoc.permissions import Permission
    from ptdoc.store import Store

    try:
        store = Store.open(db_path) if dbmod.identify(db_path) else None
    except DatabaseError:
        return None
    if store is None:
        return None
    with store:
        ws = sign_in(store, args)
        ws.require(Permission.BACKUP)
        return ws.actor


def _confirm_restore(db_path: Path, source: Path) -> None:
    """Restoring replaces a whole clinic: say what by what, and ask (y/N) on a terminal."""
    from ptdoc import db as dbmod

    _confirm(f"This replaces {db_path} ({dbmod.contents(db_path)}) with {source} "
             f"({dbmod.contents(source)}).")


def _confirm(what: str) -> None:
    """Say what is replaced by what, and ask (y/N) on a terminal; refuse elsewhere."""
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
    missing = qtcheck.missing_qt_libraries(remember=paths.cache_dir() / "qt-libraries-found")
    if missing:
        raise KnownError(missing)
    from ptdoc.ui.app import run

    # A kiosk: --user chooses who signs in; with --password-stdin they are signed in (the
    # password from standard input, never the command line) and the window opens as theirs.
    user = (getattr(args, "user", None) or os.environ.get(USER_ENV, "")).strip() or None
    if args.secrets.from_stdin and user is None:
        raise UsageError(f"--password-stdin signs a user in to the window: give --user NAME "
                         f"(or set {USER_ENV})")

    def signed_in_user(store):  # -> User, refused in one line as every command's sign-in
        return sign_in(store, args).actor

    return run(db_path, demo_if_missing=not getattr(args, "no_demo", False), user=user,
               sign_in=signed_in_user if args.secrets.from_stdin else None)
