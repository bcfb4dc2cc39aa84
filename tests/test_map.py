"""The map as data: a made-up province of three levels through the whole product, and a merge."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from bot import areas as areas_cli
from bot.cli import main
from bot.runtime import Runtime
from bot.scheduler import run_escalation
from bot.settings import SettingsError, load_settings
from handlers.common.catalog import Catalog
from storage.models import Outbox
from tests.conftest import FakeClock, Person, file_tip
from tests.messages import says
from tests.test_officers import alerted, officer, outbox_to

PROVINCE = Path(__file__).parent / "data" / "province.json"
LOCALE = Path(__file__).parents[1] / "handlers" / "locale"


def province_map() -> dict[str, Any]:
    """The made-up province's areas document, fresh for each change."""
    document: dict[str, Any] = json.loads(PROVINCE.read_text("utf-8"))
    return document


def catalog_from(tmp_path: Path, document: dict[str, Any]) -> Catalog:
    """The catalog a deployment gets from this areas document (packaged categories)."""
    path = tmp_path / "areas.json"
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    return load_settings(_env_file=None, areas_file=path).catalog()


@pytest.fixture
def province(runtime: Runtime, tmp_path: Path) -> Runtime:
    """The runtime serving the made-up province."""
    runtime.catalog = catalog_from(tmp_path, province_map())
    return runtime


async def all_alerts(runtime: Runtime, name: str) -> Person:
    """An officer of `name`'s unit (None: the province) who wants every alert."""
    person = await officer(runtime, name, None if name == "song-xanh" else name)
    await person.send("/alerts all")
    return person


async def everything_sent(runtime: Runtime, *people: Person) -> str:
    """Every text queued for anyone and every last answer these people saw."""
    async with runtime.db.transaction() as db:
        queued = [row.payload.get("text", "") for row in await db.scalars(select(Outbox))]
    return "\n".join([*queued, *(p.said() for p in people)])


async def test_a_ward_tip_reaches_its_ward_cluster_and_province_only(province: Runtime) -> None:
    for unit in ("ben-do", "dong-lua", "cum-bac", "cum-nam", "song-xanh"):
        await all_alerts(province, unit)
    resident = Person(province, user="r1", chat="r1")
    await file_tip(resident, area="ben do", story="Trộm xe ở bến đò")
    assert sorted(await alerted(province)) == ["ben-do", "cum-bac", "song-xanh"]


async def test_only_the_province_means_the_ward_and_cluster_never_see_it(
    province: Runtime,
) -> None:
    ward = await all_alerts(province, "ben-do")
    cluster = await all_alerts(province, "cum-bac")
    top = await all_alerts(province, "song-xanh")
    resident = Person(province, user="r1", chat="r1")
    await resident.send("/start")
    assert resident.shows("start", police="Công an tỉnh Sông Xanh")
    await resident.send("/tip")
    await resident.press("Ma túy")
    assert resident.shows("ask.area", level="xã, phường")  # the province's own word for it
    await resident.send("Bến Đò")
    await resident.press("Bỏ qua")
    await resident.send("Người quen ở phường bán ma túy")
    await resident.press("Hôm nay")
    await resident.press("Không")
    both = "Công an phường Bến Đò, Công an tỉnh Sông Xanh"
    assert resident.shows("review.recipients.all", police=both)
    await resident.press("chỉ Công an tỉnh Sông Xanh")
    assert resident.shows("review.recipients.top_only", police="Công an tỉnh Sông Xanh")
    await resident.press("không cho liên hệ")
    assert resident.shows("receipt")
    assert await alerted(province) == ["song-xanh"]
    for person in (ward, cluster):
        await person.send("/tips all")
        assert person.shows("tips.none"), person.user
    await top.send("/tips all")
    assert top.shows("tips.title", total=1)
    sent = await everything_sent(province, resident, ward, cluster, top)
    assert "huyện" not in sent.casefold() and "district" not in sent.casefold()


async def test_escalation_goes_one_level_up(province: Runtime, clock: FakeClock) -> None:
    await officer(province, "ben-do", "ben-do")
    await officer(province, "cum-bac", "cum-bac")
    await officer(province, "song-xanh", None)
    resident = Person(province, user="r1", chat="r1")
    code, _ = await file_tip(resident, area="ben do", urgent=True)
    before = len(await alerted(province))
    clock.advance(minutes=16)
    assert await run_escalation(province) == 1
    assert (await alerted(province))[before:] == ["cum-bac"]  # not the province yet
    escalated = (await outbox_to(province, officer=True))[-1]
    assert says(escalated.text, "alert.escalated", code=code)
    # A cluster with no officer of its own: the level above it, the province.
    await file_tip(resident, area="hoa mai", urgent=True)
    before = len(await alerted(province))
    clock.advance(minutes=16)
    assert await run_escalation(province) == 1
    assert (await alerted(province))[before:] == ["song-xanh"]


async def test_a_units_digest_rolls_up_the_units_below_it(province: Runtime) -> None:
    resident = Person(province, user="r1", chat="r1")
    for area in ("ben do", "ben do", "dong lua", "hoa mai"):
        await file_tip(resident, area=area)
    cluster = await officer(province, "cum-bac", "cum-bac")
    await cluster.send("/digest now")
    assert says(cluster.said(), "digest.new", count=3)
    wards = {"level": "xã, phường"}
    assert says(
        cluster.said(), "digest.by_area", items="Phường Bến Đò 2 (+2) · Xã Đồng Lúa 1 (+1)", **wards
    )
    top = await officer(province, "song-xanh", None)
    await top.send("/digest now")
    assert says(top.said(), "digest.new", count=4)
    clusters = {"level": "cụm", "items": "Cụm Bắc 3 (+3) · Cụm Nam 1 (+1)"}
    assert says(top.said(), "digest.by_area", **clusters)
    ward = await officer(province, "ben-do", "ben-do")
    await ward.send("/digest now")
    assert says(ward.said(), "digest.new", count=2)
    assert not says(ward.said(), "digest.by_area", **wards)  # nothing below a ward


async def test_a_merge_keeps_old_tips_under_the_new_unit_and_undoes(
    province: Runtime, tmp_path: Path
) -> None:
    resident = Person(province, user="r1", chat="r1")
    code, _ = await file_tip(resident, area="xom lua", story="Ở Đồng Lúa, trước khi sáp nhập")
    ward = await officer(province, "ben-do", "ben-do")
    await ward.send(f"/tip {code}")
    assert ward.shows("tip.not_found")
    merged = areas_cli.merge(province_map(), ["dong-lua"], "ben-do", {})
    province.catalog = catalog_from(tmp_path, merged)
    await ward.send(f"/tip {code}")
    assert "Ở Đồng Lúa, trước khi sáp nhập" in ward.said()
    assert ward.shows("view.fields", area="Phường Bến Đò")
    # Residents still say the old name, and its alias: both pick the unit it became.
    for typed in ("Đồng Lúa", "xom lua"):
        await resident.send("/tip")
        await resident.press("Ma túy")
        await resident.send(typed)
        assert resident.shows("ask.place"), typed
        await resident.send("/cancel")
    assert [a.code for a in province.catalog.areas] == ["ben-do", "hoa-mai", "dao-ngoc"]
    province.catalog = catalog_from(tmp_path, areas_cli.unmerge(merged, "dong-lua"))
    assert [a.code for a in province.catalog.areas] == ["ben-do", "dong-lua", "hoa-mai", "dao-ngoc"]
    await ward.send(f"/tip {code}")
    assert ward.shows("tip.not_found")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_text_names_a_level_of_the_map(lang: str) -> None:
    with (LOCALE / lang / "LC_MESSAGES" / "tipline.po").open("rb") as po:
        catalogue = read_po(po)
    for message in catalogue:
        forms = message.string if isinstance(message.string, tuple) else (str(message.string),)
        for form in forms:
            assert not re.search(r"\b(huyện|district)\b", form, re.IGNORECASE), (lang, message.id)


def test_areas_commands_list_check_merge_rename_and_unmerge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "areas.json"
    path.write_text(PROVINCE.read_text("utf-8"), "utf-8")
    monkeypatch.setenv("TIPLINE_AREAS_FILE", str(path))

    def tipline(*argv: str) -> str:
        main(list(argv))
        return capsys.readouterr().out

    listed = tipline("areas", "list")
    assert "  ben-do" in listed and "Công an phường Bến Đò" in listed and "[cụm]" in listed
    assert tipline("areas", "check", str(path)).strip() == f"{path}: ok"
    made = tipline(
        "areas", "merge", "ben-do", "dong-lua", "--into", "ben-lua", "--vi", "Phường Bến Lúa"
    )
    assert "restart" in made
    catalog = load_settings(_env_file=None).catalog()
    assert catalog.area("dong-lua") is catalog.area("ben-lua") is not None
    assert "Xã Đồng Lúa" in catalog.typed_names(catalog.area("ben-lua"))  # type: ignore[arg-type]
    tipline(
        "areas",
        "rename",
        "ben-lua",
        "--vi",
        "Phường Lúa Vàng",
        "--police-vi",
        "Công an phường Lúa Vàng",
    )
    renamed = load_settings(_env_file=None).catalog().area("ben-do")
    assert renamed is not None and renamed.vi == "Phường Lúa Vàng"
    assert renamed.police("vi") == "Công an phường Lúa Vàng" and "Phường Bến Lúa" in renamed.aliases
    tipline("areas", "unmerge", "ben-do")
    tipline("areas", "unmerge", "dong-lua")
    back = load_settings(_env_file=None).catalog()
    assert [a.code for a in back.areas] == ["ben-lua", "dong-lua", "ben-do", "hoa-mai", "dao-ngoc"]


def test_a_bad_areas_file_gets_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = province_map()
    wards = document["unit"]["units"][0]["units"]
    wards[0]["code"] = "dong-lua"  # twice
    wards[1]["vi"] = ""
    wards.append({"code": "bad code", "vi": "X", "police": "Công an"})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    with pytest.raises(SystemExit) as stopped:
        main(["areas", "check", str(path)])
    assert stopped.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4, lines
    assert all(line.startswith(f"{path}: areas file: ") for line in lines)
    assert "code 'dong-lua' is used twice" in lines[0]
    assert "unit 'dong-lua': needs a Vietnamese name" in lines[1]
    assert "code 'bad code' must be" in lines[2]
    assert "unit 'bad code': police: needs a Vietnamese name" in lines[3]


def test_the_packaged_map_cannot_be_changed_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIPLINE_AREAS_FILE", raising=False)
    with pytest.raises(SettingsError, match="TIPLINE_AREAS_FILE"):
        areas_cli.edited_file(load_settings(_env_file=None).areas_file)
