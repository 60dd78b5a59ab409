"""`python -m dashboard users ...`: the logins of the dashboard, kept in the store.

    python -m dashboard users add NAME --role viewer|analyst|admin [--zones 1,3] [--db PATH] [--password-stdin]
    python -m dashboard users list [--db PATH]
    python -m dashboard users remove NAME [--db PATH]

The first user switches the app from read-only to logins-required at its next
start; ATLAS_SECRET_KEY must then be set (docs/access.md).
"""
from __future__ import annotations

import argparse
import getpass
import sys

from geodata import config

from . import auth


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard users", description="Manage the atlas's logins.")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=auth.ROLES)
    add.add_argument("--zones", default="", help="analysts: zones whose household records they may see, e.g. 1,3")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--replace", action="store_true", help="change an existing user's password, role and zones")
    listing = commands.add_parser("list", help="list the users")
    remove = commands.add_parser("remove", help="remove a user")
    remove.add_argument("name")
    for command in (add, listing, remove):
        command.add_argument("--db", default=None, help=f"store (default: $ATLAS_DB or {config.default_db()})")
    return parser


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise auth.UserError("the two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    from geodata.store import open_store

    args = build_parser().parse_args(argv)
    store = open_store(args.db or config.default_db())
    try:
        if args.command == "add":
            user = auth.add_user(store, args.name, read_password(args.password_stdin), args.role, args.zones,
                                 replace=args.replace)
            zones = f", zones {','.join(map(str, user.zones))}" if user.zones else ""
            print(f"user {user.username} ({user.role}{zones}) saved in {store.location}")
        elif args.command == "list":
            for user in auth.list_users(store):
                print(f"{user.username}\t{user.role}\t{','.join(map(str, user.zones))}")
        else:
            if not auth.remove_user(store, args.name):
                raise auth.UserError(f"no user {auth.normalise_username(args.name)!r}")
            print(f"user {auth.normalise_username(args.name)} removed")
    except auth.UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
