"""Where ptdoc keeps its files: one database in the per-user data folder, backups beside it."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ptdoc"
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


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
