"""Paper: the daily note, session summaries and the day sheet as PDF files."""

from __future__ import annotations

import argparse
from pathlib import Path

from ptdoc.cli.common import (
    EXIT_OK,
    UsageError,
    date_arg,
    day_of,
    positive_int,
    signed_in,
    writable,
    write_out,
)


def register(sub, common: argparse.ArgumentParser) -> dict:
    """Add this subject's commands to the parser; their handlers by command."""
    p = sub.add_parser("export", parents=[common], help="the daily note of a session as PDF")
    p.add_argument("--session", type=positive_int, required=True, metavar="ID")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.pdf")

    p = sub.add_parser("summaries", parents=[common],
                       help="session summaries (one page each) or the day sheet, as PDF")
    p.add_argument("--date", type=date_arg, required=True, help="YYYY-MM-DD or 'today'")
    p.add_argument("-o", "--output", type=Path, metavar="FILE.pdf",
                   help="default: summaries-DATE.pdf (or day-sheet-DATE.pdf) here")
    p.add_argument("--day-sheet", action="store_true",
                   help="every session of the day on one sheet, for closing out the day")
    p.add_argument("--one-per-page", action="store_true",
                   help="one summary per page (default: two to a page, with a cut line)")

    p = sub.add_parser("superbill", parents=[common],
                       help="superbills (one page per session) as PDF",
                       description="The superbill of each session given (--session, again "
                                   "for more) or of every session of a day (--date); a note "
                                   "not signed yet prints watermarked as not billable.")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--session", type=positive_int, action="append", metavar="ID")
    which.add_argument("--date", type=date_arg, help="YYYY-MM-DD or 'today'")
    p.add_argument("-o", "--output", type=Path, metavar="FILE.pdf",
                   help="default: superbill-ID.pdf (or superbills-DATE.pdf) here")
    return {"export": _cmd_export, "summaries": _cmd_summaries, "superbill": _cmd_superbill}


def _cmd_export(args: argparse.Namespace, db_path: Path) -> int:
    writable(args.output)
    with signed_in(args, db_path) as ws:
        pdf = ws.note_pdf(args.session)
        write_out(args.output, pdf)
        ws.record_output("note", [args.session], "save")
    print(f"Session {args.session} written to {args.output}")
    return EXIT_OK


def _cmd_summaries(args: argparse.Namespace, db_path: Path) -> int:
    kind = "day-sheet" if args.day_sheet else "session-summaries"  # as the window names it
    with signed_in(args, db_path) as ws:
        day = day_of(args.date, ws)
        assert day is not None  # --date is required
        out = args.output or Path(f"{kind}-{day.isoformat()}.pdf")
        writable(out)
        ids = ws.day_ids(day)
        if args.day_sheet and args.one_per_page:
            raise UsageError("--one-per-page is for summaries, not the day sheet")
        pdf = ws.day_sheet_pdf(day) if args.day_sheet else \
            ws.summaries_pdf(ids, per_page=1 if args.one_per_page else 2)
        write_out(out, pdf)
        # The same words as the window's: 'summary pdf', 'day sheet pdf'.
        ws.record_output("day sheet" if args.day_sheet else "summary", ids, "save")
    count = len(ids)
    print(f"{count} session{'s' * (count != 1)} of {day} written to {out}")
    return EXIT_OK


def _cmd_superbill(args: argparse.Namespace, db_path: Path) -> int:
    with signed_in(args, db_path) as ws:
        day = day_of(args.date, ws)
        ids = list(dict.fromkeys(args.session)) if args.session else ws.day_ids(day)
        name = f"superbill-{ids[0]}.pdf" if args.session and len(ids) == 1 else \
            f"superbills-{day.isoformat() if day else 'sessions'}.pdf"
        out = args.output or Path(name)
        writable(out)
        pdf = ws.superbills_pdf(ids)
        write_out(out, pdf)
        ws.record_output("superbill", ids, "save")
    count = len(ids)
    print(f"{count} superbill{'s' * (count != 1)} written to {out}")
    return EXIT_OK
