"""The 47 branches (支部) of 協会けんぽ, one per prefecture, in JIS X 0401 order."""

from __future__ import annotations

from typing import NamedTuple


class Prefecture(NamedTuple):
    jis_code: int
    code: str
    name: str
    name_en: str


PREFECTURES: tuple[Prefecture, ...] = (
    Prefecture(1, "hokkaido", "北海道", "Hokkaido"),
    Prefecture(2, "aomori", "青森", "Aomori"),
    Prefecture(3, "iwate", "岩手", "Iwate"),
    Prefecture(4, "miyagi", "宮城", "Miyagi"),
    Prefecture(5, "akita", "秋田", "Akita"),
    Prefecture(6, "yamagata", "山形", "Yamagata"),
    Prefecture(7, "fukushima", "福島", "Fukushima"),
    Prefecture(8, "ibaraki", "茨城", "Ibaraki"),
    Prefecture(9, "tochigi", "栃木", "Tochigi"),
    Prefecture(10, "gunma", "群馬", "Gunma"),
    Prefecture(11, "saitama", "埼玉", "Saitama"),
    Prefecture(12, "chiba", "千葉", "Chiba"),
    Prefecture(13, "tokyo", "東京", "Tokyo"),
    Prefecture(14, "kanagawa", "神奈川", "Kanagawa"),
    Prefecture(15, "niigata", "新潟", "Niigata"),
    Prefecture(16, "toyama", "富山", "Toyama"),
    Prefecture(17, "ishikawa", "石川", "Ishikawa"),
    Prefecture(18, "fukui", "福井", "Fukui"),
    Prefecture(19, "yamanashi", "山梨", "Yamanashi"),
    Prefecture(20, "nagano", "長野", "Nagano"),
    Prefecture(21, "gifu", "岐阜", "Gifu"),
    Prefecture(22, "shizuoka", "静岡", "Shizuoka"),
    Prefecture(23, "aichi", "愛知", "Aichi"),
    Prefecture(24, "mie", "三重", "Mie"),
    Prefecture(25, "shiga", "滋賀", "Shiga"),
    Prefecture(26, "kyoto", "京都", "Kyoto"),
    Prefecture(27, "osaka", "大阪", "Osaka"),
    Prefecture(28, "hyogo", "兵庫", "Hyogo"),
    Prefecture(29, "nara", "奈良", "Nara"),
    Prefecture(30, "wakayama", "和歌山", "Wakayama"),
    Prefecture(31, "tottori", "鳥取", "Tottori"),
    Prefecture(32, "shimane", "島根", "Shimane"),
    Prefecture(33, "okayama", "岡山", "Okayama"),
    Prefecture(34, "hiroshima", "広島", "Hiroshima"),
    Prefecture(35, "yamaguchi", "山口", "Yamaguchi"),
    Prefecture(36, "tokushima", "徳島", "Tokushima"),
    Prefecture(37, "kagawa", "香川", "Kagawa"),
    Prefecture(38, "ehime", "愛媛", "Ehime"),
    Prefecture(39, "kochi", "高知", "Kochi"),
    Prefecture(40, "fukuoka", "福岡", "Fukuoka"),
    Prefecture(41, "saga", "佐賀", "Saga"),
    Prefecture(42, "nagasaki", "長崎", "Nagasaki"),
    Prefecture(43, "kumamoto", "熊本", "Kumamoto"),
    Prefecture(44, "oita", "大分", "Oita"),
    Prefecture(45, "miyazaki", "宮崎", "Miyazaki"),
    Prefecture(46, "kagoshima", "鹿児島", "Kagoshima"),
    Prefecture(47, "okinawa", "沖縄", "Okinawa"),
)
