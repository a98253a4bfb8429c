"""The shipped code catalog (resources/codes.json), loaded once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


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
