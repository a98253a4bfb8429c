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


def test_the_window_refuses_an_empty_file_and_leaves_it(qtbot, tmp_path: Path, monkeypatch,
                                                        artifacts: Path) -> None:
    from PySide6.QtWidgets import QMessageBox

    from ptdoc.ui.app import open_store

    empty = tmp_path / "clinic.sqlite3"
    empty.touch()
    shown: list[str] = []

    def exec_box(box: QMessageBox) -> int:
        box.show()
        box.grab().save(str(artifacts / "empty-database.png"))
        shown.append(box.text())
        return 0  # the user chooses Quit

    monkeypatch.setattr(QMessageBox, "exec", exec_box)
    store, _notice = open_store(empty, demo_if_missing=True)
    assert store is None
    assert "empty file, not a ptdoc database" in shown[0]
    assert "ptdoc restore FILE" in shown[0]
    assert empty.stat().st_size == 0 and not (tmp_path / "clinic.sqlite3-wal").exists()
