"""Chinese names, places and identity numbers that look like a north-China county's."""

from __future__ import annotations

import numpy as np

COUNTY_NAME = "永宁县"
COUNTY_ADMDVS = "130123"

SURNAMES = list(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢"
    "蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟"
)
#: Common surnames are much commoner: weights fall off like real frequency tables.
SURNAME_WEIGHTS = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.9

GIVEN_MALE = list("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林国建志文")
GIVEN_FEMALE = list("芳娜敏静丽艳娟霞秀玲桂英梅兰红燕萍琳雪倩颖婷慧琪晶洁玉凤云")

TOWNSHIP_NAMES = [
    "城关镇",
    "东关镇",
    "西河乡",
    "南堡乡",
    "北辛庄乡",
    "大王庄镇",
    "李家庄乡",
    "柳林镇",
    "石桥乡",
    "杨村镇",
    "黄庄乡",
    "马坊镇",
    "白塔乡",
    "高庄镇",
    "新安乡",
    "前进乡",
    "红旗镇",
    "双井乡",
    "三里河乡",
    "太平镇",
]
VILLAGE_WORDS = list("东西南北前后上下大小新旧")
VILLAGE_STEMS = [
    "王庄",
    "李庄",
    "张村",
    "刘营",
    "赵堡",
    "河口",
    "柳屯",
    "杨店",
    "孙桥",
    "胡寨",
    "马家",
    "高村",
    "郭庄",
    "周营",
    "陈屯",
    "石门",
    "沙河",
    "枣林",
    "桃园",
    "槐树",
]
PHARMACY_BRANDS = ["百姓", "仁和", "同仁", "康泰", "益民", "惠民", "济世", "国大", "老百姓", "安康"]

# ISO 7064 MOD 11-2, the check digit of the 18-digit resident identity number.
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))


def person_names(rng: np.random.Generator, gend: np.ndarray) -> np.ndarray:
    """Two- or three-character names by sex."""
    n = len(gend)
    p = SURNAME_WEIGHTS / SURNAME_WEIGHTS.sum()
    sur = np.array(SURNAMES)[rng.choice(len(SURNAMES), n, p=p)]
    male = gend == "1"
    pool_m, pool_f = np.array(GIVEN_MALE), np.array(GIVEN_FEMALE)
    g1 = np.where(
        male, pool_m[rng.integers(0, len(pool_m), n)], pool_f[rng.integers(0, len(pool_f), n)]
    )
    g2 = np.where(
        male, pool_m[rng.integers(0, len(pool_m), n)], pool_f[rng.integers(0, len(pool_f), n)]
    )
    two = rng.random(n) < 0.3
    return np.char.add(np.char.add(sur, g1), np.where(two, "", g2))


def certnos(admdvs: np.ndarray, brdy: np.ndarray, gend: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """18-digit identity numbers with a valid check digit; odd sequence digit for men."""
    order = np.where(gend == "1", (seq % 500) * 2 + 1, (seq % 500) * 2)
    body = np.char.add(
        np.char.add(
            admdvs.astype("U6"),
            np.char.replace(brdy.astype("datetime64[D]").astype("U10"), "-", ""),
        ),
        np.char.zfill(order.astype("U3"), 3),
    )
    digits = body.astype("U17").view("U1").reshape(-1, 17).astype(np.int64)
    return np.char.add(body, _ID_CHECK[(digits @ _ID_WEIGHTS) % 11])


def certno_is_valid(certno: str) -> bool:
    """True when an 18-digit identity number's check digit matches."""
    if len(certno) != 18 or not certno[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(certno[:17], _ID_WEIGHTS, strict=True))
    return certno[17].upper() == _ID_CHECK[total % 11]


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = np.array(
        [
            "130",
            "131",
            "132",
            "135",
            "137",
            "138",
            "139",
            "150",
            "151",
            "152",
            "155",
            "157",
            "158",
            "159",
            "186",
            "187",
            "188",
            "189",
        ]
    )
    tail = rng.integers(0, 100_000_000, n)
    return np.char.add(prefix[rng.integers(0, len(prefix), n)], np.char.zfill(tail.astype("U8"), 8))
