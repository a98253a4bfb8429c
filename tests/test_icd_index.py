"""The shipped ICD-10-CM code list, and the index built from it."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

from ptdoc import icd_index
from ptdoc.icd_index import IcdIndex, IcdStatus


def test_the_shipped_code_list_is_what_the_package_says() -> None:
    shipped = (Path(icd_index.__file__).parent / "resources" / icd_index.CODE_LIST).read_bytes()
    rows = icd_index.package_rows()
    assert len(rows) > 90_000
    assert gzip.decompress(shipped) == gzip.decompress(icd_index.code_list_bytes(rows))


def test_the_index_answers_from_the_shipped_list(icd: IcdIndex) -> None:
    assert icd.status("M17.11") == IcdStatus.BILLABLE
    assert icd.status("M17") == IcdStatus.CATEGORY
    assert icd.status("M17.99") == IcdStatus.UNKNOWN
    # A description holding a tab comes back whole.
    assert icd.description("H35.3113").endswith("/\tadvanced dry stage")
    assert [c.code for c in icd.search("M17.1")][:1] == ["M17.10"]
    assert "M17.11" in [c.code for c in icd.search("primary osteoarthritis right knee")]


def test_building_the_index_is_quick_and_small(tmp_path: Path) -> None:
    """A first start builds the index without the 200 MB the package takes to parse."""
    # VmHWM is this process's peak (ru_maxrss would carry over pytest's own across exec).
    code = ("import time, pathlib, sys; from ptdoc.icd_index import IcdIndex; "
            f"t = time.perf_counter(); IcdIndex.open(pathlib.Path({str(tmp_path)!r})); "
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
            "print(time.perf_counter() - t, int(hwm.split()[1]) // 1024, "
            "'simple_icd_10_cm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    seconds, peak_mb, parsed_package = float(out[0]), int(out[1]), out[2] == "True"
    assert not parsed_package
    assert peak_mb < 80, f"building the index peaked at {peak_mb} MB"
    assert seconds < 10
    assert (tmp_path / f"icd10cm-{icd_index._version()}.sqlite3").exists()
