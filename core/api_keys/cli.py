"""`python -m core api-key create | list | revoke`: API keys for automation, as the system
actor on the owner connection (audited with the command as the user agent)."""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime

from core.api_keys.keys import SCOPES, create_key, list_keys, revoke_key
from core.db import Actor
from core.errors import DomainError

CLI_AGENT = "python -m core api-key"


def add_parser(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("api-key", help="create, list or revoke API keys (audited)")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key and print it once")
    create.add_argument("--owner", required=True, help="email of the account the key acts as")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scope", action="append", required=True, choices=SCOPES, help="repeat for several"
    )
    create.add_argument("--expires", help="expiry date (YYYY-MM-DD, end of that day UTC)")
    create.add_argument("--rate-limit", type=int, help="requests per minute (default 100)")
    listing = actions.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--all", action="store_true", help="include revoked and replaced keys")
    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")


def _expiry(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise DomainError("--expires must be a date such as 2027-01-31.", field="expires") from None
    return day.replace(hour=23, minute=59, second=59, tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    """Carry out one api-key command; 0 on success, 1 when it is refused (the reason
    printed, never a traceback)."""
    actor = Actor.system(CLI_AGENT)
    try:
        if args.action == "create":
            created = create_key(
                actor,
                owner_email=args.owner,
                name=args.name,
                scopes=args.scope,
                expires_at=_expiry(args.expires),
                rate_limit=args.rate_limit,
            )
            print(f"key id   {created.key_id}")
            print(f"scopes   {' '.join(created.scopes)}")
            print(f"limit    {created.rate_limit} requests per minute")
            print(f"expires  {created.expires_at:%Y-%m-%d %H:%M UTC}" if created.expires_at
                  else "expires  never")  # fmt: skip
            print("The key, shown this once (store it now; only its hash is kept):")
            print(created.secret)
        elif args.action == "list":
            for key in list_keys(actor, include_revoked=args.all):
                used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
                print(
                    f"{key.key_id}  {key.prefix:17s} {key.status:9s} {key.owner_email or '-':30s}"
                    f" {key.name[:30]:30s} used {used} {key.last_used_ip or ''}"
                )
        elif args.action == "revoke":
            try:
                key_id = uuid.UUID(args.key_id)
            except ValueError:
                raise DomainError("Give the key's id (a UUID).", field="key_id") from None
            info = revoke_key(actor, key_id)
            print(f"revoked {info.key_id} ({info.prefix}, {info.name})")
    except DomainError as exc:
        print(f"api-key {args.action} refused: {exc.message}")
        return 1
    return 0
