"""Officers end to end over the fake Bot API: alerts, triage, the anonymous dialogue, export."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook

from bot.channels.telegram import TelegramChannel
from bot.runtime import Runtime
from bot.scheduler import run_escalation
from handlers.common.texts import text
from tests.conftest import FakeClock
from tests.e2e.conftest import (
    OFFICER_ID,
    TIPSTER_FIRST,
    TIPSTER_ID,
    TIPSTER_LAST,
    TIPSTER_PHONE,
    TIPSTER_USERNAME,
    Resident,
    database_bytes,
    enrolled_officer,
    file_tip_with_photo,
    invited,
    receipt_of,
    texts,
    type_tip,
)
from tests.fake_telegram import FakeTelegramAPI, Upload
from tests.messages import says
from tests.test_export import records, unzipped


async def test_alert_triage_dialogue_and_export_over_telegram(
    production_logs: io.StringIO,
    runtime: Runtime,
    api: FakeTelegramAPI,
    delivering: None,
    tipster: Resident,
    tmp_path: Path,
) -> None:
    officer = await enrolled_officer(runtime, api, "mai-thuy")
    await officer.send("/alerts all")
    code, _ = await file_tip_with_photo(tipster, contact=True)
    alert = (await api.wait_calls("sendMessage", count=3, chat_id=OFFICER_ID))[-1].params
    assert says(alert["text"], "alert.new", code=code, area="Xã Mai Thủy")
    assert "<b>đêm qua</b>" in alert["text"] and "parse_mode" not in alert
    view = texts(await officer.press("Xem tin"))
    assert says(view, "view.head", code=code) and says(view, "view.fields")
    assert "📍 17.21000, 106.79000" in view
    (photo,) = await api.wait_calls("sendPhoto", chat_id=OFFICER_ID)
    assert photo.params["photo"] == "AgACAgPhotoFileIdXYZ"  # re-sent by id
    await officer.press("Hỏi người báo tin")
    await officer.send("Xe màu gì?")
    await api.wait_for(lambda: "Xe màu gì?" in tipster.sent()[-1]["text"])
    asked = tipster.sent()[-1]["text"]
    assert says(asked, "question.to_tipster", code=code)  # the question itself: awaited above
    assert "Trung úy" not in asked  # the officer stays unnamed too
    await tipster.press("Trả lời câu hỏi")
    await tipster.send("Màu đỏ")
    await api.wait_for(lambda: "Màu đỏ" in officer.sent()[-1]["text"])
    answer = officer.sent()[-1]["text"]
    assert says(answer, "answer.to_officer", code=code, question="Xe màu gì?")
    await officer.send(f"/tip {code}")
    await officer.press("Đã xử lý")  # the tipster will be told: asked first
    await officer.press("Có", replies=0)  # answered in the question's place
    handled = {"code": code, "status": text("vi", "status.handled")}
    await api.wait_for(lambda: says(tipster.sent()[-1]["text"], "status.notice", **handled))
    await officer.send("/export", replies=1)
    (export,) = await api.wait_calls("sendDocument", chat_id=OFFICER_ID)
    upload = export.params["document"]
    assert isinstance(upload, Upload) and upload.filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(upload.data))
    (tip,) = records(book, "export.sheet.tips")
    assert tip["export.column.code"] == code
    assert tip["export.column.status"] == text("vi", "status.handled")
    thread = [(row["export.column.who"], row["export.column.text"])
              for row in records(book, "export.sheet.thread")]  # fmt: skip
    officer_said = text("vi", "export.who.officer", name="Trung úy Lê")
    assert thread == [(officer_said, "Xe màu gì?"), (text("vi", "export.who.tipster"), "Màu đỏ")]
    workbook_text = unzipped(upload.data)  # every sheet, uncompressed
    assert api.calls_to("forwardMessage") == []  # nothing ever forwarded to an officer
    names, raw = database_bytes(tmp_path)
    logs = production_logs.getvalue()
    assert "outbox=" in logs  # officers' messages went through the logged outbox
    for needle in (str(TIPSTER_ID), TIPSTER_USERNAME, TIPSTER_FIRST, TIPSTER_LAST, TIPSTER_PHONE):
        assert needle.encode() not in raw, f"{needle!r} in {names}"
        assert needle not in workbook_text, f"{needle!r} in the export"
        assert needle not in logs
        for call in api.calls:
            if str(call.params.get("chat_id")) == str(OFFICER_ID):
                assert needle not in str(call.params), f"{needle!r} reached the officer"


async def test_commune_officer_never_hears_of_top_only_tips(
    runtime: Runtime, api: FakeTelegramAPI, delivering: None, tipster: Resident
) -> None:
    officer = await enrolled_officer(runtime, api, "mai-thuy")
    await officer.send("/alerts all")
    district = Resident(api, api.user(5550999, "Huyện"))
    await district.send(f"/officer {await invited(runtime, 'Huyện', None)}")
    await district.send("/alerts all")
    await type_tip(tipster, area="mai thuy", story=["Người quen của cán bộ xã"], urgent=False)
    await tipster.press("chỉ công an huyện", replies=0)
    review = (await api.wait_calls("editMessageText", chat_id=TIPSTER_ID))[-1].params["text"]
    assert says(review, "review.recipients.top_only", police="Công an huyện Lệ Thủy")
    tip_code, _ = receipt_of(await tipster.press("không cho liên hệ"))
    await api.wait_for(lambda: tip_code in district.sent()[-1]["text"])
    assert all(tip_code not in m["text"] for m in officer.sent())
    assert says(texts(await officer.send(f"/tip {tip_code}")), "tip.not_found", code=tip_code)


async def test_a_long_tip_reaches_the_officer_whole(
    runtime: Runtime, api: FakeTelegramAPI, tipster: Resident, polling: TelegramChannel
) -> None:
    officer = await enrolled_officer(runtime, api, None)
    first, second = "A" * 1490 + " đầu", "B" * 1490 + " cuối"
    await type_tip(tipster, area="kien giang", story=[first, second], urgent=False)
    code, _ = receipt_of(await tipster.press("không cho liên hệ"))
    await officer.send(f"/tip {code}")
    await officer.press("Hỏi người báo tin")
    question = "C" * 1990 + " hỏi"
    await officer.send(question)
    pieces = await officer.send(f"/tip {code}", replies=2)
    assert all(len(piece["text"]) <= 4096 for piece in pieces)
    whole = "\n".join(piece["text"] for piece in pieces)
    assert f"{first}\n\n{second}" in whole and question in whole
    assert "inline_keyboard" in pieces[-1]["reply_markup"]  # the buttons ride on the last part


async def test_enrolment_codes_over_telegram(
    runtime: Runtime, api: FakeTelegramAPI, polling: TelegramChannel, clock: FakeClock
) -> None:
    first = Resident(api, api.user(6001, "Một"))
    second = Resident(api, api.user(6002, "Hai"))
    code = await invited(runtime, "Một", "an-thuy")
    assert says(texts(await first.send(f"/officer {code}")), "officer.welcome", name="Một")
    assert says(texts(await second.send(f"/officer {code}")), "officer.bad_code")  # reused
    assert says(texts(await second.send("/officer AAAAAAAAAA")), "officer.bad_code")  # forged
    late = await invited(runtime, "Muộn", None)
    clock.advance(hours=73)
    expired = texts(await second.send(f"/start off-{late}"))
    assert says(expired, "officer.expired_code")  # an expired deep link
    assert says(texts(await second.send("/tips", replies=2)), "unknown.command")


async def test_two_communes_escalation_pushes_and_waiting_question_over_telegram(
    runtime: Runtime,
    api: FakeTelegramAPI,
    delivering: None,
    tipster: Resident,
    clock: FakeClock,
) -> None:
    an = Resident(api, api.user(7001, "An"))
    cam = Resident(api, api.user(7002, "Cam"))
    district = Resident(api, api.user(7003, "Huyện"))
    for person, area in ((an, "mai-thuy"), (cam, "cam-thuy"), (district, None)):
        await person.send(f"/officer {await invited(runtime, person.user['first_name'], area)}")
    code, _ = await file_tip_with_photo(tipster, contact=True)
    # Not urgent: nobody is alerted at the default level; the district officer lists it.
    await district.send("/tips new")
    assert district.button(code)[1] > 0
    assert says(texts(await cam.send(f"/tip {code}")), "tip.not_found", code=code)
    forged = api.callback_update(cam.user, f"o:st:handled:{1}", message_id=1)
    assert says(texts(await cam.push(forged)), "not.allowed")
    await an.send(f"/tip {code}")

    async def tipster_told(status: str) -> None:
        news = {"code": code, "status": text("vi", status)}
        await api.wait_for(lambda: says(tipster.sent()[-1]["text"], "status.notice", **news))

    for button, status in (("Đang xác minh", "status.verifying"), ("Đã xử lý", "status.handled")):
        await an.press(button)
        await an.press("Có", replies=0)
        await tipster_told(status)
        await an.send(f"/tip {code}")
    await an.press("Đóng: tin rác")
    await an.press("Có", replies=0)
    await an.send("Không có thật")
    await tipster_told("status.closed_spam")
    # An urgent tip nobody acknowledges reaches the district officer once, 15 minutes on.
    await type_tip(tipster, area="cam thuy", story=["Đang mua bán ngay bây giờ"], urgent=True)
    urgent, urgent_passphrase = receipt_of(await tipster.press("không cho liên hệ"))
    await api.wait_for(lambda: any(urgent in m["text"] for m in cam.sent()))
    assert all(urgent not in m["text"] for m in an.sent())
    clock.advance(minutes=16)
    assert await run_escalation(runtime) == 1
    escalated = {"code": urgent}
    await api.wait_for(lambda: says(district.sent()[-1]["text"], "alert.escalated", **escalated))
    assert await run_escalation(runtime) == 0
    # Without contact, the question waits for the tipster's next /status.
    await cam.send(f"/tip {urgent}")
    await cam.press("Hỏi người báo tin")
    waiting = texts(await cam.send("Có bao nhiêu người?"))
    assert says(waiting, "question.waiting", code=urgent)
    await tipster.send(f"/status {urgent}")
    status = texts(await tipster.send(urgent_passphrase))
    assert says(status, "thread.question") and "Có bao nhiêu người?" in status
    await tipster.press("Trả lời câu hỏi")
    await tipster.send("Ba người")
    await api.wait_for(lambda: "Ba người" in cam.sent()[-1]["text"])
    assert says(cam.sent()[-1]["text"], "answer.to_officer", code=urgent)


async def test_a_morning_queue_confirmed_and_walked_over_telegram(
    runtime: Runtime,
    api: FakeTelegramAPI,
    delivering: None,
    tipster: Resident,
    clock: FakeClock,
) -> None:
    """/tips lists the lines with number buttons, oldest first; a change the tipster hears of
    waits for "Có", which turns the question into its answer with "next tip" under it."""
    officer = await enrolled_officer(runtime, api, None)
    await type_tip(tipster, area="kien giang", story=["Bán ma túy ở cuối ngõ 5"], urgent=False)
    first, _ = receipt_of(await tipster.press("cho phép"))
    clock.advance(minutes=5)
    await type_tip(tipster, area="mai thuy", story=["Trộm xe máy ở chợ"], urgent=False)
    second, _ = receipt_of(await tipster.press("không cho liên hệ"))
    listed = texts(await officer.send("/tips"))
    assert says(listed, "tips.line", number=1, code=first, excerpt="Bán ma túy ở cuối ngõ 5")
    assert says(listed, "tips.line", number=2, code=second, excerpt="Trộm xe máy ở chợ")
    keyboard = api.calls_to("sendMessage", chat_id=OFFICER_ID)[-1].params["reply_markup"]
    labels = [button["text"] for row in keyboard["inline_keyboard"] for button in row]
    assert labels == [f"1 · {first}", f"2 · {second}"]
    assert says(texts(await officer.press("1 ·")), "view.head", code=first)
    asked = texts(await officer.press("Đã xử lý"))
    assert says(asked, "confirm.status", code=first, status=text("vi", "status.handled"))
    edits = len(api.calls_to("editMessageText", chat_id=OFFICER_ID))
    await officer.press("Có", replies=0)
    redrawn = await api.wait_calls("editMessageText", count=edits + 1, chat_id=OFFICER_ID)
    assert says(redrawn[-1].params["text"], "status.changed", code=first)
    news = {"code": first, "status": text("vi", "status.handled")}
    await api.wait_for(lambda: says(tipster.sent()[-1]["text"], "status.notice", **news))
    assert says(texts(await officer.press("Tin tiếp theo")), "view.head", code=second)
