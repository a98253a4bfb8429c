"""Billing: units from minutes, and a session judged with its claim lines."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ptdoc import clock, fields
from ptdoc.cli.common import EXIT_OK, EXIT_PROBLEM, UsageError, positive_int, signed_in
from ptdoc.errors import ValidationError


def register(sub, common: argparse.ArgumentParser) -> dict:
    """Add this subject's commands to the parser; their handlers by command."""
    p = sub.add_parser("units", help="billing units from minutes",
                       description="Units for timed codes given as CODE=MINUTES and untimed "
                                   "codes given as CODE (their minutes, if given, count toward "
                                   "total treatment time only).")
    p.add_argument("--method", choices=["cms", "per-code"], default="cms",
                   help="CMS total-time method (default) or the per-code method")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("codes", nargs="*", metavar="CODE[=MINUTES]")

    p = sub.add_parser("check", parents=[common], help="judge a session: findings and billing",
                       description="Exit 0 when nothing blocks, 1 when something blocks, "
                                   "2 on bad input.")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("file", nargs="?", type=Path, help="a session interchange file")
    target.add_argument("--session", type=positive_int, metavar="ID",
                        help="a session in the database")
    p.add_argument("--json", action="store_true", help="print JSON")
    return {"units": _cmd_units, "check": _cmd_check}


def _parse_units_args(items: list[str]) -> tuple[dict[str, int], dict[str, int | None]]:
    from ptdoc.catalog import lookup

    if not items:
        raise UsageError("give at least one CODE=MINUTES or untimed CODE")
    timed: dict[str, int] = {}
    untimed: dict[str, int | None] = {}
    for item in items:
        code, sep, text = item.partition("=")
        code = code.strip().upper()
        if not code:
            raise UsageError(f"'{item}': minutes given to nothing (write CODE=MINUTES)")
        info = lookup(code)
        if info is None:
            raise UsageError(f"unknown code '{fields.clip(code)}' (not a PT code ptdoc knows)")
        minutes = None
        if sep:
            try:
                minutes = fields.parse_int(text, fields.MINUTES, code)
            except ValidationError as exc:
                raise UsageError(f"'{fields.clip(item)}': {exc}") from None
            if minutes is None:
                raise UsageError(f"'{item}': give the minutes after '=' (CODE=MINUTES)")
        if info.timed:
            if minutes is None:
                raise UsageError(f"{code} is timed: give its minutes as {code}=MINUTES")
            timed[code] = timed.get(code, 0) + minutes
        else:
            untimed[code] = minutes if untimed.get(code) is None else \
                (untimed[code] or 0) + (minutes or 0)
    for code, minutes in [*timed.items(), *untimed.items()]:
        if (minutes or 0) > fields.MINUTES.high:
            raise UsageError(f"{code} has {minutes} minutes in all: "
                             f"{fields.MINUTES.expected()} per code")
    if len(timed) + len(untimed) > fields.MAX_SERVICES:
        raise UsageError(f"at most {fields.MAX_SERVICES} codes at once")
    total = sum(timed.values()) + sum(m or 0 for m in untimed.values())
    if total > fields.VISIT_MINUTES.high:
        raise UsageError(f"{total} minutes in all is longer than a day: "
                         f"{fields.VISIT_MINUTES.expected()}")
    return timed, untimed


def _cmd_units(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.billing import compute_units
    from ptdoc.domain import UnitMethod

    timed, untimed = _parse_units_args(args.codes)
    result = compute_units(timed, untimed, UnitMethod(args.method))
    if args.json:
        print(json.dumps({
            "method": result.method.value, "total_timed_minutes": result.total_timed_minutes,
            "total_units": result.total_units,
            "lines": [{"code": line.code, "minutes": line.minutes, "units": line.units}
                      for line in result.lines],
            "choices": list(result.choices), "explanation": list(result.explanation),
        }, indent=2))
        return EXIT_OK
    for line in result.lines:
        print(f"{line.code} {line.units}")
    if result.tied:
        print(f"Tie: {len(result.choices)} valid allocations; the first is shown.")
    for sentence in result.explanation:
        print(sentence)
    return EXIT_OK


def _cmd_check(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc import interchange
    from ptdoc.review import review_context

    if args.session is not None:
        with signed_in(args, db_path) as ws:
            judged = ws.review(ws.open_session(args.session))
    else:
        from ptdoc.icd_index import IcdIndex
        from ptdoc.rule_context import RuleContext

        doc = interchange.loads(interchange.read_file(args.file))
        facts = doc.context
        ctx = RuleContext(
            session=doc.session, today=clock.today(), patient=doc.patient, payer=doc.payer,
            episode=doc.episode, users={u.id or 0: u for u in doc.clinicians},
            treatment_days_since_progress_report=facts.treatment_days_since_progress_report,
            year_to_date_amount=facts.year_to_date_amount, codes=IcdIndex.open())
        judged = review_context(ctx)
    lines = [{"code": line.code, "minutes": line.minutes, "units": line.units,
              "modifiers": list(line.modifier_codes)} for line in judged.claim.lines]
    if args.json:
        print(json.dumps({"findings": [
            {"code": f.code, "severity": f.severity.value, "field": f.field,
             "message": f.message, "source": f.source, "fix": f.fix} for f in judged.findings],
            "lines": lines}, indent=2, ensure_ascii=False))
    else:
        for f in judged.findings:
            print(f"{f.severity.value.upper():<8} {f.code} at {f.field}: {f.message} "
                  f"Fix: {f.fix}")
        if not judged.findings:
            print("No findings.")
        print("Billing:")
        for line in judged.claim.lines:
            mods = "-".join(line.modifier_codes)
            print(f"  {line.code} x{line.units}" + (f" {mods}" if mods else "") +
                  (f" ({line.minutes} min)" if line.minutes is not None else ""))
    return EXIT_PROBLEM if judged.blockers else EXIT_OK
