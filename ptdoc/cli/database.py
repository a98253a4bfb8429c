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

    sub.add_parser("verify", parents=[common],
                   help="check the audit log's hash chain and every signed note's signature")

    p = sub.add_parser("gui", parents=[common], help="start the window (the default)")
    p.add_argument("--no-demo", action="store_true",
                   help="do not create a demo clinic when the database does not exist")
    return {"demo": _cmd_demo, "backup": _cmd_backup, "restore": _cmd_restore,
            "verify": _cmd_verify, "gui": _cmd_gui, "migrate": _cmd_migrate}


def _cmd_migrate(args: argparse.Namespace, _db_path: Path) -> int:
    """The file's administrator signs in; every row is copied in one transaction; then the
    server's copy is checked as ``verify`` checks: every signature and the audit chain."""
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
        before = source.audit.check_chain()
        with Store.open(args.target) as target:
            counts = pg.copy_clinic(source.db, target.db)  # type: ignore[arg-type]
            # Told to an administrator: each note's verdict, not what it says.
            server = Workspace(target, None)
            chain, notes = server.verify_records(why=False)
            problems = _record_problems(chain, notes, server.time_zone())
            if chain.head != before.head or chain.rows != before.rows:
                problems.append(f"the audit chain ends at row {chain.rows} ({chain.head}) on "
                                f"the server, at row {before.rows} ({before.head}) in the file")
            if not problems:
                target.audit.record(admin.actor, AuditAction.ADMIN, "clinic",
                                    detail=f"moved from {args.source.name}")
    named = (("patients", "patients"), ("sessions", "sessions"), ("audit", "audit log rows"))
    print(f"Copied {sum(counts.values())} rows from {args.source} to {pg.shown(args.target)}: "
          + ", ".join(f"{counts[t]} {words}" for t, words in named if t in counts))
    return _report_records(chain, notes, problems,
                           "The server's copy does not verify: keep using the file and report "
                           "this.",
                           "Every signature verifies and the audit chain is intact on the "
                           "server.")


def _record_problems(chain: ChainCheck, notes: list[NoteVerdict],
                     zone: str | None) -> list[str]:
    """What does not verify: breaks in the audit chain, then each signed note that fails, by
    its id and dates, and why only for whoever may open notes (``verify_records``)."""
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


def _report_records(chain: ChainCheck, notes: list[NoteVerdict],
                    problems: list[str], failed: str, verified: str) -> int:
    """The verification after a copy or a restore, and its exit code."""
    print(f"Signed notes: {len(notes)}; audit log: {chain.rows} rows, chain head {chain.head}")
    for problem in problems:
        print(f"PROBLEM {problem}")
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
    for problem in problems:
        print(f"PROBLEM {problem}")
    if problems:
        print(f"{len(problems)} problem{'s' * (len(problems) != 1)}: the record does not "
              "verify.")
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
