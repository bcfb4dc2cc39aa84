"""What seeded tips say: Vietnamese stories a district's residents might send, built from a few
hundred words, places and plates, so that searching them is searching something like the real."""

from __future__ import annotations

import random

PLACES = (
    "chợ Đồng Hới",
    "chợ Kiến Giang",
    "chợ Mỹ Trung",
    "cầu Mỹ Trung",
    "cầu Kiến Giang",
    "ngã ba Cam Liên",
    "ngã tư An Thủy",
    "bến đò Xuân Bồ",
    "quốc lộ 1A",
    "đường Hồ Chí Minh",
    "đường tỉnh 565",
    "trường tiểu học An Thủy",
    "trường THCS Hoa Thủy",
    "nhà văn hóa thôn Tân Hải",
    "nhà văn hóa thôn Thạch Bàn",
    "bãi biển Ngư Thủy",
    "cây xăng Hoa Thủy",
    "trạm y tế xã Sen Thủy",
    "đình làng Liêm Thủy",
    "cánh đồng thôn Quy Hậu",
    "bờ sông Kiến Giang",
    "khu công nghiệp Cam Liên",
    "quán cà phê đầu thôn",
    "tiệm tạp hóa cuối xóm",
    "bến xe Lệ Thủy",
)

STORIES = {
    "drugs": (
        "Có người bán ma túy ở {at}",
        "Nhóm thanh niên tụ tập hút chích ở {at}",
        "Nghi có người cất giấu ma túy gần {at}",
        "Thấy người lạ giao gói nhỏ cho học sinh ở {at}",
    ),
    "theft": (
        "Trộm xe máy ở {at}",
        "Mất trộm điện thoại ở {at}",
        "Kẻ gian bẻ khóa xe đạp ở {at}",
        "Trộm chó ở {at}",
        "Nhà bị trộm đột nhập gần {at}",
    ),
    "gambling": (
        "Đánh bạc ăn tiền ở {at}",
        "Có sới gà ăn tiền gần {at}",
        "Nhóm người chơi lô đề ở {at}",
    ),
    "disorder": (
        "Đánh nhau gây mất trật tự ở {at}",
        "Thanh niên say rượu gây rối ở {at}",
        "Hát karaoke quá khuya ở {at}",
    ),
    "fraud": (
        "Lừa đảo qua điện thoại, giả danh công an, gần {at}",
        "Người lạ bán hàng giả ở {at}",
        "Lừa đảo chuyển tiền vay vốn ở {at}",
    ),
    "loan-shark": (
        "Cho vay nặng lãi, dán giấy quảng cáo ở {at}",
        "Đòi nợ thuê đe dọa người dân ở {at}",
    ),
    "smuggling": (
        "Vận chuyển hàng lậu qua {at}",
        "Xe tải chở gỗ không rõ nguồn gốc qua {at}",
    ),
    "traffic": (
        "Đua xe trái phép trên {at}",
        "Xe tải chạy quá tốc độ qua {at}",
        "Tai nạn giao thông gần {at}, người lái bỏ chạy",
    ),
    "environment": (
        "Đổ rác thải trái phép ở {at}",
        "Khai thác cát trái phép gần {at}",
        "Xả nước thải ra sông gần {at}",
    ),
    "domestic": (
        "Chồng đánh vợ ở nhà gần {at}",
        "Trẻ em bị bạo hành gần {at}",
    ),
    "suspicious": (
        "Người lạ đi lại nhiều lần quanh {at}",
        "Xe không biển số đậu lâu ở {at}",
        "Có người dò hỏi nhà ai vắng ở {at}",
    ),
    "other": (
        "Cần công an hỗ trợ ở {at}",
        "Phát hiện vật lạ ở {at}",
    ),
}

COLOURS = ("đỏ", "đen", "trắng", "xanh", "vàng", "bạc")
DETAILS = (
    "Lúc khoảng {hour} giờ tối.",
    "Sáng sớm khoảng {hour} giờ.",
    "Xe máy màu {colour}, biển số {plate}.",
    "Ô tô màu {colour} biển số {plate}.",
    "Khoảng {count} người, đi xe máy.",
    "Một người đàn ông mặc áo {colour}, đội mũ bảo hiểm.",
    "Một phụ nữ khoảng {age} tuổi.",
    "Đã xảy ra nhiều lần trong tuần.",
    "Người dân trong thôn đều biết nhưng sợ không dám báo.",
    "Mong công an xã sớm xử lý.",
    "Tôi có chụp ảnh nhưng không rõ mặt.",
)


def story(rng: random.Random, category: str) -> tuple[str, str | None]:
    """A tip's text and, two times in five, the place typed apart from it."""
    at = rng.choice(PLACES)
    said = [rng.choice(STORIES.get(category, STORIES["other"])).format(at=at) + "."]
    for _ in range(rng.randrange(0, 4)):
        said.append(
            rng.choice(DETAILS).format(
                hour=rng.randrange(1, 12),
                colour=rng.choice(COLOURS),
                plate=f"73{rng.choice('ABCDEFGHK')}{rng.randrange(1, 10)}-"
                f"{rng.randrange(100, 1000)}.{rng.randrange(10, 100)}",
                count=rng.randrange(2, 8),
                age=rng.randrange(20, 60),
            )
        )
    return " ".join(said), at if rng.random() < 0.4 else None
