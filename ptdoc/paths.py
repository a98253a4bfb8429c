"""Where ptdoc keeps its files: one database in the per-user data folder, backups beside it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

APP_NAME = "ptdoc"
# The desktop entry's and icon's name where ptdoc is installed (packaging/linux).
APP_ID = "org.ptdoc.ptdoc"
DB_ENV = "PTDOC_DB"
DB_FILENAME = "ptdoc.sqlite3"


SERVER_SCHEMES = ("postgresql://", "postgres://")


def is_server_url(target: object) -> bool:
    """Whether a database named by ``--db`` / ``PTDOC_DB`` is on a PostgreSQL server."""
    return isinstance(target, str) and target.startswith(SERVER_SCHEMES)


def db_target(text: str) -> Path | str:
    """``--db`` / ``PTDOC_DB`` as given: a ``postgresql://`` URL stays text (a path would fold
    its ``//``); anything else is a file's path."""
    return text if is_server_url(text) else Path(text).expanduser()


def without_password(target: Path | str) -> str:
    """What may be shown of ``--db`` (messages, logs, help): a server URL loses its password,
    given as ``user:secret@`` or as ``password=`` among its options."""
    text = re.sub(r"^(postgres(?:ql)?://[^:@/]*):[^@/]*@", r"\1@", str(target))
    return re.sub(r"([?&])password=[^&]*&?", r"\1", text).rstrip("?&")


def nothing_there(target: Path | str) -> bool:
    """A database file not made yet. A server's database always exists (its owner makes it):
    ptdoc makes only its own schema in it."""
    return not is_server_url(target) and not Path(target).exists()


def default_db_path() -> Path | str:
    """``PTDOC_DB`` if set, else the platform's per-user data folder."""
    env = os.environ.get(DB_ENV)
    if env:
        return db_target(env)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / DB_FILENAME


def backup_dir(db_path: Path) -> Path:
    """Backups live next to the database so a restore never needs a second location."""
    return db_path.parent / "backups"


def server_backup_dir() -> Path:
    """Backups of a server's database made on this computer: the per-user data folder's."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "backups"


def cache_dir() -> Path:
    """What ptdoc can rebuild (the ICD-10-CM index, the Qt library check): ``PTDOC_CACHE_DIR``
    or the platform's per-user cache folder."""
    env = os.environ.get("PTDOC_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
