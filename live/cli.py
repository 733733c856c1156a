"""The `live` command: serve the app, and the organiser's account chores."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Sequence

from live.config import Settings, SettingsError, load_settings
from live.errors import LiveError
from live.store import make_store
from live.store.models import Role
from live.tokens import digest, new_secret


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
        proxy_headers=True,
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=5,
    )
    return 0


async def _create_user(settings: Settings, email: str, role: Role, password: str) -> None:
    from live.web.auth import check_password_rules, hash_password

    check_password_rules(password)
    store = make_store(settings.store_url)
    await store.open()
    try:
        await store.create_user(email, role, await hash_password(password))
    finally:
        await store.close()


async def _set_password(settings: Settings, email: str, password: str) -> None:
    from live.web.auth import check_password_rules, hash_password

    check_password_rules(password)
    store = make_store(settings.store_url)
    await store.open()
    try:
        user = await store.get_user(email)
        await store.set_password(user.id, await hash_password(password))
    finally:
        await store.close()


async def _api_token(settings: Settings, email: str) -> str:
    store = make_store(settings.store_url)
    await store.open()
    try:
        user = await store.get_user(email)
        token = new_secret()
        await store.create_api_token(user.id, digest(token))
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
    token = commands.add_parser("api-token", help="print a new API token for an account")
    token.add_argument("email")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"live: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.command == "serve":
            return _serve(settings, args)
        if args.command == "create-user":
            asyncio.run(_create_user(settings, args.email, Role(args.role), _password()))
            print(f"created {args.role} {args.email}")
            return 0
        if args.command == "set-password":
            asyncio.run(_set_password(settings, args.email, _password()))
            print(f"new password set for {args.email}")
            return 0
        if args.command == "api-token":
            print(asyncio.run(_api_token(settings, args.email)))
            return 0
    except (ValueError, LiveError) as error:
        print(f"live: {error}", file=sys.stderr)
        return 1
    return 2
