"""Small pieces: operator data, codes, sealing, splitting, settings."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import fields
from pathlib import Path

import pytest

from bot.channels.base import split_text
from bot.cli import parser
from bot.settings import Settings, SettingsError, load_settings
from handlers.common.catalog import CatalogError, load_catalog
from handlers.common.codes import (
    CODE_ALPHABET,
    new_code,
    new_passphrase,
    parse_code,
    show_code,
)
from handlers.common.sealing import UNUSABLE_PASSPHRASE, Sealer, check_passphrase, hash_passphrase
from handlers.common.types import Limits
from storage.folding import fold


def test_packaged_catalog_has_the_articles_district_and_categories() -> None:
    catalog = load_settings(_env_file=None).catalog()
    assert len(catalog.areas) == 28  # 26 communes and 2 towns
    assert catalog.area("ngu-thuy-bac") is not None
    assert catalog.categories[0].code == "drugs"
    assert catalog.bbox is not None and catalog.bbox.south < catalog.bbox.north


@pytest.mark.parametrize(
    ("areas", "categories", "message"),
    [
        ({"areas": []}, {"categories": [{"code": "a", "vi": "A"}]}, "'unit'"),
        (
            {"district": {"code": "d", "vi": "D"}, "areas": [{"code": "a", "vi": "A"}] * 2},
            {"categories": [{"code": "a", "vi": "A"}]},
            "used twice",
        ),
        (
            {"district": {"code": "d", "vi": "D"}, "areas": [{"code": "a:b", "vi": "A"}]},
            {"categories": [{"code": "a", "vi": "A"}]},
            "ASCII",
        ),
        (
            {"district": {"code": "d", "vi": "D"}, "areas": [{"vi": "A"}]},
            {"categories": []},
            "code",
        ),
        (
            {"district": {"code": "d", "vi": "D"}, "areas": [{"code": "a", "vi": "A"}]},
            [],
            "categories",
        ),
    ],
)
def test_bad_catalog_files_are_refused_with_a_reason(
    areas: object, categories: object, message: str
) -> None:
    with pytest.raises(CatalogError, match=message):
        load_catalog(areas, categories)


def test_fold_removes_vietnamese_accents() -> None:
    assert fold("Ma Túy") == "ma tuy"
    assert fold("  Đánh   nhau ") == "danh nhau"
    assert fold("Xã Ngư Thủy Bắc") == "xa ngu thuy bac"


def test_codes_avoid_confusable_characters() -> None:
    assert not set("01OIL") & set(CODE_ALPHABET)
    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(re.fullmatch(f"[{CODE_ALPHABET}]{{8}}", c) for c in codes)
    assert show_code("ABCDEFGH") == "ABCD-EFGH"
    assert parse_code(" abcd-efgh ") == "ABCDEFGH"
    assert parse_code("ABCD EFG2") == "ABCDEFG2"
    assert parse_code("ABCD-EFG0") is None and parse_code("ABC") is None


def test_passphrase_hash_checks_and_salts() -> None:
    phrase = new_passphrase().replace(" ", "")
    stored = hash_passphrase(phrase)
    assert check_passphrase(phrase, stored)
    assert not check_passphrase("00000000", stored)
    assert hash_passphrase(phrase) != stored


def test_sealed_address_opens_only_for_its_record() -> None:
    sealer = Sealer("s" * 40)
    box = sealer.seal("telegram:987654321", bound_to="ABCDEFGH")
    assert b"987654321" not in box
    assert sealer.open(box, bound_to="ABCDEFGH") == "telegram:987654321"
    assert sealer.open(box, bound_to="ZZZZZZZZ") is None
    assert Sealer("t" * 40).open(box, bound_to="ABCDEFGH") is None
    tampered = box[:-1] + bytes([box[-1] ^ 1])
    assert sealer.open(tampered, bound_to="ABCDEFGH") is None


def test_pseudonyms_are_stable_keyed_and_per_channel() -> None:
    sealer = Sealer("s" * 40)
    alias = sealer.pseudonym("telegram", "987654321")
    assert alias == sealer.pseudonym("telegram", "987654321")
    assert alias != sealer.pseudonym("zalo", "987654321")
    assert alias != Sealer("t" * 40).pseudonym("telegram", "987654321")
    assert "987654321" not in alias


def test_split_text_keeps_every_character_and_prefers_line_breaks() -> None:
    lines = [f"dòng {n} " + "x" * 50 for n in range(200)]
    long_text = "\n".join(lines)
    pieces = split_text(long_text, 4096)
    assert all(len(p) <= 4096 for p in pieces) and len(pieces) > 1
    assert "\n".join(pieces) == long_text
    one_line = "từ " * 3000
    pieces = split_text(one_line, 1000)
    assert all(len(p) <= 1000 for p in pieces)
    assert "".join(pieces).replace(" ", "") == one_line.replace(" ", "")
    word = "y" * 2500
    assert "".join(split_text(word, 1000)) == word


def test_missing_or_malformed_settings_name_themselves(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TIPLINE_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="TIPLINE_TIMEZONE"):
        load_settings(_env_file=None)
    monkeypatch.delenv("TIPLINE_TIMEZONE")
    monkeypatch.setenv("TIPLINE_DATABASE_URL", "mysql://x")
    with pytest.raises(SettingsError, match="TIPLINE_DATABASE_URL"):
        load_settings(_env_file=None)
    monkeypatch.delenv("TIPLINE_DATABASE_URL")
    monkeypatch.setenv("TIPLINE_DIGEST_TIME", "7 giờ")
    with pytest.raises(SettingsError, match=r"TIPLINE_DIGEST_TIME: .*HH:MM"):
        load_settings(_env_file=None)
    monkeypatch.setenv("TIPLINE_DIGEST_TIME", "6h30")
    assert load_settings(_env_file=None).limits().digest_time == "06:30"
    monkeypatch.delenv("TIPLINE_DIGEST_TIME")
    monkeypatch.setenv("TIPLINE_ZALO_TOKEN", "no-colon")
    with pytest.raises(SettingsError, match="TIPLINE_ZALO_TOKEN is malformed"):
        load_settings(_env_file=None).zalo()
    monkeypatch.setenv("TIPLINE_ZALO_WEBHOOK_SECRET", "short")
    with pytest.raises(SettingsError, match="TIPLINE_ZALO_WEBHOOK_SECRET must be 8-256"):
        load_settings(_env_file=None).zalo_secret("derived")
    monkeypatch.delenv("TIPLINE_ZALO_TOKEN")
    monkeypatch.delenv("TIPLINE_ZALO_WEBHOOK_SECRET")
    settings = load_settings(_env_file=None)
    with pytest.raises(SettingsError, match="TIPLINE_TELEGRAM_TOKEN is not set"):
        settings.require_token()
    with pytest.raises(SettingsError, match="TIPLINE_SECRET_KEY is not set"):
        settings.require_secret()
    bad = tmp_path / "areas.json"
    bad.write_text("{not json")
    monkeypatch.setenv("TIPLINE_AREAS_FILE", str(bad))
    with pytest.raises(SettingsError, match="TIPLINE_AREAS_FILE: not valid JSON"):
        load_settings(_env_file=None).catalog()
    bad.write_text(json.dumps({"areas": []}))
    with pytest.raises(SettingsError, match="areas file"):
        load_settings(_env_file=None).catalog()


def test_every_limit_an_operator_sets_reaches_the_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limits' defaults are written once (Limits); each setting changes its own limit."""
    defaults = load_settings(_env_file=None).limits()
    assert defaults == Limits()
    settable = [limit.name for limit in fields(Limits) if limit.name in Settings.model_fields]
    assert "tips_per_hour" in settable and "digest_time" in settable
    for name in settable:
        value = getattr(defaults, name)
        if isinstance(value, bool):
            changed: object = not value
        else:
            changed = "06:30" if isinstance(value, str) else value + 1
        monkeypatch.setenv(f"TIPLINE_{name.upper()}", str(changed))
    limits = load_settings(_env_file=None).limits()
    assert [name for name in settable if getattr(limits, name) == getattr(defaults, name)] == []


def test_dot_env_file_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("TIPLINE_TIPS_PER_HOUR=2\nTIPLINE_TIMEZONE=Asia/Bangkok\n")
    settings = load_settings()
    assert settings.tips_per_hour == 2 and settings.timezone == "Asia/Bangkok"
    monkeypatch.setenv("TIPLINE_TIPS_PER_HOUR", "3")  # the environment wins over .env
    assert load_settings().tips_per_hour == 3


def test_the_key_file_is_made_once_with_0600_and_read_by_every_command(tmp_path: Path) -> None:
    """`tipline init` (or the console's first start) makes it; nothing else does."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'tipline.db'}"
    settings = load_settings(_env_file=None, database_url=url)
    with pytest.raises(SettingsError, match="tipline init"):
        settings.secret()
    assert not (tmp_path / "data" / "tipline.secret").exists()  # asking made nothing
    key_file = settings.make_key_file()
    assert key_file == tmp_path / "data" / "tipline.secret"
    assert key_file.stat().st_mode & 0o777 == 0o600
    first = settings.secret()
    assert len(first) >= 32 and settings.make_key_file() is None and settings.secret() == first
    from_env = load_settings(_env_file=None, database_url=url, secret_key="k" * 40)
    assert from_env.secret() == "k" * 40 and from_env.make_key_file() is None


def test_two_consoles_started_at_once_end_up_with_one_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second console looked before the first had made the key: it keeps the first's,
    whole, and leaves nothing behind."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'tipline.db'}"
    settings = load_settings(_env_file=None, database_url=url)
    assert settings.make_key_file() is not None
    first = settings.secret()
    monkeypatch.setattr(Path, "exists", lambda _path: False)  # as it was when it looked
    assert settings.make_key_file() is None
    monkeypatch.undo()
    assert settings.secret() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tipline.secret"]


def test_a_sealed_passphrase_opens_only_for_its_own_tip_and_key() -> None:
    sealer = Sealer("s" * 40)
    stored = sealer.seal_passphrase("12345678", code="ABCD2345")
    assert "12345678" not in stored
    assert sealer.passphrase_matches("12345678", stored, code="ABCD2345")
    assert not sealer.passphrase_matches("12345679", stored, code="ABCD2345")
    assert not sealer.passphrase_matches("12345678", stored, code="ABCD2346")  # moved
    assert not Sealer("t" * 40).passphrase_matches("12345678", stored, code="ABCD2345")
    assert sealer.open_passphrase("sealed$not base64!", code="ABCD2345") is None
    assert not sealer.passphrase_matches("12345678", UNUSABLE_PASSPHRASE, code="ABCD2345")
    hashed = hash_passphrase("12345678")
    assert sealer.passphrase_matches("12345678", hashed, code="ABCD2345")


def test_every_command_says_what_it_does_with_an_example() -> None:
    """`tipline X --help` for every command and action: a description and a runnable example."""
    pending = [parser()]
    seen = 0
    while pending:
        current = pending.pop()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending += list(action.choices.values())
        if current.prog != "tipline":
            text = current.format_help()
            assert current.description and "example:\n  .venv/bin/tipline " in text, current.prog
            seen += 1
    assert seen >= 14  # run, webhook, console, init, migrate, tip, officer, patrol, audit, ...
