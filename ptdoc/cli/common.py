"""What every command shares: exit codes, one-line errors, argument types, opening the
database, writing files with patient data and reading a password."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from ptdoc import clock, fields, files, paths
from ptdoc.errors import KnownError, NotFound, ValidationError

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
USER_ENV = "PTDOC_USER"  # the ptdoc user a command acts as, when --user is not given


class UsageError(KnownError):
    """Bad arguments: reported in one line, exit 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def date_arg(text: str) -> dt.date | int:
    """A date, or days from the clinic's today ('today', 'yesterday'): the clinic's zone is
    known once the database is open, so ``day_of`` resolves those."""
    words = {"today": 0, "yesterday": -1}
    if text in words:
        return words[text]
    try:
        value = fields.parse_date(text, "The date", "date")
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value is None:
        raise argparse.ArgumentTypeError(f"the date is empty (write {fields.DATE_FORMS})")
    return value


def day_of(value: dt.date | int | None, ws) -> dt.date | None:  # ws: services.Workspace
    if isinstance(value, int):
        return ws.today() + dt.timedelta(days=value)
    return value


def zone_arg(text: str) -> str:
    if not clock.is_zone(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not {clock.ZONE_EXAMPLE}")
    return text


def positive_int(text: str) -> int:
    # ASCII digits and at most 18 of them: an id SQLite can hold ('²'.isdigit() is True).
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) == 0:
        raise argparse.ArgumentTypeError(f"'{fields.clip(text)}' is not a session id (a "
                                         "positive number)")
    return int(text)


def year_arg(text: str) -> int:
    try:
        value = fields.parse_int(text, fields.YEAR, "year")
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value is None:
        raise argparse.ArgumentTypeError("the year is empty")
    return value


def actions(parser: argparse.ArgumentParser, required: bool = False) -> Any:
    """The ACTION level of a two-word command (``ptdoc user add``, ``ptdoc fees set``)."""
    return parser.add_subparsers(dest="action", metavar="ACTION", required=required,
                                 parser_class=Parser)


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""


def one_line(exc: KnownError) -> str:
    if isinstance(exc, ValidationError) and len(exc.problems) > 1:
        return f"{len(exc.problems)} problems: " + "; ".join(
            f"{p.field}: {p.message}" if p.field else p.message for p in exc.problems)
    if isinstance(exc, ValidationError) and exc.problems and exc.problems[0].field:
        return f"{exc.problems[0].field}: {exc.problems[0].message}"
    return str(exc)


def err(message: str) -> None:
    # One line whatever the message holds (a file's text, a newline in an argument).
    # An argument that is not valid UTF-8 arrives with surrogates: shown escaped, not a crash.
    line = " ".join(message.split("\n")).encode("utf-8", "backslashreplace").decode("utf-8")
    print(f"ptdoc: {line}", file=sys.stderr)


def open_existing(db_path: Path, create: bool = False):  # -> Store (lazy import: fast --help)
    from ptdoc.store import Store

    if paths.nothing_there(db_path) and not create:
        raise NotFound(f"No database at {db_path}. Start ptdoc once, run 'ptdoc demo', add "
                       "a new clinic's administrator with 'ptdoc user add', or choose one "
                       f"with --db PATH or {paths.DB_ENV}.")
    return Store.open(db_path)


def write_out(path: Path, data: bytes | str) -> None:
    """A file with patient data: private to the user (0600)."""
    try:
        files.write_private(path, data)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") \
            from exc


def writable(path: Path) -> None:
    """Refuse an unwritable destination before doing the work."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write {path}: the folder does not exist or is not "
                         "writable")


class Secrets:
    """The passwords and PINs one command needs, in the order it asks for them: typed on the
    terminal (not shown), or with --password-stdin one line each from standard input."""

    def __init__(self, from_stdin: bool):
        self.from_stdin = from_stdin
        self.signed_in_with: str | None = None  # the sign-in password: one's current one

    def ask(self, what: str, new: bool = False) -> str:
        if self.from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise UsageError(f"standard input ended before the {what} (--password-stdin "
                                 "reads one line per password asked)")
            return line.removesuffix("\n").removesuffix("\r")
        if not sys.stdin.isatty():
            raise UsageError(f"the {what} is needed and standard input is not a terminal: give "
                             "it as a line of standard input with --password-stdin")
        import getpass

        secret = getpass.getpass(f"{what[0].upper()}{what[1:]}: ")
        if new and getpass.getpass(f"The same {what} again: ") != secret:
            raise UsageError("the two entries differ; nothing was changed")
        return secret


def sign_in(store, args: argparse.Namespace,
            own_password_of: str | None = None):  # -> services.Workspace (lazy import)
    """The ptdoc user running the command (--user or $PTDOC_USER, and their password), signed
    in as in the window: slowed and locked out after wrong passwords, every attempt audited.
    The command then acts as them: their role decides, the audit names them.

    A temporary password (an administrator's) runs no command but its owner's change of it:
    ``own_password_of`` names the user whose password the command changes."""
    from ptdoc.access import login
    from ptdoc.errors import PasswordChangeRequired
    from ptdoc.services import Workspace

    username = getattr(args, "user", None) or os.environ.get(USER_ENV, "")
    if not username.strip():
        raise UsageError(f"this command acts as a ptdoc user: give --user NAME (or set "
                         f"{USER_ENV}); see 'ptdoc users'")
    secrets: Secrets = args.secrets
    secret = secrets.ask(f"password or PIN of {username}")
    try:
        user = login(store, username, secret, temporary_ok=own_password_of == username.strip())
    except PasswordChangeRequired as exc:
        name = exc.user.username
        raise PasswordChangeRequired(
            f"the password of {name} was set by an administrator and is temporary: choose a "
            f"new one with 'ptdoc user password {name} --user {name}' (it asks the current "
            "one, then the new one)", exc.user) from None
    secrets.signed_in_with = secret
    return Workspace(store, user)


@contextmanager
def signed_in(args: argparse.Namespace, db_path: Path,
              own_password_of: str | None = None) -> Iterator:  # Iterator[Workspace]
    """The clinic's database opened, and the user running the command signed in to it."""
    with open_existing(db_path) as store:
        yield sign_in(store, args, own_password_of)
