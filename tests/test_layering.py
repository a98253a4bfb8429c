"""The core knows nothing of Qt: each core module imports without PySide6 or ptdoc.ui."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import ptdoc

ROOT = Path(__file__).resolve().parent.parent
CORE = sorted(m.name for m in pkgutil.iter_modules(ptdoc.__path__)
              if m.name not in ("ui", "__main__", "resources"))
PURE = ("domain", "fields", "identifiers", "billing", "catalog", "codec", "interchange",
        "errors", "permissions", "clock", "claim", "rules", "review", "paper", "rulepack",
        "library", "rule_context")


def loaded(module: str, prefixes: tuple[str, ...]) -> str:
    """The modules under ``prefixes`` that importing ptdoc.<module> loads, in a new process."""
    code = (f"import sys, ptdoc.{module}\n"
            f"print(','.join(m for m in sys.modules if m.startswith({prefixes!r})))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True).stdout.strip()


@pytest.mark.parametrize("module", CORE)
def test_core_module_loads_no_qt(module: str) -> None:
    out = loaded(module, ("PySide6", "shiboken6", "ptdoc.ui"))
    assert out == "", f"ptdoc.{module} pulled in {out}"


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_touch_no_storage_or_reportlab(module: str) -> None:
    out = loaded(module, ("sqlite_utils", "sqlite3", "reportlab", "ptdoc.store", "ptdoc.db"))
    assert out == "", f"ptdoc.{module} pulled in {out}"
