"""The exercise library: the shipped list (resources/exercises.json) and its default dosing.

A library entry is a named starting point for a flowsheet row; the clinic's own entries are
stored in the database (see ClinicExerciseRepository) and override shipped ones by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from importlib import resources

from ptdoc.domain import DistanceUnit, ExerciseChange, ExerciseEntry, LoadUnit


@dataclass(frozen=True)
class LibraryExercise:
    name: str
    region: str = ""
    position: str = ""
    equipment: str = ""
    sets: int | None = None
    reps: int | None = None
    hold_seconds: int | None = None
    duration_minutes: int | None = None
    load: Decimal | None = None
    load_unit: LoadUnit | None = None
    distance: Decimal | None = None
    distance_unit: DistanceUnit | None = None
    code: str = "97110"

    def entry(self) -> ExerciseEntry:
        """A new flowsheet row with this exercise's defaults."""
        return ExerciseEntry(
            name=self.name, region=self.region, position=self.position,
            equipment=self.equipment, sets=self.sets, reps=self.reps,
            hold_seconds=self.hold_seconds, duration_minutes=self.duration_minutes,
            load=self.load, load_unit=self.load_unit, distance=self.distance,
            distance_unit=self.distance_unit, code=self.code)

    @classmethod
    def from_entry(cls, e: ExerciseEntry) -> LibraryExercise:
        return cls(e.name, e.region, e.position, e.equipment, e.sets, e.reps, e.hold_seconds,
                   e.duration_minutes, e.load, e.load_unit, e.distance, e.distance_unit, e.code)


@cache
def shipped_library() -> tuple[LibraryExercise, ...]:
    text = resources.files("ptdoc.resources").joinpath("exercises.json").read_text()
    rows = []
    for row in json.loads(text)["exercises"]:
        rows.append(LibraryExercise(
            name=row["name"], region=row["region"], position=row["position"],
            equipment=row["equipment"], sets=row["sets"], reps=row["reps"],
            hold_seconds=row["hold_seconds"], duration_minutes=row["duration_minutes"],
            load=Decimal(row["load"]) if row["load"] else None,
            load_unit=LoadUnit(row["load_unit"]) if row["load_unit"] else None,
            distance=Decimal(row["distance"]) if row["distance"] else None,
            distance_unit=DistanceUnit(row["distance_unit"]) if row["distance_unit"] else None,
            code=row["code"]))
    return tuple(rows)


def carried(entry: ExerciseEntry) -> ExerciseEntry:
    """Last visit's row as today's starting point: dosing and minutes kept (the billed
    minutes follow them), today's pain and response left blank, and marked so the clinician
    must say how it went today."""
    return replace(entry, change=ExerciseChange.CARRIED, modification="",
                   modification_reason="", pain_before=None, pain_after=None, response="")
