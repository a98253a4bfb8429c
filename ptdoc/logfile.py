"""The log file: where tracebacks go, for the window and the command line alike.

A terminal or a dialog shows one line; the whole story is in ``ptdoc.log`` in the per-user
log folder, readable by the owner only.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from ptdoc import paths

_MARK = "_ptdoc_log"


def setup_logging() -> Path | None:
    """Send log records to the log file (once per process and folder); its path, or None
    when the folder cannot be written (records are then dropped, never printed)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    target = paths.log_dir() / "ptdoc.log"
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            if getattr(handler, "baseFilename", None) == str(target):
                return target
            root.removeHandler(handler)
            handler.close()
    old = os.umask(0o077)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(target, maxBytes=2_000_000,
                                                       backupCount=3, encoding="utf-8")
    except OSError:
        # Without a file, a NullHandler keeps logging's last resort from printing to stderr.
        null = logging.NullHandler()
        setattr(null, _MARK, True)
        root.addHandler(null)
        return None
    finally:
        os.umask(old)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    return target
