"""Units from minutes: the Medicare manual's worked examples, ties, per-code, properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ptdoc.billing import (
    check_stated_units,
    cms_total_units,
    compute_units,
    units_for_session,
)
from ptdoc.domain import ServiceLine, UnitMethod
from ptdoc.errors import ValidationError


@pytest.mark.parametrize(("minutes", "units"), [
    (7, 0), (8, 1), (22, 1), (23, 2), (37, 2), (38, 3), (52, 3), (53, 4), (67, 4), (68, 5),
    (82, 5), (83, 6), (97, 6), (98, 7), (112, 7), (113, 8), (127, 8), (128, 9)])
def test_cms_table(minutes: int, units: int) -> None:
    assert cms_total_units(minutes) == units


def test_manual_example_47_minutes() -> None:
    result = compute_units({"97112": 24, "97110": 23}, [])
    assert {line.code: line.units for line in result.lines} == {"97112": 2, "97110": 1}
    assert result.total_units == 3 and not result.tied


def test_manual_example_33_and_7() -> None:
    result = compute_units({"97110": 33, "97140": 7}, [])
    assert {line.code: line.units for line in result.lines} == {"97110": 2, "97140": 1}
    assert "the third unit goes to 97140" in " ".join(result.explanation)


def test_manual_example_three_sevens_is_a_tie() -> None:
    result = compute_units({"97112": 7, "97110": 7, "97140": 7}, [])
    assert result.total_units == 1 and result.tied
    assert sorted(tuple(sorted(c.items())) for c in result.choices) == sorted(
        tuple(sorted({"97112": 0, "97110": 0, "97140": 0, code: 1}.items()))
        for code in ("97112", "97110", "97140"))
    assert "clinician chooses" in " ".join(result.explanation)


def test_per_code_does_not_pool() -> None:
    result = compute_units({"97110": 33, "97140": 7}, [], UnitMethod.PER_CODE)
    assert {line.code: line.units for line in result.lines} == {"97110": 2, "97140": 0}


def test_untimed_codes_bill_one_unit() -> None:
    result = units_for_session([("97110", 20), ("97010", 10), ("97162", None)], UnitMethod.CMS)
    assert {line.code: line.units for line in result.lines} == {"97110": 1, "97010": 1, "97162": 1}
    assert result.total_timed_minutes == 20 and result.total_units == 3


def test_negative_minutes_refused() -> None:
    with pytest.raises(ValidationError):
        compute_units({"97110": -1}, [])


timed = st.dictionaries(st.sampled_from(["97110", "97112", "97140", "97530", "97116"]),
                        st.integers(0, 90), min_size=1)


@given(timed)
def test_cms_total_is_the_table_value_and_every_choice_adds_up(minutes: dict) -> None:
    result = compute_units(minutes, [])
    expected = cms_total_units(sum(minutes.values()))
    assert result.total_units == expected
    for choice in result.choices:
        assert sum(choice.values()) == expected
        for code, m in minutes.items():
            assert choice[code] >= m // 15  # 15+ minutes earn at least a unit, 30+ two


@given(timed, st.sampled_from(["97110", "97112", "97140"]))
def test_units_never_fall_as_minutes_rise(minutes: dict, code: str) -> None:
    for method in UnitMethod:
        before = compute_units(minutes, [], method).total_units
        more = dict(minutes, **{code: minutes.get(code, 0) + 1})
        assert compute_units(more, [], method).total_units >= before


@given(timed)
def test_per_code_never_pools(minutes: dict) -> None:
    result = compute_units(minutes, [], UnitMethod.PER_CODE)
    for line in result.lines:
        alone = compute_units({line.code: line.minutes}, [], UnitMethod.PER_CODE)
        assert line.units == alone.total_units
    assert len(result.choices) == 1


def test_an_untimed_line_without_units_does_not_hide_over_billed_timed_lines() -> None:
    lines = [ServiceLine("97110", 23, 4), ServiceLine("97010", 10, None),
             ServiceLine("97140", 7, None)]
    check = check_stated_units(lines, UnitMethod.CMS)
    assert [(w.index, w.code, w.stated, w.expected) for w in check.wrong] == [
        (0, "97110", 4, 2)]
    # The lines that state no units get the method's; the wrong one is billed as computed.
    assert check.billed == {"97110": 2, "97140": 0, "97010": 1}


def test_stated_units_that_fit_are_kept_and_the_rest_computed() -> None:
    tie = [ServiceLine("97112", 7, 0), ServiceLine("97110", 7, None),
           ServiceLine("97140", 7, 1)]
    check = check_stated_units(tie, UnitMethod.CMS)
    assert check.ok and check.billed == {"97112": 0, "97110": 0, "97140": 1}
    both = [ServiceLine("97112", 7, 1), ServiceLine("97110", 7, None),
            ServiceLine("97140", 7, 1)]
    wrong = check_stated_units(both, UnitMethod.CMS).wrong
    assert wrong and {w.code for w in wrong} <= {"97112", "97140"}
    assert check_stated_units([ServiceLine("97110", 33, None), ServiceLine("97140", 7, None)],
                              UnitMethod.CMS).ok


def test_stated_units_are_checked_by_the_payers_method() -> None:
    lines = [ServiceLine("97110", 33, 2), ServiceLine("97140", 7, 1)]
    assert check_stated_units(lines, UnitMethod.CMS).ok
    per_code = check_stated_units(lines, UnitMethod.PER_CODE)
    assert [(w.code, w.stated, w.expected) for w in per_code.wrong] == [("97140", 1, 0)]
