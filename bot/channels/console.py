"""The whole product in a terminal: type what you would send, pick options by number."""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import itertools
import shlex
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from bot.channels.base import Part
from bot.charts import render_chart
from bot.runtime import Runtime
from handlers.common.types import (
    Chart,
    Document,
    Incoming,
    Kind,
    Location,
    Media,
    MediaKind,
    Option,
    Reply,
)
from storage.outbox import Recipients

CHANNEL = "console"
CHAT = "local"
# Another console on the same database queues for this one without waking it (it is another
# process): the outbox is looked at this often, so a message shows in about a second.
LOOK_EVERY_SECONDS = 1.0
# Where an officer's /export lands, below the folder the console was started in: kept together,
# and out of the way of the database and the secret key beside them (.gitignore names it).
EXPORTS = "exports"

BANNER = """\
Tipline console: bạn đang trò chuyện với bot như trên Telegram / you are chatting with the bot.
  /start  /tip  /status  /help  /lang  /cancel      commands, as on Telegram
  1, 2, 3 ...                                     pick a numbered option
  !loc 17.21 106.79    share a location           !photo NAME [CAPTION]  (also !video !voice !file)
  !sticker  !contact   send what Tipline refuses   !forward TEXT   !edit TEXT
  /quit                                           leave
"""

_MEDIA = {
    "!photo": MediaKind.PHOTO,
    "!video": MediaKind.VIDEO,
    "!voice": MediaKind.VOICE,
    "!audio": MediaKind.AUDIO,
    "!file": MediaKind.DOCUMENT,
}


def chat_of(person: str | None) -> str:
    """The chat of the person this terminal is (`tipline console --as NAME`); without a name,
    the console's one person, as it always was."""
    return CHAT if person is None else f"{CHAT}:{person}"


class ConsoleChannel:
    """A terminal chat with the same handlers, database and outbox as the real bot, as one
    person: several terminals, each `--as` another, are several people on one database."""

    name = CHANNEL

    def __init__(
        self,
        runtime: Runtime,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
        *,
        person: str | None = None,
    ):
        self.runtime = runtime
        self.stdin = stdin
        self.stdout = stdout
        self.options: tuple[Option, ...] = ()
        self.chat = chat_of(person)
        # Each person their own pseudonym, so that drafts and limits are theirs; the console's
        # one person keeps the one it always had.
        user = getpass.getuser() if person is None else self.chat
        self.sender = runtime.sealer.pseudonym(CHANNEL, user)
        self._serial = itertools.count(1)
        self._session = f"{time.time_ns():x}"

    def parse(self, line: str) -> Incoming | None:
        """Turn a typed line into what the person would have sent from a phone."""
        line = line.strip()
        if not line:
            return None
        word, _, rest = line.partition(" ")
        if line.isdigit() and 1 <= int(line) <= len(self.options):
            return self._incoming(kind=Kind.CHOICE, choice=self.options[int(line) - 1].data)
        if line.startswith("/"):
            return self._incoming(kind=Kind.COMMAND, command=word[1:].lower(), args=rest.strip())
        if word == "!loc":
            return self._location(rest)
        if word in _MEDIA:
            # The words after the name are the caption, as a phone sends one under a photo.
            name, _, caption = rest.strip().partition(" ")
            media = (Media(_MEDIA[word], f"console:{name or 'file'}"),)
            return self._incoming(kind=Kind.MEDIA, media=media, caption=caption.strip())
        if word in ("!sticker", "!contact"):
            return self._incoming(kind=Kind.UNSUPPORTED, unsupported=word[1:])
        if word == "!forward":
            return self._incoming(kind=Kind.TEXT, text=rest, forwarded=True)
        if word == "!edit":
            return self._incoming(kind=Kind.EDITED, text=rest)
        return self._incoming(kind=Kind.TEXT, text=line)

    def _location(self, rest: str) -> Incoming | None:
        try:
            latitude, longitude = (float(part) for part in shlex.split(rest.replace(",", " ")))
        except ValueError:
            self.stdout.write("  (!loc needs two numbers: !loc 17.21 106.79)\n")
            return None
        return self._incoming(kind=Kind.LOCATION, location=Location(latitude, longitude))

    def _incoming(self, **fields: Any) -> Incoming:
        return Incoming(
            channel=CHANNEL,
            sender=self.sender,
            chat=self.chat,
            dedupe_key=f"{CHANNEL}:{self._session}:{next(self._serial)}",
            **fields,
        )

    def show(self, reply: Reply, *, prefix: str = "") -> None:
        """Print a reply with its options numbered; remember them for the next line."""
        lines = [f"{prefix}{line}" for line in reply.text.split("\n")]
        lines += [f"   [{media.kind.value}: {media.ref}]" for media in reply.media]
        if reply.document is not None:
            saved = self._save(reply.document, Path.cwd() / EXPORTS)
            lines.append(f"   [đã lưu tệp / file saved: {saved}]")
        if reply.chart is not None:
            picture = Document(self._chart_name(reply.chart), render_chart(reply.chart))
            lines.append(f"   [chart saved: {self._save(picture, Path.cwd())}]")
        lines += [f"   {n}. {option.label}" for n, option in enumerate(reply.options, 1)]
        if reply.request_location:
            lines.append(f"   ({reply.request_location}: !loc LAT LON)")
        self.stdout.write("bot> " + "\n     ".join(lines) + "\n")
        self.stdout.flush()
        if reply.options:
            self.options = reply.options

    def _chart_name(self, chart: Chart) -> str:
        digest = hashlib.sha256(repr(chart).encode()).hexdigest()[:8]
        return f"tipline-chart-{digest}.png"

    def _save(self, document: Document, folder: Path) -> Path:
        """Write a file the bot made into `folder`, made if missing."""
        # Readable by this user alone, as the secret key is: an export holds what tipsters wrote.
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = folder / Path(document.name).name
        target.write_bytes(document.content)
        target.chmod(0o600)
        return target

    def parts(self, chat: str, reply: Reply) -> list[Part]:
        """Show a message the outbox delivers to this terminal's person (its outbox takes no
        other chat's: `recipients`), marked as such."""

        async def show() -> None:
            self.show(reply, prefix="📨 ")

        return [show]

    def recipients(self) -> Recipients:
        """Whose messages this terminal's outbox takes: its person's, and nobody else's."""
        return Recipients(CHANNEL, frozenset({self.chat}))

    async def run(self) -> None:
        """Read lines until /quit or end of input, answering each like the bot would."""
        self.stdout.write(BANNER)
        self.stdout.write(f"  bạn là / you are {self.chat}    người khác / another: --as NAME\n")
        self.stdout.flush()
        while True:
            line = await asyncio.to_thread(self.stdin.readline)
            if not line or line.strip() in ("/quit", "/exit"):
                return
            await self.take(line)

    async def take(self, line: str) -> None:
        """One typed line, sent as this person and answered on screen."""
        msg = self.parse(line)
        if msg is None:
            return
        replies = await self.runtime.handle(msg)
        self.options = ()  # numbers always refer to the options on screen now
        for reply in replies:
            self.show(reply)
