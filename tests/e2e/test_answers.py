"""Answers to the resident who wrote are kept until Telegram took them: refused, timed out,
dropped or blocked, each ends delivered once and in order, or dropped with a log line."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

from sqlalchemy import func, select

from bot.channels.telegram import TelegramChannel
from bot.runtime import Runtime
from storage.models import InboxUpdate, PendingAnswer
from tests.e2e.conftest import Resident, database_bytes, receipt_of, type_tip


async def stored(runtime: Runtime, table: type[PendingAnswer] | type[InboxUpdate]) -> int:
    """How many rows a table holds."""
    async with runtime.db.reading() as db:
        return int(await db.scalar(select(func.count()).select_from(table)) or 0)


async def emptied(runtime: Runtime, table: type[PendingAnswer] | type[InboxUpdate]) -> bool:
    """Whether a table empties within 5 s (its rows are deleted just after a send)."""
    for _ in range(100):
        if await stored(runtime, table) == 0:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_an_answer_refused_with_429_goes_again_once_and_in_order(
    polling: TelegramChannel, tipster: Resident, runtime: Runtime
) -> None:
    api = tipster.api
    api.fail_next("sendMessage", retry_after=1)
    refused_at = time.monotonic()
    api.push(api.text_update(tipster.user, "/help"))
    api.push(api.text_update(tipster.user, "/start"))
    await api.wait_for(lambda: len(api.sent_texts(tipster.chat_id)) == 2, 15, "both answers")
    help_text, start_text = api.sent_texts(tipster.chat_id)
    assert "/status" in help_text and "113" in start_text  # the refused one still went first
    first = next(c for c in api.calls_to("sendMessage") if not c.failed)
    assert first.at - refused_at >= 1.0  # Telegram's retry_after was obeyed
    assert len(api.calls_to("sendMessage", chat_id=tipster.chat_id)) == 3  # one refusal
    assert await emptied(runtime, PendingAnswer)
    assert await emptied(runtime, InboxUpdate)


async def test_an_answer_that_timed_out_goes_again(
    polling: TelegramChannel, tipster: Resident
) -> None:
    api = tipster.api
    api.fail_next("sendMessage", hang=7)  # longer than the bot's 5 s read timeout
    api.push(api.text_update(tipster.user, "/help"))
    await api.wait_for(lambda: bool(api.sent_texts(tipster.chat_id)), 30, "the answer")
    assert len(api.sent_texts(tipster.chat_id)) == 1


async def test_an_answer_whose_connection_failed_goes_again(
    polling: TelegramChannel, tipster: Resident
) -> None:
    api = tipster.api
    api.fail_next("sendMessage", status=502, description="Bad Gateway", times=2)
    api.push(api.text_update(tipster.user, "/help"))
    await api.wait_for(lambda: bool(api.sent_texts(tipster.chat_id)), 15, "the answer")
    assert len(api.sent_texts(tipster.chat_id)) == 1


async def test_a_blocked_resident_costs_a_log_line_without_content(
    polling: TelegramChannel,
    tipster: Resident,
    runtime: Runtime,
    production_logs: io.StringIO,
) -> None:
    api = tipster.api
    api.fail_next("sendMessage", status=403, description="Forbidden: bot was blocked by the user")
    api.push(api.text_update(tipster.user, "/help"))
    await api.wait_calls("sendMessage", chat_id=tipster.chat_id)
    await api.wait_for(lambda: "dropped" in production_logs.getvalue(), 5, "the log line")
    assert "blocked by the user" in production_logs.getvalue()
    assert "/status" not in production_logs.getvalue()  # not a word of the answer
    assert await emptied(runtime, PendingAnswer)
    assert "113" in "".join(m["text"] for m in await tipster.send("/start"))  # and it goes on


async def test_a_receipt_waiting_for_telegram_is_stored_sealed(
    polling: TelegramChannel, tipster: Resident, runtime: Runtime, tmp_path: Path
) -> None:
    api = tipster.api
    await type_tip(tipster, area="kien giang", story=["Bán hàng cấm ở chợ"], urgent=False)
    api.fail_next("sendMessage", retry_after=2)
    api.push(
        api.callback_update(tipster.user, *tipster.button("không cho liên hệ"), tipster.chat_id)
    )
    await api.wait_for(lambda: api.calls_to("sendMessage")[-1].failed, 5, "the refusal")
    assert await stored(runtime, PendingAnswer) == 1
    _, waiting = database_bytes(tmp_path)
    await api.wait_for(lambda: "Mã tin báo" in api.sent_texts(tipster.chat_id)[-1], 10, "receipt")
    code, passphrase = receipt_of([tipster.sent()[-1]])
    assert code.replace("-", "").encode() in waiting  # the tip was there, committed ...
    assert passphrase.encode() not in waiting  # ... but not its passphrase, readable
    assert await emptied(runtime, PendingAnswer)
