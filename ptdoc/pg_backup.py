"""Backups of a clinic's database on a PostgreSQL server, with the server's own tools.

``dump`` runs ``pg_dump --format=custom`` into a private file (0600, replaced whole) and reads
it back with ``pg_restore --list`` before it is kept. ``check_dump`` is what a restore checks
before it replaces anything: pg_restore can read the file, it holds ptdoc's tables, and its
schema mark and version (the row of ``ptdoc_schema``) are ptdoc's and not newer than this
ptdoc. ``restore`` replaces the database's tables with the dump's in one transaction
(``pg_restore --single-transaction``): a failure leaves the database as it was.

The password is never on a command line (other users of the computer can read those): the
tools get the URL without it and the password in ``PGPASSWORD``; their messages are cut to one
line without it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ptdoc import paths
from ptdoc.errors import DatabaseError, DatabaseTooNew, NotAPtdocDatabase
from ptdoc.migrations import LATEST_VERSION

# Tables every ptdoc database has since its first schema: a dump without them is not a clinic.
REQUIRED_TABLES = frozenset({"ptdoc_schema", "clinic", "users", "patients", "sessions", "audit"})
APPLICATION_ID = 0x50544443  # as ptdoc.pg's (not imported: psycopg is not needed here)


def split_password(url: str) -> tuple[str, str | None]:
    """The URL without its password, and the password (``user:secret@`` or ``password=``)."""
    found = re.match(r"^postgres(?:ql)?://[^:@/]*:([^@/]*)@", url) or \
        re.search(r"[?&]password=([^&]*)", url)
    from urllib.parse import unquote

    return paths.without_password(url), unquote(found.group(1)) if found else None


def tool(name: str) -> str:
    """Where ``pg_dump`` or ``pg_restore`` is: on PATH, or the newest Debian server's."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(re.search(r"/(\d+)/bin/", p).group(1)))  # type: ignore[union-attr]
    if candidates:
        return candidates[-1]
    raise DatabaseError(f"{name} is not installed: it comes with PostgreSQL's client programs "
                        "(Debian and Ubuntu: sudo apt-get install postgresql-client).")


def _run(name: str, args: list[str], url: str | None = None) -> str:
    """Run a PostgreSQL tool; its output, or its first complaint as a DatabaseError."""
    env = dict(os.environ)
    command = [tool(name), "--no-password", *args]
    if url is not None:
        bare, password = split_password(url)
        if password is not None:
            env["PGPASSWORD"] = password
        command += [f"--dbname={bare}"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        why = next((line for line in lines if "error" in line.lower()), lines[0] if lines
                   else f"exit status {done.returncode}")
        why = re.sub(rf"^{re.escape(name)}: (error: )?", "", why)
        raise DatabaseError(f"{name} failed: {paths.without_password(why)}")
    return done.stdout


@dataclass(frozen=True)
class DumpFacts:
    """What a dump holds, read without restoring it."""

    path: Path
    database: str
    created: str
    version: int
    tables: frozenset[str]

    def describe(self) -> str:
        return f"{self.path} (a dump of {self.database} made {self.created}, schema {self.version})"


def check_dump(path: Path) -> DumpFacts:
    """The checks a restore makes before it replaces anything; refuses with why."""
    if not path.is_file():
        raise DatabaseError(f"No dump at {path}")
    try:
        listing = _run("pg_restore", ["--list", str(path)])
    except DatabaseError as exc:
        raise NotAPtdocDatabase(f"{path} is not a dump pg_restore can read, so not a ptdoc "
                                f"backup of a server ({exc}).") from exc
    tables = frozenset(m.group(1) for m in re.finditer(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ",
                                                       listing, re.MULTILINE))
    missing = sorted(REQUIRED_TABLES - tables)
    if missing:
        raise NotAPtdocDatabase(f"{path} is a PostgreSQL dump but not of a ptdoc clinic (it has "
                                f"no {', '.join(missing)} table{'s' * (len(missing) != 1)}).")
    created = re.search(r"^; Archive created at (.+)$", listing, re.MULTILINE)
    database = re.search(r"^;\s+dbname: (.+)$", listing, re.MULTILINE)
    data = _run("pg_restore", ["--data-only", "--table=ptdoc_schema", "--file=-", str(path)])
    row = re.search(r"^COPY \S*ptdoc_schema \(([^)]*)\) FROM stdin;\n([^\n]*)\n", data,
                    re.MULTILINE)
    if row is None:
        raise NotAPtdocDatabase(f"{path} holds no ptdoc schema mark (ptdoc_schema is empty).")
    values = dict(zip([c.strip() for c in row.group(1).split(",")], row.group(2).split("\t"),
                      strict=False))
    if values.get("application_id") != str(APPLICATION_ID):
        raise NotAPtdocDatabase(f"{path} is a dump of another program's database, not ptdoc's.")
    version = int(values.get("version") or 0)
    if version > LATEST_VERSION:
        raise DatabaseTooNew(f"{path} was made by a newer ptdoc (schema {version}; this ptdoc "
                             f"knows up to {LATEST_VERSION}). Update ptdoc first.")
    return DumpFacts(path, database.group(1) if database else "?",
                     created.group(1) if created else "?", version, tables)


def dump(url: str, dest: Path) -> DumpFacts:
    """The database at ``url`` into ``dest`` (0600, replaced whole once it reads back)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)  # 0600
    os.close(handle)
    temporary = Path(name)
    try:
        _run("pg_dump", ["--format=custom", f"--file={temporary}"], url)
        os.chmod(temporary, 0o600)
        facts = check_dump(temporary)
        os.replace(temporary, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return DumpFacts(dest, facts.database, facts.created, facts.version, facts.tables)


def restore(url: str, path: Path) -> None:
    """Replace ptdoc's tables at ``url`` (connected as the database's owner) with the dump's,
    in one transaction. Owners and grants are the restoring server's (``ptdoc.pg`` grants the
    workstations' role again when the database is opened)."""
    _run("pg_restore", ["--clean", "--if-exists", "--no-owner", "--no-privileges",
                        "--single-transaction", "--exit-on-error", str(path)], url)
