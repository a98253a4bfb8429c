"""Backups of a clinic's database on a PostgreSQL server, with the server's own tools.

``dump`` runs ``pg_dump --format=custom`` into a private file (0600, replaced whole) and reads
it back with ``pg_restore --list`` before it is kept. ``check_dump`` is what a restore checks
before it replaces anything: pg_restore can read the file, it holds ptdoc's tables, and its
schema mark and version (the row of ``ptdoc_schema``) are ptdoc's and not newer than this
ptdoc. ``restore`` replaces the database's tables with the dump's in one transaction (the
schema emptied, then pg_restore's script run by ``psql --single-transaction``): a failure
leaves the database as it was.

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
    """Where ``pg_dump``, ``pg_restore`` or ``psql`` is: on PATH, or the newest Debian server's."""
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


# Run first, in the restore's transaction: every table and function of the schema goes, not
# only those the dump holds. A dump from an older ptdoc lacks what later schema steps made
# (a table, a trigger's function); left in place, the step that makes it again after the
# restore would find it there and fail, leaving the clinic half upgraded.
_EMPTY_THE_SCHEMA = """DO $empty$ DECLARE r record; BEGIN
  FOR r IN SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace
           AND relkind IN ('r', 'p') LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', r.relname);
  END LOOP;
  FOR r IN SELECT oid::regprocedure AS f FROM pg_proc
           WHERE pronamespace = current_schema()::regnamespace LOOP
    EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', r.f);
  END LOOP;
END $empty$;
"""


def restore(url: str, path: Path) -> None:
    """Replace ptdoc's tables at ``url`` (connected as the database's owner) with the dump's,
    in one transaction: the schema emptied, then the dump's script (pg_restore) run by psql.
    Owners and grants are the restoring server's (``ptdoc.pg`` grants the workstations' role
    again when the database is opened)."""
    bare, password = split_password(url)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    script = subprocess.Popen(
        [tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
         "--file=-", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    with tempfile.TemporaryFile() as said:
        runner = subprocess.Popen(
            [tool("psql"), "--no-password", "--no-psqlrc", "--quiet", "--single-transaction",
             "--set=ON_ERROR_STOP=1", "--output=/dev/null", f"--dbname={bare}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=said, env=env)
        assert script.stdout is not None and runner.stdin is not None
        try:
            runner.stdin.write(_EMPTY_THE_SCHEMA.encode())
            shutil.copyfileobj(script.stdout, runner.stdin)
            runner.stdin.close()
        except BrokenPipeError:
            pass  # psql stopped at an error: said below
        script.stdout.close()
        failed = [(name, code, text) for name, code, text in (
            ("pg_restore", script.wait(), script.stderr.read().decode(errors="replace")
             if script.stderr else ""),
            ("psql", runner.wait(), (said.seek(0), said.read().decode(errors="replace"))[1]))
            if code != 0]
    if failed:
        name, code, text = failed[-1]
        lines = [line for line in text.splitlines() if line.strip()]
        why = next((line for line in lines if "error" in line.lower()),
                   lines[0] if lines else f"exit status {code}")
        why = re.sub(rf"^{re.escape(name)}:\S* (error: )?", "", why)
        raise DatabaseError(f"{name} failed: {paths.without_password(why)}; the database "
                            "was left as it was")
