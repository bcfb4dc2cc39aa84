"""Logging: plain lines with key=value fields; never message content or platform ids."""

from __future__ import annotations

import logging


def setup_logging(level: str) -> None:
    """Log to stderr; silence libraries that would print URLs carrying the bot token."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", force=True
    )
    for noisy in ("httpx", "httpcore", "telegram", "apscheduler", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
