"""The `tipline` command: run, webhook, console, migrate, and operator tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import logging
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.exc import DBAPIError
from telegram.error import InvalidToken, NetworkError

from bot import areas as areas_cli
from bot import operator
from bot.answers import AnswerSender
from bot.channels.base import ChatChannel, FileSource, Sender
from bot.channels.console import CHANNEL as CONSOLE
from bot.channels.console import LOOK_EVERY_SECONDS, ConsoleChannel
from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import CHANNEL as ZALO
from bot.channels.zalo import ZaloChannel, ZaloError
from bot.channels.zalo_oa import CHANNEL as ZALO_OA
from bot.channels.zalo_oa import TokenFile, ZaloOAChannel, ZaloOAClient
from bot.desk.app import mount_desk
from bot.logs import setup_logging
from bot.outbox import OutboxSender
from bot.pacing import Pacer
from bot.processes import Presence, process_name
from bot.runtime import Runtime
from bot.scheduler import hash_passphrases_forever, start_scheduler
from bot.settings import Settings, SettingsError, load_settings, parse_listen
from handlers.common.sealing import Sealer
from storage.db import Database
from storage.migrate import upgrade
from storage.models import TipStatus

log = logging.getLogger("tipline")

ZALO_PATH = "/zalo"
ZALO_OA_PATH = "/zalo-oa"
# Who a console terminal is (--as): it ends up in the chat's name, stored with 64 characters.
PERSON = re.compile(r"[\w.-]{1,32}")


def open_database(settings: Settings) -> Database:
    """The configured database; a SQLite file's folder is created if it is missing."""
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return Database(settings.database_url)


async def check_database(settings: Settings) -> None:
    """Stop with one line naming TIPLINE_DATABASE_URL when the database cannot be opened."""
    db: Database | None = None
    try:
        db = open_database(settings)
        await db.run_on_connection(lambda _connection: None)
    # Whatever stops the first connection is the URL's to fix: its form, host, port, role,
    # database or options, each failing with an exception of its own kind (asyncpg's are
    # not wrapped by SQLAlchemy at connect; a port over 65535 is an OverflowError).
    except Exception as error:
        raise SettingsError(_database_failure(error)) from None
    finally:
        if db is not None:
            await db.dispose()


def build_runtime(settings: Settings) -> Runtime:
    """Wire the database, keys and operator data together."""
    return Runtime(
        db=open_database(settings),
        sealer=Sealer(settings.secret()),
        catalog=settings.catalog(),
        timezone=settings.zone,
        limits=settings.limits(),
    )


def presence_of(settings: Settings, runtime: Runtime, serving: str) -> Presence:
    """This process among those sharing the database, named by the address it serves."""
    return Presence(runtime, settings.process_name or process_name(serving))


def pacers_for(settings: Settings, channels: Iterable[str]) -> dict[str, Pacer]:
    """One send budget per platform (by channel name), shared by everything that sends there."""
    return {name: Pacer(settings.send_rate, chat_burst=settings.chat_burst) for name in channels}


@contextlib.asynccontextmanager
async def background(
    runtime: Runtime,
    outbox: OutboxSender,
    presence: Presence | None = None,
    answers: AnswerSender | None = None,
) -> AsyncIterator[None]:
    """Run the outbox sender, the passphrase hashing, the scheduler and (sharing the database
    with other processes) the beats and the collecting of answers around the body."""
    tasks = [
        asyncio.create_task(outbox.run_forever()),
        asyncio.create_task(hash_passphrases_forever(runtime)),
    ]
    if presence is not None:
        tasks.append(asyncio.create_task(presence.beat_forever()))
    if answers is not None:
        tasks.append(asyncio.create_task(answers.collect_forever()))
    scheduler = start_scheduler(runtime)
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def until_stopped() -> None:
    """Wait for Ctrl-C or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def answer_sender(settings: Settings, runtime: Runtime, presence: Presence) -> AnswerSender:
    """What delivers residents' answers; its pacers are the outbox's too: one budget per
    platform for everything sent there."""
    pacers = pacers_for(settings, (TELEGRAM, ZALO, ZALO_OA, CONSOLE))
    return AnswerSender(runtime.db, runtime.commits, runtime.sealer, pacers, presence)


def chat_channels(
    settings: Settings, runtime: Runtime, answers: AnswerSender, *, polling: bool
) -> list[ChatChannel]:
    """Every configured chat platform: Telegram, Zalo, both (and, by webhook, a Zalo OA)."""
    channels: list[ChatChannel] = []
    if settings.telegram_token is not None:
        token = settings.require_token()
        api = settings.telegram_api_url
        channels.append(TelegramChannel(runtime, token, api, answers=answers, polling=polling))
    zalo = settings.zalo()
    if zalo is not None:
        api = settings.zalo_api_url
        channels.append(ZaloChannel(runtime, zalo, api, answers=answers, polling=polling))
    oa = None if polling else official_account(settings, runtime, answers)
    if oa is not None:
        channels.append(oa)
    if not channels:
        raise SettingsError(
            "tipline: TIPLINE_TELEGRAM_TOKEN is not set, nor TIPLINE_ZALO_TOKEN: set one or both"
        )
    return channels


@contextlib.asynccontextmanager
async def serving(
    runtime: Runtime, presence: Presence, answers: AnswerSender, channels: list[ChatChannel]
) -> AsyncIterator[None]:
    """Migrate, start every channel, and run the outbox and scheduler until the body ends."""
    started: list[ChatChannel] = []
    entered = False
    try:
        await runtime.prepare()
        await presence.join()
        entered = True
        runtime.peers = presence
        presence.watch(functools.partial(share_budget, answers.pacers, presence))
        await share_budget(answers.pacers, presence)
        for channel in channels:
            presence.watch(functools.partial(answers.adopt_orphans, channel.name))
            started.append(channel)  # stopped even if its start fails: its sessions close
            await channel.start()
        senders: dict[str, Sender] = {channel.name: channel for channel in channels}
        outbox = OutboxSender(runtime, senders, pacers=answers.pacers, peers=presence)
        async with background(runtime, outbox, presence, answers):
            # Everything built so far (modules, the engine, the bot) lives as long as the
            # process: frozen, Python's cycle collector stops walking it on every full pass.
            # Unfrozen, those passes cost a fifth of the time under a burst (bench/README.md).
            gc.freeze()
            yield
    finally:
        for channel in reversed(started):
            await channel.stop()
        await answers.close()
        await runtime.handled_inbox.flush()
        if entered:
            await presence.leave()
        await runtime.db.dispose()


async def share_budget(pacers: Mapping[str, Pacer], presence: Presence) -> None:
    """Each platform's send budget split evenly among the processes alive."""
    for pacer in pacers.values():
        pacer.share(len(presence.alive))


def official_account(
    settings: Settings, runtime: Runtime, answers: AnswerSender
) -> ZaloOAChannel | None:
    """The Zalo Official Account channel, when one is configured (webhooks only)."""
    configured = settings.zalo_oa()
    if configured is None:
        return None
    app_id, secret_key = configured
    client = ZaloOAClient(
        app_id,
        secret_key,
        TokenFile(settings.zalo_oa_token_file),
        api_root=settings.zalo_oa_api_url,
        oauth_root=settings.zalo_oa_oauth_url,
    )
    return ZaloOAChannel(runtime, client, answers=answers)


def file_sources(channels: Iterable[ChatChannel]) -> dict[str, FileSource]:
    """The running platforms the desk can fetch attachments from: Telegram's Bot API hands a
    bot its files; Zalo's has no download, and the console's files are only names."""
    return {c.name: c.files for c in channels if isinstance(c, TelegramChannel)}


@contextlib.asynccontextmanager
async def desk_server(
    settings: Settings, runtime: Runtime, files: Mapping[str, FileSource]
) -> AsyncIterator[None]:
    """The web desk on its own server at TIPLINE_DESK_LISTEN, when set, around the body."""
    if settings.desk_listen is None:
        yield
        return
    host, port = parse_listen(settings.desk_listen)
    app = web.Application()
    public = settings.desk_address()
    assert public is not None  # desk_listen is set
    mount_desk(
        app,
        runtime,
        public_url=public,
        files=files,
        tiles_url=settings.desk_tiles_url or "",
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("the desk listens on %s:%d, opened at %s/desk/", host, port, public)
        yield
    finally:
        await runner.cleanup()


async def run_polling(settings: Settings) -> None:
    """The bot on every configured platform, by long polling."""
    runtime = build_runtime(settings)
    presence = presence_of(settings, runtime, "run")
    answers = answer_sender(settings, runtime, presence)
    channels = chat_channels(settings, runtime, answers, polling=True)
    desk = desk_server(settings, runtime, file_sources(channels))
    async with serving(runtime, presence, answers, channels), desk:
        await until_stopped()


def mount_webhooks(
    settings: Settings,
    runtime: Runtime,
    channels: list[ChatChannel],
    app: web.Application,
    url: str,
) -> list[Callable[[], Awaitable[None]]]:
    """Give each channel its path and secret on the server; returns the calls that tell the
    platforms where to call (made once the server listens)."""
    parts = urlsplit(url)
    announce: list[Callable[[], Awaitable[None]]] = []
    for channel in channels:
        if isinstance(channel, TelegramChannel):
            secret = runtime.sealer.webhook_token()
            channel.add_webhook(app, parts.path or "/", secret)
            connections = settings.webhook_max_connections
            announce.append(functools.partial(channel.set_webhook, url, secret, connections))
        elif isinstance(channel, ZaloChannel):
            secret = settings.zalo_secret(runtime.sealer.webhook_token("zalo"))
            channel.add_webhook(app, ZALO_PATH, secret)
            where = f"{parts.scheme}://{parts.netloc}{ZALO_PATH}"
            announce.append(functools.partial(channel.set_webhook, where, secret))
        elif isinstance(channel, ZaloOAChannel):
            channel.add_webhook(app, ZALO_OA_PATH)  # its URL is set in the OA's console
    return announce


async def run_webhook(settings: Settings, listen: str, url: str) -> None:
    """The bot behind webhooks: one aiohttp server, each platform at its own path and secret.

    Telegram is called at the path of --url, Zalo at /zalo beside it, a Zalo Official
    Account (when configured) at /zalo-oa.
    """
    host, port = parse_listen(listen)
    if not url.startswith(("https://", "http://")):
        raise SettingsError(f"tipline: --url {url!r}: expected https://...")
    runtime = build_runtime(settings)
    presence = presence_of(settings, runtime, listen)
    answers = answer_sender(settings, runtime, presence)
    channels = chat_channels(settings, runtime, answers, polling=False)
    app = web.Application(client_max_size=1024 * 1024)
    announce = mount_webhooks(settings, runtime, channels, app, url)
    parts = urlsplit(url)
    public = settings.desk_url or f"{parts.scheme}://{parts.netloc}"
    mount_desk(
        app,
        runtime,
        public_url=public,
        files=file_sources(channels),
        tiles_url=settings.desk_tiles_url or "",
    )
    runner = web.AppRunner(app, access_log=None)
    async with serving(runtime, presence, answers, channels):
        try:
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            for hook in announce:
                await hook()
            log.info("webhooks listening on %s:%d", host, port)
            await until_stopped()
        finally:
            await runner.cleanup()


async def run_console(settings: Settings, person: str | None = None) -> None:
    """The whole product in this terminal, on the local database, with no token, as `person`
    (none: the console's one person); its first start makes the secret key file, as
    `tipline init` does."""
    settings.make_key_file()
    runtime = build_runtime(settings)
    console = ConsoleChannel(runtime, person=person)
    pacers = pacers_for(settings, [console.name])
    outbox = OutboxSender(
        runtime,
        {console.name: console},
        pacers=pacers,
        idle_seconds=LOOK_EVERY_SECONDS,
        only=console.recipients(),
    )
    try:
        await runtime.prepare()
        await outbox.run_once()  # what arrived for this terminal while it was closed
        # The console's attachments are names typed in: the desk has no files to fetch.
        async with background(runtime, outbox), desk_server(settings, runtime, {}):
            await console.run()
    finally:
        await runtime.db.dispose()


async def run_init(settings: Settings) -> None:
    """Make the secret key once, migrate the database and record which key it was made with."""
    made = settings.make_key_file()
    if made is None:
        where = "TIPLINE_SECRET_KEY" if settings.secret_key else str(settings.key_file())
        raise SettingsError(f"tipline: a secret key exists already ({where}): nothing changed")
    runtime = build_runtime(settings)
    try:
        await runtime.prepare()
    finally:
        await runtime.db.dispose()
    print(
        f"tipline: made the secret key in {made} (only you may read it). Keep a copy with every"
        " backup of the database: without it no sealed contact, invitation or join code opens."
    )


async def run_migrate(settings: Settings) -> None:
    """Apply the database migrations."""
    db = open_database(settings)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    print("tipline: database is up to date")


async def run_operator(settings: Settings, args: argparse.Namespace) -> None:
    """The operator's commands: tip statuses, officers, the audit log."""
    runtime = build_runtime(settings)
    if args.command == "tip":
        print(await operator.set_status(runtime, args.code, args.status, args.note))
    elif args.command == "audit":
        print(await operator.audit(runtime, args.officer, args.tip))
    elif args.command == "patrol" and args.patrol_command == "create":
        made = operator.create_patrol(runtime, settings, args.name, args.commune, args.officer)
        print(await made)
    elif args.command == "patrol":
        print(await operator.schedule_patrol(runtime, args.name, args.plan))
    elif args.command == "desk-link":
        print(await operator.desk_link(runtime, settings, args.officer))
    elif args.officer_command == "invite":
        print(await operator.invite(runtime, settings, args.name, args.scope, args.admin))
    elif args.officer_command == "list":
        print(await operator.officers(runtime))
    else:
        print(await operator.revoke(runtime, args.id))


def _subcommand(where: Any, name: str, does: str, example: str) -> argparse.ArgumentParser:
    """A subcommand whose --help says what it does and shows it used."""
    made = where.add_parser(
        name,
        help=does,
        description=does,
        epilog=f"example:\n  .venv/bin/tipline {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return cast(argparse.ArgumentParser, made)


def console_person(name: str) -> str:
    """A --as NAME: a short word (letters, digits, . _ -), as it makes part of the chat's name."""
    if not PERSON.fullmatch(name):
        raise argparse.ArgumentTypeError(
            f"{name!r}: 1-32 letters, digits, '.', '_' or '-', e.g. --as lan or --as can-bo-an"
        )
    return name


def parser() -> argparse.ArgumentParser:
    """The command line, with --help on every subcommand saying what it does, with an example."""
    root = argparse.ArgumentParser(prog="tipline", description="Anonymous tip line bot.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _subcommand(
        commands,
        "run",
        "the bot on every platform whose token is set (Telegram, Zalo), by long polling",
        "run",
    )
    hook = _subcommand(
        commands,
        "webhook",
        "the bot on every platform whose token is set, behind webhooks on one web server",
        "webhook --listen 0.0.0.0:8080 --url https://tips.example.org/telegram",
    )
    hook.add_argument("--listen", default="0.0.0.0:8080", help="HOST:PORT to listen on")
    hook.add_argument("--url", required=True, help="public https URL Telegram calls")
    console = _subcommand(
        commands,
        "console",
        "try every flow in this terminal (no token needed); with --as, one person per terminal",
        "console --as lan",
    )
    console.add_argument(
        "--as",
        dest="person",
        type=console_person,
        metavar="NAME",
        help="be NAME in this terminal (chat local:NAME), with only NAME's messages and alerts;"
        " run another terminal --as another name to be a second person on the same database,"
        " e.g. a resident in one and an officer or a patrol member in the other"
        " (default: the console's one person, chat local)",
    )
    _subcommand(
        commands,
        "init",
        "make the secret key once (tipline.secret beside the database, mode 0600), then migrate;"
        " refuses if a key exists",
        "init",
    )
    _subcommand(commands, "migrate", "apply database migrations", "migrate")
    desk = _subcommand(
        commands,
        "desk-link",
        "a one-time link (10 minutes) that signs an officer in to the web desk",
        "desk-link --officer 3",
    )
    desk.add_argument(
        "--officer", type=int, required=True, help="officer id, from `tipline officer list`"
    )
    tip = _subcommand(
        commands, "tip", "operator tools for tips", "tip set-status ABCD-EFGH handled"
    )
    tip_commands = tip.add_subparsers(dest="tip_command", required=True, metavar="ACTION")
    status = _subcommand(
        tip_commands,
        "set-status",
        "change a tip's status",
        'tip set-status ABCD-EFGH verifying --note "Đã cử người xác minh"',
    )
    status.add_argument("code", help="tip code, e.g. ABCD-EFGH")
    status.add_argument("status", choices=[s.value for s in TipStatus])
    status.add_argument("--note", help="public note the tipster sees in /status")
    officer = _subcommand(commands, "officer", "invite, list and revoke officers", "officer list")
    officer_commands = officer.add_subparsers(
        dest="officer_command", required=True, metavar="ACTION"
    )
    invite = _subcommand(
        officer_commands,
        "invite",
        "a one-time invite code for an officer",
        'officer invite --name "Nguyễn Văn A" --scope an-thuy',
    )
    invite.add_argument("--name", required=True, help='full name, e.g. "Nguyễn Văn A"')
    invite.add_argument(
        "--scope",
        required=True,
        help="the code of the unit they cover, the top unit for all (tipline areas list)",
    )
    invite.add_argument("--admin", action="store_true", help="may invite other officers")
    _subcommand(
        officer_commands,
        "list",
        "every officer, invited, enrolled or revoked",
        "officer list",
    )
    revoke = _subcommand(
        officer_commands, "revoke", "take an officer's access away", "officer revoke 3"
    )
    revoke.add_argument("id", type=int, help="officer id, from `tipline officer list`")
    patrol = _subcommand(commands, "patrol", "people's patrol groups", "patrol create --help")
    patrol_commands = patrol.add_subparsers(dest="patrol_command", required=True, metavar="ACTION")
    create = _subcommand(
        patrol_commands,
        "create",
        "a patrol group and its join code",
        'patrol create --name "Tổ thôn 3" --commune an-thuy',
    )
    create.add_argument("--name", required=True, help='group name, e.g. "Tổ tuần tra thôn 3"')
    create.add_argument("--commune", required=True, help="area code, e.g. an-thuy")
    create.add_argument("--officer", type=int, help="the officer who looks after it (id)")
    plan = _subcommand(
        patrol_commands,
        "schedule",
        "set a group's weekly plan",
        'patrol schedule "Tổ thôn 3" "T2-T6 21:00-23:30, T7 20:00-02:00"',
    )
    plan.add_argument("name", help="group name")
    plan.add_argument(
        "plan", help='e.g. "Mon-Sun 21:00-23:30" or "T2-T6 21:00-23:30, T7 20:00-02:00"'
    )
    _areas_parser(commands)
    log_parser = _subcommand(
        commands, "audit", "who viewed or changed what, and when", "audit --tip ABCD-EFGH"
    )
    log_parser.add_argument("--officer", type=int, help="only this officer id")
    log_parser.add_argument("--tip", help="only this tip code")
    return root


def _areas_parser(commands: Any) -> None:
    areas = _subcommand(
        commands, "areas", "the map: its units and codes, checks, merges, renames", "areas list"
    )
    actions = areas.add_subparsers(dest="areas_command", required=True, metavar="ACTION")
    listed = _subcommand(actions, "list", "every unit with its code, the map in use", "areas list")
    listed.add_argument("file", nargs="?", type=Path, help="another areas file to list")
    check = _subcommand(
        actions, "check", "check an areas file: one line per problem", "areas check my-map.json"
    )
    check.add_argument("file", type=Path)
    merge = _subcommand(
        actions,
        "merge",
        "record areas merged into one (old tips show under it; old names still work)",
        'areas merge sen-thuy hong-thuy --into sen-hong --vi "Xã Sen Hồng"',
    )
    merge.add_argument("old", nargs="+", help="codes of the areas that merged")
    merge.add_argument("--into", required=True, help="the code of the area they became")
    unmerge = _subcommand(
        actions, "unmerge", "undo a merge: the area comes back as it was", "areas unmerge sen-thuy"
    )
    unmerge.add_argument("code")
    rename = _subcommand(
        actions,
        "rename",
        "new names for a unit (the code stays; old names still work)",
        'areas rename sen-thuy --vi "Xã Sen Thủy Mới" --police-vi "Công an xã Sen Thủy Mới"',
    )
    rename.add_argument("code")
    for command in (merge, rename):
        command.add_argument("--vi", help="its name in Vietnamese (for a new or renamed unit)")
        command.add_argument("--en", help="its name in English")
        command.add_argument("--police-vi", help="its police as residents read it")
        command.add_argument("--police-en", help="its police in English")


def run_areas(settings: Settings, args: argparse.Namespace) -> str:
    """List, check or change the map without touching the database."""
    if args.areas_command == "list":
        where = args.file or settings.areas_path()
        shown = load_settings(areas_file=args.file) if args.file else settings
        return f"# {where}\n{areas_cli.listing(shown.catalog())}"
    if args.areas_command == "check":
        found = areas_cli.problems(load_settings(areas_file=args.file).areas_document())
        if found:
            raise SettingsError("\n".join(f"{args.file}: {line}" for line in found))
        return f"{args.file}: ok"
    path = areas_cli.edited_file(settings.areas_file)
    document = settings.areas_document()
    names = {k: v for k in NAME_OPTIONS if (v := getattr(args, k, None))}
    if args.areas_command == "merge":
        document = areas_cli.merge(document, args.old, args.into, names)
    elif args.areas_command == "unmerge":
        document = areas_cli.unmerge(document, args.code)
    else:
        document = areas_cli.rename(document, args.code, names)
    return areas_cli.save(path, document)


NAME_OPTIONS = ("vi", "en", "police_vi", "police_en")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `tipline` console script."""
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        setup_logging("WARNING" if args.command == "console" else settings.log_level)
        if args.command == "areas":
            print(run_areas(settings, args))
        else:
            asyncio.run(_command(args, settings))
    except SettingsError as error:
        print(error, file=sys.stderr)
        sys.exit(2)
    except (InvalidToken, NetworkError, ZaloError, DBAPIError, OSError) as error:
        print(_failure(error, settings), file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        pass


async def _command(args: argparse.Namespace, settings: Settings) -> None:
    await check_database(settings)
    if args.command == "run":
        await run_polling(settings)
    elif args.command == "webhook":
        await run_webhook(settings, args.listen, args.url)
    elif args.command == "console":
        await run_console(settings, args.person)
    elif args.command == "migrate":
        await run_migrate(settings)
    elif args.command == "init":
        await run_init(settings)
    else:
        await run_operator(settings, args)


def _failure(error: Exception, settings: Settings) -> str:
    """The one line that tells the operator what stopped the start and which setting to fix."""
    if isinstance(error, InvalidToken):
        return "tipline: Telegram refused TIPLINE_TELEGRAM_TOKEN (check it with @BotFather)"
    if isinstance(error, NetworkError):
        return (
            f"tipline: TIPLINE_TELEGRAM_API_URL: cannot reach the Telegram Bot API at"
            f" {settings.telegram_api_url}: {_reason(error)}"
        )
    if isinstance(error, ZaloError) and error.code == 0:  # no answer at all
        return (
            f"tipline: TIPLINE_ZALO_API_URL: cannot reach the Zalo Bot API at"
            f" {settings.zalo_api_url}: {error}"
        )
    if isinstance(error, ZaloError):
        return (
            f"tipline: the Zalo Bot API at {settings.zalo_api_url} refused to start: {error}"
            " (check TIPLINE_ZALO_TOKEN)"
        )
    if isinstance(error, DBAPIError):
        return _database_failure(error)
    return f"tipline: cannot start: {_reason(error)}"


def _database_failure(error: Exception) -> str:
    return f"tipline: TIPLINE_DATABASE_URL: cannot use the database: {_reason(error)}"


def _reason(error: BaseException) -> str:
    # One line for the operator: the database or network error without its stack.
    original = getattr(error, "orig", None) or error
    return f"{type(original).__name__}: {str(original).splitlines()[0] if str(original) else ''}"
