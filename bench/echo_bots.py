"""Reference bots for bench/throughput.py: the smallest echo bots, with their libraries' defaults.

python -m bench.echo_bots ptb ROOT TOKEN        # python-telegram-bot, default Application
python -m bench.echo_bots aiogram ROOT TOKEN    # aiogram 3 (pip install -e '.[bench]')
"""

from __future__ import annotations

import asyncio
import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def _echo_ptb(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def run_ptb(root: str, token: str) -> None:
    """python-telegram-bot as its docs start: one update at a time, httpx underneath."""
    application = Application.builder().token(token).base_url(f"{root}/bot").build()
    application.add_handler(MessageHandler(filters.TEXT, _echo_ptb))
    application.run_polling(drop_pending_updates=False)


def run_aiogram(root: str, token: str) -> None:
    """aiogram 3 with its defaults (each update handled as its own task)."""
    from aiogram import Bot, Dispatcher  # noqa: PLC0415 - a bench-only dependency
    from aiogram.client.session.aiohttp import AiohttpSession  # noqa: PLC0415
    from aiogram.client.telegram import TelegramAPIServer  # noqa: PLC0415
    from aiogram.types import Message  # noqa: PLC0415

    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        if message.text:
            await message.answer(message.text)

    async def main() -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(root))
        await dispatcher.start_polling(Bot(token, session=session), handle_signals=True)

    asyncio.run(main())


if __name__ == "__main__":
    which, root, token = sys.argv[1:4]
    (run_ptb if which == "ptb" else run_aiogram)(root, token)
