"""The clinic's users: list them, add one (the first is the administrator), set a password,
disable one. Everything but the first user acts as a signed-in ptdoc user."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ptdoc import paths
from ptdoc.cli.common import EXIT_OK, UsageError, actions, open_existing, sign_in, signed_in
from ptdoc.errors import NotFound


def register(sub, common: argparse.ArgumentParser) -> dict:
    """Add this subject's commands to the parser; their handlers by command."""
    p = sub.add_parser("users", parents=[common], help="list users")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("user", parents=[common], help="add a user or change one")
    usub = actions(p, required=True)
    s = usub.add_parser("add", parents=[common],
                        help="add a user (an administrator does; on a new clinic, its first "
                             "user is the administrator, added without --user)")
    s.add_argument("username")
    s.add_argument("--name", required=True, help="full name")
    s.add_argument("--credential", required=True,
                   choices=["PT", "DPT", "PTA", "aide", "front desk", "admin"])
    s.add_argument("--npi", help="required for PT and DPT; one NPI, one user")
    s = usub.add_parser("password", parents=[common],
                        help="your own password or PIN (your current one is asked), or, as an "
                             "administrator, another user's")
    s.add_argument("username")
    s = usub.add_parser("disable", parents=[common],
                        help="stop a user from signing in (an administrator does; the last "
                             "active administrator stays)")
    s.add_argument("username")
    return {"users": _cmd_users, "user": _cmd_user}


def _cmd_users(args: argparse.Namespace, db_path: Path) -> int:
    with signed_in(args, db_path) as ws:
        users = ws.store.users.all()
    if args.json:
        print(json.dumps([{"username": u.username, "name": u.full_name,
                           "credential": u.credential.value, "npi": u.npi, "active": u.active}
                          for u in users], indent=2, ensure_ascii=False))
        return EXIT_OK
    for u in users:
        print(f"{u.username:<16} {u.full_name:<28} {u.credential.value:<11} {u.npi or '-':<11} "
              f"{'active' if u.active else 'disabled'}")
    return EXIT_OK


def _cmd_user(args: argparse.Namespace, db_path: Path) -> int:
    if args.action == "add":
        return _add(args, db_path)
    own = args.username if args.action == "password" else None
    with signed_in(args, db_path, own_password_of=own) as ws:
        if ws.store.users.by_username(args.username) is None:
            raise NotFound(f"No user '{args.username}' (see 'ptdoc users')")
        if args.action == "disable":
            ws.disable_user(args.username)
        elif args.username == ws.actor.username:
            new = args.secrets.ask(f"new password or PIN of {args.username}", new=True)
            ws.set_secret(args.username, new, current=args.secrets.signed_in_with)
        else:
            from ptdoc.permissions import Permission

            ws.require(Permission.MANAGE_USERS, "user")  # refused before a new one is asked
            ws.set_secret(args.username,
                          args.secrets.ask(f"new password or PIN of {args.username}", new=True))
    print(f"Updated '{args.username}'")
    return EXIT_OK


def _add(args: argparse.Namespace, db_path: Path) -> int:
    from ptdoc import auth
    from ptdoc.domain import Credential, User

    user = User(args.username, args.name, Credential(args.credential), args.npi)
    what = f"password or PIN of the new user {user.username}"
    if paths.nothing_there(db_path):
        # A new clinic: nothing is created until its administrator is complete.
        _first_is_admin(user)
        secret = args.secrets.ask(what, new=True)
        auth.check_secret(secret)
        with open_existing(db_path, create=True) as store:
            return _first(store, user, secret)
    with open_existing(db_path) as store:
        if not store.users.count():
            _first_is_admin(user)
            return _first(store, user, args.secrets.ask(what, new=True))
        ws = sign_in(store, args)
        from ptdoc.permissions import Permission

        ws.require(Permission.MANAGE_USERS)  # refused before the new password is asked
        user = ws.add_user(user, args.secrets.ask(what, new=True))
    print(f"Added {user.display} as '{user.username}'")
    return EXIT_OK


def _first_is_admin(user) -> None:  # user: domain.User
    from ptdoc.domain import Credential

    if user.credential is not Credential.ADMIN:
        raise UsageError("a new clinic's first user is its administrator: add it with "
                         "--credential admin, then the others with --user and its name")


def _first(store, user, secret: str) -> int:  # store: Store, user: domain.User
    from ptdoc.services import Workspace

    user = Workspace(store, None).first_administrator(user, secret)
    print(f"Added {user.display} as '{user.username}', the clinic's administrator: add the "
          f"other users with 'ptdoc user add ... --user {user.username}'")
    return EXIT_OK
