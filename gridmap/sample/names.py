"""Name lists for the sample district: fictional places, plausible people.

Street, community, road and compound names are invented from common
characters so they never claim a real boundary; any resemblance to a real
place in 武昌区 is a coincidence. People's names follow the usual shape of a
Chinese name (a common surname and one or two given-name characters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

StrArray = npt.NDArray[np.str_]

STREET_FIRST = tuple("紫青白金玉翠丹碧云松")
STREET_SECOND = tuple("阳林湖山桥峰溪园岭川")

COMMUNITY_FIRST = tuple("和康安福长永兴华瑞祥")
COMMUNITY_SECOND = tuple("平宁乐泰丰盛顺苑欣景")

VILLAGES = (
    "青林", "柳湾", "荷塘", "桃岭", "杨湾", "李家", "枫树", "石桥", "竹园", "梅岗",
    "双塘", "新港", "卢湾", "沙嘴", "高坡", "东港", "汪家", "何湾", "陈墩", "余岭",
)  # fmt: skip

ROAD_PREFIXES = (
    "幸福", "和平", "友谊", "民主", "建设", "团结", "文化", "光明", "胜利", "复兴",
    "长青", "新华", "青年", "振兴", "丰收", "园林", "学府", "书院", "晴川", "翠微",
    "积玉", "棋盘", "花园", "粮道", "昙华", "千家", "读书", "白沙", "紫荆", "东亭",
    "沙湖", "南湖", "平湖", "梅苑", "桃园", "兰亭", "松竹", "翠柳", "彩虹", "阳光",
    "湖滨", "临江", "望江", "秀水", "锦江", "茶港", "雄楚", "丁香", "银杏", "樱花",
    "梧桐", "海棠", "玉兰", "芙蓉", "桂花", "石榴", "杨柳", "朝阳", "晨光", "启明",
    "宏图", "兴业", "安居", "康乐", "广福", "永安", "德政", "崇文", "尚武", "育才",
)  # fmt: skip
ROAD_SUFFIXES = ("路", "街", "大道", "一路", "二路", "巷")
ROAD_QUARTERS = ("东", "西", "南", "北", "中", "新", "前", "后", "上")
"""Beyond the first prefix × suffix roads, the same names repeat with a quarter (幸福东路, 和平西街 …)."""

STREET_QUARTERS = ("东", "西", "南", "北", "新", "中", "湖", "江", "港")
"""Beyond the first 100 streets, a third character keeps street names unique (紫阳东街道 …)."""

VILLAGE_PLACES = (
    "湾", "岭", "墩", "畈", "台", "嘴", "冲", "庄", "坳", "河", "桥", "塘", "咀", "岗",
)  # fmt: skip
"""Beyond the first `VILLAGES`, villages are named for a family and a place (王家湾, 李家岭 …)."""

COMPOUND_PREFIXES = (
    "锦绣", "翠苑", "书香", "阳光", "金色", "银杏", "紫荆", "丽景", "水岸", "东方",
    "盛世", "星河", "晴川", "明珠", "江南", "楚天", "清风", "怡景", "丹桂", "香樟",
    "凤凰", "文昌", "公园", "都市", "绿洲", "桃源", "梧桐", "海棠", "玉兰", "滨江",
    "湖畔", "碧水", "蓝湾", "福星", "华府", "名都", "嘉园", "秀园", "逸景", "鸿福",
    "康桥", "欣城", "瑞景", "和美", "富华", "泰和", "新城", "天悦", "沁园", "悦湖",
    "松涛", "竹韵", "梅园", "荷风", "枫林", "柳岸", "兰庭", "菊苑", "青枫", "金桥",
    "融景", "祥和", "长林", "雅苑",
)  # fmt: skip
COMPOUND_SUFFIXES = {
    "slab": ("花园", "家园", "小区"),
    "tower": ("华庭", "公馆", "国际"),
    "lowrise": ("新村", "小区", "里"),
}

SURNAMES = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏",
    "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
    "石", "廖", "贾", "夏", "韦", "付", "方", "邹", "熊", "秦", "江", "雷", "万", "严", "孟",
)  # fmt: skip
GIVEN = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌波宁浩"
    "宇欣怡婷雪梅琳晨阳帆蕾颖佳俊峰志飞鑫慧丹凯亮雯倩瑶思源嘉琪子涵博文轩雨萱"
)
PHONE_PREFIXES = ("138", "139", "137", "135", "136", "150", "151", "158", "159", "186", "187", "189")


def pair_name(first: tuple[str, ...], second: tuple[str, ...], index: int) -> str:
    """The `index`-th two-character name of the product first × second (wrapping)."""
    i = index % (len(first) * len(second))
    return first[i // len(second)] + second[i % len(second)]


def road_name(index: int) -> str:
    """A unique road name for every index below 4,200 (prefix × suffix, then with a quarter)."""
    plain = len(ROAD_PREFIXES) * len(ROAD_SUFFIXES)
    tier, i = divmod(index, plain)
    if tier > len(ROAD_QUARTERS):
        raise ValueError(f"no unique road name left for index {index}")
    quarter = ROAD_QUARTERS[tier - 1] if tier else ""
    return ROAD_PREFIXES[i % len(ROAD_PREFIXES)] + quarter + ROAD_SUFFIXES[i // len(ROAD_PREFIXES)]


def street_name(index: int) -> str:
    """A unique street (街道) name for every index below 1,000."""
    plain = len(STREET_FIRST) * len(STREET_SECOND)
    tier = index // plain
    if tier > len(STREET_QUARTERS):
        raise ValueError(f"no unique street name left for index {index}")
    quarter = STREET_QUARTERS[tier - 1] if tier else ""
    return pair_name(STREET_FIRST, STREET_SECOND, index * 11) + quarter + "街道"


def village_name(index: int) -> str:
    """A unique village (村) name for every index below 1,070: the list first, then family + place."""
    if index < len(VILLAGES):
        return VILLAGES[index] + "村"
    family, place = divmod(index - len(VILLAGES), len(VILLAGE_PLACES))
    if family >= len(SURNAMES):
        raise ValueError(f"no unique village name left for index {index}")
    return SURNAMES[family] + "家" + VILLAGE_PLACES[place] + "村"


@dataclass(frozen=True)
class PeopleDraws:
    """The random numbers behind `n` names and phones, kept compact so strings can be made in slices."""

    surname: npt.NDArray[np.int16]
    first: npt.NDArray[np.int16]
    second: npt.NDArray[np.int16]  # -1: a one-character given name
    prefix: npt.NDArray[np.int8]
    body: npt.NDArray[np.int64]

    def names(self, rows: slice = slice(None)) -> StrArray:
        """The names of `rows`: a surname and one (30 %) or two given-name characters."""
        given = np.asarray((*GIVEN, ""))
        first = np.asarray(SURNAMES)[self.surname[rows]]
        return np.char.add(np.char.add(first, given[self.first[rows]]), given[self.second[rows]])

    def phones(self, rows: slice = slice(None)) -> StrArray:
        """The mainland mobile numbers of `rows` (11 digits, common 13x/15x/18x prefixes)."""
        prefix = np.asarray(PHONE_PREFIXES)[self.prefix[rows]]
        return np.char.add(prefix, np.char.zfill(self.body[rows].astype(str), 8))


def name_draws(rng: np.random.Generator, n: int) -> PeopleDraws:
    """Draw the names of `n` people, then their phones, in the order the generator always has."""
    surname, first, second = _name_parts(rng, n)
    prefix = rng.integers(0, len(PHONE_PREFIXES), n).astype(np.int8)
    return PeopleDraws(surname, first, second, prefix, rng.integers(0, 10**8, n))


def _name_parts(
    rng: np.random.Generator, n: int
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """Surname, first and second given-name positions (second: len(GIVEN), the empty one, for 30 %)."""
    surname = rng.integers(0, len(SURNAMES), n).astype(np.int16)
    first = rng.integers(0, len(GIVEN), n).astype(np.int16)
    two = rng.random(n) < 0.7
    second = np.where(two, rng.integers(0, len(GIVEN), n), len(GIVEN)).astype(np.int16)
    return surname, first, second


def person_names(rng: np.random.Generator, n: int) -> StrArray:
    """`n` plausible Chinese names: a surname and one (30 %) or two given-name characters."""
    surname, first, second = _name_parts(rng, n)
    return PeopleDraws(surname, first, second, np.zeros(n, np.int8), np.zeros(n, np.int64)).names()


def phones(rng: np.random.Generator, n: int) -> StrArray:
    """`n` mainland mobile numbers (11 digits, common 13x/15x/18x prefixes)."""
    prefix = np.asarray(PHONE_PREFIXES)[rng.integers(0, len(PHONE_PREFIXES), n)]
    body = np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8)
    return np.char.add(prefix, body)
