import pytest

from ptdoc.identifiers import icd10_format_ok, normalize_icd10, npi_ok, npi_with_check_digit


def test_npi_check_digit_from_reference() -> None:
    assert npi_ok("1234567893")
    assert not npi_ok("1234567890")


@pytest.mark.parametrize("bad", ["", "123456789", "12345678931", "3234567893", "12345678a3",
                                 " 1234567893"])
def test_npi_shape_is_refused(bad: str) -> None:
    assert not npi_ok(bad)


def test_npi_with_check_digit_builds_valid_numbers() -> None:
    for stem in ("123456789", "154820193", "299999999"):
        npi = npi_with_check_digit(stem)
        assert npi.startswith(stem) and npi_ok(npi)
        wrong = stem + str((int(npi[-1]) + 1) % 10)
        assert not npi_ok(wrong)


@pytest.mark.parametrize("code", ["M17.11", "S83.511D", "Z47.1", "M54.2", "R26.89", "M17"])
def test_icd10_format_accepts(code: str) -> None:
    assert icd10_format_ok(code)


@pytest.mark.parametrize("code", ["m17.11", "M1711", "17.11", "M17.", "M17.11111", "MM7.1",
                                  "M17-11", ""])
def test_icd10_format_refuses(code: str) -> None:
    assert not icd10_format_ok(code)


def test_normalize_adds_dot_and_upper_case() -> None:
    assert normalize_icd10(" m1711 ") == "M17.11"
    assert normalize_icd10("s83511d") == "S83.511D"
    assert normalize_icd10("M17") == "M17"
