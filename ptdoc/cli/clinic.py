"""The clinic's setup: its settings, payers' rules and fee schedule (administrators change
them; every user may read them)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ptdoc import clock, fields
from ptdoc.cli.common import (
    EXIT_OK,
    UsageError,
    actions,
    signed_in,
    year_arg,
    zone_arg,
)
from ptdoc.errors import NotFound


def register(sub, common: argparse.ArgumentParser) -> dict:
    """Add this subject's commands to the parser; their handlers by command."""
    p = sub.add_parser("payers", parents=[common], help="list payers and their billing rules")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("payer", parents=[common], help="add a payer or change its billing rules")
    psub = actions(p, required=True)
    a = psub.add_parser("add", parents=[common], help="add a payer from a profile")
    a.add_argument("name", help="the payer's name as the clinic knows it")
    a.add_argument("--profile", required=True, choices=[
        "medicare", "medicare_advantage", "medicaid", "commercial", "workers_comp", "self_pay"],
        help="the billing rules it starts from (unit method, GP/CQ/KX, code-pair edits)")
    a.add_argument("--unit-method", choices=["cms", "per-code"],
                   help="instead of the profile's")
    s = psub.add_parser("set", parents=[common], help="set a payer's unit method and modifiers")
    s.add_argument("name", help="the payer's name as 'ptdoc payers' shows it")
    s.add_argument("--unit-method", choices=["cms", "per-code"])
    for flag, what in (("gp", "GP on every PT line"), ("cq", "CQ when a PTA furnished it"),
                       ("kx", "KX past the yearly threshold"),
                       ("pair-edits", "code-pair edits")):
        s.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, help=what)

    p = sub.add_parser("clinic", parents=[common], help="show or change the clinic's settings")
    p.add_argument("--json", action="store_true", help="print JSON")
    csub = actions(p)
    s = csub.add_parser("set", parents=[common], help="change clinic settings")
    s.add_argument("--name")
    s.add_argument("--address")
    s.add_argument("--phone")
    s.add_argument("--npi", help="the clinic's group NPI")
    s.add_argument("--idle-lock", type=int, metavar="MINUTES",
                   help="lock the window after this many idle minutes (1-240)")
    s.add_argument("--draft-idle", type=int, metavar="MINUTES",
                   help="a draft open on another workstation with no save for this many "
                        "minutes may be taken over (5-240; 20 unless set)")
    s.add_argument("--time-zone", type=zone_arg, metavar="ZONE",
                   help="the clinic's IANA time zone, such as America/Chicago: signature and "
                        "print times are shown in it (a new clinic starts in this computer's)")
    s.add_argument("--place-of-service", metavar="CODE",
                   help="the CMS place-of-service code the clinic bills with: 11 office "
                        "(the default), 22 on campus-outpatient hospital, 19 off campus...")

    p = sub.add_parser("fees", parents=[common], help="the fee schedule (allowed amount per "
                                                      "code), for year-to-date KX tracking")
    p.add_argument("--year", type=year_arg, default=None, help="default: this year")
    p.add_argument("--json", action="store_true", help="print JSON")
    fsub = actions(p)
    s = fsub.add_parser("set", parents=[common], help="set one code's allowed amount")
    s.add_argument("code")
    s.add_argument("amount", help="dollars, such as 29.50, $31.75 or 1,250")
    s.add_argument("--year", type=year_arg, default=None, help="default: this year")
    return {"payers": _cmd_payers, "payer": _cmd_payer, "clinic": _cmd_clinic,
            "fees": _cmd_fees}


_PAYER_FLAGS = {"gp": "gp_required", "cq": "cq_applies", "kx": "kx_applies",
                "pair_edits": "code_pair_edits"}


def _cmd_payers(args: argparse.Namespace, db_path: Path) -> int:
    with signed_in(args, db_path) as ws:
        payers = ws.store.payers.all()
    if args.json:
        print(json.dumps([{"name": p.name, "profile": p.profile.value,
                           "unit_method": p.unit_method.value, "medicare": p.medicare,
                           **{flag: getattr(p, flag) for flag in _PAYER_FLAGS.values()}}
                          for p in payers], indent=2))
        return EXIT_OK
    for p in payers:
        rules = [label for label, flag in (("GP", "gp_required"), ("CQ", "cq_applies"),
                                           ("KX", "kx_applies"), ("pair edits",
                                                                  "code_pair_edits"))
                 if getattr(p, flag)]
        print(f"{p.name:<32} {p.profile.value:<20} {p.unit_method.value:<9} "
              f"{', '.join(rules) or '-'}")
    return EXIT_OK


def _cmd_payer(args: argparse.Namespace, db_path: Path) -> int:
    from dataclasses import replace

    from ptdoc.domain import UnitMethod

    if args.action == "add":
        from ptdoc.catalog import payer_from_profile

        with signed_in(args, db_path) as ws:
            payer = ws.add_payer(payer_from_profile(args.name.strip(), args.profile,
                                                    args.unit_method))
        print(f"Added {payer.name} ({payer.profile.value}, units by {payer.unit_method.value})")
        return EXIT_OK
    with signed_in(args, db_path) as ws:
        match = [p for p in ws.store.payers.all() if p.name == args.name]
        if not match:
            raise NotFound(f"No payer named '{args.name}' (see 'ptdoc payers')")
        payer = match[0]
        if args.unit_method:
            payer = replace(payer, unit_method=UnitMethod(args.unit_method))
        for option, flag in _PAYER_FLAGS.items():
            value = getattr(args, option)
            if value is not None:
                payer = replace(payer, **{flag: value})
        ws.update_payer(payer)
    print(f"Updated {payer.name}")
    return EXIT_OK


def _cmd_clinic(args: argparse.Namespace, db_path: Path) -> int:
    from dataclasses import asdict, replace

    from ptdoc.domain import Clinic, place_of_service_text

    with signed_in(args, db_path) as ws:
        clinic = ws.clinic() or Clinic("My clinic")
        if args.action == "set":
            changes = {k: v for k, v in (("name", args.name), ("address", args.address),
                                         ("phone", args.phone), ("npi", args.npi),
                                         ("idle_lock_minutes", args.idle_lock),
                                         ("draft_idle_minutes", args.draft_idle),
                                         ("time_zone", args.time_zone),
                                         ("place_of_service", args.place_of_service))
                       if v is not None}
            clinic = replace(clinic, **changes)
            ws.save_clinic(clinic)
    if args.json:
        print(json.dumps(asdict(clinic)))
    else:
        now = clock.stamp(clock.utcnow(), clinic.time_zone)
        print(f"{clinic.name}\n{clinic.address}\n{clinic.phone}\nNPI {clinic.npi or '-'}\n"
              f"Place of service {place_of_service_text(clinic.place_of_service)}\n"
              f"Idle lock after {clinic.idle_lock_minutes} minutes\n"
              f"Open drafts idle after {clinic.draft_idle_minutes} minutes without a save\n"
              f"Time zone {clinic.time_zone} (now {now})")
    return EXIT_OK


def _cmd_fees(args: argparse.Namespace, db_path: Path) -> int:
    with signed_in(args, db_path) as ws:
        year = args.year or ws.today().year
        if args.action == "set":
            amount = fields.parse_amount(args.amount, "amount")
            if amount is None:
                raise UsageError("give the amount in dollars, such as 29.50")
            ws.set_fee(args.code.upper(), year, amount)
            print(f"{args.code.upper()} {year}: ${amount}")
            return EXIT_OK
        fees = ws.store.fees.for_year(year)
    if args.json:
        print(json.dumps({code: str(amount) for code, amount in sorted(fees.items())}))
    elif not fees:
        print(f"No fee schedule for {year}: set amounts with 'ptdoc fees set CODE AMOUNT'.")
    for code, amount in sorted(fees.items()):
        if not args.json:
            print(f"{code}  ${amount}")
    return EXIT_OK
