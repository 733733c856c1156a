"""The `live` command: serve the app, and the organiser's account chores."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from live import logs
from live.config import Settings, SettingsError, load_settings
from live.errors import BadRequest, LiveError
from live.store import make_store
from live.store.models import Role
from live.tokens import digest, new_secret
from live.web import limits

CLI_ACTOR = "command line"  # the audit log's actor for changes made with `live`


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers > 1 and settings.is_sqlite:
        print(
            "live: SQLite serves one worker; set LIVE_STORE_URL=redis://… for --workers > 1",
            file=sys.stderr,
        )
        return 2
    uvicorn.run(
        "live.server:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level,
        log_config=logs.config_dict(settings),
        proxy_headers=True,
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=5,
    )
    return 0


async def _create_user(settings: Settings, email: str, role: Role, password: str) -> None:
    from live.web.auth import check_password_rules, hash_password

    check_password_rules(password)
    store = make_store(settings.store_url, redis_durability=settings.redis_durability)
    await store.open()
    try:
        await store.create_user(email, role, await hash_password(password), actor="cli")
    finally:
        await store.close()


async def _set_password(settings: Settings, email: str, password: str) -> None:
    from live.web.auth import check_password_rules, hash_password

    check_password_rules(password)
    store = make_store(settings.store_url, redis_durability=settings.redis_durability)
    await store.open()
    try:
        user = await store.get_user(email)
        await store.set_password(user.id, await hash_password(password), actor=CLI_ACTOR)
        await limits.forget(store, limits.LOGIN_PER_ACCOUNT, limits.account_subject(email))
    finally:
        await store.close()


async def _api_tokens(settings: Settings, args: argparse.Namespace) -> str:
    """A new token (printed alone, for scripts), or the account's tokens, or a revocation."""
    from live.web.tokens import check_token_request, describe_token

    store = make_store(settings.store_url, redis_durability=settings.redis_durability)
    await store.open()
    try:
        user = await store.get_user(args.email)
        if args.list:
            return "\n".join(describe_token(t) for t in await store.list_api_tokens(user.id))
        if args.revoke is not None:
            if args.revoke not in {t.id for t in await store.list_api_tokens(user.id)}:
                raise ValueError(f"{args.email} has no API token {args.revoke}")
            revoked = await store.revoke_api_token(args.revoke, actor=CLI_ACTOR)
            return f"revoked: {describe_token(revoked)}"
        try:
            name, expires_at = check_token_request(args.name, args.expires_days)
        except BadRequest as error:
            raise ValueError(f"--{str(error.field).replace('_', '-')}: {error}") from None
        token = new_secret()
        await store.create_api_token(user.id, digest(token), name, expires_at, actor=CLI_ACTOR)
        return token
    finally:
        await store.close()


def _password() -> str:
    from_env = os.environ.get("LIVE_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise ValueError("set LIVE_PASSWORD, or run this in a terminal to be asked")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise ValueError("the two passwords differ")
    return first


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="live", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    user = commands.add_parser("create-user", help="create an organiser or host account")
    user.add_argument("email")
    user.add_argument("--role", choices=[r.value for r in Role], default=Role.ORGANISER.value)
    reset = commands.add_parser("set-password", help="set a new password for an account")
    reset.add_argument("email")
    token = commands.add_parser(
        "api-token", help="print a new API token for an account; or list or revoke its tokens"
    )
    token.add_argument("email")
    token.add_argument("--name", default="", help="what the token is for (shown in lists)")
    token.add_argument("--expires-days", default="", metavar="D", help="days until it ends")
    which = token.add_mutually_exclusive_group()
    which.add_argument("--list", action="store_true", help="list the account's tokens")
    which.add_argument("--revoke", type=int, metavar="ID", help="revoke the token with this id")
    copy = commands.add_parser(
        "backup", help="copy the whole store into FILE, consistently, while the server runs"
    )
    copy.add_argument("file", type=Path)
    back = commands.add_parser(
        "restore", help="put a backup into an empty store (stop the server first)"
    )
    back.add_argument("file", type=Path)
    back.add_argument("--force", action="store_true", help="replace everything in the store")
    check = commands.add_parser(
        "verify", help="recount a downloaded bulletin and check its digest (exit 0: it matches)"
    )
    check.add_argument("file", type=Path)
    check.add_argument("--receipt", metavar="CODE", help="also say whether this receipt is in it")
    commands.add_parser(
        "erase-expired",
        help="erase the contact details of non-finalists whose retention period has passed",
    )
    return parser


def _verify_bulletin(path: Path, receipt: str | None) -> int:
    """Print the recount of a bulletin file and what does not match: 0 when all matches,
    1 when something does not (or the receipt is absent), 2 when it cannot be read."""
    import json

    from live.finale import bulletin

    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        print(f"live: cannot read {path} as a JSON bulletin: {error}", file=sys.stderr)
        return 2
    checked = bulletin.verify(document)
    if not checked.readable:
        print(f"live: {path}: {checked.problems[0]}", file=sys.stderr)
        return 2
    names = {f.get("id"): str(f.get("name", "?")) for f in document["finalists"]}
    poll = document["poll"]
    print(f"Poll {poll.get('id')} ({poll.get('code')}): {poll.get('title')}")
    counted, excluded = len(document["ballots"]), len(document["excluded"])
    print(f"Method: {poll['method']}, winners: {poll['winners']}, ", end="")
    print(f"counted ballots: {counted}, excluded: {excluded}")
    print("Tally, recounted from the ballots in the file (place, points, finalist):")
    for line in checked.tally:
        print(f"  {line.place:>3}  {line.score:>6}  {names.get(line.finalist_id, '?')}")
    print("Winners: " + (", ".join(names.get(w, "?") for w in checked.winners) or "none decided"))
    print(f"Digest: {document.get('digest')}")
    found = 0
    if receipt is not None:
        typed = receipt.strip().upper()
        mine = [b for b in document["ballots"] if b.get("receipt") == typed]
        apart = [b for b in document["excluded"] if b.get("receipt") == typed]
        if mine:
            chosen = ", ".join(names.get(c, "?") for c in mine[0]["choices"])
            print(f"Receipt {typed} is among the counted ballots: {chosen}.")
        elif apart:
            decision = apart[0].get("exclusion")
            print(f"Receipt {typed} is among the excluded ballots (decision {decision}).")
        else:
            print(f"Receipt {typed} is NOT in this bulletin.")
        found = len(mine) + len(apart)
    if not checked.ok:
        print("NOT VERIFIED: the bulletin does not match itself:")
        for problem in checked.problems:
            print(f"  - {problem}")
        return 1
    print("Verified: the digest matches, and the recount gives the bulletin's tally and winners.")
    return 0 if receipt is None or found else 1


async def _erase_expired(settings: Settings) -> list[int]:
    """Erase now what the server's hourly retention task would erase (for cron or a test)."""
    from live.contest.privacy import erase_expired
    from live.contest.records import Contest
    from live.tokens import ContestLinks

    store = make_store(settings.store_url, redis_durability=settings.redis_durability)
    await store.open()
    try:
        return await erase_expired(Contest(store, ContestLinks(settings.secret_key.reveal())))
    finally:
        await store.close()


async def _backup_or_restore(settings: Settings, args: argparse.Namespace) -> int:
    from live.store import backup

    store = make_store(settings.store_url, redis_durability=settings.redis_durability)
    try:
        if args.command == "backup":
            summary = await backup.backup(store, args.file)
            print(f"backed up {summary.describe()} to {args.file}")
        else:
            summary = await backup.restore(store, args.file, force=args.force)
            print(f"restored {summary.describe()} from {args.file}")
    except backup.BackupError as error:
        print(f"live: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "verify":  # needs no settings: anyone may check a bulletin
        return _verify_bulletin(args.file, args.receipt)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"live: {error}", file=sys.stderr)
        return 2
    logs.configure(settings)
    try:
        if args.command == "serve":
            return _serve(settings, args)
        if args.command == "create-user":
            asyncio.run(_create_user(settings, args.email, Role(args.role), _password()))
            print(f"created {args.role} {args.email}")
            return 0
        if args.command == "set-password":
            asyncio.run(_set_password(settings, args.email, _password()))
            print(f"new password set for {args.email}; its sessions and API tokens are ended")
            return 0
        if args.command in ("backup", "restore"):
            return asyncio.run(_backup_or_restore(settings, args))
        if args.command == "api-token":
            print(asyncio.run(_api_tokens(settings, args)))
            return 0
        if args.command == "erase-expired":
            erased = asyncio.run(_erase_expired(settings))
            numbers = ", ".join(map(str, erased)) or "none"
            print(f"erased the contact details of {len(erased)} ideas (numbers: {numbers})")
            return 0
    except (ValueError, LiveError) as error:
        print(f"live: {error}", file=sys.stderr)
        return 1
    return 2
