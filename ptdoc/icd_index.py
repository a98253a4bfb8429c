"""The ICD-10-CM code set as a small SQLite index in the user's cache folder.

Built once from the code list ptdoc ships (``resources/icd10cm-codes.tsv.gz``: code,
billable, description as a JSON string), streamed line by line into SQLite (about a second,
24 MB), then opened in milliseconds. Answers whether a code exists and is billable, and
searches by code or words. A new code list has a new name, so its index is built anew.

The list is written from the simple-icd-10-cm package by ``write_code_list`` (importing it
parses XML for ~3 s and holds ~200 MB, which is why the window never does);
tests/test_icd_index.py checks that the shipped list is what the package says.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import sqlite3
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ptdoc import paths


class IcdStatus(StrEnum):
    BILLABLE = "billable"      # a leaf code: may go on a claim
    CATEGORY = "category"      # exists, but has more specific codes below it
    UNKNOWN = "unknown"        # not in the code set


@dataclass(frozen=True)
class IcdCode:
    code: str
    description: str
    billable: bool


CODE_LIST = "icd10cm-codes.tsv.gz"


def _code_list() -> Any:
    return resources.files("ptdoc.resources").joinpath(CODE_LIST)


@cache
def _version() -> str:
    """The shipped list's own name: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(_code_list().read_bytes()).hexdigest()[:12]


class IcdIndex:
    def __init__(self, path: Path):
        self.path = path
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, folder: Path | None = None) -> IcdIndex:
        folder = folder or paths.cache_dir()
        path = folder / f"icd10cm-{_version()}.sqlite3"
        if not path.exists():
            build(path)
        return cls(path)

    @property
    def stamp(self) -> str:
        """Which code set this is (a count judged under another one is judged again)."""
        return self.path.stem

    def close(self) -> None:
        self._conn.close()

    def _one(self, code: str) -> tuple[str, int] | None:
        with self._lock:
            return self._conn.execute("SELECT description, billable FROM codes WHERE code = ?",
                                      [code]).fetchone()

    def status(self, code: str) -> IcdStatus:
        row = self._one(code)
        if row is None:
            return IcdStatus.UNKNOWN
        return IcdStatus.BILLABLE if row[1] else IcdStatus.CATEGORY

    def description(self, code: str) -> str | None:
        row = self._one(code)
        return row[0] if row else None

    def search(self, text: str, limit: int = 20) -> list[IcdCode]:
        """Codes starting with ``text``, else codes whose description has all its words."""
        text = text.strip()
        if not text:
            return []
        with self._lock:
            prefix = text.upper().replace(" ", "")
            rows = self._conn.execute(
                "SELECT code, description, billable FROM codes WHERE code >= ? AND code < ? "
                "ORDER BY billable DESC, code LIMIT ?", [prefix, prefix + "\uffff", limit]
            ).fetchall()
            if not rows:
                words = [w for w in text.replace('"', " ").split() if w]
                query = " ".join(f'"{w}"*' for w in words)
                rows = self._conn.execute(
                    "SELECT c.code, c.description, c.billable FROM codes_fts f "
                    "JOIN codes c ON c.rowid = f.rowid WHERE codes_fts MATCH ? "
                    "ORDER BY c.billable DESC, rank LIMIT ?", [query, limit]).fetchall()
        return [IcdCode(r[0], r[1], bool(r[2])) for r in rows]


def _shipped_rows() -> Iterator[tuple[str, str, int]]:
    with _code_list().open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            code, billable, description = line.rstrip("\n").split("\t", 2)
            yield code, json.loads(description), int(billable)


def build(path: Path) -> None:
    """Write the index from the shipped code list (about half a second; off the GUI thread
    all the same)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.partial")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript("""
            CREATE TABLE codes (code TEXT PRIMARY KEY, description TEXT NOT NULL,
                                billable INTEGER NOT NULL);
            CREATE VIRTUAL TABLE codes_fts USING fts5(code, description, content='codes',
                                                      content_rowid='rowid');
        """)
        conn.executemany("INSERT INTO codes VALUES (?, ?, ?)", _shipped_rows())
        conn.execute("INSERT INTO codes_fts(rowid, code, description) "
                     "SELECT rowid, code, description FROM codes")
        conn.commit()
    finally:
        conn.close()
    os.replace(tmp, path)  # atomic: another process never sees half an index


def package_rows() -> list[tuple[str, str, int]]:
    """(code, description, billable) of every code (not chapters or blocks) of the
    simple-icd-10-cm package: what the shipped list must hold."""
    with warnings.catch_warnings():  # the package uses importlib.resources' legacy calls
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm

        return [(c, cm.get_description(c), int(cm.is_leaf(c)))
                for c in cm.get_all_codes(True) if not cm.is_chapter_or_block(c)]


def code_list_bytes(rows: list[tuple[str, str, int]]) -> bytes:
    """The shipped list's bytes for ``rows``: the same rows give the same bytes."""
    # A description may hold a tab or a line break: it is written as a JSON string.
    text = "".join(f"{c}\t{b}\t{json.dumps(d, ensure_ascii=False)}\n" for c, d, b in rows)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def write_code_list(dest: Path) -> None:
    """Write the code list from the simple-icd-10-cm package (when a new code set is out:
    ``python -c "from ptdoc.icd_index import *; write_code_list(Path('...'))"``)."""
    dest.write_bytes(code_list_bytes(package_rows()))


class KnownCodes:
    """A code set of a few codes known to be billable, for callers (the demo) that must not
    wait for the full index. tests/test_demo.py checks every one against the real index."""

    def __init__(self, codes: dict[str, str]):
        self._codes = codes
        self.stamp = f"known-{len(codes)}"

    def status(self, code: str) -> IcdStatus:
        return IcdStatus.BILLABLE if code in self._codes else IcdStatus.UNKNOWN

    def description(self, code: str) -> str | None:
        return self._codes.get(code)
