"""Hypothesis strategies for valid domain records (shared by the round-trip properties)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st

from ptdoc.domain import (
    Acknowledgement,
    Assistance,
    Cue,
    DeliveryMode,
    DistanceUnit,
    ExerciseChange,
    ExerciseEntry,
    LoadUnit,
    NoteType,
    Provider,
    ServiceLine,
    Session,
    Side,
    SupervisorAvailability,
)

# Any printable text including non-Latin letters, without NUL or surrogates.
text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
required = text.filter(lambda s: s.strip() != "")
codes = st.sampled_from(["97110", "97112", "97140", "97530", "97010", "G0283", "97150"])
icd = st.sampled_from(["M17.11", "S83.511D", "Z47.1", "M54.2", "R26.89"])


def _optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


@st.composite
def exercises(draw: st.DrawFn) -> ExerciseEntry:
    unit = draw(_optional(st.sampled_from(LoadUnit)))
    high = 227 if unit == LoadUnit.KG else 500
    load = draw(_optional(st.decimals(Decimal("0.1"), Decimal(high), places=1)))
    distance = draw(_optional(st.decimals(Decimal("0.1"), Decimal(20000), places=1)))
    return ExerciseEntry(
        name=draw(required), region=draw(text), side=draw(_optional(st.sampled_from(Side))),
        position=draw(text), equipment=draw(text), load=load, load_unit=unit,
        sets=draw(_optional(st.integers(1, 20))), reps=draw(_optional(st.integers(1, 300))),
        hold_seconds=draw(_optional(st.integers(1, 600))),
        duration_minutes=draw(_optional(st.integers(1, 240))),
        distance=distance,
        distance_unit=draw(st.sampled_from(DistanceUnit)) if distance is not None else None,
        assistance=draw(_optional(st.sampled_from(Assistance))),
        cues=tuple(draw(st.lists(st.sampled_from(Cue), unique=True, max_size=3))),
        change=draw(st.sampled_from(ExerciseChange)), modification=draw(text),
        modification_reason=draw(text), pain_before=draw(_optional(st.integers(0, 10))),
        pain_after=draw(_optional(st.integers(0, 10))), response=draw(text),
        minutes=draw(_optional(st.integers(0, 30))), code=draw(codes),
        mode=draw(st.sampled_from(DeliveryMode)), delivered_by=draw(st.sampled_from(Provider)))


services = st.builds(ServiceLine, code=codes, minutes=_optional(st.integers(0, 30)),
                     units=_optional(st.integers(0, 8)),
                     modifiers=st.lists(st.sampled_from(["GP", "CQ", "KX", "59"]), unique=True,
                                        max_size=3).map(tuple))


@st.composite
def drafts(draw: st.DrawFn, patient_id: int, user_ids: list[int],
           today: dt.date) -> Session:
    """A valid draft for ``patient_id`` whose user references are among ``user_ids``."""
    users = _optional(st.sampled_from(user_ids))
    time_in = draw(_optional(st.times(dt.time(7), dt.time(12)).map(
        lambda t: t.replace(second=0, microsecond=0))))
    time_out = None
    if time_in is not None:
        time_out = dt.time(time_in.hour + draw(st.integers(1, 5)), time_in.minute)
    return Session(
        patient_id=patient_id, date_of_service=draw(st.dates(dt.date(2024, 1, 1), today)),
        note_type=draw(st.sampled_from(NoteType)), delivered_by=draw(users),
        supervised_by=draw(users),
        supervisor_availability=draw(_optional(st.sampled_from(SupervisorAvailability))),
        mode=draw(st.sampled_from(DeliveryMode)), group_size=draw(_optional(st.integers(2, 20))),
        time_in=time_in, time_out=time_out,
        total_treatment_minutes=draw(_optional(st.integers(31, 60))),
        diagnoses=tuple(draw(st.lists(icd, unique=True, max_size=3))),
        exercises=tuple(draw(st.lists(exercises(), max_size=4))),
        services=tuple(draw(st.lists(services, max_size=4))),
        patient_response=draw(text), assessment=draw(text), home_program=draw(text),
        acknowledgements=tuple(draw(st.lists(st.builds(
            Acknowledgement, code=st.sampled_from(["RESPONSE_MISSING", "KX_THRESHOLD"]),
            field=text, reason=required), max_size=2))))
