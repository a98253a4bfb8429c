"""Shorthand for an exercise row, typed in one line the way therapists write a flowsheet:
``bridge 3x12 hold 5``, ``tke 3x15 red band``, ``sit to stand 2x10 5lb cga``.

The words before the first recognised value name the exercise; the values fill the row's
fields. Whatever is not understood is returned as ``leftover`` so it can be kept in the row
(as modification text), never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ptdoc.domain import Assistance, Cue, DistanceUnit, ExerciseEntry, LoadUnit, Side

BAND_COLOURS = ("yellow", "red", "green", "blue", "black", "silver", "gold")
ASSISTANCE = {
    "i": Assistance.INDEPENDENT, "ind": Assistance.INDEPENDENT,
    "indep": Assistance.INDEPENDENT, "independent": Assistance.INDEPENDENT,
    "sba": Assistance.STAND_BY, "stand-by": Assistance.STAND_BY, "standby": Assistance.STAND_BY,
    "cga": Assistance.CONTACT_GUARD, "contact guard": Assistance.CONTACT_GUARD,
    "min a": Assistance.MIN, "mina": Assistance.MIN, "min assist": Assistance.MIN,
    "mod a": Assistance.MOD, "moda": Assistance.MOD, "mod assist": Assistance.MOD,
    "max a": Assistance.MAX, "maxa": Assistance.MAX, "max assist": Assistance.MAX,
    "dep": Assistance.DEPENDENT, "dependent": Assistance.DEPENDENT,
}
SIDES = {"l": Side.LEFT, "lt": Side.LEFT, "left": Side.LEFT, "r": Side.RIGHT,
         "rt": Side.RIGHT, "right": Side.RIGHT, "bil": Side.BILATERAL,
         "bilat": Side.BILATERAL, "bilateral": Side.BILATERAL}
CUES = {"vc": Cue.VERBAL, "verbal cues": Cue.VERBAL, "verbal cue": Cue.VERBAL,
        "tc": Cue.TACTILE, "tactile cues": Cue.TACTILE, "tactile cue": Cue.TACTILE,
        "visual cues": Cue.VISUAL, "visual cue": Cue.VISUAL}

_NUMBER = r"(\d+(?:\.\d+)?)"
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("dose", r"(\d+)\s*[x×]\s*(\d+)"),
    ("hold", r"hold\s*(\d+)\s*(?:s|sec|secs|seconds?)?|(\d+)\s*(?:s|sec|secs|seconds?)\s*hold"),
    ("load", _NUMBER + r"\s*(lbs?|#|kg)"),
    ("band", r"(" + "|".join(BAND_COLOURS) + r")\s*(?:theraband|band|tb)"),
    ("distance", _NUMBER + r"\s*(ft|feet|m|meters?)"),
    ("duration", r"(\d+)\s*(?:min|mins|minutes?)(?!\s*(?:a|assist)\b)"),
    ("assistance", "|".join(sorted((re.escape(k) for k in ASSISTANCE), key=len, reverse=True))),
    ("cues", "|".join(sorted((re.escape(k) for k in CUES), key=len, reverse=True))),
    ("side", "|".join(sorted(SIDES, key=len, reverse=True))),
)
_TOKEN = re.compile("|".join(rf"(?P<{kind}>(?<![\w-])(?:{pattern})(?![\w-]))"
                             for kind, pattern in _PATTERNS), re.IGNORECASE)


@dataclass(frozen=True)
class Shorthand:
    name: str                      # the words before the first value, as typed
    values: dict[str, Any] = field(default_factory=dict)  # ExerciseEntry field -> value
    leftover: str = ""             # what was not understood, in the order typed


def parse(text: str) -> Shorthand:
    """Split ``text`` into the exercise's name, the values it gives, and what is left."""
    text = " ".join(text.split())
    matches = list(_TOKEN.finditer(text))
    # The name runs to the first value; a lone "i", "l" or "r" inside a name is not a value.
    first = next((m for m in matches if m.start() > 0 or m.lastgroup not in ("side", "assistance")),
                 None)
    if first is None:
        return Shorthand(text)
    name = text[:first.start()].strip(" ,;")
    values: dict[str, Any] = {}
    leftover: list[str] = []
    at = first.start()
    for m in matches:
        if m.start() < at:
            continue
        leftover.append(text[at:m.start()])
        _read(m, values)
        at = m.end()
    leftover.append(text[at:])
    rest = " ".join(" ".join(leftover).replace(",", " ").replace(";", " ").split())
    return Shorthand(name, values, rest)


def _read(m: re.Match[str], values: dict[str, Any]) -> None:
    kind = m.lastgroup or ""
    groups = [g for g in m.groups() if g is not None][1:]  # [0] is the named group itself
    word = m.group(kind).lower()
    if kind == "dose":
        values["sets"], values["reps"] = int(groups[0]), int(groups[1])
    elif kind == "hold":
        values["hold_seconds"] = int(groups[0])
    elif kind == "load":
        values["load"] = Decimal(groups[0])
        values["load_unit"] = LoadUnit.KG if groups[1].lower() == "kg" else LoadUnit.LB
    elif kind == "band":
        values["equipment"] = f"resistance band ({groups[0].lower()})"
    elif kind == "distance":
        values["distance"] = Decimal(groups[0])
        values["distance_unit"] = DistanceUnit.FT if groups[1].lower() in ("ft", "feet") \
            else DistanceUnit.M
    elif kind == "duration":
        values["duration_minutes"] = int(groups[0])
    elif kind == "assistance":
        values["assistance"] = ASSISTANCE[" ".join(word.split())]
    elif kind == "cues":
        values["cues"] = tuple(dict.fromkeys((*values.get("cues", ()), CUES[word])))
    elif kind == "side":
        values["side"] = SIDES[word]


def ranked(typed: str, names: list[str]) -> list[str]:
    """The names ``typed`` may stand for, best first: exact, then starting with it, then
    containing it, then the initials of its words (``tke`` for Terminal knee extension)."""
    wanted = " ".join(typed.lower().split())
    if not wanted:
        return []
    lowered = [(n.lower(), n) for n in names]
    out: dict[str, None] = {}
    for test in (lambda n: n == wanted, lambda n: n.startswith(wanted),
                 lambda n: wanted in n, lambda n: _initials(n) == wanted):
        out.update((name, None) for low, name in lowered if test(low))
    return list(out)


def match_name(typed: str, names: list[str]) -> str | None:
    """The name ``typed`` stands for, if any (the first of ``ranked``)."""
    found = ranked(typed, names)
    return found[0] if found else None


def _initials(name: str) -> str:
    return "".join(word[0] for word in re.split(r"[\s,/-]+", name) if word)


def fill(entry: ExerciseEntry, shorthand: Shorthand) -> ExerciseEntry:
    """``entry`` with the shorthand's values; what was not understood is kept in the
    modification text (after any already there).

    ``N min`` is the time spent on the exercise (its Minutes, what 97110 counts); for an
    exercise dosed by time (a bike, a walk: no sets x reps) it is its duration too. "bridge
    3x12 12 min" gave a bridge a 12-minute duration and no minutes to bill."""
    values = dict(shorthand.values)
    if "duration_minutes" in values:
        values["minutes"] = values["duration_minutes"]
        if (values.get("sets") or entry.sets) and entry.duration_minutes is None:
            del values["duration_minutes"]
    row = replace(entry, **values)
    if shorthand.leftover:
        row = replace(row, modification=" ".join(
            p for p in (row.modification, shorthand.leftover) if p))
    return row
