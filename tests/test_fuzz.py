"""Bad input through the real command: seeded random mutations of a valid session file and of
`ptdoc units` arguments. Whatever comes in, ptdoc answers with an exit code of 0, 1 or 2 and
at most one line on stderr, never a traceback; and whatever it accepts obeys its own schema
and bounds (stored, it exports again and reads back equal)."""

from __future__ import annotations

import dataclasses
import io
import json
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import PASSWORD, Clinic, sign

from ptdoc import cli, fields, interchange
from ptdoc.domain import AddendumKind

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261126
MUTATIONS = 200
UNIT_RUNS = 250

# Raw JSON text put in place of a value: some cannot be written by json.dumps at all.
RAW_VALUES = [
    "9" * 5000, "-" + "9" * 400, str(10 ** 30), "1e308", "-1e400", "NaN", "Infinity", "0.5",
    "true", "false", "null", '""', '" "', '"' + "x" * 300 + '"',
    '"' + "é" * (fields.NARRATIVE_TEXT + 1) + '"', '"' + "y" * 1_000_000 + '"',
    "[" * 10_000 + "]" * 10_000, "[" * 25 + "]" * 25, "{}", "[]", '[null]', '{"a": 1}',
    '"9999-12-31"', '"0001-01-01"', '"2026-02-30"', '"1899-12-31"', '"2101-01-01"',
    '"2026-11-26T25:00:00Z"', '"0001-01-01T00:00:00+05:00"', '"9999-12-31T23:59:59-05:00"',
    '"12:60"', '"1E+2"', '"NaN"', '"12.123456"', '"-0"', '"\\ud800"', '"a\\u0000b"',
    '"\U0001F600\u202e\u0301"', '"DROP TABLE sessions;--"', '"../../etc/passwd"',
    '"signed"', '"draft"', '"kg"', '"97162"', '"M17.11"', '"pt"', '"nobody"', str(2 ** 63),
]
_MARK = "@@RAW{}@@"
TEXT_PIECES = ["a", "Z", " ", "é", "ß", "шаг", "Κων", "漢字", "\U0001F600", "\u202e", "\u0301",
               "\t", "\n", "'", '"', "\\", "%", "_", "<b>", "0", "9", "-", "."]


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a JSON document a value sits (dict keys and list positions)."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*path, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_paths(item, (*path, i)))
    return found


def _container(doc: Any, path: tuple) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


def mutate(text: str, rng: random.Random) -> str:
    """One to three random changes to a JSON document, as text."""
    doc = json.loads(text)
    raws: list[str] = []
    for _ in range(rng.randint(1, 2)):
        places = _paths(doc)
        if not places:
            break
        path = rng.choice(places)
        parent = _container(doc, path)
        key = path[-1]
        kind = rng.random()
        if kind < 0.35 and isinstance(parent[key], str | int) and \
                not isinstance(parent[key], bool):
            # Plausible values, so that some files are accepted and their round trip tested.
            parent[key] = rng.randint(0, 30) if isinstance(parent[key], int) else \
                "".join(rng.choice(TEXT_PIECES) for _ in range(rng.randint(0, 40)))
        elif kind < 0.75:
            raws.append(rng.choice(RAW_VALUES))
            parent[key] = _MARK.format(len(raws) - 1)
        elif kind < 0.8 and isinstance(parent, dict):
            del parent[key]
        elif kind < 0.85 and isinstance(parent, dict):
            parent[rng.choice(["extra", "id", "patient_id", "__proto__"])] = 1
        elif kind < 0.9 and isinstance(parent[key], list) and parent[key]:
            parent[key] = parent[key] * rng.choice([2, 150, 1200])
        else:
            parent[key] = rng.choice([True, False, None, 0, -1, "", [], {}, 3.5])
    out = json.dumps(doc, ensure_ascii=False)
    for i, raw in enumerate(raws):
        out = out.replace(json.dumps(_MARK.format(i)), raw, 1)
    return out


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command as a person runs it; one on the clinic's database acts as its PT, whose
    password comes on standard input."""
    argv, stdin = list(args), sys.stdin
    if "--db" in argv:
        argv += ["--user", "pt", "--password-stdin"]
        sys.stdin = io.StringIO(f"{PASSWORD}\n")
    try:
        code = cli.main(argv)
    finally:
        sys.stdin = stdin
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean(code: int, err: str, what: str) -> None:
    assert code in (0, 1, 2), f"{what}: exit {code}: {err}"
    assert "Traceback" not in err, what
    assert err.count("\n") <= 1, f"{what}: more than one line on stderr:\n{err[:500]}"


@pytest.fixture
def seeds(clinic: Clinic, db_target, tmp_path: Path,
          capsys: pytest.CaptureFixture[str]) -> list[str]:
    """A draft and a signed session with an addendum, exported by the command line."""
    draft = clinic.complete_draft()
    signed = clinic.complete_draft("pta", clinic.episode.start_date)
    pta = clinic.as_("pta")
    sign(pta, signed.id)
    pta.add_addendum(signed.id, AddendumKind.LATE_ENTRY, "Late", "Cues were verbal.",
                     pta.prove_signer(PASSWORD))
    texts = []
    for session in (draft, signed):
        out = tmp_path / f"session-{session.id}.json"
        code, _, err = run(capsys, "--db", str(db_target), "session", "export",
                           str(session.id), "-o", str(out))
        assert code == 0, err
        texts.append(out.read_text(encoding="utf-8"))
    return texts


def test_mutated_session_files_never_crash_and_what_is_accepted_is_valid(
        clinic: Clinic, db_target, tmp_path: Path, seeds: list[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(SEED)
    schema = json.loads(interchange.SCHEMA_PATH.read_text())
    imported = checked = 0
    for n in range(MUTATIONS):
        text = mutate(seeds[1] if rng.random() < 0.25 else seeds[0], rng)
        path = tmp_path / f"m{n}.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        command = "import" if n % 2 == 0 else "check"
        args = ["--db", str(db_target), "session", "import", str(path)] if command == "import" \
            else ["check", str(path)]
        code, out, err = run(capsys, *args)
        assert_clean(code, err, f"mutation {n} ({command}): {text[:300]}")
        if code == 2:
            assert err.startswith("ptdoc: ")
            continue
        if command == "check" and "not a valid session file" in out:
            # A signed file whose change breaks a limit: reported as not verifying (exit 1).
            assert code == 1 and out.startswith("SIGNATURE DOES NOT VERIFY")
            checked += 1
            continue
        # Accepted: the file obeys the published schema ...
        jsonschema.validate(json.loads(text), schema)
        if command == "check":
            checked += 1
            continue
        imported += 1
        session_id = int(re.search(r"session (\d+)", out).group(1))
        stored = clinic.store.sessions.get(session_id)
        # ... what was stored passes every bound again ...
        dataclasses.replace(stored)
        # ... and exports to a file that reads back to the same session.
        code, exported, err = run(capsys, "--db", str(db_target), "session", "export",
                                  str(session_id))
        assert code == 0, err
        jsonschema.validate(json.loads(exported), schema)
        sent = interchange.to_document(interchange.loads(text))["session"]
        back = interchange.to_document(interchange.loads(exported))["session"]
        assert back == sent
    # The mutations are not all refused: the test would pass on a program that refuses all.
    assert imported + checked > 0


UNIT_CODES = ["97110", "97112", "97140", "97530", "97150", "97010", "G0283", "97162", "99999",
              "abc", "", "９７１１０", "97110" * 20]
UNIT_MINUTES = ["0", "8", "15", "23", "480", "481", "1440", "1000000000", "9" * 5000, "-5",
                "1.5", "²", "٣", "", "abc", "1e3", " 7", "0x10", "\x00", "\udcff"]


def random_units_args(rng: random.Random) -> list[str]:
    args = ["units"]
    if rng.random() < 0.3:
        args += ["--method", rng.choice(["cms", "per-code", "bogus", ""])]
    if rng.random() < 0.5:
        args.append("--json")
    for _ in range(rng.choice([0, 1, 2, 3, 5, 30])):
        code = rng.choice(UNIT_CODES)
        if rng.random() < 0.85:
            code += "=" + rng.choice(UNIT_MINUTES)
        args.append(code)
    return args


def test_units_arguments_never_crash_and_stay_within_a_day(
        capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(SEED)
    answered = 0
    for _ in range(UNIT_RUNS):
        args = random_units_args(rng)
        code, out, err = run(capsys, *args)
        assert_clean(code, err, repr(args))
        if code == 0 and "--json" in args:
            answered += 1
            result = json.loads(out)
            assert result["total_timed_minutes"] <= fields.VISIT_MINUTES.high
            assert all((line["minutes"] or 0) <= fields.MINUTES.high for line in result["lines"])
            assert result["total_units"] <= fields.VISIT_MINUTES.high // 15 + 1
    assert answered > 0


@pytest.mark.slow
def test_a_real_process_refuses_bad_input_in_one_line(tmp_path: Path, seeds: list[str],
                                                      db_target) -> None:
    data = json.loads(seeds[1])
    data["session"]["signature"]["signer"] = None
    cases = {
        "deep.json": "[" * 10_000 + "]" * 10_000,
        "digits.json": seeds[0].replace('"sets": 3', '"sets": ' + "9" * 5000, 1),
        "version.json": seeds[0].replace(f'"version": {interchange.VERSION}', '"version": true', 1),
        "signer.json": json.dumps(data),
    }
    runs = [["units", "97110=1000000000"], ["--db", str(tmp_path), "sessions"]]
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        runs.append(["--db", str(db_target), "session", "import", str(tmp_path / name)])
    for args in runs:
        result = subprocess.run([sys.executable, "-m", "ptdoc", *args], capture_output=True,
                                text=True, timeout=60,
                                env={"PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
                                     "XDG_STATE_HOME": str(tmp_path / "state"),
                                     "PATH": "/usr/bin:/bin"})
        assert result.returncode in (1, 2), (args, result.stderr)
        assert result.stderr.startswith("ptdoc: ") and result.stderr.count("\n") == 1, \
            (args, result.stderr)
        assert "Traceback" not in result.stderr
