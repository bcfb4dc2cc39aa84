"""The morning digest from a real `tipline run` process: the scheduler fires it on the minute."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.e2e.test_cli import SECRET, clean_env, start_bot, stop_bot, tipline
from tests.e2e.test_cli_officers import invite_code
from tests.fake_telegram import FakeTelegramAPI, Upload

OFFICER_CHAT = 5551234


async def test_tipline_run_sends_the_digest_at_its_minute(tmp_path: Path) -> None:
    code, out, err = await tipline(
        tmp_path,
        "officer",
        "invite",
        "--name",
        "Trần D",
        "--scope",
        "le-thuy",
        env=clean_env(tmp_path, TIPLINE_SECRET_KEY=SECRET),
    )
    assert code == 0, err
    now = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    # The first whole minute after the officer enrols (with time to enrol before it).
    due = (now + timedelta(minutes=2 if now.second > 40 else 1)).strftime("%H:%M")
    async with FakeTelegramAPI() as api:
        process = await start_bot(tmp_path, api, "run", digest_time=due)
        officer = api.user(OFFICER_CHAT, "Officer")
        api.push(api.text_update(officer, f"/officer {invite_code(out)}"))
        await api.wait_calls("sendMessage", chat_id=OFFICER_CHAT, timeout=60)
        (photo,) = await api.wait_calls("sendPhoto", chat_id=OFFICER_CHAT, timeout=150)
        await api.wait_calls("sendMessage", count=2, chat_id=OFFICER_CHAT, timeout=30)
        logs = await stop_bot(process)
    assert isinstance(photo.params["photo"], Upload)
    digest = api.sent_texts(OFFICER_CHAT)[-1]
    assert digest.startswith("☀️ Bản tin sáng") and "Gửi muộn" not in digest
    assert "digests: 1 due, 1 queued" in logs
