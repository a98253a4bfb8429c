"""Keeps benchmarks/RESULTS.md: each benchmark script owns one section and replaces only it."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
TITLE = ("# Benchmark figures\n\nMeasured with the scripts in this folder; re-run them after "
         "a change.\n")


def write_section(name: str, body: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else TITLE
    if not text.startswith("# Benchmark figures"):
        text = TITLE
    sections = dict(re.findall(r"\n## (.+?)\n(.*?)(?=\n## |\Z)", text, flags=re.S))
    sections[name] = "\n" + body.strip() + "\n"
    order = ["How to run them", "Start-up", "Store", "Cell commit", "ICD-10-CM index", "Rules",
             "Paper", "Before"]
    names = [n for n in order if n in sections] + [n for n in sections if n not in order]
    RESULTS.write_text(TITLE + "".join(f"\n## {n}\n{sections[n]}" for n in names))
