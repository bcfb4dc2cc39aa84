"""The `tipline` command as an operator runs it: real processes, a fake Bot API, real files."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url

from bot.cli import answer_sender, serving
from bot.processes import Presence
from bot.runtime import Runtime
from bot.settings import load_settings
from tests.conftest import PG_URL
from tests.e2e.conftest import free_port, spawn_bot
from tests.fake_telegram import FakeTelegramAPI
from tests.fake_zalo import TOKEN as ZALO_TOKEN
from tests.fake_zalo import FakeZaloBotAPI
from tests.messages import filled, says

SECRET = "cli-test-secret-" + "k" * 40

CONSOLE_SCRIPT = """\
/start
1
ma tuy
2
bo qua
Có người lạ đến hỏi mua ma túy
!photo bang-chung
2
2
1
"""


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh shell with the deployment's secret key, as every command of a
    deployment shares it: no TIPLINE_* from the developer's, a private database."""
    return {**bare_env(tmp_path), "TIPLINE_SECRET_KEY": SECRET, **extra}


def bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A fresh shell with no secret key set: the key file beside the database is the key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env["TIPLINE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'tipline.db'}"
    return {**env, **extra}


async def tipline(
    tmp_path: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run `tipline ARGS` to completion; returns (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=env or clean_env(tmp_path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 120)
    return int(process.returncode or 0), out.decode(), err.decode()


async def test_console_runs_the_whole_flow_from_a_fresh_folder(tmp_path: Path) -> None:
    """No key set: the console makes tipline.secret, and an operator command reads it."""
    fresh = bare_env(tmp_path)
    code, out, err = await tipline(tmp_path, "console", stdin=CONSOLE_SCRIPT, env=fresh)
    assert code == 0, err
    assert "113" in out and "Mã tin báo:" in out and "Mật khẩu:" in out
    assert "Công an có thể nhắn hỏi bạn qua đây" in out  # option 1 of the review: contact
    secret_file = tmp_path / "data" / "tipline.secret"
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "data" / "tipline.db").exists()
    tip_code = out.split("Mã tin báo: ")[1].split()[0]
    passphrase = " ".join(out.split("Mật khẩu: ")[1].split()[:2])
    code, out, err = await tipline(
        tmp_path, "tip", "set-status", tip_code, "verifying", "--note", "Đang xác minh", env=fresh
    )
    assert code == 0 and "verifying" in out, err
    lookup = f"/status {tip_code}\n{passphrase}\n"
    code, out, _ = await tipline(tmp_path, "console", stdin=lookup, env=fresh)
    assert "📨 Tin báo" in out  # the outbox notice, delivered to this terminal
    assert "Tình trạng: Đang xác minh" in out and "Ghi chú của công an: Đang xác minh" in out


URGENT_TIP = "/tip\nma tuy\nan thuy\nbo qua\nCó người bán ma túy\nhom nay\nco\n1\n"


def plain(out: str) -> str:
    """What a console printed, as message texts: without its "bot> " and 📨 marks and the
    indentation of a message's later lines."""
    lines = (line.removeprefix("bot> ").removeprefix("     ") for line in out.splitlines())
    return "\n".join(line.removeprefix("📨 ") for line in lines)


class OpenConsole:
    """A `tipline console` left running, typed into and read line by line, as a terminal."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.out = ""

    async def type(self, line: str) -> None:
        """Type a line and press Enter."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()

    async def until(self, shown: Callable[[str], bool]) -> None:
        """Read what the terminal prints until `shown(all of it)` holds (30 s at most)."""
        assert self.process.stdout is not None
        async with asyncio.timeout(30):
            while not shown(self.out):
                self.out += (await self.process.stdout.readline()).decode()

    async def quit(self) -> str:
        """/quit; returns everything it printed."""
        await self.type("/quit")
        rest, err = await asyncio.wait_for(self.process.communicate(), 60)
        assert self.process.returncode == 0, err.decode()
        self.out += rest.decode()
        return self.out


async def test_two_consoles_as_two_people_on_one_database(tmp_path: Path) -> None:
    """`console --as NAME` in two terminals on one database: an officer in one, a resident in
    the other. An urgent alert shows live in the officer's terminal, once; one that comes
    while the officer's terminal is closed waits for it, and the resident's never takes it."""
    code, out, err = await tipline(
        tmp_path, "officer", "invite", "--name", "An", "--scope", "commune:an-thuy"
    )
    assert code == 0, err
    invite = filled(out, "invite.made")["code"]
    env = clean_env(tmp_path)
    officer = OpenConsole(
        await spawn_bot("console", "--as", "can-bo-an", cwd=tmp_path, env=env, typed=True)
    )
    await officer.type(f"/officer {invite}")
    await officer.until(lambda out: says(plain(out), "officer.welcome", name="An"))
    first = await file_urgent_tip(tmp_path)
    await officer.until(lambda out: first in out)  # the alert, while the officer waits
    shown = plain(await officer.quit())
    assert shown.count(first) == 1 and says(shown, "alert.urgent") and not says(shown, "receipt")
    second = await file_urgent_tip(tmp_path)  # the officer's terminal is closed now
    code, out, err = await tipline(tmp_path, "console", "--as", "lan", stdin="/help\n")
    assert code == 0 and "📨" not in out, out  # the resident's terminal leaves it queued
    code, out, err = await tipline(tmp_path, "console", "--as", "can-bo-an")
    assert code == 0, err
    assert out.count(second) == 1 and first not in out and says(plain(out), "alert.urgent")


async def file_urgent_tip(tmp_path: Path) -> str:
    """A resident's urgent tip, from their own terminal; returns its code."""
    code, out, err = await tipline(tmp_path, "console", "--as", "lan", stdin=URGENT_TIP)
    assert code == 0 and "you are local:lan" in out, err
    return filled(plain(out), "receipt")["code"]


async def test_console_as_takes_a_short_name_and_says_so_in_its_help(tmp_path: Path) -> None:
    code, out, _ = await tipline(tmp_path, "console", "--help")
    assert code == 0 and "--as NAME" in out and "local:NAME" in out
    assert "example:\n  .venv/bin/tipline console --as lan" in out
    for bad in ("two words", "", "x" * 33, "a:b"):
        code, _, err = await tipline(tmp_path, "console", "--as", bad)
        assert code == 2 and "--as" in err and "e.g. --as lan" in err, (bad, err)


@pytest.mark.parametrize(
    ("args", "extra", "named"),
    [
        (("run",), {"TIPLINE_SECRET_KEY": SECRET}, "TIPLINE_TELEGRAM_TOKEN is not set"),
        (("run",), {"TIPLINE_TELEGRAM_TOKEN": "1:a", "TIPLINE_SECRET_KEY": "short"}, "32"),
        (
            ("run",),
            {"TIPLINE_TELEGRAM_TOKEN": "nonsense", "TIPLINE_SECRET_KEY": SECRET},
            "TIPLINE_TELEGRAM_TOKEN is malformed",
        ),
        (("console",), {"TIPLINE_TIMEZONE": "Mars/Olympus"}, "TIPLINE_TIMEZONE"),
        (("console",), {"TIPLINE_MESSAGES_PER_MINUTE": "many"}, "TIPLINE_MESSAGES_PER_MINUTE"),
        (("console",), {"TIPLINE_AREAS_FILE": "/nonexistent.json"}, "TIPLINE_AREAS_FILE"),
        (("webhook", "--url", "https://x/t", "--listen", "nowhere"), {}, "--listen"),
    ],
)
async def test_bad_settings_stop_with_one_line_naming_them(
    tmp_path: Path, args: tuple[str, ...], extra: dict[str, str], named: str
) -> None:
    code, _, err = await tipline(tmp_path, *args, env=clean_env(tmp_path, **extra))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and named in err, err


async def test_one_key_made_once_read_by_every_command_and_checked_against_the_database(
    tmp_path: Path,
) -> None:
    """`tipline init` makes the key once; without it nothing makes one behind the operator's
    back; a command started with another key than the database's stops with one line."""
    bare = bare_env(tmp_path)
    code, _, err = await tipline(tmp_path, "officer", "list", env=bare)
    assert code == 2 and "tipline init" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "data" / "tipline.secret").exists()
    code, out, err = await tipline(tmp_path, "init", env=bare)
    assert code == 0 and "tipline.secret" in out and "backup" in out, err
    key = (tmp_path / "data" / "tipline.secret").read_text()
    code, _, err = await tipline(tmp_path, "init", env=bare)
    assert code == 2 and "exists already" in err
    assert (tmp_path / "data" / "tipline.secret").read_text() == key  # never overwritten
    code, out, err = await tipline(tmp_path, "officer", "list", env=bare)
    assert code == 0, err
    code, _, err = await tipline(tmp_path, "officer", "list")  # TIPLINE_SECRET_KEY: another key
    assert code == 2 and "another secret key" in err and len(err.strip().splitlines()) == 1


async def test_migrate_and_unknown_tip(tmp_path: Path) -> None:
    code, out, _ = await tipline(tmp_path, "migrate")
    assert code == 0 and "up to date" in out
    code, _, err = await tipline(tmp_path, "tip", "set-status", "ABCD-EFGH", "handled")
    assert code == 2 and "no tip ABCD-EFGH" in err


async def start_bot(
    tmp_path: Path, api: FakeTelegramAPI, *args: str, digest_time: str = "07:00"
) -> asyncio.subprocess.Process:
    env = clean_env(
        tmp_path,
        TIPLINE_TELEGRAM_TOKEN=api.token,
        TIPLINE_TELEGRAM_API_URL=api.root,
        TIPLINE_SECRET_KEY=SECRET,
        TIPLINE_DIGEST_TIME=digest_time,
    )
    return await spawn_bot(*args, cwd=tmp_path, env=env)


async def stop_bot(process: asyncio.subprocess.Process) -> str:
    """SIGTERM, as a service manager stops it; returns what it logged."""
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return err.decode()


async def test_tipline_run_polls_and_answers(tmp_path: Path) -> None:
    async with FakeTelegramAPI() as api:
        process = await start_bot(tmp_path, api, "run")
        person = api.user(31337, "Cli Person")
        api.push(api.text_update(person, "/start"))
        (call,) = await api.wait_calls("sendMessage", chat_id=31337, timeout=60)
        assert "113" in call.params["text"]
        logs = await stop_bot(process)
    assert "31337" not in logs and "Cli Person" not in logs
    assert "update=telegram:" in logs


async def test_tipline_webhook_sets_the_secret_and_rejects_strangers(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg-hook"
    async with FakeTelegramAPI() as api:
        process = await start_bot(tmp_path, api, "webhook", "--listen", f"127.0.0.1:{port}",
                                  "--url", url)  # fmt: skip
        (hook,) = await api.wait_calls("setWebhook", timeout=60)
        assert hook.params["url"] == url
        secret = str(hook.params["secret_token"])
        assert len(secret) >= 32 and SECRET not in secret
        person = api.user(4711, "Webhook Person")
        update = api.text_update(person, "/help")
        assert await api.post_webhook(url, update) == 403
        assert await api.post_webhook(url, update, secret=secret + "x") == 403
        assert await api.post_webhook(url, update, secret=secret) == 200  # once committed
        (answer,) = await api.wait_calls("sendMessage", chat_id=4711)  # delivered after
        assert "/status" in answer.params["text"]
        await stop_bot(process)


async def test_serving_freezes_what_lives_as_long_as_the_process(runtime: Runtime) -> None:
    gc.unfreeze()
    try:
        settings = load_settings(_env_file=None)
        presence = Presence(runtime, runtime.peers.name)
        async with serving(runtime, presence, answer_sender(settings, runtime, presence), []):
            # The cycle collector no longer walks the modules, engine and bot on full passes.
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def assert_one_line_naming(named: str, code: int, out: str, err: str) -> None:
    """Exit status 2, nothing on stdout, one line on stderr that names what to fix."""
    assert (code, out) == (2, ""), (code, out, err)
    assert err.count("\n") == 1 and err.endswith("\n") and named in err, err


@pytest.mark.parametrize(
    "database",
    [
        pytest.param({"database": "no_such_db"}, id="pg-no-such-database"),
        pytest.param({"username": "nosuchrole"}, id="pg-unknown-role"),
        pytest.param({"port": 1}, id="pg-connection-refused"),
        pytest.param({"port": 99999}, id="pg-port-out-of-range"),
        pytest.param("postgresql+asyncpg://postgres@127.0.0.1:abc/x", id="port-not-a-number"),
        pytest.param("sqlite+aiosqlite://somehost/tipline.db", id="sqlite-with-a-host"),
        pytest.param("nonsense", id="nonsense"),
    ],
)
async def test_a_database_that_cannot_be_opened_stops_with_one_line(
    tmp_path: Path, database: str | dict[str, Any]
) -> None:
    if isinstance(database, dict):  # the test PostgreSQL server's URL with parts changed
        if not PG_URL:
            pytest.skip("TIPLINE_TEST_DATABASE_URL is not set: PostgreSQL startup failures skipped")
        database = make_url(PG_URL).set(**database).render_as_string(hide_password=False)
    env = clean_env(
        tmp_path,
        TIPLINE_DATABASE_URL=database,
        TIPLINE_TELEGRAM_TOKEN="1:a",
        TIPLINE_TELEGRAM_API_URL=f"http://127.0.0.1:{free_port()}",
        TIPLINE_SECRET_KEY=SECRET,
    )
    for command in ("run", "migrate", "console"):
        assert_one_line_naming("TIPLINE_DATABASE_URL", *await tipline(tmp_path, command, env=env))


@pytest.mark.parametrize(
    ("platform", "broken", "named"),
    [
        ("telegram", "token", "TIPLINE_TELEGRAM_TOKEN"),  # the fake answers 401
        ("telegram", "address", "TIPLINE_TELEGRAM_API_URL"),
        ("zalo", "token", "TIPLINE_ZALO_TOKEN"),
        ("zalo", "address", "TIPLINE_ZALO_API_URL"),
    ],
)
@pytest.mark.parametrize("command", ["run", "webhook"])
async def test_a_platform_that_refuses_the_token_or_cannot_be_reached_stops_with_one_line(
    tmp_path: Path, platform: str, broken: str, named: str, command: str
) -> None:
    args = [command]
    if command == "webhook":
        args += ["--url", "https://example.org/hook", "--listen", f"127.0.0.1:{free_port()}"]
    nobody = f"http://127.0.0.1:{free_port()}"
    async with FakeTelegramAPI() as telegram, FakeZaloBotAPI() as zalo:
        settings = {
            "telegram": {
                "TIPLINE_TELEGRAM_TOKEN": "999:wrong" if broken == "token" else telegram.token,
                "TIPLINE_TELEGRAM_API_URL": nobody if broken == "address" else telegram.root,
            },
            "zalo": {
                "TIPLINE_ZALO_TOKEN": "999:wrong" if broken == "token" else ZALO_TOKEN,
                "TIPLINE_ZALO_API_URL": nobody if broken == "address" else zalo.root,
            },
        }[platform]
        env = clean_env(tmp_path, TIPLINE_SECRET_KEY=SECRET, **settings)
        assert_one_line_naming(named, *await tipline(tmp_path, *args, env=env))
