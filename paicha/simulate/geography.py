"""The real places the synthetic city borrows: cities, their districts, and GB/T 2260 codes.

The simulator invents communities, homes and shops, but the codes above them are real, so that a
``residence_code`` routes exactly as a real one would (its first six digits are the district, its
first four followed by ``00`` the prefecture-level city, 所在地市). Centres are approximate.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class District:
    """A county-level district (区): its code, name, centre, and the streets (街道) inside it."""

    code: str
    name: str
    lat: float
    lon: float
    weight: float
    streets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CityInfo:
    """A prefecture-level city (地级市) and the province that holds it."""

    code: str
    name: str
    province_code: str
    province_name: str
    lat: float
    lon: float
    districts: tuple[District, ...]


def _districts(*rows: tuple[str, str, float, float, float, str]) -> tuple[District, ...]:
    """Districts from compact rows; streets are space-separated, or a count of numbered ones."""
    districts = []
    for code, name, lat, lon, weight, streets in rows:
        names = (
            tuple(f"第{i}街道" for i in range(1, int(streets) + 1))
            if streets.isdigit()
            else tuple(streets.split())
        )
        districts.append(District(code, name, lat, lon, weight, names))
    return tuple(districts)


# Rows: code, name, centre lat, centre lon, share of the city's residents, streets (街道).
_TAIYUAN = _districts(
    ("140105", "小店区", 37.736, 112.565, 0.30, "坞城街道 营盘街道 北营街道 平阳路街道 黄陵街道"),
    ("140106", "迎泽区", 37.855, 112.563, 0.18, "柳巷街道 文庙街道 庙前街道 迎泽街道 桥东街道"),
    ("140107", "杏花岭区", 37.894, 112.570, 0.17, "巨轮街道 三桥街道 鼓楼街道 杏花岭街道"),
    ("140108", "尖草坪区", 37.940, 112.487, 0.12, "尖草坪街道 光社街道 上兰街道 汇丰街道"),
    ("140109", "万柏林区", 37.859, 112.516, 0.17, "千峰街道 下元街道 和平街道 兴华街道"),
    ("140110", "晋源区", 37.715, 112.478, 0.06, "义井街道 罗城街道 晋源街道 金胜镇"),
)
_HANGZHOU = _districts(
    ("330102", "上城区", 30.242, 120.170, 0.35, "4"),
    ("330105", "拱墅区", 30.319, 120.142, 0.30, "4"),
    ("330106", "西湖区", 30.259, 120.130, 0.35, "4"),
)
_NINGBO = _districts(
    ("330203", "海曙区", 29.860, 121.551, 0.5, "3"),
    ("330212", "鄞州区", 29.817, 121.547, 0.5, "3"),
)
_SHAOXING = _districts(
    ("330602", "越城区", 29.989, 120.582, 0.5, "3"),
    ("330603", "柯桥区", 30.081, 120.495, 0.5, "3"),
)
_BEIJING = _districts(
    ("110101", "东城区", 39.928, 116.416, 0.4, "4"),
    ("110105", "朝阳区", 39.921, 116.486, 0.6, "4"),
)
_XIAN = _districts(
    ("610102", "新城区", 34.266, 108.961, 0.5, "3"),
    ("610113", "雁塔区", 34.213, 108.948, 0.5, "3"),
)

CITIES: dict[str, CityInfo] = {
    info.code: info
    for info in (
        CityInfo("140100", "太原市", "140000", "山西省", 37.870, 112.550, _TAIYUAN),
        CityInfo("330100", "杭州市", "330000", "浙江省", 30.274, 120.155, _HANGZHOU),
        CityInfo("330200", "宁波市", "330000", "浙江省", 29.868, 121.544, _NINGBO),
        CityInfo("330600", "绍兴市", "330000", "浙江省", 30.000, 120.580, _SHAOXING),
        CityInfo("110100", "北京市", "110000", "北京市", 39.904, 116.407, _BEIJING),
        CityInfo("610100", "西安市", "610000", "陕西省", 34.341, 108.940, _XIAN),
    )
}
"""Every city the simulator knows. The home city is one of them; the others are where people
travel to, where visitors come from, and where cases and risk areas elsewhere are placed."""

DEFAULT_HOME_CITY = "140100"

STATIONS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "140100": (
        ("太原站", 37.8530, 112.5850),
        ("太原南站", 37.7830, 112.6120),
        ("武宿国际机场", 37.7550, 112.6270),
    ),
}
"""Railway stations and airports (第一落点) by city, where travellers and locals mix."""


def other_cities(home: str) -> list[CityInfo]:
    """The cities other than ``home``, in a fixed order (the first ones get the hazards)."""
    return [info for code, info in CITIES.items() if code != home]
