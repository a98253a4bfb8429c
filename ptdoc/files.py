"""Writing files that hold patient data (exported notes, session files, PDFs).

Every such file is created readable by its owner only (0600), whatever the umask, and
replaced whole: a reader never sees half a file, and a crash leaves the old one.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


def write_private(path: Path, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` as a private file; OSError when it cannot."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "it is a folder", str(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
