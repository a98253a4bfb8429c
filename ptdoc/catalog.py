"""The shipped catalogs, loaded once: CPT/HCPCS codes (codes.json), payer profiles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ptdoc.domain import Payer, PayerProfile, UnitMethod
from ptdoc.errors import ValidationError


@dataclass(frozen=True)
class CodeInfo:
    code: str
    description: str
    timed: bool
    family: str
    passive: bool
    medicare_pays: bool
    medicare_replacement: str | None


@cache
def codes() -> dict[str, CodeInfo]:
    data = json.loads(resources.files("ptdoc.resources").joinpath("codes.json").read_text())
    return {row["code"]: CodeInfo(**row) for row in data["codes"]}


def lookup(code: str) -> CodeInfo | None:
    return codes().get(code)


# The catalog's families of the codes that bill an evaluation or re-evaluation note, named as
# the note types are (NoteType values).
EVALUATION_FAMILIES = ("evaluation", "re-evaluation")


def evaluation_codes(note_type: str) -> tuple[str, ...]:
    """The codes a note of this type bills exactly one of: 97161-97163 (by complexity) for an
    evaluation, 97164 for a re-evaluation; () for other notes."""
    if note_type not in EVALUATION_FAMILIES:
        return ()
    return tuple(sorted(c.code for c in codes().values() if c.family == note_type))


def is_evaluation_code(code: str) -> bool:
    info = lookup(code)
    return info is not None and info.family in EVALUATION_FAMILIES


@cache
def payer_profiles() -> dict[str, dict]:
    text = resources.files("ptdoc.resources").joinpath("payer_profiles.json").read_text()
    return json.loads(text)["profiles"]


def payer_from_profile(name: str, profile: str, unit_method: str | None = None) -> Payer:
    """A new payer with its profile's defaults (unit method, GP/CQ/KX, code-pair edits);
    ``unit_method`` overrides the profile's ('cms' or 'per-code')."""
    profiles = payer_profiles()
    if profile not in profiles:
        raise ValidationError.single("profile", f"Payer profile must be one of "
                                                f"{', '.join(profiles)} (got '{profile}')")
    p = profiles[profile]
    method = unit_method or p["unit_method"]
    if method not in {m.value for m in UnitMethod}:
        raise ValidationError.single("unit_method", f"Unit method must be 'cms' or 'per-code' "
                                                    f"(got '{method}')")
    return Payer(name, PayerProfile(profile), UnitMethod(method), p["medicare"],
                 gp_required=p["gp_required"], cq_applies=p["cq_applies"],
                 kx_applies=p["kx_applies"], code_pair_edits=p["code_pair_edits"])
