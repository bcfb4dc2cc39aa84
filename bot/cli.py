"""The `tipline` command: run, webhook, console, migrate, and operator tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from urllib.parse import urlsplit

from aiohttp import web

from bot.channels.base import Sender
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


def build_runtime(settings: Settings, secret: str) -> Runtime:
    """Wire the database, keys and operator data together."""
    return Runtime(
        db=Database(settings.database_url),
        sealer=Sealer(secret),
        catalog=settings.catalog(),
        timezone=settings.zone,
        limits=settings.limits(),
    )


@contextlib.asynccontextmanager
async def serving(runtime: Runtime, senders: dict[str, Sender]) -> AsyncIterator[None]:
    """Migrate, then run the outbox sender and the scheduler around the body."""
    await upgrade(runtime.db)
    outbox = asyncio.create_task(OutboxSender(runtime, senders).run_forever())
    scheduler = start_scheduler(runtime)
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        outbox.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await outbox
        await runtime.db.dispose()


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
    async with serving(runtime, {telegram.name: telegram}):
        await telegram.start()
        try:
            await until_stopped()
        finally:
            await telegram.stop()


async def run_webhook(settings: Settings, listen: str, url: str) -> None:
    """The bot behind a webhook: an aiohttp server that checks Telegram's secret header."""
    host, port = parse_listen(listen)
    if not url.startswith("https://") and not url.startswith("http://"):
        raise SettingsError(f"tipline: --url {url!r}: expected https://...")
    token, runtime = settings.require_token(), build_runtime(settings, settings.require_secret())
    telegram = TelegramChannel(runtime, token, settings.telegram_api_url, polling=False)
    secret = runtime.sealer.webhook_token()
    app = telegram.webhook_app(urlsplit(url).path or "/", secret)
    async with serving(runtime, {telegram.name: telegram}):
        await telegram.start()
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        await telegram.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        log.info("webhook listening on %s:%d", host, port)
        try:
            await until_stopped()
        finally:
            await runner.cleanup()
            await telegram.stop()


async def run_console(settings: Settings) -> None:
    """The whole product in this terminal, on the local database, with no token."""
    runtime = build_runtime(settings, settings.secret_for_console())
    console = ConsoleChannel(runtime)
    async with serving(runtime, {console.name: console}):
        await console.run()


async def run_migrate(settings: Settings) -> None:
    """Apply the database migrations."""
    db = Database(settings.database_url)
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
        if args.command == "run":
            asyncio.run(run_polling(settings))
        elif args.command == "webhook":
            asyncio.run(run_webhook(settings, args.listen, args.url))
        elif args.command == "console":
            asyncio.run(run_console(settings))
        elif args.command == "migrate":
            asyncio.run(run_migrate(settings))
        else:
            asyncio.run(run_set_status(settings, args.code, args.status, args.note))
    except SettingsError as error:
        print(error, file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        pass
