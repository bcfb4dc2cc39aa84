"""Settings from TIPLINE_* environment variables and .env, checked once at start."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import fields, replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.pacing import CHAT_BURST, PER_SECOND
from handlers.common.catalog import Catalog, CatalogError, load_catalog
from handlers.common.schedule import parse_clock
from handlers.common.types import Limits

_DEFAULT = Limits()
_LIMITS = [limit.name for limit in fields(Limits)]
# Where the secret key is kept, beside the database, when TIPLINE_SECRET_KEY is not set.
KEY_FILE = "tipline.secret"


class SettingsError(SystemExit):
    """A setting that stops the program at start, with one line naming it."""


class Settings(BaseSettings):
    """Everything an operator can set; nothing here is read at import time."""

    model_config = SettingsConfigDict(env_prefix="TIPLINE_", env_file=".env", extra="ignore")

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    zalo_token: SecretStr | None = None
    zalo_api_url: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_secret: SecretStr | None = None
    zalo_oa_app_id: str | None = None
    zalo_oa_secret_key: SecretStr | None = None
    zalo_oa_token_file: Path = Path("zalo-oa-tokens.json")
    zalo_oa_api_url: str = "https://openapi.zalo.me"
    zalo_oa_oauth_url: str = "https://oauth.zaloapp.com"
    database_url: str = "sqlite+aiosqlite:///./tipline.db"
    secret_key: SecretStr | None = None
    areas_file: Path | None = None
    categories_file: Path | None = None
    timezone: str = "Asia/Ho_Chi_Minh"
    # The limits an operator may change: their defaults are Limits' own (handlers/common/types.py).
    tips_per_hour: int = Field(default=_DEFAULT.tips_per_hour, ge=1)
    messages_per_minute: int = Field(default=_DEFAULT.messages_per_minute, ge=1)
    contact_retention_days: int = Field(default=_DEFAULT.contact_retention_days, ge=1)
    draft_ttl_hours: int = Field(default=_DEFAULT.draft_ttl_hours, ge=1)
    overdue_hours: int = Field(default=_DEFAULT.overdue_hours, ge=1)
    escalate_after_minutes: int = Field(default=_DEFAULT.escalate_after_minutes, ge=1)
    invite_hours: int = Field(default=_DEFAULT.invite_hours, ge=1)
    patrol_grace_minutes: int = Field(default=_DEFAULT.patrol_grace_minutes, ge=1)
    digest_time: str = _DEFAULT.digest_time
    weekly_digest: bool = _DEFAULT.weekly_digest
    digest_catch_up_hours: int = Field(default=_DEFAULT.digest_catch_up_hours, ge=1)
    send_rate: float = Field(default=PER_SECOND, gt=0)
    chat_burst: int = Field(default=CHAT_BURST, ge=1)
    webhook_max_connections: int = Field(default=40, ge=1, le=100)  # Telegram's default
    # Unique among the processes sharing the database; by default the host and address.
    process_name: str | None = Field(default=None, min_length=1, max_length=80)
    log_level: str = "INFO"
    # The officers' web desk: the address people open (links start with it; behind webhooks,
    # --url's own address by default) and, for `run` and `console`, where to serve it.
    desk_url: str | None = None
    desk_listen: str | None = None
    # Map tiles under the overview's pins ("https://tile.example.org/{z}/{x}/{y}.png"); none by
    # default, so the desk fetches nothing from elsewhere unless the operator says so.
    desk_tiles_url: str | None = None

    @field_validator("telegram_api_url", "zalo_api_url", "zalo_oa_api_url", "zalo_oa_oauth_url")
    @classmethod
    def _root_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("desk_url")
    @classmethod
    def _desk_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// on this computer)")
        return value.rstrip("/") if value else value

    @field_validator("desk_tiles_url")
    @classmethod
    def _tiles_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        placeholders = all(f"{{{name}}}" in value for name in "zxy")
        if parts.scheme not in ("https", "http") or not parts.hostname or not placeholders:
            raise ValueError("expected https://HOST/{z}/{x}/{y}.png (one host, no {s})")
        if "{" in parts.netloc:
            raise ValueError("expected one host: the desk's policy allows pictures from it alone")
        return value

    @field_validator("desk_listen")
    @classmethod
    def _desk_listen(cls, value: str | None) -> str | None:
        if value:
            try:
                parse_listen(value)
            except SettingsError:
                raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:8080") from None
        return value or None

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("digest_time")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        clock = parse_clock(value)
        if clock is None:
            raise ValueError("expected a time of day as HH:MM, e.g. 07:00")
        return clock

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def zone(self) -> ZoneInfo:
        """The time zone digests, schedules and dates are shown in."""
        return ZoneInfo(self.timezone)

    def desk_address(self) -> str | None:
        """The desk's public address: TIPLINE_DESK_URL, else TIPLINE_DESK_LISTEN's address on
        this computer; None when neither is set."""
        if self.desk_url:
            return self.desk_url
        if self.desk_listen:
            host, port = parse_listen(self.desk_listen)
            return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
        return None

    def limits(self) -> Limits:
        """The per-person limits handlers enforce: the operator's where they set one."""
        chosen = {name: getattr(self, name) for name in _LIMITS if name in type(self).model_fields}
        return replace(_DEFAULT, **chosen)

    def catalog(self) -> Catalog:
        """Areas and categories from the operator's files, or the packaged defaults."""
        try:
            return load_catalog(
                self.areas_document(),
                _read_json(self.categories_file, "categories.json", "TIPLINE_CATEGORIES_FILE"),
            )
        except CatalogError as error:
            lines = str(error).splitlines()
            raise SettingsError("\n".join(f"tipline: {line}" for line in lines)) from None

    def areas_document(self) -> Any:
        """The map as the areas file (the operator's, or the packaged one) holds it."""
        return _read_json(self.areas_file, "areas.json", "TIPLINE_AREAS_FILE")

    def areas_path(self) -> str:
        """Where the map in use is read from."""
        return str(self.areas_file or resources.files("bot.data").joinpath("areas.json"))

    def sqlite_path(self) -> Path | None:
        """The database file, when the database is SQLite on disk."""
        prefix = "sqlite+aiosqlite:///"
        if not self.database_url.startswith(prefix) or ":memory:" in self.database_url:
            return None
        return Path(self.database_url.removeprefix(prefix))

    def require_secret(self) -> str:
        """The server secret, or stop with a clear line if it is missing or weak."""
        if self.secret_key is None:
            raise SettingsError("tipline: TIPLINE_SECRET_KEY is not set (see README: Settings)")
        secret = self.secret_key.get_secret_value()
        if len(secret) < 32:
            raise SettingsError("tipline: TIPLINE_SECRET_KEY must be at least 32 characters")
        return secret

    def require_token(self) -> str:
        """The Telegram bot token, or stop with a clear line."""
        if self.telegram_token is None:
            raise SettingsError("tipline: TIPLINE_TELEGRAM_TOKEN is not set (ask @BotFather)")
        token = self.telegram_token.get_secret_value()
        bot_id, _, rest = token.partition(":")
        if not bot_id.isdigit() or not rest:
            raise SettingsError(
                "tipline: TIPLINE_TELEGRAM_TOKEN is malformed (expected 123:ABC...)"
            )
        return token

    def zalo(self) -> str | None:
        """The Zalo bot token, if Zalo is configured (a malformed one stops with a clear line)."""
        if self.zalo_token is None:
            return None
        token = self.zalo_token.get_secret_value()
        bot_id, _, rest = token.partition(":")
        if not bot_id or not rest:
            raise SettingsError("tipline: TIPLINE_ZALO_TOKEN is malformed (expected BOT_ID:SECRET)")
        return token

    def zalo_secret(self, derived: str) -> str:
        """The secret Zalo must send with each webhook call: the setting, or one derived from
        the server secret (stable across restarts)."""
        if self.zalo_webhook_secret is None:
            return derived
        secret = self.zalo_webhook_secret.get_secret_value()
        if not 8 <= len(secret) <= 256:
            raise SettingsError("tipline: TIPLINE_ZALO_WEBHOOK_SECRET must be 8-256 characters")
        return secret

    def zalo_oa(self) -> tuple[str, str] | None:
        """(app id, OA secret key) when a Zalo Official Account is configured."""
        if self.zalo_oa_app_id is None:
            return None
        if self.zalo_oa_secret_key is None:
            raise SettingsError("tipline: TIPLINE_ZALO_OA_SECRET_KEY is not set (OA settings)")
        if not self.zalo_oa_token_file.is_file():
            raise SettingsError(
                f"tipline: TIPLINE_ZALO_OA_TOKEN_FILE: no token file at {self.zalo_oa_token_file}"
                ' (write {"access_token": "...", "refresh_token": "..."} there first)'
            )
        return self.zalo_oa_app_id, self.zalo_oa_secret_key.get_secret_value()

    def key_file(self) -> Path:
        """Where the secret key is kept when TIPLINE_SECRET_KEY is not set: beside the database."""
        db_path = self.sqlite_path()
        return (db_path.parent if db_path else Path.cwd()) / KEY_FILE

    def secret(self) -> str:
        """The server secret every command uses: TIPLINE_SECRET_KEY, else the key file made by
        `tipline init` (or the console's first start); stops with a clear line without one."""
        if self.secret_key is not None:
            return self.require_secret()
        key_file = self.key_file()
        if not key_file.is_file():
            raise SettingsError(
                f"tipline: no secret key: set TIPLINE_SECRET_KEY, or run `tipline init` once to"
                f" make {key_file}"
            )
        return key_file.read_text().strip()

    def make_key_file(self) -> Path | None:
        """Make the key file (mode 0600) when neither it nor TIPLINE_SECRET_KEY exists; returns
        it, or None when there was a key already."""
        key_file = self.key_file()
        if self.secret_key is not None or key_file.exists():
            return None
        key_file.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under another name, then linked in place: two consoles started at once
        # end up with one key, and neither ever reads a key half written.
        descriptor, written = tempfile.mkstemp(dir=key_file.parent, prefix=".tipline-key-")
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(written, key_file)
        except FileExistsError:
            return None  # the other one made it a moment ago: that is the key
        finally:
            os.unlink(written)
        return key_file


def _read_json(path: Path | None, packaged: str, setting: str) -> Any:
    try:
        if path is None:
            return json.loads(resources.files("bot.data").joinpath(packaged).read_text("utf-8"))
        return json.loads(path.read_text("utf-8"))
    except OSError as error:
        raise SettingsError(f"tipline: {setting}: cannot read {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise SettingsError(f"tipline: {setting}: not valid JSON ({error})") from None


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning any invalid one into a single line that names it."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        name = "TIPLINE_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"tipline: {name}: {first['msg']}") from None


def parse_listen(value: str) -> tuple[str, int]:
    """'0.0.0.0:8080' as (host, port)."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"tipline: --listen {value!r}: expected HOST:PORT")
    return host, int(port)
