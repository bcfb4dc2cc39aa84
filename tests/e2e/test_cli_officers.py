"""`tipline officer ...` and `tipline audit` as an operator runs them, in real processes."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import free_port
from tests.e2e.test_cli import CONSOLE_SCRIPT, SECRET, clean_env, start_bot, stop_bot, tipline
from tests.fake_telegram import FakeTelegramAPI


def invite_code(out: str) -> str:
    match = re.search(r"^([A-Z0-9]{10})$", out, re.MULTILINE)
    assert match, out
    return match.group(1)


async def test_invite_list_revoke_and_audit(tmp_path: Path) -> None:
    code, out, err = await tipline(
        tmp_path, "officer", "invite", "--name", "Nguyễn Văn A", "--scope", "an-thuy"
    )
    assert code == 0, err
    assert len(invite_code(out)) == 10 and "Xã An Thủy" in out
    assert "TIPLINE_TELEGRAM_TOKEN" in out  # no token: no link, and says why
    code, out, _ = await tipline(
        tmp_path, "officer", "invite", "--name", "Trần B", "--scope", "le-thuy", "--admin"
    )
    assert code == 0 and "Huyện Lệ Thủy" in out and len(invite_code(out)) == 10
    code, out, _ = await tipline(tmp_path, "officer", "list")
    lines = out.strip().splitlines()
    assert len(lines) == 2 and "an-thuy" in lines[0] and "invited" in lines[0]
    assert "le-thuy" in lines[1] and "admin" in lines[1]
    code, out, _ = await tipline(tmp_path, "officer", "revoke", "1")
    assert code == 0 and "revoked" in out
    code, out, _ = await tipline(tmp_path, "officer", "list")
    assert "revoked" in out.splitlines()[0]
    code, out, _ = await tipline(tmp_path, "audit")
    actions = [line.split()[3] for line in out.strip().splitlines()]
    assert actions == ["invite", "invite", "revoke"]
    code, out, _ = await tipline(tmp_path, "audit", "--officer", "1")
    assert "nothing in the audit log" in out  # operator rows have no officer


async def test_officer_commands_refuse_bad_input_in_one_line(tmp_path: Path) -> None:
    for args in (
        ("officer", "invite", "--name", "X", "--scope", "nowhere"),
        ("officer", "invite", "--name", "X", "--scope", "town"),
        ("officer", "revoke", "42"),
        ("audit", "--tip", "not-a-code"),
        ("audit", "--tip", "ABCD-EFGH"),
    ):
        code, _, err = await tipline(tmp_path, *args)
        assert code == 2, args
        assert len(err.strip().splitlines()) == 1 and err.startswith("tipline:"), (args, err)


async def test_tip_audit_rows_and_the_invite_link(tmp_path: Path) -> None:
    _, out, _ = await tipline(tmp_path, "console", stdin=CONSOLE_SCRIPT)
    tip_code = out.split("Mã tin báo: ")[1].split()[0]
    code, out, _ = await tipline(tmp_path, "audit", "--tip", tip_code)
    assert "nothing in the audit log" in out
    await tipline(tmp_path, "tip", "set-status", tip_code, "handled")
    code, out, _ = await tipline(tmp_path, "audit", "--tip", tip_code)
    assert "status:handled" in out and tip_code in out
    async with FakeTelegramAPI() as api:
        env = clean_env(
            tmp_path, TIPLINE_TELEGRAM_TOKEN=api.token, TIPLINE_TELEGRAM_API_URL=api.root
        )
        code, out, err = await tipline(
            tmp_path, "officer", "invite", "--name", "C", "--scope", "le-thuy", env=env
        )
    assert code == 0, err
    assert f"https://t.me/tipline_test_bot?start=off-{invite_code(out)}" in out


async def test_patrol_create_and_schedule(tmp_path: Path) -> None:
    code, out, err = await tipline(
        tmp_path, "patrol", "create", "--name", "Tổ thôn 3", "--commune", "an-thuy"
    )
    assert code == 0 and "Mã tham gia:" in out and "Xã An Thủy" in out, err
    code, out, _ = await tipline(tmp_path, "patrol", "schedule", "Tổ thôn 3", "T2-T6 21:00-23:30")
    assert code == 0 and "T6 21:00-23:30" in out and "T7" not in out
    for args in (
        ("patrol", "create", "--name", "Tổ thôn 3", "--commune", "an-thuy"),  # name taken
        ("patrol", "create", "--name", "X", "--commune", "nowhere"),
        ("patrol", "create", "--name", "Y", "--commune", "an-thuy", "--officer", "9"),
        ("patrol", "schedule", "Tổ thôn 3", "sometimes"),
        ("patrol", "schedule", "Không có", "Mon 21:00-22:00"),
    ):
        code, _, err = await tipline(tmp_path, *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, (args, err)


async def test_an_enrolled_officer_is_listed_without_their_chat(tmp_path: Path) -> None:
    same_secret = clean_env(tmp_path, TIPLINE_SECRET_KEY=SECRET)  # as the bot's, or no match
    code, out, err = await tipline(
        tmp_path,
        "officer",
        "invite",
        "--name",
        "Lê C",
        "--scope",
        "area:kien-giang",
        env=same_secret,
    )
    assert code == 0, err
    invite = invite_code(out)
    async with FakeTelegramAPI() as api:
        process = await start_bot(tmp_path, api, "run")
        person = api.user(8642097531, "Officer Chat Name")
        api.push(api.text_update(person, f"/officer {invite}"))
        await api.wait_calls("sendMessage", chat_id=8642097531, timeout=60)
        await stop_bot(process)
    code, out, _ = await tipline(tmp_path, "officer", "list")
    assert "kien-giang" in out and "enrolled via telegram" in out, out
    assert "8642097531" not in out and "Officer Chat Name" not in out
    code, out, _ = await tipline(tmp_path, "audit", "--officer", "1")
    (line,) = out.strip().splitlines()
    assert "#1 Lê C" in line and " enrol " in line, out
    assert "8642097531" not in out
    code, out, _ = await tipline(tmp_path, "officer", "revoke", "1")
    assert code == 0 and "revoked" in out
    code, out, err = await tipline(tmp_path, "officer", "revoke", "1")
    assert code == 0 and "already revoked" in out, err


async def test_invite_without_a_reachable_bot_api_still_prints_the_code(tmp_path: Path) -> None:
    env = clean_env(
        tmp_path,
        TIPLINE_TELEGRAM_TOKEN="1:a",
        TIPLINE_TELEGRAM_API_URL=f"http://127.0.0.1:{free_port()}",
    )
    code, out, err = await tipline(
        tmp_path, "officer", "invite", "--name", "D", "--scope", "le-thuy", env=env
    )
    assert code == 0, err
    assert len(invite_code(out)) == 10 and "t.me/" not in out and "no t.me link" in out
