"""The one catalogue of everything a person reads: Vietnamese first, English second."""

from __future__ import annotations

from typing import Any

LANGUAGES = ("vi", "en")

TEXTS: dict[str, tuple[str, str]] = {
    # --- greeting and menu ---
    "start": (
        "Xin chào! Đây là kênh tin báo ẩn danh về tội phạm và trật tự công cộng gửi tới "
        "Công an {district}.\n"
        "🔒 Chúng tôi KHÔNG lưu tên, số điện thoại hay tài khoản của bạn; chỉ lưu nội dung "
        "tin báo bạn gửi.\n"
        "Chỉ khi bạn đồng ý, một địa chỉ liên hệ đã mã hóa được giữ để công an hỏi thêm; "
        "bạn có thể xóa nó bất cứ lúc nào.\n"
        "🚨 Việc khẩn cấp, nguy hiểm đến tính mạng: gọi ngay 113.",
        "Hello! This is an anonymous line for tips about crime and public order, sent to the "
        "{district} police.\n"
        "🔒 We do NOT store your name, phone number or account; only what you report.\n"
        "Only if you agree is an encrypted contact address kept so officers can ask you "
        "questions; you can delete it at any time.\n"
        "🚨 Emergencies, danger to life: call 113 now.",
    ),
    "menu.tip": ("📝 Gửi tin báo", "📝 Send a tip"),
    "menu.status": ("🔎 Xem tin đã gửi", "🔎 Check a tip"),
    "menu.help": ("❓ Hướng dẫn", "❓ Help"),
    "menu.lang": ("🌐 Ngôn ngữ / Language", "🌐 Ngôn ngữ / Language"),
    "help": (
        "Cách dùng:\n"
        "/tip – gửi tin báo mới (vài bước, có nút bấm)\n"
        "/status MÃ – xem tình trạng tin đã gửi (cần mật khẩu)\n"
        "/forget MÃ – xóa địa chỉ liên hệ của bạn với tin đó\n"
        "/cancel – hủy việc đang làm\n"
        "/lang – đổi ngôn ngữ\n"
        "Tin báo không phải đường dây khẩn cấp: việc khẩn cấp gọi 113.",
        "How to use:\n"
        "/tip – send a new tip (a few steps with buttons)\n"
        "/status CODE – see how a tip you sent is going (needs the passphrase)\n"
        "/forget CODE – delete your contact address for that tip\n"
        "/cancel – stop what you are doing\n"
        "/lang – change language\n"
        "This is not an emergency line: for emergencies call 113.",
    ),
    "lang.ask": ("Chọn ngôn ngữ:", "Choose a language:"),
    "lang.done": ("Đã chuyển sang tiếng Việt.", "Language set to English."),
    "cancelled": ("Đã hủy. Không có gì được gửi đi.", "Cancelled. Nothing was sent."),
    "cancel.nothing": (
        "Không có việc gì đang dở. Gõ /tip để gửi tin báo.",
        "Nothing is in progress. Type /tip to send a tip.",
    ),
    "resume": ("Tiếp tục tin báo đang soạn:", "Back to the tip you were writing:"),
    "draft.expired": (
        "Tin báo bạn soạn dở đã quá {hours} giờ nên đã bị xóa.",
        "Your unfinished tip was older than {hours} hours and has been deleted.",
    ),
    "error": (
        "Xin lỗi, đã có lỗi. Tin báo bạn đang soạn vẫn còn; hãy thử lại.",
        "Sorry, something went wrong. Your draft is still here; please try again.",
    ),
    # --- the tip flow ---
    "ask.category": ("Bước 1: Bạn muốn báo về việc gì?", "Step 1: What is it about?"),
    "ask.area": (
        "Bước 2: Việc xảy ra ở xã, thị trấn nào? (trang {page}/{pages})",
        "Step 2: Which commune or town? (page {page}/{pages})",
    ),
    "page.prev": ("◀ Trước", "◀ Back"),
    "page.next": ("Tiếp ▶", "More ▶"),
    "ask.place": (
        "Bước 3: Thôn, xóm hay địa điểm cụ thể? Gõ tên nơi đó, hoặc gửi vị trí. "
        "Không muốn ghi thì bấm Bỏ qua.",
        "Step 3: Which village or place exactly? Type it, or share a location. "
        "Press Skip to leave it out.",
    ),
    "skip": ("Bỏ qua", "Skip"),
    "share.location": ("📍 Gửi vị trí", "📍 Share location"),
    "place.too_long": (
        "Tên địa điểm dài quá (tối đa {limit} ký tự). Hãy gõ ngắn hơn, hoặc bấm Bỏ qua.",
        "That place name is too long (at most {limit} characters). Type a shorter one, or Skip.",
    ),
    "ask.description": (
        "Bước 4: Chuyện gì đã xảy ra? Gửi một hay nhiều tin nhắn; có thể kèm ảnh, video, "
        "ghi âm hoặc tệp. Đừng ghi tên mình.",
        "Step 4: What happened? Send one or more messages; photos, videos, voice notes and "
        "files are welcome. Do not write your own name.",
    ),
    "got.piece": (
        "Đã nhận ({texts} tin nhắn, {files} tệp). Có thể gửi thêm.\n"
        "Xong rồi thì chọn: việc này xảy ra khi nào?",
        "Got it ({texts} messages, {files} files). You can send more.\n"
        "When you are done, choose: when did it happen?",
    ),
    "got.location": (
        "Đã ghi nhận vị trí cho tin báo.",
        "The location has been added to the tip.",
    ),
    "description.too_long": (
        "Nội dung dài quá: tối đa {limit} ký tự, bạn còn {left} ký tự. Tin nhắn vừa rồi "
        "chưa được thêm; hãy gửi ngắn hơn hoặc chọn thời điểm để tiếp tục.",
        "Too long: at most {limit} characters, {left} left. The last message was not added; "
        "send a shorter one, or choose when it happened to go on.",
    ),
    "description.too_many_files": (
        "Tối đa {limit} tệp đính kèm; tệp vừa rồi chưa được thêm.",
        "At most {limit} attachments; the last one was not added.",
    ),
    "media.original": (
        "⚠️ Ảnh/video gửi dạng tệp (file) giữ nguyên thông tin ẩn, có thể gồm nơi chụp và "
        "loại điện thoại; công an sẽ thấy. Nếu không muốn, ở bước kiểm tra hãy chọn Sửa → "
        "Nội dung rồi gửi lại dưới dạng ảnh thường.",
        "⚠️ A picture or video sent as a file keeps its hidden details, which can include "
        "where it was taken and the phone model; officers will see them. If you don't want "
        "that, choose Edit → What happened at the review and send it again as a photo.",
    ),
    "description.empty": (
        "Hãy kể ngắn gọn chuyện gì đã xảy ra trước đã.",
        "Please describe what happened first.",
    ),
    "ask.when": ("Việc này xảy ra khi nào?", "When did it happen?"),
    "when.now": ("Đang/vừa xảy ra", "Happening now"),
    "when.today": ("Hôm nay", "Today"),
    "when.earlier": ("Trước đó", "Earlier"),
    "when.unknown": ("Không rõ", "Not sure"),
    "ask.urgent": (
        "Việc này có khẩn cấp không (có người đang gặp nguy hiểm)?",
        "Is it urgent (is someone in danger right now)?",
    ),
    "yes": ("Có", "Yes"),
    "no": ("Không", "No"),
    "urgent.113": (
        "🚨 Nếu có người đang gặp nguy hiểm, hãy GỌI 113 ngay. Tin báo này là kênh không "
        "khẩn cấp; chúng tôi đánh dấu tin của bạn là khẩn.",
        "🚨 If someone is in danger, CALL 113 now. This tip line is not an emergency "
        "line; your tip is marked urgent.",
    ),
    "review": (
        "Kiểm tra lại tin báo:\n"
        "• Loại việc: {category}\n"
        "• Địa bàn: {area}\n"
        "• Địa điểm: {place}\n"
        "• Thời điểm: {when}\n"
        "• Khẩn cấp: {urgent}\n"
        "• Tệp đính kèm: {files}\n"
        "{recipients}\n"
        "• Nội dung:\n{text}\n\n"
        "Công an có được nhắn lại cho bạn qua cuộc trò chuyện này để hỏi thêm và báo kết quả "
        "không? Chọn một trong hai nút Gửi.",
        "Check your tip:\n"
        "• About: {category}\n"
        "• Area: {area}\n"
        "• Place: {place}\n"
        "• When: {when}\n"
        "• Urgent: {urgent}\n"
        "• Attachments: {files}\n"
        "{recipients}\n"
        "• What happened:\n{text}\n\n"
        "May officers message you in this chat with questions and news of your tip? "
        "Choose one of the two Send buttons.",
    ),
    "place.none": ("(không ghi)", "(none)"),
    "place.pin": ("📍 vị trí đã gửi", "📍 shared location"),
    "send.contact": ("✅ Gửi, cho phép liên hệ lại", "✅ Send, you may contact me"),
    "send.anonymous": ("✅ Gửi, không liên hệ lại", "✅ Send, do not contact me"),
    "edit": ("✏️ Sửa", "✏️ Edit"),
    "cancel": ("✖️ Hủy", "✖️ Cancel"),
    "ask.edit": ("Sửa phần nào?", "What do you want to change?"),
    "field.category": ("Loại việc", "What it is about"),
    "field.area": ("Địa bàn", "Commune"),
    "field.place": ("Địa điểm", "Place"),
    "field.description": ("Nội dung (gửi lại từ đầu)", "What happened (start again)"),
    "field.when": ("Thời điểm", "When"),
    "field.urgent": ("Khẩn cấp", "Urgency"),
    "receipt": (
        "✅ Đã gửi tin báo. Cảm ơn bạn!\n"
        "Mã tin báo: {code}\n"
        "Mật khẩu: {passphrase}\n"
        "Hãy ghi lại mã và mật khẩu (chụp màn hình rồi xóa tin nhắn cũng được). Đây là cách "
        "duy nhất để xem lại tin: /status {code}",
        "✅ Your tip has been sent. Thank you!\n"
        "Tip code: {code}\n"
        "Passphrase: {passphrase}\n"
        "Write both down (or take a screenshot). They are the only way to follow your tip: "
        "/status {code}",
    ),
    "receipt.contact": (
        "Công an có thể nhắn hỏi bạn qua đây. Muốn dừng: /forget {code}",
        "Officers may message you here. To stop that: /forget {code}",
    ),
    "receipt.anonymous": (
        "Sẽ không có ai nhắn lại cho bạn; câu hỏi của công an (nếu có) sẽ hiện khi bạn "
        "xem /status.",
        "Nobody will message you; any question from officers will show up when you check /status.",
    ),
    # --- following a tip up ---
    "ask.code": (
        "Gõ mã tin báo (8 ký tự, ví dụ ABCD-EFGH):",
        "Type the tip code (8 characters, e.g. ABCD-EFGH):",
    ),
    "bad.code": (
        "Đó không phải là mã tin báo. Mã có 8 ký tự chữ và số, ví dụ ABCD-EFGH. Gõ lại, "
        "hoặc /cancel.",
        "That is not a tip code. A code has 8 letters and digits, like ABCD-EFGH. Type it "
        "again, or /cancel.",
    ),
    "ask.passphrase": ("Gõ mật khẩu của tin {code}:", "Type the passphrase for tip {code}:"),
    "bad.passphrase": (
        "Mã hoặc mật khẩu không đúng. Thử lại với /status MÃ.",
        "The code or passphrase is not right. Try again with /status CODE.",
    ),
    "locked": (
        "Đã nhập sai quá nhiều lần. Thử lại sau {until}.",
        "Too many wrong attempts. Try again after {until}.",
    ),
    "status.view": (
        "Tin báo {code} ({category}, {area}), gửi ngày {sent}\nTình trạng: {status}",
        "Tip {code} ({category}, {area}), sent {sent}\nStatus: {status}",
    ),
    "status.history": ("Diễn biến:", "History:"),
    "status.contact_on": (
        "Công an có thể nhắn cho bạn. Muốn dừng: /forget {code}",
        "Officers may message you. To stop that: /forget {code}",
    ),
    "status.contact_off": (
        "Không có địa chỉ liên hệ nào được lưu cho tin này.",
        "No contact address is kept for this tip.",
    ),
    "status.received": ("Đã tiếp nhận", "Received"),
    "status.verifying": ("Đang xác minh", "Being verified"),
    "status.handled": ("Đã xử lý", "Dealt with"),
    "status.closed_unfounded": ("Đã đóng (không có cơ sở)", "Closed (unfounded)"),
    "status.closed_duplicate": ("Đã đóng (trùng tin khác)", "Closed (duplicate)"),
    "status.closed_spam": ("Đã đóng (tin rác)", "Closed (spam)"),
    "status.note": ("Ghi chú của công an: {note}", "Note from the police: {note}"),
    "status.notice": (
        "Tin báo {code} của bạn có cập nhật: {status}. Xem chi tiết: /status {code}",
        "Your tip {code} has news: {status}. Details: /status {code}",
    ),
    "forget.done": (
        "Đã xóa địa chỉ liên hệ của tin {code}. Sẽ không ai nhắn cho bạn về tin này nữa; "
        "bạn vẫn xem được bằng /status.",
        "The contact address for tip {code} is deleted. Nobody will message you about it "
        "again; /status still works.",
    ),
    "forget.none": (
        "Tin {code} không có địa chỉ liên hệ nào (hoặc đã xóa rồi).",
        "Tip {code} has no contact address (or it was already deleted).",
    ),
    # --- bad input ---
    "use.buttons": (
        "Hãy bấm một nút bên dưới (hoặc gõ đúng tên lựa chọn). /cancel để hủy.",
        "Please press one of the buttons below (or type the option's name). /cancel to stop.",
    ),
    "stale.button": (
        "Nút đó thuộc tin nhắn cũ. Đây là bước hiện tại:",
        "That button belongs to an older message. Here is where you are:",
    ),
    "bad.button": (
        "Nút đó không hợp lệ. Đây là bước hiện tại:",
        "That button is not valid. Here is where you are:",
    ),
    "unsupported": (
        "Tôi chưa dùng được loại tin nhắn này. Hãy gõ chữ, hoặc gửi ảnh, video, ghi âm, tệp.",
        "I can't use that kind of message. Please type text, or send a photo, video, voice "
        "note or file.",
    ),
    "unsupported.contact": (
        "Vì an toàn của bạn, danh bạ/số điện thoại không được nhận và không được lưu. "
        "Nếu cần, hãy tả người đó bằng lời.",
        "For your safety, contacts and phone numbers are neither accepted nor stored. "
        "Describe the person in words if needed.",
    ),
    "edited": (
        "Tôi không nhận được phần sửa tin nhắn. Nếu cần sửa, hãy gửi một tin nhắn mới.",
        "Edits to messages are not seen. To correct something, send a new message.",
    ),
    "forwarded": (
        "Tin chuyển tiếp có thể lộ người viết ban đầu nên không được nhận. Hãy gõ lại hoặc "
        "sao chép nội dung rồi gửi.",
        "Forwarded messages can reveal who wrote them, so they are not accepted. Please type "
        "or copy the text and send it.",
    ),
    "unknown.command": (
        "Tôi không hiểu lệnh đó. Gõ /help để xem các lệnh.",
        "I don't know that command. Type /help to see what I can do.",
    ),
    "no.text": (
        "Hãy gửi bằng chữ ở bước này.",
        "Please answer in text at this step.",
    ),
    "idle.hint": (
        "Muốn gửi tin báo, gõ /tip hoặc bấm nút bên dưới.",
        "To send a tip, type /tip or press a button below.",
    ),
    "group.private": (
        "Tin báo chỉ nhận qua tin nhắn riêng để giữ bí mật cho bạn. Hãy nhắn riêng cho bot"
        "{handle}. Đừng gửi tin báo vào nhóm.",
        "Tips are taken only in a private chat, to keep you anonymous. Message the bot"
        "{handle} privately. Do not post tips in a group.",
    ),
    "rate.messages": (
        "Bạn gửi nhanh quá. Chờ một phút rồi gửi tiếp nhé.",
        "You are sending very fast. Please wait a minute and go on.",
    ),
    "rate.tips": (
        "Bạn đã gửi {limit} tin báo trong giờ này. Hãy thử lại sau {until}; tin đang soạn "
        "vẫn được giữ.",
        "You have sent {limit} tips this hour. Please try again after {until}; your draft is kept.",
    ),
    # --- resident: district-only and the follow-up thread ---
    "review.recipients.all": (
        "• Người nhận: công an xã và huyện",
        "• Goes to: commune and district police",
    ),
    "review.recipients.district": (
        "• Người nhận: CHỈ công an huyện",
        "• Goes to: district police ONLY",
    ),
    "toggle.district_only": ("🔒 Chỉ gửi công an huyện", "🔒 District police only"),
    "toggle.everyone": ("↩️ Gửi cả công an xã", "↩️ Commune police too"),
    "status.thread": ("Trao đổi với công an:", "Messages with the police:"),
    "thread.question": ("Công an hỏi: {text}", "Police asked: {text}"),
    "thread.answer": ("Bạn trả lời: {text}", "You answered: {text}"),
    "answer.button": ("✍️ Trả lời câu hỏi", "✍️ Answer the question"),
    "question.to_tipster": (
        "Công an đang xử lý tin báo {code} hỏi bạn:\n{text}\n\nBấm nút bên dưới để trả "
        "lời. Bạn vẫn ẩn danh. Không muốn nhận tin nữa: /forget {code}",
        "The police handling tip {code} ask you:\n{text}\n\nPress the button below to "
        "answer. You stay anonymous. To stop these messages: /forget {code}",
    ),
    "ask.answer": (
        "Gõ câu trả lời cho câu hỏi về tin {code}:",
        "Type your answer to the question about tip {code}:",
    ),
    "answer.sent": (
        "Đã gửi câu trả lời tới công an. Cảm ơn bạn!",
        "Your answer has been sent to the police. Thank you!",
    ),
    "answer.not_allowed": (
        "Không thể trả lời câu hỏi này từ đây. Hãy dùng /status MÃ kèm mật khẩu.",
        "That question cannot be answered from here. Use /status CODE with the passphrase.",
    ),
    # --- officers: enrolment and settings ---
    "officer.welcome": (
        "Xin chào {name}. Bạn đã được đăng ký là cán bộ ({scope}).\n"
        "/tips – danh sách tin báo · /tip MÃ – xem một tin · /alerts – chế độ báo động · "
        "/digest – bản tin sáng · /patrols – tuần tra · /export – xuất Excel{admin}",
        "Welcome, {name}. You are enrolled as an officer ({scope}).\n"
        "/tips – list tips · /tip CODE – one tip · /alerts – alert settings · "
        "/digest – morning digest · /patrols – patrols · /export – Excel export{admin}",
    ),
    "officer.admin_hint": (" · /invite – mời cán bộ khác", " · /invite – invite an officer"),
    "officer.bad_code": (
        "Mã mời không đúng hoặc đã được dùng.",
        "That invite code is wrong or already used.",
    ),
    "officer.expired_code": (
        "Mã mời đã hết hạn. Hãy xin một mã mới.",
        "That invite code has expired. Ask for a new one.",
    ),
    "officer.ask_code": ("Gõ mã mời: /officer MÃ", "Type the invite code: /officer CODE"),
    "scope.district": ("toàn huyện", "whole district"),
    "scope.area": ("{area}", "{area}"),
    "alerts.ask": ("Báo động hiện tại: {level}. Chọn:", "Alerts are now: {level}. Choose:"),
    "alerts.all": ("Mọi tin mới", "Every new tip"),
    "alerts.urgent": ("Chỉ tin khẩn", "Urgent tips only"),
    "alerts.off": ("Tắt", "Off"),
    "alerts.set": ("Đã đặt báo động: {level}.", "Alerts set to: {level}."),
    "invite.ask_name": (
        "Mời cán bộ mới. Gõ họ tên người được mời:",
        "Invite an officer. Type their full name:",
    ),
    "invite.ask_scope": ("Phạm vi của {name}?", "Which area will {name} see?"),
    "invite.ask_admin": (
        "{name} có được mời cán bộ khác không?",
        "May {name} invite other officers?",
    ),
    "invite.made": (
        "Mã mời cho {name} ({scope}), dùng một lần, hết hạn {expires}:\n{code}\n"
        "Gửi cho người đó qua kênh tin cậy. Họ gõ /officer {code}{link}",
        "Invite code for {name} ({scope}), single use, expires {expires}:\n{code}\n"
        "Give it to them over a trusted channel. They type /officer {code}{link}",
    ),
    "invite.link": (" hoặc mở {url}", " or open {url}"),
    "not.allowed": (
        "Bạn không có quyền với việc này. Không có gì thay đổi.",
        "You are not allowed to do that. Nothing was changed.",
    ),
    # --- officers: alerts ---
    "alert.urgent": (
        "🚨 TIN KHẨN {code}\n{category} · {area}{district_only}\n{excerpt}\n"
        "Bấm Xác nhận khi đã có người xử lý.",
        "🚨 URGENT TIP {code}\n{category} · {area}{district_only}\n{excerpt}\n"
        "Press Acknowledge once someone is on it.",
    ),
    "alert.new": (
        "📥 Tin báo mới {code}\n{category} · {area}{district_only}\n{excerpt}",
        "📥 New tip {code}\n{category} · {area}{district_only}\n{excerpt}",
    ),
    "alert.escalated": (
        "⏫ CHUYỂN LÊN HUYỆN: tin khẩn {code} chưa ai xác nhận sau {minutes} phút.\n"
        "{category} · {area}{district_only}\n{excerpt}",
        "⏫ ESCALATED: urgent tip {code} was not acknowledged within {minutes} minutes.\n"
        "{category} · {area}{district_only}\n{excerpt}",
    ),
    "alert.district_only": (" · chỉ cấp huyện", " · district only"),
    "button.ack": ("✔️ Xác nhận", "✔️ Acknowledge"),
    "button.open": ("📂 Xem tin", "📂 Open"),
    "ack.done": (
        "Đã xác nhận tin {code}. Các cán bộ khác sẽ không bị chuyển báo động lên huyện.",
        "Tip {code} acknowledged. It will not be escalated.",
    ),
    "ack.already": (
        "Tin {code} đã được {name} xác nhận lúc {when}.",
        "Tip {code} was already acknowledged by {name} at {when}.",
    ),
    # --- officers: lists and the tip view ---
    "tips.title": (
        "Tin báo ({which}) – {total} tin, trang {page}/{pages}:",
        "Tips ({which}) – {total} in all, page {page}/{pages}:",
    ),
    "tips.none": ("Không có tin báo nào ({which}).", "No tips ({which})."),
    "which.new": ("mới", "new"),
    "which.open": ("đang mở", "open"),
    "which.overdue": ("quá hạn", "overdue"),
    "which.all": ("tất cả", "all"),
    "tips.usage": (
        "Dùng: /tips new | open | overdue | all",
        "Use: /tips new | open | overdue | all",
    ),
    "tip.not_found": ("Không có tin {code} trong phạm vi của bạn.", "No tip {code} in your area."),
    "view.head": ("Tin báo {code}{urgent}", "Tip {code}{urgent}"),
    "view.urgent": (" · 🚨 KHẨN", " · 🚨 URGENT"),
    "view.fields": (
        "Loại: {category}\nĐịa bàn: {area}{district_only}\nĐịa điểm: {place}\n"
        "Thời điểm: {when} · gửi lúc {sent}\nTình trạng: {status} (từ {status_at})\n"
        "Giao cho: {assigned}\nXác nhận: {ack}\nLiên hệ người báo tin: {contact}",
        "About: {category}\nArea: {area}{district_only}\nPlace: {place}\n"
        "When: {when} · sent {sent}\nStatus: {status} (since {status_at})\n"
        "Assigned to: {assigned}\nAcknowledged: {ack}\nContact with tipster: {contact}",
    ),
    "view.nobody": ("chưa ai", "nobody yet"),
    "view.contact_yes": ("được phép (qua bot, ẩn danh)", "allowed (through the bot, anonymous)"),
    "view.contact_no": (
        "không (câu hỏi chờ người báo tin tự xem)",
        "no (questions wait for the tipster to look)",
    ),
    "view.text": ("Nội dung:", "What happened:"),
    "view.files": ("Tệp đính kèm: {count} (gửi lại bên dưới)", "Attachments: {count} (below)"),
    "view.history": ("Diễn biến:", "History:"),
    "view.thread": ("Trao đổi với người báo tin:", "Thread with the tipster:"),
    "view.event.assigned": ("giao cho {name}", "assigned to {name}"),
    "view.event.note": ("ghi chú: {note}", "note: {note}"),
    "view.event.public": ("ghi chú công khai: {note}", "public note: {note}"),
    "view.question": ("Hỏi ({name}): {text}", "Asked ({name}): {text}"),
    "view.answer": ("Người báo tin trả lời: {text}", "Tipster answered: {text}"),
    "view.waiting": ("(chờ người báo tin)", "(waiting for the tipster)"),
    "button.verifying": ("🔍 Đang xác minh", "🔍 Verifying"),
    "button.handled": ("✅ Đã xử lý", "✅ Handled"),
    "button.closed_unfounded": ("Đóng: không có cơ sở", "Close: unfounded"),
    "button.closed_duplicate": ("Đóng: trùng", "Close: duplicate"),
    "button.closed_spam": ("Đóng: tin rác", "Close: spam"),
    "button.ask": ("❓ Hỏi người báo tin", "❓ Ask the tipster"),
    "button.public_note": ("📝 Ghi chú công khai", "📝 Public note"),
    "button.assign": ("👤 Giao cho…", "👤 Assign…"),
    "status.same": ("Tin {code} đã ở tình trạng đó.", "Tip {code} already has that status."),
    "status.changed": (
        "Tin {code}: {status}. Người báo tin được báo nếu họ cho phép liên hệ.",
        "Tip {code}: {status}. The tipster is told if they allowed contact.",
    ),
    "ask.close_note": (
        "Đóng tin {code} ({status}): gõ lý do ngắn (bắt buộc). /cancel để thôi.",
        "Closing tip {code} ({status}): type a short reason (required). /cancel to stop.",
    ),
    "ask.public_note": (
        "Gõ ghi chú công khai cho tin {code} (người báo tin sẽ thấy khi xem /status):",
        "Type a public note for tip {code} (the tipster sees it in /status):",
    ),
    "public_note.added": (
        "Đã thêm ghi chú công khai cho tin {code}.",
        "Public note added to {code}.",
    ),
    "ask.question": (
        'Gõ câu hỏi cho người báo tin {code}. Họ sẽ thấy là "công an đang xử lý tin", '
        "không thấy tên bạn:",
        'Type your question for the tipster of {code}. They see it as from "the police '
        'handling the tip", not from you:',
    ),
    "question.relayed": (
        "Đã gửi câu hỏi tới người báo tin {code}. Câu trả lời sẽ được chuyển cho bạn.",
        "Question sent to the tipster of {code}. Their answer will come to you.",
    ),
    "question.waiting": (
        "Người báo tin {code} không cho phép liên hệ: câu hỏi được lưu và họ sẽ thấy khi "
        "xem /status.",
        "The tipster of {code} did not allow contact: the question waits until they check /status.",
    ),
    "answer.to_officer": (
        '💬 Người báo tin {code} trả lời câu hỏi "{question}":\n{text}',
        '💬 The tipster of {code} answered "{question}":\n{text}',
    ),
    "need.text": (
        "Hãy gõ nội dung (chữ). /cancel để thôi.",
        "Please type it as text. /cancel to stop.",
    ),
    "assign.ask": ("Giao tin {code} cho ai?", "Assign tip {code} to whom?"),
    "assign.none": (
        "Chưa có cán bộ nào khác trong phạm vi tin này.",
        "No other officer covers this tip.",
    ),
    "assign.done": ("Đã giao tin {code} cho {name}.", "Tip {code} assigned to {name}."),
    "assign.notice": (
        "👤 {by} giao cho bạn tin báo {code}.",
        "👤 {by} assigned tip {code} to you.",
    ),
    # --- officers: export ---
    "export.usage": (
        "Dùng: /export [từ ngày] [đến ngày], ví dụ /export 01/11/2026 30/11/2026 "
        "(mặc định: {days} ngày qua).",
        "Use: /export [from] [to], e.g. /export 2026-11-01 2026-11-30 (default: last {days} days).",
    ),
    "export.done": (
        "Tin báo từ {start} đến {end} trong phạm vi của bạn: {count} tin.",
        "Tips from {start} to {end} in your area: {count}.",
    ),
    # --- patrols ---
    "patrol.created": (
        "Đã lập tổ tuần tra {name} ({area}). Mã tham gia: {code}\n"
        "Thành viên gõ /join {code}{link}. Đặt lịch: /schedule {name} | T2-CN 21:00-23:30",
        "Patrol group {name} ({area}) created. Join code: {code}\n"
        "Members type /join {code}{link}. Set the plan: /schedule {name} | Mon-Sun 21:00-23:30",
    ),
    "patrol.exists": ("Đã có tổ tên {name}.", "There is already a group called {name}."),
    "patrol.usage_new": (
        "Dùng: /newpatrol TÊN TỔ (cán bộ huyện: /newpatrol TÊN TỔ | mã-xã, ví dụ an-thuy)",
        "Use: /newpatrol GROUP NAME (district officers: /newpatrol NAME | area-code, e.g. an-thuy)",
    ),
    "join.ask_name": (
        "Bạn đã vào tổ {group}. Gõ tên của bạn (cán bộ phụ trách và tổ sẽ thấy tên này):",
        "You joined {group}. Type your name (the group's officer and members will see it):",
    ),
    "join.done": (
        "Cảm ơn {name}. Bắt đầu ca: /checkin. Kết thúc ca: /checkout.",
        "Thank you, {name}. Start a shift: /checkin. End it: /checkout.",
    ),
    "join.bad": ("Mã tham gia không đúng.", "That join code is not right."),
    "join.deleted": ("Tổ này không còn hoạt động.", "That group no longer exists."),
    "join.full": ("Tổ {group} đã đủ {limit} người.", "{group} is full ({limit} members)."),
    "join.already": ("Bạn đã ở trong tổ {group}.", "You are already in {group}."),
    "join.other": (
        "Bạn đang ở tổ {group}; mỗi người chỉ ở một tổ. Gõ /leave để rời tổ trước.",
        "You are in {group}; one group at a time. Type /leave to leave it first.",
    ),
    "leave.done": ("Bạn đã rời tổ {group}.", "You left {group}."),
    "not.member": (
        "Lệnh này dành cho thành viên tổ tuần tra. Có mã tham gia thì gõ /join MÃ.",
        "That is for patrol members. If you have a join code, type /join CODE.",
    ),
    "checkin.ask": (
        "Bắt đầu ca: gửi vị trí hiện tại bằng nút bên dưới, hoặc gõ tên nơi bạn đang ở.",
        "Starting a shift: share your location with the button below, or type where you are.",
    ),
    "checkin.already": (
        "Bạn đang trong ca từ {since}. Dùng các nút bên dưới, hoặc /checkout để kết thúc.",
        "You are on shift since {since}. Use the buttons below, or /checkout to end it.",
    ),
    "checkin.done": (
        "Đã bắt đầu ca lúc {at}{late}{far}. Chúc an toàn!",
        "Shift started at {at}{late}{far}. Stay safe!",
    ),
    "checkin.late": (" (muộn so với kế hoạch {planned})", " (late for the {planned} plan)"),
    "far.flag": (
        " ⚠️ vị trí ở xa địa bàn huyện, đã được đánh dấu",
        " ⚠️ the location is far outside the district and was flagged",
    ),
    "shift.menu": ("Trong ca: chọn việc cần làm.", "On shift: choose what to do."),
    "button.checkpoint": ("📍 Điểm kiểm tra", "📍 Checkpoint"),
    "button.incident": ("🚨 Báo sự việc", "🚨 Report an incident"),
    "button.end_shift": ("🏁 Kết thúc ca", "🏁 End shift"),
    "checkpoint.ask": (
        "Gửi vị trí điểm kiểm tra, hoặc gõ tên nơi; có thể gửi ảnh kèm chú thích.",
        "Share the checkpoint's location, or type the place; a photo with a caption works too.",
    ),
    "checkpoint.done": ("Đã ghi điểm kiểm tra lúc {at}{far}.", "Checkpoint recorded at {at}{far}."),
    "incident.ask_category": ("Sự việc gì?", "What kind of incident?"),
    "incident.ask_text": (
        "Mô tả ngắn sự việc (có thể gửi ảnh kèm chú thích):",
        "Describe it briefly (a photo with a caption works too):",
    ),
    "incident.done": (
        "Đã báo sự việc cho cán bộ phụ trách tổ.",
        "The incident went to the group's officer.",
    ),
    "incident.to_officer": (
        "🚨 Tổ {group} – {member} báo sự việc ({category}) lúc {at}:\n{text}",
        "🚨 {group} – {member} reports an incident ({category}) at {at}:\n{text}",
    ),
    "checkout.ask": (
        'Kết thúc ca: bấm "Yên tĩnh" hoặc gõ tóm tắt ngắn.',
        'Ending the shift: press "All quiet" or type a short summary.',
    ),
    "button.quiet": ("✅ Yên tĩnh", "✅ All quiet"),
    "checkout.done": (
        "Đã kết thúc ca ({minutes} phút, {points} điểm kiểm tra). Cảm ơn bạn!",
        "Shift ended ({minutes} minutes, {points} checkpoints). Thank you!",
    ),
    "checkout.none": (
        "Bạn không có ca nào đang mở. Bắt đầu ca: /checkin.",
        "You have no shift open. Start one with /checkin.",
    ),
    "location.no_shift": (
        "Bạn chưa bắt đầu ca nên vị trí này không được ghi. Bắt đầu ca: /checkin.",
        "You are not on shift, so this location was not recorded. Start with /checkin.",
    ),
    "missed.alert": (
        "⏰ Tổ {group} chưa điểm danh ca {start}–{end} (đã quá {grace} phút).",
        "⏰ {group} has not checked in for the {start}–{end} shift ({grace} minutes late).",
    ),
    "button.close_missed": ("💬 Đóng kèm ghi chú", "💬 Close with a comment"),
    "missed.ask_comment": (
        "Ghi lý do (bắt buộc) để đóng cảnh báo ca {start} của tổ {group}:",
        "Type the reason (required) to close the {start} alert of {group}:",
    ),
    "missed.closed": ("Đã đóng cảnh báo; ghi chú được lưu.", "Alert closed; the comment is kept."),
    "missed.already": ("Cảnh báo này đã được đóng.", "That alert was already closed."),
    "schedule.usage": (
        "Dùng: /schedule TÊN TỔ | T2-CN 21:00-23:30 (nhiều ca cách nhau dấu phẩy)",
        "Use: /schedule GROUP NAME | Mon-Sun 21:00-23:30 (several, separated by commas)",
    ),
    "schedule.set": ("Lịch của tổ {group}: {slots}", "Plan of {group}: {slots}"),
    # --- channels without buttons (Zalo) ---
    "zalo.choose": (
        "↩️ Trả lời bằng số, hoặc gõ chữ của lựa chọn",
        "Reply with the number or the words",
    ),
    "zalo.location": (
        "📍 Gửi vị trí, hoặc gõ tên nơi (thôn, đường, chỗ dễ nhận ra)",
        "Send your location or type the place (village, street, landmark)",
    ),
    "zalo.media_elsewhere": (
        "📎 {count} tệp đính kèm không xem được trên Zalo: hãy xem trên Telegram.",
        "{count} attachment(s) cannot be shown on Zalo: see them on Telegram.",
    ),
    "zalo.no_files": (
        "Zalo không nhận tệp: hãy xuất Excel trên Telegram hoặc console.",
        "Zalo cannot carry files: export on Telegram or the console.",
    ),
    # --- digests ---
    "digest.head.daily": (
        "☀️ Bản tin sáng {date} · {scope}\n24 giờ qua: {start} – {end}",
        "☀️ Morning digest {date} · {scope}\nLast 24 hours: {start} – {end}",
    ),
    "digest.head.weekly": (
        "📅 Tổng kết tuần · {scope}\n7 ngày: {start} – {end}",
        "📅 Weekly summary · {scope}\n7 days: {start} – {end}",
    ),
    "digest.head.now": (
        "📰 Bản tin theo yêu cầu · {scope}\n24 giờ qua: {start} – {end}",
        "📰 Digest on request · {scope}\nLast 24 hours: {start} – {end}",
    ),
    "digest.late": (
        "⏰ Gửi muộn: bản tin này lẽ ra đến lúc {when} (hệ thống tạm ngừng).",
        "⏰ Sent late: this digest was due at {when} (the system was down).",
    ),
    "digest.new": (
        "📥 Tin mới: {count} (kỳ trước {before}, {change})",
        "📥 New tips: {count} (period before {before}, {change})",
    ),
    "digest.by_category": ("Theo loại: {items}", "By category: {items}"),
    "digest.by_area": ("Theo xã: {items}", "By commune: {items}"),
    "digest.other_areas": ("{areas} xã khác {count}", "{areas} other communes {count}"),
    "digest.urgent": ("🚨 Tin khẩn ({count}):", "🚨 Urgent ({count}):"),
    "digest.urgent.line": (
        "• {code} · {area} · {status}\n  “{excerpt}”",
        "• {code} · {area} · {status}\n  “{excerpt}”",
    ),
    "digest.open": (
        "📂 Đang mở: {count} — dưới 1 ngày {d0} · 1–3 ngày {d1} · 3–7 ngày {d3} · trên 7 ngày {d7}",
        "📂 Open: {count} — under 1 day {d0} · 1–3 days {d1} · 3–7 days {d3} · over 7 days {d7}",
    ),
    "digest.overdue": (
        "⏰ Quá hạn ({hours} giờ không tiến triển): {count}",
        "⏰ Overdue (no progress for {hours} h): {count}",
    ),
    "digest.overdue.line": (
        "• {code} · {area} · {category} · chờ {days} ngày",
        "• {code} · {area} · {category} · waiting {days} days",
    ),
    "digest.more": ("… và {count} tin khác (/tips overdue)", "… and {count} more (/tips overdue)"),
    "digest.thread": (
        "💬 Câu hỏi chờ người báo trả lời: {questions} · Trả lời chưa đọc: {answers} ({codes})",
        "💬 Questions awaiting the tipster: {questions} · Answers not yet read: {answers} "
        "({codes})",
    ),
    "digest.patrols": ("👮 Tuần tra:", "👮 Patrols:"),
    "digest.patrols.all": ("Cả {count} tổ", "All {count} groups"),
    "digest.patrols.attention": ("Cần chú ý:", "Worth a look:"),
    "digest.more_items": ("… và {count} mục khác", "… and {count} more"),
    "digest.missed": (
        "⚠️ Ca bỏ lỡ chưa giải trình:",
        "⚠️ Missed shifts not yet explained:",
    ),
    "digest.unreachable": (
        "📵 Cán bộ không nhận được tin (đã chặn bot hoặc xóa cuộc trò chuyện):",
        "📵 Officers the bot cannot reach (blocked it or deleted the chat):",
    ),
    "digest.unreachable.line": (
        "• {name} — {reason}, từ {since}",
        "• {name} — {reason}, since {since}",
    ),
    "digest.reason.blocked": ("đã chặn bot", "blocked the bot"),
    "digest.reason.gone": ("cuộc trò chuyện không còn", "the chat is gone"),
    "digest.reason.other": ("nền tảng từ chối gửi", "the platform refuses"),
    "digest.chart.title": (
        "Tin báo mỗi ngày, 14 ngày qua · {scope}",
        "Tips per day, last 14 days · {scope}",
    ),
    "digest.chart.other": ("Khác", "Other"),
    "digest.button.new": ("📥 Tin mới", "📥 New tips"),
    "digest.button.overdue": ("⏰ Quá hạn", "⏰ Overdue"),
    "digest.button.open": ("📂 Đang mở", "📂 Open"),
    "digest.button.patrols.today": ("👮 Tuần tra hôm nay", "👮 Patrols today"),
    "digest.button.patrols.week": ("👮 Tuần tra 7 ngày", "👮 Patrols, 7 days"),
    "digest.button.now": ("📰 Gửi bản tin ngay", "📰 Digest now"),
    "digest.button.off": ("🔕 Tắt bản tin sáng", "🔕 Switch digests off"),
    "digest.button.on": ("🔔 Bật bản tin sáng", "🔔 Switch digests on"),
    "digest.settings": (
        "Bản tin sáng: {state}, lúc {time}{default}.\n"
        "/digest time HH:MM – đổi giờ (ví dụ /digest time 06:30)\n"
        "/digest off – tắt · /digest on – bật\n"
        "/digest now – gửi ngay một bản (24 giờ qua)",
        "Morning digest: {state}, at {time}{default}.\n"
        "/digest time HH:MM – change the time (e.g. /digest time 06:30)\n"
        "/digest off – switch off · /digest on – switch on\n"
        "/digest now – one right now (last 24 hours)",
    ),
    "digest.state.on": ("đang bật", "on"),
    "digest.state.off": ("đang tắt", "off"),
    "digest.default": (" (giờ mặc định của huyện)", " (the district's default)"),
    "digest.time_set": (
        "Đã đặt: bản tin sáng đến lúc {time} mỗi ngày.",
        "Done: your digest now comes at {time} every day.",
    ),
    "digest.off_done": (
        "Đã tắt bản tin sáng. Gõ /digest on để bật lại.",
        "Morning digests are off. Type /digest on to switch them back on.",
    ),
    "digest.on_done": ("Đã bật bản tin sáng, lúc {time}.", "Morning digests are on, at {time}."),
    "digest.bad_time": (
        "Giờ “{value}” không hợp lệ. Viết dạng HH:MM, ví dụ /digest time 06:30.",
        "“{value}” is not a time. Write HH:MM, e.g. /digest time 06:30.",
    ),
    "digest.usage": (
        "Dùng: /digest, /digest time 06:30, /digest off, /digest on, /digest now.",
        "Use: /digest, /digest time 06:30, /digest off, /digest on, /digest now.",
    ),
    "patrols.head": ("Tuần tra {period}:", "Patrols {period}:"),
    "patrols.today": ("hôm nay", "today"),
    "patrols.week": ("7 ngày qua", "in the last 7 days"),
    "patrols.line": (
        "{group}: kế hoạch {planned} · đã đi {done} · muộn {late} · bỏ {missed} · "
        "{hours} giờ · {checkpoints} điểm kiểm tra · {incidents} sự việc",
        "{group}: planned {planned} · done {done} · late {late} · missed {missed} · "
        "{hours} h · {checkpoints} checkpoints · {incidents} incidents",
    ),
    "patrols.open_missed": ("   chưa đóng: {items}", "   not closed: {items}"),
    "patrols.none": (
        "Chưa có tổ tuần tra nào trong phạm vi của bạn.",
        "No patrol groups in your area yet.",
    ),
    "patrol.not_found": (
        "Không có tổ {name} trong phạm vi của bạn.",
        "No group {name} in your area.",
    ),
    "patrol.head": (
        "Tổ {group} ({area}) – {members} thành viên. Lịch: {slots}\nCác ca gần đây:",
        "{group} ({area}) – {members} members. Plan: {slots}\nRecent shifts:",
    ),
    "patrol.no_slots": ("chưa có", "none"),
    "patrol.shift": (
        "{start} → {end} · {member}{late}{auto}",
        "{start} → {end} · {member}{late}{auto}",
    ),
    "patrol.late": (" · muộn", " · late"),
    "patrol.auto": (" · tự đóng", " · closed automatically"),
    "patrol.open": ("đang đi", "on patrol"),
    "patrol.no_shifts": ("(chưa có ca nào)", "(no shifts yet)"),
    "members.head": (
        "Thành viên tổ {group} (bấm để đưa ra khỏi tổ):",
        "Members of {group} (press to remove):",
    ),
    "members.none": ("Tổ {group} chưa có thành viên.", "{group} has no members yet."),
    "button.remove": ("✖️ {name}", "✖️ {name}"),
    "member.removed": ("Đã đưa {name} ra khỏi tổ {group}.", "{name} was removed from {group}."),
    "point.start": ("bắt đầu", "start"),
    "point.checkpoint": ("kiểm tra", "checkpoint"),
    "point.incident": ("sự việc", "incident"),
}


def text(lang: str, key: str, **values: Any) -> str:
    """The catalogue entry `key` in `lang` (Vietnamese unless 'en'), filled with `values`."""
    vi, en = TEXTS[key]
    template = en if lang == "en" else vi
    return template.format(**values) if values else template
