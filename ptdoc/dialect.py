"""Where SQLite's SQL and PostgreSQL's differ, said once.

The repositories, the session store and the migrations are written in SQLite's dialect and run
on SQLite as written. On PostgreSQL every statement passes through ``translate`` (cached, so
the text work is done once per distinct statement), which rewrites the few things that differ:

- placeholders: ``?`` and ``?N`` become ``%s`` (numbered ones reorder the parameters), and a
  literal ``%`` is doubled for psycopg;
- ``a IS NOT b`` (SQLite's null-safe comparison) becomes ``a IS DISTINCT FROM b``;
- ``LIKE`` becomes ``ILIKE`` (SQLite's LIKE ignores ASCII case); ``a GLOB b`` becomes
  ``glob(b, a)``, a function ``SETUP`` defines;
- ``ORDER BY`` items say where NULLs go as SQLite puts them (first ascending, last
  descending);
- a subquery in FROM gets the alias PostgreSQL requires; a SELECT DISTINCT ordered by an
  expression it does not select is ordered outside it;
- an ``INSERT ... VALUES`` reports its new ``id`` (``RETURNING id``) where SQLite has
  ``lastrowid`` (the caller knows which tables have one);
- ``PRAGMA synchronous`` is dropped: a PostgreSQL commit is durable already;
- DDL: ``id INTEGER PRIMARY KEY`` becomes an identity column, a trigger that raises
  (``BEGIN SELECT RAISE(ABORT, 'why'); END``) becomes a PL/pgSQL function raising an
  integrity error with the same words plus a trigger running it, ``DROP TRIGGER name``
  finds the trigger's table.
``COLLATE BINARY`` (code-point order) becomes ``COLLATE "C"``, where a btree index serves a
range of text as SQLite's does. ``COLLATE NOCASE`` stays as written: ``SETUP`` creates a
case-insensitive collation of that name. A refused write is ``IntegrityError`` on both
backends, with SQLite's wording ("UNIQUE constraint failed: users.npi"), so callers test one
exception and one text.

Pure text: no database module is imported here.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from dataclasses import dataclass

# The one exception a refused write raises on either backend (see ptdoc.pg for PostgreSQL's).
IntegrityError = sqlite3.IntegrityError

# Made once in a new PostgreSQL database, before the first migration step.
SETUP = (
    # SQLite's NOCASE: equal ignoring case, for names compared and sorted as people type them.
    "CREATE COLLATION IF NOT EXISTS nocase "
    "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
    # SQLite's GLOB (``subject GLOB pattern`` is ``glob(pattern, subject)``): * ? [...] and
    # [^...] as a regular expression; its other special characters are escaped (a ^ only
    # outside brackets).
    r"""CREATE OR REPLACE FUNCTION glob(pattern text, subject text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT AS $fn$
    SELECT subject ~ ('^' || replace(replace(regexp_replace(
        regexp_replace(pattern, '([.+(){}|$\\])', '\\\1', 'g'),
        '(^|[^\[])\^', '\1\\^', 'g'), '*', '.*'), '?', '.') || '$')
    $fn$""",
)

_LITERAL = re.compile(r"'(?:[^']|'')*'")
_PLACEHOLDER = re.compile(r"\?(\d*)")
_IS_NOT = re.compile(r"\bIS\s+NOT\s+(?!NULL\b|TRUE\b|FALSE\b|DISTINCT\b)", re.IGNORECASE)
_LIKE = re.compile(r"\bLIKE\b", re.IGNORECASE)
_OPERAND = r"(substr\([^()]*\)|'(?:[^']|'')*'|\?\d*|[\w.]+)"
_GLOB = re.compile(_OPERAND + r"\s+(NOT\s+)?GLOB\s+" + _OPERAND, re.IGNORECASE)
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)
_ORDER_END = re.compile(r"\b(LIMIT|OFFSET|UNION)\b", re.IGNORECASE)
_ORDER_COLUMN = re.compile(r"^(?:\w+\.)?(\w+)(?:\s+COLLATE\s+\w+)?(?:\s+(?:ASC|DESC))?$",
                           re.IGNORECASE)
_DISTINCT_ORDERED = re.compile(
    r"^\s*SELECT\s+DISTINCT\s+(.*?)\s+ORDER\s+BY\s+(.*?)(\s+LIMIT\s+[^()]*)?\s*$",
    re.IGNORECASE | re.DOTALL)
_FROM_SUBQUERY = re.compile(r"\bFROM\s*\(\s*SELECT\b", re.IGNORECASE)
_INSERT_VALUES = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)\b.*\bVALUES\b(?!.*\bRETURNING\b)",
                            re.IGNORECASE | re.DOTALL)
_TRIGGER = re.compile(
    r"^\s*CREATE\s+TRIGGER\s+(\w+)\s+BEFORE\s+(INSERT|UPDATE(?:\s+OF\s+\w+)?|DELETE)\s+ON\s+"
    r"(\w+)(?:\s+WHEN\s+(.*?))?\s+BEGIN\s+SELECT\s+RAISE\s*\(\s*ABORT\s*,\s*'([^']*)'\s*\)\s*;"
    r"\s*END\s*;?\s*$", re.IGNORECASE | re.DOTALL)
_DROP_TRIGGER = re.compile(r"^\s*DROP\s+TRIGGER\s+(?:IF\s+EXISTS\s+)?(\w+)\s*;?\s*$",
                           re.IGNORECASE)
_BINARY = re.compile(r"\bCOLLATE\s+BINARY\b", re.IGNORECASE)
_ID_PRIMARY_KEY = re.compile(r"\bid\s+INTEGER\s+PRIMARY\s+KEY\b", re.IGNORECASE)
_PRAGMA = re.compile(r"^\s*PRAGMA\b", re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    """One SQLite statement as PostgreSQL runs it: ``sql`` holds one statement or, for DDL
    that becomes several, more in ``more``; ``order`` maps numbered parameters (``?2``) to
    positions; ``insert_into`` names the table of an ``INSERT ... VALUES`` (for RETURNING)."""

    sql: str
    has_params: bool = False
    order: tuple[int, ...] | None = None
    insert_into: str | None = None
    more: tuple[str, ...] = ()

    def params(self, given: object) -> list | None:
        if not self.has_params:
            return None
        values = list(given or ())  # type: ignore[call-overload]
        if self.order is None:
            return values
        return [values[i] for i in self.order]

    def statements(self) -> tuple[str, ...]:
        return (self.sql, *self.more) if self.sql else self.more


def _outside_literals(sql: str, change) -> str:
    """Apply ``change`` to the parts of ``sql`` that are not string literals."""
    out, last = [], 0
    for match in _LITERAL.finditer(sql):
        out.append(change(sql[last:match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(change(sql[last:]))
    return "".join(out)


def _matching_paren(sql: str, start: int) -> int:
    """The index of the parenthesis closing the one at ``start``."""
    depth = 0
    for i in range(start, len(sql)):
        if sql[i] == "(":
            depth += 1
        elif sql[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced parentheses in: {sql}")


def _alias_subqueries(sql: str) -> str:
    n = 0
    pos = 0
    while (match := _FROM_SUBQUERY.search(sql, pos)) is not None:
        opening = sql.index("(", match.start())
        closing = _matching_paren(sql, opening)
        rest = sql[closing + 1:].lstrip()
        word = re.match(r"(\w+)", rest)
        if not word or word.group(1).upper() in {"UNION", "ORDER", "LIMIT", "WHERE", "GROUP",
                                                 "JOIN", "LEFT", "INNER", "EXCEPT",
                                                 "INTERSECT", "OFFSET"}:
            n += 1
            sql = f"{sql[:closing + 1]} AS _q{n}{sql[closing + 1:]}"
        pos = opening + 1
    return sql


def _split_top_level(text: str) -> list[str]:
    parts, depth, last = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[last:i])
            last = i + 1
    parts.append(text[last:])
    return parts


def _nulls_as_sqlite(sql: str, never_null: frozenset[str]) -> str:
    """SQLite sorts NULL first ascending and last descending; PostgreSQL the other way. A
    column that is NOT NULL wherever it appears needs no clause, and gets none: an index
    serves ``ORDER BY id DESC`` only without one."""
    pos = 0
    while (match := _ORDER_BY.search(sql, pos)) is not None:
        start = match.end()
        depth, end = 0, len(sql)
        for i in range(start, len(sql)):
            if sql[i] == "(":
                depth += 1
            elif sql[i] == ")":
                if depth == 0:
                    end = i
                    break
                depth -= 1
            elif depth == 0 and (stop := _ORDER_END.match(sql, i)) and \
                    (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")):
                end = stop.start()
                break
        items = []
        for item in _split_top_level(sql[start:end]):
            text = item.strip()
            column = _ORDER_COLUMN.match(text)
            if not text or re.search(r"\bNULLS\b", text, re.IGNORECASE) or \
                    (column and column.group(1).lower() in never_null):
                items.append(text)
            elif re.search(r"\bDESC$", text, re.IGNORECASE):
                items.append(f"{text} NULLS LAST")
            else:
                items.append(f"{text} NULLS FIRST")
        replacement = " " + ", ".join(items) + " "
        sql = sql[:start] + replacement + sql[end:]
        pos = start + len(replacement)
    return sql


def _distinct_ordered(sql: str) -> str:
    """SQLite orders a SELECT DISTINCT by any expression; PostgreSQL only by what is selected
    (``e.name COLLATE NOCASE`` is not ``e.name``): the distinct rows are ordered outside, by
    their column names."""
    match = _DISTINCT_ORDERED.match(sql)
    if not match:
        return sql
    body, order, limit = match.groups()
    order = re.sub(r"\b\w+\.(\w+)", r"\1", order)
    return f"SELECT * FROM (SELECT DISTINCT {body}) AS _distinct ORDER BY {order}{limit or ''}"


def _trigger(match: re.Match[str]) -> tuple[str, ...]:
    name, event, table, condition, message = match.groups()
    returned = "OLD" if event.upper() == "DELETE" else "NEW"
    refuse = f"RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';"
    if condition:
        condition = _outside_literals(condition, lambda part: _IS_NOT.sub(
            "IS DISTINCT FROM ", part))
        body = f"IF {condition} THEN {refuse} END IF;"
    else:
        body = refuse
    return (f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN "
            f"{body} RETURN {returned}; END $fn$",
            f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION {name}()")


def _drop_trigger(name: str) -> tuple[str, ...]:
    """SQLite names a trigger alone; PostgreSQL wants its table, found in the catalog."""
    return (f"DO $do$ DECLARE t regclass; BEGIN SELECT tgrelid::regclass INTO t FROM "
            f"pg_trigger WHERE tgname = '{name}' AND NOT tgisinternal; EXECUTE "
            f"format('DROP TRIGGER %I ON %s', '{name}', t); END $do$",
            f"DROP FUNCTION IF EXISTS {name}()")


def _words(part: str) -> str:
    """The rewrites of a statement's words (outside its literals)."""
    part = _IS_NOT.sub("IS DISTINCT FROM ", part)
    part = _LIKE.sub("ILIKE", part)
    part = _BINARY.sub('COLLATE "C"', part)
    return _ID_PRIMARY_KEY.sub("id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", part)


@functools.lru_cache(maxsize=2048)
def translate(sql: str, never_null: frozenset[str] = frozenset()) -> Statement:
    """``sql`` (SQLite's dialect, one statement) as PostgreSQL runs it. ``never_null``: the
    columns NOT NULL in every table that has them (see ``_nulls_as_sqlite``)."""
    if _PRAGMA.match(sql):
        return Statement("")  # only synchronous reaches here: PostgreSQL commits durably
    if trigger := _TRIGGER.match(sql):
        first, *more = _trigger(trigger)
        return Statement(first, more=tuple(more))
    if drop := _DROP_TRIGGER.match(sql):
        first, *more = _drop_trigger(drop.group(1))
        return Statement(first, more=tuple(more))
    sql = _GLOB.sub(lambda m: f"{'NOT ' if m.group(2) else ''}glob({m.group(3)}, "
                              f"{m.group(1)})", sql)
    numbered: list[int] = []
    plain = 0

    def placeholders(part: str) -> str:
        nonlocal plain

        def one(match: re.Match[str]) -> str:
            nonlocal plain
            if match.group(1):
                numbered.append(int(match.group(1)) - 1)
            else:
                plain += 1
            return "%s"
        return _PLACEHOLDER.sub(one, _words(part).replace("%", "%%"))

    has_params = "?" in _LITERAL.sub("", sql)
    if has_params:
        sql = _escape_literals(_outside_literals(sql, placeholders))
    else:
        sql = _outside_literals(sql, _words)
    if numbered and plain:
        raise ValueError(f"mixed ? and ?N placeholders in: {sql}")
    sql = _nulls_as_sqlite(_alias_subqueries(_distinct_ordered(sql)), never_null)
    insert = _INSERT_VALUES.match(sql)
    return Statement(sql, has_params, tuple(numbered) if numbered else None,
                     insert.group(1).lower() if insert else None)


def _escape_literals(sql: str) -> str:
    """psycopg reads ``%`` in a statement with parameters: a literal's own is doubled."""
    return _LITERAL.sub(lambda m: m.group(0).replace("%", "%%"), sql)


def split_script(script: str) -> list[str]:
    """A script's statements: split at semicolons, a trigger's BEGIN ... END kept whole."""
    statements, pos = [], 0
    end_of_trigger = re.compile(r"\bEND\s*;", re.IGNORECASE)
    while pos < len(script):
        rest = script[pos:]
        stripped = rest.lstrip()
        if not stripped:
            break
        pos += len(rest) - len(stripped)
        if re.match(r"CREATE\s+TRIGGER\b", stripped, re.IGNORECASE):
            end = end_of_trigger.search(script, pos)
            stop = end.end() if end else len(script)
        else:
            semicolon = script.find(";", pos)
            stop = semicolon + 1 if semicolon >= 0 else len(script)
        statement = script[pos:stop].strip().rstrip(";").strip()
        if statement:
            statements.append(statement)
        pos = stop
    return statements
