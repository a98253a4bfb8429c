"""Billing: units from minutes, and a session judged with its claim lines."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ptdoc import clock, fields
from ptdoc.cli.common import (
    EXIT_OK,
    EXIT_PROBLEM,
    UsageError,
    date_arg,
    day_of,
    positive_int,
    signed_in,
    writable,
    write_out,
    zone_arg,
)
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
                       description="Exit 0 when nothing blocks, 1 when something blocks "
                                   "(a signature that does not verify, a file unlike the "
                                   "database), 2 on bad input. FILE alone: the signed content "
                                   "is compared, the signer's key is not checked. FILE with "
                                   "--session ID: the file is also compared with that session "
                                   "in the database and its signature checked with the key.")
    p.add_argument("file", nargs="?", type=Path, help="a session interchange file")
    p.add_argument("--session", type=positive_int, metavar="ID",
                   help="a session in the database (with FILE: the session to compare it with)")
    p.add_argument("--time-zone", type=zone_arg, metavar="ZONE",
                   help="for FILE alone: the clinic's time zone for the signing time (with "
                        "--session the clinic's own is used; otherwise UTC)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("charges", parents=[common],
                       help="the claim lines of signed sessions, priced, for the biller",
                       description="One row per claim line of each signed session of the "
                                   "dates (units and modifiers as 'ptdoc check --session' "
                                   "gives them), charge = fee schedule x units. Sessions not "
                                   "signed are listed on standard error and make the exit "
                                   "code 1, as does a billed code without a fee.")
    p.add_argument("--date", type=date_arg, help="one day: YYYY-MM-DD, 'today' or 'yesterday'")
    p.add_argument("--from", dest="first", type=date_arg, metavar="D",
                   help="the first day of a range (with --to)")
    p.add_argument("--to", dest="last", type=date_arg, metavar="D",
                   help="the last day of a range, included")
    p.add_argument("--format", choices=["csv", "json"], default="csv", help="default: csv")
    p.add_argument("--bom", action="store_true",
                   help="start the CSV with a UTF-8 byte-order mark (for Excel)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="write to FILE (private to you) instead of standard output")
    return {"units": _cmd_units, "check": _cmd_check, "charges": _cmd_charges}


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
    from dataclasses import replace

    from ptdoc import interchange
    from ptdoc.review import review_context
    from ptdoc.signature_check import (
        FINDING_CODE,
        SignatureCheck,
        compare_blocks,
        content_problems,
        identity_problems,
        signature_finding,
    )

    if args.file is None and args.session is None:
        raise UsageError("check: which session? give a session FILE or --session ID")
    notes: list[str] = []
    differs: list[str] = []  # a file unlike the database (exit 1), the signature apart
    zone = args.time_zone
    if args.file is None:
        with signed_in(args, db_path) as ws:
            session = ws.open_session(args.session)
            judged = ws.review(session)  # the signature checked with the clinic's key
            zone = ws.time_zone()
        keyed = True
    else:
        from ptdoc.icd_index import IcdIndex
        from ptdoc.rule_context import RuleContext

        text = interchange.read_file(args.file)
        try:
            # A signed file altered after signing is read anyway: what changed is the finding.
            doc = interchange.loads(text, verify=False)
        except ValidationError as exc:
            return _unreadable_signed(text, exc, args.json)
        session, facts = doc.session, doc.context
        ctx = RuleContext(
            session=doc.session, today=clock.today(), patient=doc.patient, payer=doc.payer,
            episode=doc.episode, users={u.id or 0: u for u in doc.clinicians},
            treatment_days_since_progress_report=facts.treatment_days_since_progress_report,
            year_to_date_amount=facts.year_to_date_amount, codes=IcdIndex.open())
        judged = review_context(ctx)
        problems = content_problems(doc)
        keyed = False
        if args.session is not None:
            with signed_in(args, db_path) as ws:
                stored = ws.export_session(args.session)
                stored_review = ws.review(ws.open_session(args.session))
                zone = ws.time_zone()
            details, signature = compare_blocks(interchange.to_document(stored),
                                                json.loads(text))
            recorded = interchange.identity(stored.patient)
            problems += identity_problems(doc, recorded)
            if details:
                differs.append(f"The file differs from session {args.session} in the "
                               "database in details the signature does not cover: "
                               + "; ".join(details) + ".")
            if not problems and interchange.identity(doc.patient) != recorded:
                differs.append(f"The patient's name or date of birth in the file is the one "
                               f"signed; session {args.session}'s patient in the database "
                               "has been corrected since.")
            if signature:
                problems.append(f"its signature is not session {args.session}'s in the "
                                "database: " + "; ".join(signature))
            elif not problems:
                # The same signature as the stored note, which the signer's key verifies.
                keyed = True
                judged = replace(judged, findings=tuple(
                    f for f in stored_review.findings if f.code == FINDING_CODE)
                    + judged.findings)
        elif session.signature is not None:
            problems += identity_problems(doc)
            notes.append("The signature covers the patient's MRN, name and date of birth at "
                         "signing, the session and its signer; the patient's other details, "
                         "the payer, the plan of care and the clinicians' details are as "
                         "written in the file and are not covered by it: 'ptdoc check FILE "
                         "--session ID' compares them with the database.")
        if problems:
            broken = signature_finding(SignatureCheck(False, "; ".join(problems)))
            judged = replace(judged, findings=(broken, *judged.findings))
    status = _signed_status(session, judged, zone, keyed)
    acknowledged = _acknowledged(session, judged)
    lines = [{"code": line.code, "minutes": line.minutes, "units": line.units,
              "modifiers": list(line.modifier_codes)} for line in judged.claim.lines]
    if args.json:
        print(json.dumps({"status": status, "differs": differs, "notes": notes, "findings": [
            {"code": f.code, "severity": f.severity.value, "field": f.field,
             "message": f.message, "source": f.source, "fix": f.fix} for f in judged.findings],
            "acknowledged": acknowledged, "lines": lines}, indent=2, ensure_ascii=False))
    else:
        _print_check(status, differs + notes, session, judged, acknowledged)
    return EXIT_PROBLEM if judged.blockers or differs else EXIT_OK


def _print_check(status: dict, notes: list[str], session, judged,
                 acknowledged: list[dict]) -> None:
    """The check in the sentences the note's paper uses: no internal codes."""
    from ptdoc.paper import finding_text

    if status["problem"]:
        print(status["problem"])
    notes = list(notes)
    if notes and notes[0].startswith("The file differs"):
        print(notes.pop(0))  # beside the signature's verdict, before the status
    print(f"Status: {status['text']}")
    for note in notes:
        print(note)
    signed = session.signature is not None
    for f in judged.findings:
        said = finding_text(f, signed)
        print(f"{said.label}: {said.message} {said.then}".rstrip())
    if not judged.findings:
        print("No findings.")
    if acknowledged:
        print("Warnings accepted:")
    for a in acknowledged:
        print(f"  {a['message']} Reason: {a['reason']}")
    print("Billing:")
    for line in _billing_lines(session, judged):
        print(f"  {line}")
    for sentence in judged.claim.units.explanation:
        print(f"  {sentence}")


def _billing_lines(session, judged) -> list[str]:
    """Each code as the note states it (units and modifiers, as on paper: 'GP CQ'), with
    ptdoc's own figure beside it only where it differs; a line stating no units shows
    ptdoc's."""
    from ptdoc.billing import METHOD_NAMES, units_said

    method = judged.claim.units.method
    out = []
    for line in judged.claim.lines:
        own = [s for s in session.services if s.code == line.code]
        stated = [s.units for s in own if s.units is not None]
        units = sum(stated) if stated else line.units
        mods = " ".join(dict.fromkeys(m for s in own for m in s.modifiers)) if stated \
            else " ".join(line.modifier_codes)
        text = f"{line.code} x{units}" + (f" {mods}" if mods else "") + \
            (f" ({line.minutes} min)" if line.minutes is not None else "")
        beside = []
        if not stated:
            beside.append(f"by the {METHOD_NAMES[method]}: the note states none")
        elif units != line.units:
            beside.append(units_said(method, line.units))
        if stated and mods != " ".join(line.modifier_codes):
            beside.append("modifiers the payer's rules give: "
                          + (" ".join(line.modifier_codes) or "none"))
        out.append(text + "".join(f"; {b}" for b in beside))
    return out


def _unreadable_signed(text: str, exc: ValidationError, as_json: bool) -> int:
    """A signed file changed so that a value breaks its limit: still a signature that does
    not verify (exit 1, what changed), with the file's problems; otherwise bad input."""
    from contextlib import suppress

    from ptdoc.interchange import json_depth
    from ptdoc.signature_check import DOES_NOT_VERIFY, raw_changes

    changed: list[str] = []
    # Only a file within the reader's size and nesting bounds is read again here.
    if len(text) <= fields.MAX_FILE_BYTES and json_depth(text) <= fields.MAX_JSON_DEPTH:
        with suppress(ValueError):  # not JSON at all: bad input, said by the reader's error
            changed = raw_changes(json.loads(text))
    if not changed:
        raise exc
    problem = f"{DOES_NOT_VERIFY}: " + "; ".join(changed)
    invalid = [f"{p.field}: {p.message}" if p.field else p.message for p in exc.problems]
    if as_json:
        print(json.dumps({"status": {"signed": True, "problem": problem, "verifies": False,
                                     "text": f"{DOES_NOT_VERIFY} (why above)."},
                          "invalid": invalid}, indent=2, ensure_ascii=False))
    else:
        print(problem)
        print(f"Status: {DOES_NOT_VERIFY}; the file is also not a valid session file, so "
              "it was not judged further:")
        for line in invalid:
            print(f"  {line}")
    return EXIT_PROBLEM


def _signed_status(session, judged, zone: str | None, keyed: bool) -> dict:
    """Whether the note is signed, by whom and when, and whether that holds. ``keyed``: the
    signature was checked with the signer's key (a stored note); a file is checked against
    the content its signature covers, and its key by the clinic that holds it."""
    from ptdoc.paper import signature_problem, signature_statement
    from ptdoc.signature_check import DOES_NOT_VERIFY

    sig = session.signature
    problem = signature_problem(judged)
    out: dict = {"signed": sig is not None, "problem": problem, "verifies": None,
                 "signer_name": None, "credential": None, "npi": None, "signed_at": None}
    if sig is None:
        out["text"] = "draft, not signed."
        return out
    out.update(signer_name=sig.signer_name, credential=sig.credential, npi=sig.npi,
               signed_at=sig.signed_at.isoformat(), verifies=not problem if keyed else None)
    said = signature_statement(sig, zone)
    if problem:
        out["verifies"] = False
        out["text"] = f"{said} {DOES_NOT_VERIFY} (why above)."
    elif keyed:
        out["text"] = f"{said} The signature verifies with the signer's key."
    else:
        # Content and hash rewritten together would pass here: only the key tells.
        out["text"] = (f"The signature was NOT checked against the signer's key: it names "
                       f"{said[len('Electronically signed by '):].rstrip('.')}. The session's "
                       "content matches the content stored with the signature; the clinic "
                       "that holds the key checks the signature itself ('ptdoc check FILE "
                       "--session ID', 'ptdoc session import').")
    return out


def _acknowledged(session, judged) -> list[dict]:
    """Each warning the clinician accepted, with the finding's words and the reason. A file
    alone cannot raise what rests on the clinic's other records (a second visit that day):
    such a warning is named in words."""
    found = {(f.code, f.field): f for f in judged.findings}
    return [{"code": a.code, "field": a.field,
             "message": found[(a.code, a.field)].message if (a.code, a.field) in found
             else f"A {a.code.replace('_', ' ').lower()} warning, not raised by this check.",
             "reason": a.reason}
            for a in session.acknowledgements]


def _charge_dates(args: argparse.Namespace) -> None:
    """--date D, or --from D --to D: refused before the database is opened."""
    if args.date is not None and (args.first is not None or args.last is not None):
        raise UsageError("give --date D or --from D --to D, not both")
    if args.date is None and (args.first is None) != (args.last is None):
        raise UsageError(f"--{'to' if args.last is None else 'from'} is missing: a range "
                         "is --from D --to D")
    if args.date is None and args.first is None:
        raise UsageError("which dates? give --date D or --from D --to D")
    if args.bom and args.format != "csv":
        raise UsageError("--bom is for --format csv")


def _cmd_charges(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc.charges import money, to_csv, to_json, total

    _charge_dates(args)
    if args.output is not None:
        writable(args.output)
    with signed_in(args, db_path) as ws:
        first = day_of(args.date if args.date is not None else args.first, ws)
        last = day_of(args.date if args.date is not None else args.last, ws)
        assert first is not None and last is not None
        report = ws.charges(first, last)
        text = to_csv(report.lines, args.bom) if args.format == "csv" else to_json(report.lines)
        if args.output is not None:
            write_out(args.output, text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        ws.record_output("charges", report.session_ids, "save", args.format)
    dates = str(first) if first == last else f"{first} to {last}"
    sessions = len(report.session_ids)
    amount = total(line.charge for line in report.lines)
    amount = "unknown (a fee is missing)" if amount is None else money(amount)
    done = (f"{len(report.lines)} claim line{'s' * (len(report.lines) != 1)} of {sessions} "
            f"signed session{'s' * (sessions != 1)} of {dates}, charges {amount}")
    print(done + (f", written to {args.output}" if args.output else ""),
          file=sys.stdout if args.output else sys.stderr)
    for code in report.missing_fees:
        print(f"No fee for {code}: its charge is blank (an administrator sets it with "
              f"'ptdoc fees set {code.split()[0]} AMOUNT --year {code.split()[-1]}').",
              file=sys.stderr)
    if report.uncharged:
        count = len(report.uncharged)
        print(f"{count} session{'s' * (count != 1)} of {dates} not charged:", file=sys.stderr)
        for u in report.uncharged:
            print(f"  session {u.session_id}, {u.date_of_service}, {u.patient}: {u.reason}; "
                  f"owed by {u.owed_by}", file=sys.stderr)
    return EXIT_PROBLEM if report.uncharged or report.missing_fees else EXIT_OK
