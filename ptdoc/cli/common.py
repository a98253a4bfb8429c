"""What every command shares: exit codes, one-line errors, argument types, opening the
database, writing files with patient data and reading a password."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from ptdoc import clock, fields, files, paths
from ptdoc.errors import KnownError, NotFound, ValidationError

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


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
        raise argparse.ArgumentTypeError("the date is empty (write YYYY-MM-DD)")
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

    if not db_path.exists() and not create:
        raise NotFound(f"No database at {db_path}. Start ptdoc once, run 'ptdoc demo', or "
                       f"choose one with --db PATH or {paths.DB_ENV}.")
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


def read_secret() -> str:
    """The password or PIN from standard input (a prompt when it is a terminal)."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Password or PIN: ")
    return sys.stdin.readline().rstrip("\n")
