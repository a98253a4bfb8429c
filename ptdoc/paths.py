"""Where ptdoc keeps its files: one database in the per-user data folder, backups beside it."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ptdoc"
# The desktop entry's and icon's name where ptdoc is installed (packaging/linux).
APP_ID = "org.ptdoc.ptdoc"
DB_ENV = "PTDOC_DB"
DB_FILENAME = "ptdoc.sqlite3"


def default_db_path() -> Path:
    """``PTDOC_DB`` if set, else the platform's per-user data folder."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / DB_FILENAME


def backup_dir(db_path: Path) -> Path:
    """Backups live next to the database so a restore never needs a second location."""
    return db_path.parent / "backups"


def cache_dir() -> Path:
    """What ptdoc can rebuild (the ICD-10-CM index, the Qt library check): ``PTDOC_CACHE_DIR``
    or the platform's per-user cache folder."""
    env = os.environ.get("PTDOC_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
