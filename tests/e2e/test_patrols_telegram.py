"""A patrol shift over the fake Bot API: join link, share-location keyboard, incident to officer."""

from __future__ import annotations

from bot.runtime import Runtime
from tests.e2e.conftest import Resident, enrolled_officer, texts
from tests.fake_telegram import FakeTelegramAPI
from tests.messages import filled, says


async def test_a_shift_over_telegram(
    runtime: Runtime, api: FakeTelegramAPI, delivering: None
) -> None:
    boss = await enrolled_officer(runtime, api, "an-thuy")
    made = texts(await boss.send("/newpatrol Tổ thôn 3"))
    code = filled(made, "patrol.created")["code"]
    assert f"https://t.me/tipline_test_bot?start=pt-{code}" in made
    member = Resident(api, api.user(8001, "Hùng", username="hung_patrol"))
    assert says(texts(await member.send(f"/start pt-{code}")), "join.ask_name", group="Tổ thôn 3")
    await member.send("Hùng")
    ask = (await member.send("/checkin"))[-1]
    keyboard = ask["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_location"] is True
    started = texts(await member.push(api.location_update(member.user, 17.1, 106.7), replies=2))
    assert says(started, "checkin.done")
    await member.press("Điểm kiểm tra")
    await member.push(api.location_update(member.user, 17.11, 106.71), replies=2)
    await member.press("Báo sự việc")
    await member.press("Trộm cắp")
    photo = api.photo_update(member.user, "AgACPatrolIncident", caption="Trộm xe ở chợ")
    assert says(texts(await member.push(photo, replies=2)), "incident.done")
    reported = {"group": "Tổ thôn 3", "member": "Hùng"}
    await api.wait_for(lambda: says(boss.sent()[-1]["text"], "incident.to_officer", **reported))
    assert "Trộm xe ở chợ" in boss.sent()[-1]["text"]
    (resent,) = await api.wait_calls("sendPhoto", chat_id=boss.chat_id)
    assert resent.params["photo"] == "AgACPatrolIncident"
    await member.send("/checkout")
    assert says(texts(await member.press("Bình thường")), "checkout.done")
    route = texts(await boss.send("/patrol Tổ thôn 3"))
    assert "📍 17.11000, 106.71000" in route and "Hùng" in route
    assert api.calls_to("forwardMessage") == []
