"""Files with patient data are created private (0600), whoever writes them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ptdoc.files import write_private


@pytest.fixture
def open_umask() -> None:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_written_files_are_private_and_whole(tmp_path: Path, open_umask: None) -> None:
    target = tmp_path / "note.json"
    target.write_text("older, readable by all")
    target.chmod(0o644)
    write_private(target, "{\"é\": 1}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text(encoding="utf-8") == "{\"é\": 1}"
    with pytest.raises(IsADirectoryError):
        write_private(tmp_path, b"x")
    with pytest.raises(FileNotFoundError):
        write_private(tmp_path / "missing" / "x.pdf", b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.json"]  # no partial left
