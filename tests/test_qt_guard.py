"""Guards against a PySide6 release that corrupts the interpreter.

PySide6-Essentials 6.12.0 on Python 3.11 drops one reference to ``None`` on every Qt call that
returns nothing (setToolTip, setEnabled, setData...). After about 14,000 such calls ``None`` is
freed and Python aborts with ``Fatal Python error: none_dealloc``: a therapist's window died
after ~1,100 typed characters. ``pyproject.toml`` excludes the leaking release; this test fails
the moment a leaking one is installed again.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem
from PySide6.QtWidgets import QLineEdit

CALLS = 2000

IMMORTAL_NONE = sys.version_info >= (3, 12)  # PEP 683: None's count no longer moves


@pytest.mark.skipif(IMMORTAL_NONE, reason="None is immortal from Python 3.12 on")
def test_void_qt_calls_keep_the_reference_count_of_none(qtbot):
    edit = QLineEdit()
    qtbot.addWidget(edit)
    item = QStandardItem()
    before = sys.getrefcount(None)
    for i in range(CALLS // 4):
        edit.setToolTip(f"tip {i}")
        edit.setEnabled(bool(i % 2))
        item.setData(i, Qt.ItemDataRole.UserRole)
        edit.setText(str(i))
    after = sys.getrefcount(None)
    # Other threads and the garbage collector move the count a little; a leak moves it by one
    # per call (CALLS in all).
    assert after > before - CALLS // 10, (
        f"{CALLS} void Qt calls took {before - after} references from None: this PySide6 "
        "release leaks and will abort the window (exclude it in pyproject.toml)")
