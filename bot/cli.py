"""The `tipline` command: run, webhook, console, migrate, and operator tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.exc import DBAPIError
from telegram.error import InvalidToken, NetworkError

from bot.channels.console import ConsoleChannel
from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel
from bot.logs import setup_logging
from bot.outbox import OutboxSender
from bot.runtime import Runtime
from bot.scheduler import start_scheduler
from bot.settings import Settings, SettingsError, load_settings, parse_listen
from handlers.codes import parse_code, show_code
from handlers.notices import change_status
from handlers.sealing import Sealer
from storage.db import Database
from storage.migrate import upgrade
from storage.models import TipStatus
from storage.tips import get_tip

log = logging.getLogger("tipline")


def open_database(settings: Settings) -> Database:
    """The configured database; a SQLite file's folder is created if it is missing."""
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return Database(settings.database_url)


def build_runtime(settings: Settings, secret: str) -> Runtime:
    """Wire the database, keys and operator data together."""
    return Runtime(
        db=open_database(settings),
        sealer=Sealer(secret),
        catalog=settings.catalog(),
        timezone=settings.zone,
        limits=settings.limits(),
    )


@contextlib.asynccontextmanager
async def background(runtime: Runtime, outbox: OutboxSender) -> AsyncIterator[None]:
    """Run the outbox sender and the scheduler around the body, and stop them after it."""
    sending = asyncio.create_task(outbox.run_forever())
    scheduler = start_scheduler(runtime)
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending


async def until_stopped() -> None:
    """Wait for Ctrl-C or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_polling(settings: Settings) -> None:
    """The bot on Telegram by long polling."""
    token, runtime = settings.require_token(), build_runtime(settings, settings.require_secret())
    telegram = TelegramChannel(runtime, token, settings.telegram_api_url, polling=True)
    try:
        await upgrade(runtime.db)
        await telegram.start()
        async with background(runtime, OutboxSender(runtime, {telegram.name: telegram})):
            await until_stopped()
    finally:
        await telegram.stop()
        await runtime.db.dispose()


async def run_webhook(settings: Settings, listen: str, url: str) -> None:
    """The bot behind a webhook: an aiohttp server that checks Telegram's secret header."""
    host, port = parse_listen(listen)
    if not url.startswith(("https://", "http://")):
        raise SettingsError(f"tipline: --url {url!r}: expected https://...")
    token, runtime = settings.require_token(), build_runtime(settings, settings.require_secret())
    telegram = TelegramChannel(runtime, token, settings.telegram_api_url, polling=False)
    secret = runtime.sealer.webhook_token()
    runner = web.AppRunner(telegram.webhook_app(urlsplit(url).path or "/", secret), access_log=None)
    try:
        await upgrade(runtime.db)
        await telegram.start()
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        await telegram.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        log.info("webhook listening on %s:%d", host, port)
        async with background(runtime, OutboxSender(runtime, {telegram.name: telegram})):
            await until_stopped()
    finally:
        await runner.cleanup()
        await telegram.stop()
        await runtime.db.dispose()


async def run_console(settings: Settings) -> None:
    """The whole product in this terminal, on the local database, with no token."""
    runtime = build_runtime(settings, settings.secret_for_console())
    console = ConsoleChannel(runtime)
    outbox = OutboxSender(runtime, {console.name: console})
    try:
        await upgrade(runtime.db)
        await outbox.run_once()  # what arrived for this terminal while it was closed
        async with background(runtime, outbox):
            await console.run()
    finally:
        await runtime.db.dispose()


async def run_migrate(settings: Settings) -> None:
    """Apply the database migrations."""
    db = open_database(settings)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    print("tipline: database is up to date")


async def run_set_status(settings: Settings, code: str, status: str, note: str | None) -> None:
    """Operator tool: change a tip's status (the tipster gets a neutral notice if contactable)."""
    stored = parse_code(code)
    if stored is None:
        raise SettingsError(f"tipline: {code!r} is not a tip code")
    runtime = build_runtime(settings, settings.secret_for_console())
    await upgrade(runtime.db)
    try:
        async with runtime.db.transaction() as db:
            tip = await get_tip(db, stored)
            if tip is None:
                raise SettingsError(f"tipline: no tip {show_code(stored)}")
            await change_status(
                db, runtime.context(), tip, status=TipStatus(status), public_note=note
            )
    finally:
        await runtime.db.dispose()
    print(f"tipline: tip {show_code(stored)} is now {status}")


def parser() -> argparse.ArgumentParser:
    """The command line, with --help on every subcommand."""
    root = argparse.ArgumentParser(prog="tipline", description="Anonymous tip line bot.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="the bot on Telegram by long polling")
    hook = commands.add_parser("webhook", help="the bot on Telegram behind a webhook")
    hook.add_argument("--listen", default="0.0.0.0:8080", help="HOST:PORT to listen on")
    hook.add_argument("--url", required=True, help="public https URL Telegram calls")
    commands.add_parser("console", help="try every flow in this terminal (no token needed)")
    commands.add_parser("migrate", help="apply database migrations")
    tip = commands.add_parser("tip", help="operator tools for tips")
    tip_commands = tip.add_subparsers(dest="tip_command", required=True, metavar="ACTION")
    status = tip_commands.add_parser("set-status", help="change a tip's status")
    status.add_argument("code", help="tip code, e.g. ABCD-EFGH")
    status.add_argument("status", choices=[s.value for s in TipStatus])
    status.add_argument("--note", help="public note the tipster sees in /status")
    return root


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `tipline` console script."""
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        setup_logging("WARNING" if args.command == "console" else settings.log_level)
        asyncio.run(_command(args, settings))
    except SettingsError as error:
        print(error, file=sys.stderr)
        sys.exit(2)
    except InvalidToken:
        print(
            "tipline: Telegram refused TIPLINE_TELEGRAM_TOKEN (check it with @BotFather)",
            file=sys.stderr,
        )
        sys.exit(2)
    except NetworkError as error:
        where = settings.telegram_api_url
        print(
            f"tipline: cannot reach the Telegram Bot API at {where}: {_reason(error)}",
            file=sys.stderr,
        )
        sys.exit(1)
    except (OSError, DBAPIError) as error:
        print(f"tipline: cannot start: {_reason(error)}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        pass


def _command(args: argparse.Namespace, settings: Settings) -> Coroutine[Any, Any, None]:
    if args.command == "run":
        return run_polling(settings)
    if args.command == "webhook":
        return run_webhook(settings, args.listen, args.url)
    if args.command == "console":
        return run_console(settings)
    if args.command == "migrate":
        return run_migrate(settings)
    return run_set_status(settings, args.code, args.status, args.note)


def _reason(error: BaseException) -> str:
    # One line for the operator: the database or network error without its stack.
    original = getattr(error, "orig", None) or error
    return f"{type(original).__name__}: {str(original).splitlines()[0] if str(original) else ''}"
