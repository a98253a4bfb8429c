"""The ``ptdoc`` command: the GUI by default, and real subcommands for scripts and tests.

Exit codes: 0 success, 1 the command ran and found a problem (a check that blocks, a database
that cannot be used), 2 bad input (arguments, unknown ids, invalid files). Every error is one
line on stderr; tracebacks go to the log file only.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from importlib import resources

from ptdoc import __version__, fields, logfile, paths
from ptdoc.cli import billing, clinic, database, paper, patients, sessions, users
from ptdoc.cli.common import (
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_USAGE,
    USER_ENV,
    Parser,
    Secrets,
    UsageError,
    err,
    first_line,
    one_line,
)
from ptdoc.errors import KnownError, NotFound, PermissionDenied, RecordLocked, ValidationError

log = logging.getLogger(__name__)

# The order of ``ptdoc --help``.
SUBJECTS = (database, sessions, billing, users, clinic, patients, paper)


def version_text() -> str:
    """``ptdoc VERSION``, and for an installed build the date and commit it was built from.

    packaging/build writes that in ``resources/build.json``; a source checkout has none.
    """
    text = f"ptdoc {__version__}"
    try:
        info = json.loads(resources.files("ptdoc.resources").joinpath("build.json").read_text())
    except (OSError, ValueError):  # no such file: running from source
        return text
    if not isinstance(info, dict) or not info.get("date") or not info.get("commit"):
        return text
    return f"{text} (built {info['date']} from commit {info['commit']})"


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    """The parser, and each command's handler."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=paths.db_target, default=argparse.SUPPRESS,
                        metavar="PATH",
                        help="database file, or postgresql://USER@HOST/DBNAME for a clinic's "
                             f"server (default: ${paths.DB_ENV} or "
                             f"{paths.without_password(paths.default_db_path())})")
    common.add_argument("--user", default=argparse.SUPPRESS, metavar="NAME",
                        help=f"the ptdoc user running the command (default: ${USER_ENV})")
    common.add_argument("--password-stdin", action="store_true", default=argparse.SUPPRESS,
                        help="read the password (and a new one, when one is set) from standard "
                             "input, one line each, instead of asking on the terminal")
    parser = Parser(prog="ptdoc", parents=[common],
                    description="Document supervised therapeutic-exercise sessions. Without a "
                                "command, starts the window.")
    parser.add_argument("--version", action="version", version=version_text())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands: dict = {}
    for subject in SUBJECTS:
        commands.update(subject.register(sub, common))
    return parser, commands


def main(argv: Sequence[str] | None = None) -> int:
    log_file = logfile.setup_logging()
    try:
        parser, commands = build_parser()
        args = parser.parse_args(argv)
        args.secrets = Secrets(getattr(args, "password_stdin", False))
        db_path = getattr(args, "db", None) or paths.default_db_path()
        command = args.command or "gui"
        return commands[command](args, db_path)
    except UsageError as exc:
        err(str(exc))
        return EXIT_USAGE
    except (ValidationError, NotFound, PermissionDenied, RecordLocked) as exc:
        err(one_line(exc))
        return EXIT_USAGE
    except KnownError as exc:
        err(str(exc))
        return EXIT_PROBLEM
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line here, the traceback in the log
        log.exception("unexpected error in: ptdoc %s", " ".join(map(repr, argv or sys.argv[1:])))
        where = f"details in {log_file}" if log_file else "no log file could be written"
        err(f"internal error ({type(exc).__name__}: {fields.clip(first_line(exc), 120)}); "
             f"{where}; please report it")
        return 70
