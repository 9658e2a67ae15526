"""Chinese address normalisation and matching against the building register.

No library parses Chinese addresses below street level, and the register is
typed by many hands: 三栋 / 3栋 / 3号楼 / 3幢, full-width digits, a leading
湖北省武汉市武昌区…, a trailing 2单元301室. `normalize` reduces an address to
the part that names a building, so a household's address, a hotline
operator's text and the register agree. `AddressIndex` then matches exactly,
on the normalised form, and finally fuzzily among buildings whose house and
building numbers are the same (so 幸福路88号3栋 never becomes 88号8栋).
`AddressIndex.suggest` ranks the whole register for an address that matches
nothing, but scores only the buildings that could reach the top: a bound on
the score, from the characters two addresses share, rules out the rest.
"""

from __future__ import annotations

import bisect
import copy
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from rapidfuzz import fuzz, process

from gridmap.assignment import building_grids

__all__ = [
    "AddressIndex",
    "Match",
    "Placement",
    "building_areas",
    "house_numbers",
    "normalize",
    "normalize_many",
    "place_names",
    "spelled",
]

MatchMethod = Literal["exact", "normalized", "fuzzy"]

# --- Administrative prefix ----------------------------------------------------

# Provinces and province-level cities, regions and SARs, with their suffixes.
_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|"
    "海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
# A province written without its suffix is dropped only when no road or place name goes on from it:
# 山东路, 北京东路 and 河南街道 are not 山东 + 路, 北京 + 东路, 河南 + 街道.
_KNOWN_PREFIX = (
    rf"(?:{_PROVINCES})(?:(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)"
    r"|(?![东西南北中]?(?:路|街|大道|道|巷|弄|里|社区|村|镇|乡)))"
)
# Any other administrative unit: 2–6 Chinese characters and a suffix, unless the
# suffix is really part of a road or place name (新区大道, 农贸市场, 幸福小区, 古镇路).
_STREET_SUFFIX = r"(?:街道办事处|街道办|街道)"
_ADMIN_SUFFIX = r"(?:自治州|自治县|地区|省|市|州|盟|区|县|旗|镇|乡)"
_NOT_AFTER = r"(?!路|街|大道|道|巷|弄|胡同|场|号|里|口|府|中心|广场|花园|村|栋|\d)"
# One unit holds no other unit's suffix inside it, nor a road unless it is a 街道 named after
# one (中南路街道): 幸福路都市小区 keeps its 都市.
_GENERIC_PREFIX = (
    r"(?:(?![区市县省州旗镇乡号栋])[\u4e00-\u9fff]){2,8}?"
    + _STREET_SUFFIX
    + _NOT_AFTER
    + r"|(?:(?![区市县省州旗镇乡路街巷号栋])[\u4e00-\u9fff]){2,6}?"
    + r"(?<![小园校厂景片营社])"
    + _ADMIN_SUFFIX
    + _NOT_AFTER
)
_PREFIX = re.compile(rf"(?:{_KNOWN_PREFIX}|{_GENERIC_PREFIX})")  # anchored by match(text, pos)
# In a register a bare province name begins a road or a name (北京花园路, 山东大厦), not a prefix.
_REGISTER_PREFIX = re.compile(
    rf"(?:{_PROVINCES})(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)|{_GENERIC_PREFIX}"
)
_MAX_PREFIX_TOKENS = 6

# --- Numerals -----------------------------------------------------------------

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_RUN = "[零〇一二两三四五六七八九十百千]+"
# Words after which a Chinese numeral is a number, not part of a name (五一路 stays).
_NUMBERED = "号|栋|幢|座|楼|单元|室|层|弄|巷|期|组|排|门|户|区"
_NUMERAL = re.compile(rf"(第)?({_NUMERAL_RUN})(?=({_NUMBERED}))?")

# --- Synonyms, units and rooms ------------------------------------------------

_PUNCTUATION = re.compile(r"[^\w\s#\-]", re.UNICODE)
_DASHES = re.compile(r"[‐‑‒–—―−~～]")
_CJK = re.compile(r"[\u3400-\u9fff#]")  # "#" becomes 栋
_SPACES = re.compile(r"\s+")
_HASH_BUILDING = re.compile(r"(\d+)#(?:楼|栋)?")
_SYNONYMS = (
    (re.compile(r"(?<=[0-9a-z])(?:号楼|[幢座栋])楼*"), "栋"),
    (re.compile(r"弄"), "巷"),
)
# After the building: unit, floor, room (2单元301室, 5楼, 2-301, 301).
_AFTER_BUILDING = re.compile(r"栋[0-9\-单元层楼室房户号门]+$")
# Without a building: unit and room after the house number (88号2单元301室, 88号2-301, 88号301房).
_AFTER_HOUSE = re.compile(r"号(?:\d+单元.*|\d+-\d+(?:-\d+)?|\d+(?:室|房|户|号房)|\d+层.*)$")
# Building, unit and room written with dashes after the house number: 151号4-2-502 is 151号4栋.
_HOUSE_DASHES = re.compile(r"号(\d+)-\d+-\d+$")
_TRAILING_UNIT_ROOM = re.compile(r"(?:\d*(?:单元|室|房|户)|\d+|-)+$")
_NUMBERS = re.compile(r"\d+")


def _numeral_value(run: str) -> str:
    """一百零五 → 105, 十二 → 12, 二〇二 → 202 (digit by digit when there is no 十/百/千)."""
    if not any(ch in _CN_UNITS for ch in run):
        return "".join(str(_CN_DIGITS[ch]) for ch in run)
    total, current = 0, 0
    for ch in run:
        if ch in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
        else:
            current = _CN_DIGITS[ch]
    return str(total + current)


def _replace_numeral(m: re.Match[str]) -> str:
    ordinal, run, numbered = m.group(1), m.group(2), m.group(3)
    positional = len(run) >= 2 and any(ch in _CN_UNITS for ch in run)
    if ordinal or numbered or positional:
        return _numeral_value(run)
    return m.group(0)


def _strip_prefix(text: str, prefix: re.Pattern[str] = _PREFIX) -> str:
    """Drop leading province / city / district / street / town tokens, keeping something behind."""
    for _ in range(_MAX_PREFIX_TOKENS):
        m = prefix.match(text)
        if m is None or m.end() == len(text):
            break
        text = text[m.end() :].lstrip(" -#")
    return text


def _strip_unit_room(text: str) -> str:
    text = _HOUSE_DASHES.sub(r"号\1栋", text)
    stripped = _AFTER_BUILDING.sub("栋", text)
    if stripped != text:
        return stripped
    stripped = _AFTER_HOUSE.sub("号", text)
    if stripped != text:
        return stripped
    if "单元" in text or re.search(r"\d(?:室|房|户)$", text):
        return _TRAILING_UNIT_ROOM.sub("", text) or text
    return text


def _squeeze_spaces(text: str) -> str:
    """Chinese is written without spaces: drop them all; elsewhere keep one between words."""
    return _SPACES.sub("" if _CJK.search(text) else " ", text).strip()


def _clean(address: str) -> str:
    """Full-width → half-width, case-folded, punctuation and (in Chinese) spaces dropped."""
    text = unicodedata.normalize("NFKC", address).casefold()
    text = _DASHES.sub("-", text)
    text = _PUNCTUATION.sub(" ", text).replace("_", " ")
    return _squeeze_spaces(text).lstrip(" -#")


def _spell(text: str) -> str:
    """Chinese numerals → digits where they count something, 号楼/幢/座/# → 栋, 弄 → 巷."""
    text = _NUMERAL.sub(_replace_numeral, text)
    text = _HASH_BUILDING.sub(r"\1栋", text)
    for pattern, replacement in _SYNONYMS:
        text = pattern.sub(replacement, text)
    return text


def _finish(text: str) -> str:
    return _strip_unit_room(_squeeze_spaces(_spell(text)).strip(" -#")).strip(" -#")


def normalize(address: str, *, register: bool = False) -> str:
    """The building-level form of an address, for comparing addresses written differently.

    Full-width → half-width and case-folded; punctuation dropped and spaces
    dropped in Chinese text, collapsed elsewhere; leading administrative units
    (省/市/区/县/街道/镇/乡) removed; Chinese numerals → digits (三栋 → 3栋,
    一百零五号 → 105号); 号楼/幢/座 → 栋, 弄 → 巷; unit and room removed.
    `register`: an address or name of the register, where a province is only
    dropped when written with its suffix (湖北省, 北京市).
    """
    return _finish(_strip_prefix(_clean(address), _REGISTER_PREFIX if register else _PREFIX))


def spelled(address: str) -> str:
    """`normalize` without dropping leading places: what `AddressIndex` reads places and roads from."""
    return _finish(_clean(address))


def normalize_many(addresses: Iterable[str | None], *, register: bool = False) -> list[str | None]:
    """`normalize` over many addresses (a whole register); each distinct address is normalised once."""
    values = pd.Series(list(addresses), dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    normalised = [normalize(str(u), register=register) for u in uniques]
    return [normalised[c] if c >= 0 else None for c in codes]


def _normalised(values: Sequence[str | None], known: Iterable[tuple[Any, str]] | None) -> list[str | None]:
    """`normalize_many(values, register=True)`, taking the forms `known` (raw → normalised) holds."""
    if known is None:
        return normalize_many(values, register=True)
    forms: dict[Any, str | None] = dict(known)
    missing = [v for v in dict.fromkeys(values) if isinstance(v, str) and v not in forms]
    forms.update(zip(missing, normalize_many(missing, register=True), strict=True))
    return [forms[v] if isinstance(v, str) else None for v in values]


def house_numbers(normalised: str) -> tuple[str, ...]:
    """The digit runs of a normalised address (house, building): what a fuzzy match must keep."""
    return tuple(n.lstrip("0") or "0" for n in _NUMBERS.findall(normalised))


# --- Bounding the fuzzy score ---------------------------------------------------

# Buildings scored first by `suggest`; the best of them usually rule out all others.
_FIRST_ROUND = 64
# At most this many buildings are scored for one suggestion, and only this much of the query
# is compared: text that resembles nothing (whose bounds rule nothing out) costs a bounded
# ~20 ms in a city instead of a scan of the whole register.
_MAX_SCORED = 2048
_MAX_SUGGEST_LENGTH = 64
# Tightening the bound window by window pays for itself on address-length queries only.
_MAX_TIGHTENED_LENGTH = 32
# The bound and rapidfuzz round differently; a bound this close to a score may still tie it.
_TOLERANCE = 1e-6


class _Characters:
    """For every character, the addresses holding it (ascending) and how often: shared counts at once.

    The size of the common multiset of characters bounds every Indel-based
    similarity (an alignment keeps only characters both strings hold), so it
    bounds WRatio without computing it.
    """

    def __init__(self, texts: Sequence[str], known: Iterable[tuple[str, bool]] | None = None) -> None:
        """`known`: texts already judged by `_several_tokens`, with the judgement."""
        n = len(texts)
        self.size = n
        self.lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
        judged = dict(known or ())
        self.spaced = np.fromiter(
            (judged[t] if t in judged else _several_tokens(t) for t in texts), dtype=bool, count=n
        )
        self.points = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        self.starts = np.cumsum(self.lengths) - self.lengths
        keys, counts = np.unique(
            self.points * max(n, 1) + np.repeat(np.arange(n), self.lengths), return_counts=True
        )
        chars, starts = np.unique(keys // max(n, 1), return_index=True)
        edges = np.append(starts, len(keys)).tolist()
        self._holders = keys % max(n, 1)
        self._counts = counts
        self._spans = dict(zip(map(chr, chars.tolist()), pairwise(edges), strict=True))

    def shared(self, text: str) -> npt.NDArray[np.int64]:
        """Per address, how many characters it shares with `text` (as multisets)."""
        holders, counts = [], []
        for char, k in Counter(text).items():
            span = self._spans.get(char)
            if span is not None:
                holders.append(self._holders[span[0] : span[1]])
                counts.append(np.minimum(self._counts[span[0] : span[1]], k))
        if not holders:
            return np.zeros(self.size, dtype=np.int64)
        weights = np.concatenate(counts).astype(np.float64)
        return np.bincount(np.concatenate(holders), weights, minlength=self.size).astype(np.int64)

    def held(self, chars: Sequence[str], positions: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
        """How often the addresses at `positions` (rows) hold each of `chars` (columns)."""
        out = np.zeros((len(positions), len(chars)), dtype=np.int64)
        for column, char in enumerate(chars):
            span = self._spans.get(char)
            if span is None:
                continue
            holders = self._holders[span[0] : span[1]]
            at = np.minimum(np.searchsorted(holders, positions), len(holders) - 1)
            found = holders[at] == positions
            out[found, column] = self._counts[span[0] + at[found]]
        return out


class _ScoreBound:
    """For one query, a score `fuzz.WRatio(query, address)` cannot exceed, per address of the register.

    WRatio takes the best of Indel similarities 2·LCS/(len1+len2) between the
    strings or their sorted or de-duplicated tokens (full length, when the
    lengths differ by less than 1.5×) and, else, also windows of the longer
    one as long as the shorter (scaled by 0.9, or 0.6 beyond 8×). With m
    shared characters a full comparison scores at most 2m/(a+b) and a window
    at most 2m/(s+m), s the shorter length; the de-duplicated query length
    `a` is the smallest the query takes. A shared whole token scores 100 in
    the token comparisons, so addresses of several tokens, and (for a query
    of several tokens) addresses all of whose characters the query holds,
    are never ruled out.
    """

    def __init__(self, characters: _Characters, query: str) -> None:
        self._characters = characters
        self._query = query
        length = len(query)
        a = min(length, len(" ".join(set(query.split()))))
        shared = characters.shared(query)
        # The bound depends on the address only through (length, shared): one table lookup each.
        b = np.arange(int(characters.lengths.max(initial=0)) + 1)[:, None]
        m = np.minimum(np.arange(length + 1)[None, :], np.minimum(a, b))
        s = np.minimum(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            full = np.where(a + b > 0, 200.0 * m / (a + b), 0.0)
            window = np.where(s + m > 0, 200.0 * m / (s + m), 0.0) * np.where(
                np.maximum(length, b) <= 8 * np.minimum(length, b), 0.9, 0.6
            )
        table = np.where(
            2 * np.maximum(length, b) < 3 * np.minimum(length, b), full, np.maximum(full, window)
        )
        table[0, :] = 0.0
        if length == 0:
            table[:] = 0.0
        self.bound = table[characters.lengths, shared]
        self.bound[characters.spaced] = 100.0
        if _several_tokens(query):
            self.bound[(shared >= characters.lengths) & (characters.lengths > 0)] = 100.0
        self._tightened = np.zeros(characters.size, dtype=bool)

    def tighten(self, positions: npt.NDArray[np.intp]) -> None:
        """Lower the bound at `positions` where WRatio compares the shorter string with windows of the longer.

        A window as long as the shorter string (or a shorter one at either
        end, which lies inside such a window) shares at most the characters
        that window holds: 2m/(s+m) with m the best window's share. Only for
        a query of one token, whose token comparisons are its plain ones.
        """
        positions = positions[~self._tightened[positions]]
        self._tightened[positions] = True
        query, length = self._query, len(self._query)
        if _several_tokens(query) or not len(positions):
            return
        lengths = self._characters.lengths[positions]
        plain = (lengths > 0) & ~self._characters.spaced[positions]
        chars = list(dict.fromkeys(query))
        codes = np.array([ord(c) for c in chars], dtype=np.int64)
        counts = np.array([query.count(c) for c in chars], dtype=np.int64)
        shorter = plain & (3 * lengths <= 2 * length)
        if shorter.any():
            # Windows of the query, as long as the address.
            held = self._characters.held(chars, positions)
            query_cumulative = _cumulative_hits(np.array([[ord(c) for c in query]], dtype=np.int64), codes)[0]
            for size in np.unique(lengths[shorter]).tolist():
                rows = np.flatnonzero(shorter & (lengths == size))
                windows = query_cumulative[size:] - query_cumulative[: length - size + 1]
                best = np.minimum(held[rows][:, None, :], windows[None, :, :]).sum(axis=2).max(axis=1)
                shared = np.minimum(held[rows], counts).sum(axis=1)
                self._lower(positions[rows], shared, best, length, size)
        longer = plain & (2 * lengths >= 3 * length)
        for size in np.unique(lengths[longer]).tolist():
            # Windows of the address, as long as the query.
            at = positions[np.flatnonzero(longer & (lengths == size))]
            points = self._characters.points[self._characters.starts[at][:, None] + np.arange(size)[None, :]]
            cumulative = _cumulative_hits(points, codes)
            windows = cumulative[:, length:] - cumulative[:, : size - length + 1]
            best = np.minimum(windows, counts).sum(axis=2).max(axis=1)
            shared = np.minimum(cumulative[:, -1], counts).sum(axis=1)
            self._lower(at, shared, best, size, length)

    def _lower(
        self,
        at: npt.NDArray[np.intp],
        shared: npt.NDArray[np.int64],
        best: npt.NDArray[np.int64],
        longer: int,
        shorter: int,
    ) -> None:
        """The bound at `at` from the whole strings' share and the best window's share."""
        full = 200.0 * np.minimum(shared, shorter) / (longer + shorter)
        window = 200.0 * best / (shorter + best) * (0.9 if longer <= 8 * shorter else 0.6)
        self.bound[at] = np.minimum(self.bound[at], np.maximum(full, window))


def _cumulative_hits(points: npt.NDArray[np.int64], codes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Per row of code points, how often each of `codes` occurs in the first i points (i = 0…width)."""
    hits = (points[:, :, None] == codes[None, None, :]).astype(np.int64)
    out = np.zeros((points.shape[0], points.shape[1] + 1, len(codes)), dtype=np.int64)
    np.cumsum(hits, axis=1, out=out[:, 1:])
    return out


def _several_tokens(text: str) -> bool:
    """Whether WRatio's token comparisons differ from its plain ones for `text`."""
    return any(c.isspace() for c in text)


# --- Reading an address: places, roads, estates ---------------------------------

# A road (anything before a house number: 和平路, 青林村2组, 和平里) and its house number.
_ROAD_HOUSE = re.compile(r"^(\D.*?)(\d+)号")
# A registered name: an estate (小区/苑/花园/新村/里 …) and the building number after it.
_ESTATE_BUILDING = re.compile(r"^(\D.*?)(\d+栋.*)$")
# What may follow an estate name for its building: 4栋, 4号 (a building called by number), 4.
_ESTATE_NUMBER = re.compile(r"^(\d+)(?:号|栋)?$")
# Where a place name may end, for places the store does not know (another district, a mistyped
# community): 2 to `_MAX_PLACE` Chinese characters up to one of these suffixes.
_PLACE_END = re.compile(
    r"街道办事处|街道办|街道|社区居委会|社区居民委员会|居民委员会|社区|居委会|村民委员会|村委会|"
    r"特别行政区|自治区|自治州|自治县|[省市区县旗盟州镇乡村]"
)
_MAX_PLACE = 12
# The first house, group or building number: places lie before it (a numeral inside a place's name,
# 三门社区 spelt 3门社区, is followed by more of the name).
_FIRST_NUMBER = re.compile(r"\d+(?=$|[^\u4e00-\u9fff]|号|组|栋|单元|室|层|楼)")
# Heads of addresses (what precedes the first digit) whose cuts are kept: a district has a few thousand.
_CUT_CACHE = 65_536
_HAN = re.compile(r"[\u4e00-\u9fff0-9]+")
# Suffixes a street, community or village name is written with or without.
_PLACE_SUFFIX = re.compile(r"(?:街道办事处|街道办|街道|社区居委会|社区|居委会|村委会|村|镇|乡)$")
# The forms a place is written in, by the suffix of its registered name: a 街道 is never written
# 某某社区, nor a 社区 某某街道 (so 沈巷社区 before a road is not 沈巷镇).
_STREET_FORMS = ("", "街道", "街道办事处", "街道办", "街")
_TOWN_FORMS = ("", "镇", "乡")
_COMMUNITY_FORMS = ("", "社区", "社区居委会", "社区居民委员会", "居委会")
_VILLAGE_FORMS = ("", "村", "村委会", "村民委员会")
_FORMS_BY_SUFFIX = (
    (("街道办事处", "街道办", "街道"), _STREET_FORMS),
    (("镇", "乡"), _TOWN_FORMS),
    (("社区居委会", "社区", "居委会"), _COMMUNITY_FORMS),
    (("村委会", "村"), _VILLAGE_FORMS),
)
# A registered name says something beyond a number (科技大厦, 玉兰新村4栋; not 3栋 or 12号).
_LETTERS = re.compile(r"[^\W\d_栋号]")
# Likely intended buildings (same numbers, the named estate) must score at least this to be suggested first.
_LIKELY = 60.0
# Readings tried for one address (every way its places can be cut off before a road); a bound on work.
_MAX_READINGS = 32


def place_name(name: str) -> str:
    """A street's or community's name as compared with what an address writes (full-width, case, spaces)."""
    return _squeeze_spaces(unicodedata.normalize("NFKC", str(name)).casefold())


def place_names(names: Iterable[str | None]) -> dict[str, frozenset[str]]:
    """Every way the store's street, community and village names are written, and the names each may mean.

    紫阳街道 → 紫阳街道, 紫阳街道办事处, 紫阳街, 紫阳 …; 瑞欣社区 → 瑞欣社区, 瑞欣社区居委会, 瑞欣 ….
    A form two places share (武铁 of 武铁街道 and 武铁社区) means either. A form is only ever
    dropped when a road or an estate of the register follows it.
    """
    out: dict[str, set[str]] = {}
    for name in names:
        if not name:
            continue
        text = place_name(name)
        base = _PLACE_SUFFIX.sub("", text)
        kinds = [forms for suffixes, forms in _FORMS_BY_SUFFIX if text.endswith(suffixes)] or [
            forms for _, forms in _FORMS_BY_SUFFIX
        ]
        forms = {text}
        if len(base) >= 2:
            forms.update(base + form for kind in kinds for form in kind)
        for form in forms:
            out.setdefault(_spell(form), set()).add(text)
    return {form: frozenset(meant) for form, meant in out.items()}


@dataclass(frozen=True)
class _Reading:
    """What an address names, read against the register.

    `text` is the address from its road on, with an estate name between house
    and building number dropped (和平路151号玉兰新村4栋 → 和平路151号4栋);
    `road` is set when the road is one of the register's, `hit` when the
    address named a building by its registered name, `unknown_road` when it
    names, before a house number, a road the register lacks. `written` are the
    store's places written before the road (each: the names it may mean) and
    `known` how many characters they cover.
    """

    text: str
    road: str | None = None
    estate: str | None = None
    hit: int | None = None
    unknown_road: bool = False
    written: tuple[frozenset[str], ...] = ()
    known: int = 0
    cut: int = 0


class _Prefixes:
    """Strings looked up as prefixes of a text, longest first: per first character, the lengths to try."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = {w for w in words if w}
        lengths: dict[str, set[int]] = {}
        for w in self.words:
            lengths.setdefault(w[0], set()).add(len(w))
        self.first = {c: sorted(n, reverse=True) for c, n in lengths.items()}

    def all_at_start(self, text: str, start: int = 0) -> list[str]:
        """Every word `text[start:]` starts with, longest first."""
        lengths = self.first.get(text[start : start + 1])
        if lengths is None:
            return []
        room = len(text) - start
        words = self.words
        return [text[start : start + n] for n in lengths if n <= room and text[start : start + n] in words]

    def at_start(self, text: str, start: int = 0) -> str | None:
        """The longest word `text[start:]` starts with, if any."""
        found = self.all_at_start(text, start)
        return found[0] if found else None


@dataclass(frozen=True)
class Placement:
    """Where a house number the register lacks lies on a road it holds, between registered numbers.

    `numbers` are the registered numbers on each side of `number` on the same
    side of the road (one: the number itself is registered, its building is
    not; one also when the number lies past the last registered one or on a
    side the register holds nothing of). `between` says whether the number is
    bracketed by registered ones; `codes` are the buildings at `numbers`.
    """

    road: str
    number: int
    numbers: tuple[int, ...]
    codes: tuple[str, ...]
    between: bool
    disagrees: tuple[str, ...] = ()


# --- Matching -----------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A building found for an address; `score` is 1.0 for exact and normalised matches, else 0–1.

    `disagrees` names the store's places written before the road that the
    building does not lie in (中山社区 written before a building of 武铁社区).
    """

    building_code: str
    method: MatchMethod
    score: float
    address: str
    disagrees: tuple[str, ...] = ()


class AddressIndex:
    """The building register, indexed for matching addresses (raw, normalised, by name, fuzzy).

    An address is read as [places] road house-number [estate] building, or
    [places] [road] estate building (the building's registered name, 玉兰新村4栋).
    Places are the administrative units `normalize` drops and the store's own
    street, community and village names (`places`); every way of cutting them
    off before a road or an estate of the register is tried (a community is
    often named after its road: 武铁社区武铁路…, 中山路社区中山路…), and the
    reading kept is the one whose building lies in the places written
    (`areas`: per building, the names of its street and community), then the
    one recognising most of the text as the store's places. A building that
    does not lie in the places written is still answered when no reading
    agrees, with `Match.disagrees` naming them. A road before a house number
    must be one of the register's: a road the register lacks is never matched
    to another one (和平里151号 is not 和平路151号), it gets suggestions.
    Fuzzy matching only compares addresses on the same road with the same
    numbers, which guards against 88号3栋 ↔ 88号8栋 and keeps each search to a
    small block. The scorer is rapidfuzz's WRatio: plain Indel similarity for
    strings of similar length, a partial match scaled by 0.9 when one side
    carries extra words. A tie between different buildings is no match.
    """

    def __init__(
        self,
        buildings: gpd.GeoDataFrame | pd.DataFrame,
        *,
        places: Iterable[str | None] = (),
        areas: Sequence[Iterable[str | None]] | None = None,
        threshold: float = 85.0,
        known: AddressIndex | None = None,
    ) -> None:
        """`known`: an index of an earlier register, whose addresses' and names' normalised forms are
        taken instead of worked out again (most of the cost, when a few buildings were edited)."""
        has_address = buildings["address"].notna() & buildings["code"].notna()
        codes = buildings.loc[has_address, "code"].astype(str).tolist()
        raw = buildings.loc[has_address, "address"].astype(str).tolist()
        raw_names: list[str | None] = (
            buildings.loc[has_address, "name"].astype(object).tolist()
            if "name" in buildings.columns
            else [None] * len(codes)
        )
        names = _normalised(raw_names, None if known is None else known._forms("names"))
        self.threshold = threshold
        self._kept = np.flatnonzero(has_address.to_numpy())
        self._codes = codes
        self._raw = raw
        self._raw_names: list[str | None] = raw_names
        forms = _normalised(raw, None if known is None else known._forms("addresses"))
        self._normalised: list[str] = [n or "" for n in forms]
        self._choices = np.array(self._normalised, dtype=object)
        self._names: npt.NDArray[np.object_] = np.array([n or "" for n in names], dtype=object)
        self._characters: _Characters = _Characters(
            self._normalised, None if known is None else known._forms("spaced")
        )
        self._exact: dict[str, int] = {}
        self._by_normalised: dict[str, int] = {}
        self._by_name: dict[str, int] = {}
        self._blocks: dict[tuple[str | None, tuple[str, ...]], list[int]] = {}
        self._by_numbers: dict[tuple[str, ...], list[int]] = {}
        self._by_estate: dict[str, list[int]] = {}
        self._houses: dict[str, dict[int, list[int]]] = {}
        road_house = [_ROAD_HOUSE.match(n) for n in self._normalised]
        self._road_of: list[str | None] = [
            m.group(1) if m is not None and _CJK.search(m.group(1)) else None for m in road_house
        ]
        self._estate_of: list[str | None] = [None] * len(codes)
        for i, name in enumerate(names):
            m = _ESTATE_BUILDING.match(name or "")
            if m is not None and len(m.group(1)) >= 2:
                self._estate_of[i] = m.group(1)
        self._roads = _Prefixes(r for r in self._road_of if r)
        self._estates = _Prefixes(e for e in self._estate_of if e)
        self._set_places(places, areas)
        # Insert in code order so that duplicates resolve to the same building every time.
        for i in sorted(range(len(codes)), key=codes.__getitem__):
            self._exact.setdefault(raw[i].strip(), i)
            self._by_normalised.setdefault(self._normalised[i], i)
            if len(_LETTERS.findall(names[i] or "")) >= 2:
                self._by_name.setdefault(names[i] or "", i)
            numbers = house_numbers(self._normalised[i])
            self._blocks.setdefault((self._road_of[i], numbers), []).append(i)
            self._by_numbers.setdefault(numbers, []).append(i)
            estate = self._estate_of[i]
            if estate:
                self._by_estate.setdefault(estate, []).append(i)
            road, house = self._road_of[i], road_house[i]
            if road is not None and house is not None:
                self._houses.setdefault(road, {}).setdefault(int(house.group(2)), []).append(i)

    def _forms(self, kind: str) -> Iterable[tuple[Any, Any]]:
        """What this index worked out, for a later one (`known`): raw names or addresses → normalised
        forms, or normalised addresses → whether they hold several tokens."""
        if kind == "names":
            return zip(self._raw_names, self._names.tolist(), strict=True)
        if kind == "addresses":
            return zip(self._raw, self._normalised, strict=True)
        return zip(self._normalised, self._characters.spaced.tolist(), strict=True)

    def _set_places(self, places: Iterable[str | None], areas: Sequence[Iterable[str | None]] | None) -> None:
        self._place_names, self._areas = self._read_places(places, areas)
        self._places = _Prefixes(self._place_names)
        self._cut_cache: dict[str, dict[int, tuple[int, tuple[frozenset[str], ...]]]] = {}

    def _read_places(
        self, places: Iterable[str | None], areas: Sequence[Iterable[str | None]] | None
    ) -> tuple[dict[str, frozenset[str]], list[frozenset[str]] | None]:
        if areas is None:
            return place_names(places), None
        every = list(areas)
        shared: dict[tuple[str | None, ...], frozenset[str]] = {}  # one set per street and community
        kept = []
        for k in self._kept.tolist():
            key = tuple(every[k])
            area = shared.get(key)
            if area is None:
                area = shared[key] = frozenset(place_name(n) for n in key if n)
            kept.append(area)
        return place_names(places), kept

    def with_places(
        self, places: Iterable[str | None], areas: Sequence[Iterable[str | None]] | None = None
    ) -> AddressIndex:
        """This index (sharing the register's indexes) with other street and community names and areas.

        What changes when boundaries are redrawn but no building is: rebuilding
        the register's indexes is the costly part. `areas` is per building row
        of the frame the index was built from. The same index when nothing changed.
        """
        names, kept = self._read_places(places, areas)
        if names == self._place_names and kept == self._areas:
            return self
        other = copy.copy(self)
        other._place_names, other._areas = names, kept
        other._places = _Prefixes(names)
        other._cut_cache = {}
        return other

    def with_areas(self, rows: npt.ArrayLike, areas: Sequence[Iterable[str | None]]) -> AddressIndex:
        """This index with the street and community of the buildings at `rows` (of the frame it was
        built from) replaced by `areas`: what a redrawn grid changes, without the O(register) work
        of `with_places`. The same index when none differs (or areas are unknown)."""
        if self._areas is None:
            return self
        at = np.asarray(rows, dtype=np.intp)
        slot = np.minimum(np.searchsorted(self._kept, at), max(len(self._kept) - 1, 0))
        held = self._kept[slot] == at if len(self._kept) else np.zeros(len(at), dtype=bool)
        new = [frozenset(place_name(n) for n in area if n) for area in areas]
        changes = [(int(k), a) for k, a, h in zip(slot.tolist(), new, held.tolist(), strict=True) if h]
        if all(self._areas[k] == a for k, a in changes):
            return self
        kept = list(self._areas)
        for k, area in changes:
            kept[k] = area
        other = copy.copy(self)
        other._areas = kept
        return other

    @classmethod
    def from_frames(cls, frames: Mapping[str, pd.DataFrame], *, threshold: float = 85.0) -> AddressIndex:
        """The index of `frames["buildings"]`, knowing the street and community names of `frames`.

        With `frames["grids"]` too, each building's street and community (of
        the grid holding most of it) are known, so the places an address writes
        are checked against the building it leads to.
        """
        places: list[str | None] = []
        for layer in ("streets", "communities"):
            frame = frames.get(layer)
            if frame is not None and "name" in frame.columns:
                places.extend(frame["name"].astype(object).where(frame["name"].notna(), None).tolist())
        areas = None
        if all(name in frames for name in ("grids", "communities", "streets")) and isinstance(
            frames["buildings"], gpd.GeoDataFrame
        ):
            grids = frames["grids"]
            positions = building_grids(grids, frames["buildings"])
            areas = building_areas(
                positions, grids["community_code"].tolist(), frames["communities"], frames["streets"]
            )
        return cls(frames["buildings"], places=places, areas=areas, threshold=threshold)

    def __len__(self) -> int:
        return len(self._codes)

    def _match(self, i: int, method: MatchMethod, score: float, disagrees: tuple[str, ...] = ()) -> Match:
        return Match(self._codes[i], method, score, self._raw[i], disagrees)

    def match(self, query: str) -> Match | None:
        """The building `query` names: exact, then normalised, then fuzzy; None if none is good enough."""
        hit = self._exact.get(query.strip())
        if hit is not None:
            return self._match(hit, "exact", 1.0)
        return self._match_text(_clean(query))

    def _cuts(self, text: str) -> dict[int, tuple[int, tuple[frozenset[str], ...]]]:
        """Where a road may begin in `text`: position → (characters of the store's places before it, places).

        Places are cut off one after another: the store's own names in every
        form, provinces and administrative units `normalize` knows, and any
        2–12 characters ending in a place suffix (街道, 社区, 区, 村 …).
        Per position, the cut recognising most of the store's places is kept.
        Places come before the first house number, so the cuts depend only on
        the text before it: addresses of one district share those heads, and
        each head is cut once.
        """
        number = _FIRST_NUMBER.search(text)
        head = text if number is None else text[: number.start()]
        cuts = self._cut_cache.get(head)
        if cuts is None:
            if len(self._cut_cache) >= _CUT_CACHE:
                self._cut_cache.clear()
            cuts = self._cut_cache[head] = self._cut(head)
        return cuts

    def _cut(self, text: str) -> dict[int, tuple[int, tuple[frozenset[str], ...]]]:
        """`_cuts` worked out."""
        ends = [m.end() for m in _PLACE_END.finditer(text)]
        run_end = list(range(len(text)))  # per position, where its run of Chinese characters and digits ends
        for run in _HAN.finditer(text):
            run_end[run.start() : run.end()] = [run.end()] * (run.end() - run.start())
        best: dict[int, tuple[int, tuple[frozenset[str], ...]]] = {0: (0, ())}
        for j in range(len(text)):
            if j not in best:
                continue
            known, written = best[j]
            steps: list[tuple[int, int, tuple[frozenset[str], ...]]] = [
                (j + len(f), known + len(f), (*written, self._place_names[f]))
                for f in self._places.all_at_start(text, j)
            ]
            admin = _PREFIX.match(text, j)
            if admin is not None:
                steps.append((admin.end(), known, written))
            last = min(j + _MAX_PLACE, run_end[j])
            steps += [(e, known, written) for e in ends if j + 2 <= e <= last]
            for k, count, places in steps:
                if k < len(text) and (k not in best or count > best[k][0]):
                    best[k] = (count, places)
        return {k: v for k, v in best.items() if k < len(text) and not text[k].isdigit()}

    def _readings(self, text: str) -> Iterator[_Reading]:
        """Every reading of `text` on a road or an estate of the register, after every cut of its places.

        Best first: the cuts recognising most of the store's places, then the
        least cut off. Text that begins with a road and house number of the
        register is read as such alone: no place is ever cut out of a road's
        own characters.
        """
        m = _ROAD_HOUSE.match(text)
        if m is not None and m.group(1) in self._roads.words:
            yield from self._readings_at(text)
            return
        cuts = self._cuts(text)
        count = 0
        for k in sorted(cuts, key=lambda k: (-cuts[k][0], k)):
            known, written = cuts[k]
            for reading in self._readings_at(text[k:], written, known, k):
                yield reading
                count += 1
            if count >= _MAX_READINGS:
                return

    def _readings_at(
        self, text: str, written: tuple[frozenset[str], ...] = (), known: int = 0, cut: int = 0
    ) -> Iterator[_Reading]:
        """Readings of `text` starting with a road (and house number) or an estate of the register."""
        if text[:1] not in self._roads.first and text[:1] not in self._estates.first:
            return
        m = _ROAD_HOUSE.match(text)
        if m is not None and m.group(1) in self._roads.words:
            rest = text[m.end() :]
            estate = self._estates.at_start(rest)
            if estate is not None and len(rest) > len(estate):
                rest = rest[len(estate) :]
            yield _Reading(text[: m.end()] + rest, m.group(1), estate, None, False, written, known, cut)
            return
        road = self._roads.at_start(text)
        if road is not None and not text[len(road) :][:1].isdigit():
            body = text[len(road) :]
            estate = self._estates.at_start(body)
            if estate is not None:
                hit = self._by_name.get(estate + _ESTATE_NUMBER.sub(r"\1栋", body[len(estate) :]))
                if hit is not None and self._road_of[hit] != road:
                    hit = None
                yield _Reading(text, road, estate, hit, False, written, known, cut)
        estate = self._estates.at_start(text)
        if estate is not None:
            hit = self._by_name.get(estate + _ESTATE_NUMBER.sub(r"\1栋", text[len(estate) :]))
            yield _Reading(text, None, estate, hit, False, written, known, cut)

    def _agrees(self, reading: _Reading, i: int) -> bool:
        """Whether building `i` is in the estate the address names (when it names one)."""
        return reading.estate is None or self._estate_of[i] in (None, reading.estate)

    def _disagrees(self, written: tuple[frozenset[str], ...], positions: Iterable[int]) -> tuple[str, ...]:
        """The places written that a building at `positions` does not lie in (none when areas are unknown)."""
        if self._areas is None:
            return ()
        out = []
        for meant in written:
            if not all(meant & self._areas[i] for i in positions):
                out.append(min(meant))
        return tuple(out)

    def _hit(self, reading: _Reading) -> int | None:
        """The building a reading names exactly (normalised address or registered name), if any."""
        if reading.hit is not None:
            return reading.hit
        hit = self._by_normalised.get(reading.text)
        if hit is None:
            hit = self._by_name.get(reading.text)
        return hit if hit is not None and self._agrees(reading, hit) else None

    def _fuzzy(self, reading: _Reading) -> tuple[int, float] | None:
        """The one building on the reading's road with its numbers that resembles it, and the score."""
        if reading.unknown_road or (reading.estate is not None and reading.road is None):
            return None
        block = self._blocks.get((reading.road, house_numbers(reading.text)))
        if not block:
            return None
        choices = {i: self._normalised[i] for i in block if self._agrees(reading, i)}
        best = process.extract(
            reading.text, choices, scorer=fuzz.WRatio, score_cutoff=self.threshold, limit=2
        )
        if not best:
            return None
        _, score, i = best[0]
        if len(best) > 1 and best[1][1] == score and self._codes[best[1][2]] != self._codes[i]:
            return None
        return i, float(score)

    def _match_text(self, clean: str) -> Match | None:
        """The building of an address (as `_clean` leaves it): the best consistent reading."""
        text = _finish(clean)
        if not text:
            return None
        # Readings come best first: the first whose building lies in the places written wins,
        # else the first that finds a building at all (flagged with the places it disagrees with).
        readings: list[_Reading] = []
        disagreeing: tuple[int, tuple[str, ...]] | None = None
        for reading in self._readings(text):
            readings.append(reading)
            hit = self._hit(reading)
            if hit is None:
                continue
            disagrees = self._disagrees(reading.written, (hit,))
            if not disagrees:
                return self._match(hit, "normalized", 1.0)
            if disagreeing is None:
                disagreeing = (hit, disagrees)
        if disagreeing is not None:
            return self._match(disagreeing[0], "normalized", 1.0, disagreeing[1])
        if not readings:
            return self._match_unread(_finish(_strip_prefix(clean)))
        scored: list[tuple[tuple[bool, float, int, int], int, float, _Reading]] = []
        for reading in readings:
            fuzzy = self._fuzzy(reading)
            if fuzzy is not None:
                i, score = fuzzy
                differs = bool(self._disagrees(reading.written, (i,)))
                scored.append(((differs, -score, -reading.known, reading.cut), i, score, reading))
        if not scored:
            return None
        _, i, score, reading = min(scored, key=lambda f: f[0])
        return self._match(i, "fuzzy", round(score / 100.0, 4), self._disagrees(reading.written, (i,)))

    def _match_unread(self, normalised: str) -> Match | None:
        """An address naming no road or estate of the register: its normalised form or registered name."""
        if not normalised:
            return None
        m = _ROAD_HOUSE.match(normalised)
        reading = _Reading(normalised, unknown_road=m is not None and _CJK.search(m.group(1)) is not None)
        hit = self._hit(reading)
        if hit is not None:
            return self._match(hit, "normalized", 1.0)
        fuzzy = self._fuzzy(reading)
        return None if fuzzy is None else self._match(fuzzy[0], "fuzzy", round(fuzzy[1] / 100.0, 4))

    def match_many(self, queries: Sequence[str]) -> list[Match | None]:
        """`match` for a batch; each distinct query is read once."""
        out: list[Match | None] = [None] * len(queries)
        seen: dict[str, Match | None] = {}
        for k, query in enumerate(queries):
            hit = self._exact.get(query.strip())
            if hit is not None:
                out[k] = self._match(hit, "exact", 1.0)
            elif query in seen:
                out[k] = seen[query]
            else:
                out[k] = seen[query] = self._match_text(_clean(query))
        return out

    def place(self, query: str) -> Placement | None:
        """Where `query`'s house number lies on its road, when the road is the register's; else None.

        For an address that names no building: its registered neighbours on
        the same side of the road (odd or even numbers, where the register
        holds both), which a lookup turns into a grid when they share one.
        """
        reading = next((r for r in self._readings(spelled(query)) if r.road is not None), None)
        if reading is None:
            return None
        m = _ROAD_HOUSE.match(reading.text)
        if m is None:
            return None
        road, number = m.group(1), int(m.group(2))
        houses = self._houses.get(road)
        if not houses:
            return None
        numbers = sorted(houses)
        if number in houses:
            neighbours, between = [number], True
        else:
            # Where the register holds both sides of the road, only this side's numbers are neighbours;
            # where it holds only the other side, the number lies across the road from all of them.
            same = [n for n in numbers if n % 2 == number % 2]
            side = same or numbers
            at = bisect.bisect(side, number)
            neighbours = side[max(at - 1, 0) : at + 1]
            between = bool(same) and 0 < at < len(side)
        positions = [i for n in neighbours for i in houses[n]]
        codes = tuple(dict.fromkeys(self._codes[i] for i in positions))
        disagrees = self._disagrees(reading.written, positions)
        return Placement(road, number, tuple(neighbours), codes, between, disagrees)

    def suggest(self, query: str, n: int = 5) -> list[Match]:
        """Up to `n` buildings whose address resembles `query`, likely intended ones first.

        Likely intended: buildings with the same house and building numbers
        (和平里151号4栋 → 和平路151号4栋) or in the estate the address names,
        scoring at least 60; then the best of the whole register.
        """
        normalised = normalize(query)[:_MAX_SUGGEST_LENGTH]
        if not normalised or not self._codes:
            return []
        reading = next(self._readings(spelled(query)[:_MAX_SUGGEST_LENGTH]), _Reading(normalised))
        same_numbers = (
            self._by_numbers.get(house_numbers(reading.text), []) if _NUMBERS.search(normalised) else []
        )
        ranked = self._likely(normalised, same_numbers, self._choices)
        if reading.estate is not None:
            ranked += self._likely(normalised, self._by_estate.get(reading.estate, []), self._names)
        ranked.sort(key=lambda pair: (-pair[1], pair[0]))
        out = self._distinct(ranked, n)
        if len(out) < n:  # the likely ones leave room: rank the whole register (the costly part)
            out = self._distinct(ranked + self._ranked(normalised, n * 3), n)
        return out

    def _distinct(self, ranked: list[tuple[int, float]], n: int) -> list[Match]:
        """The first `n` buildings of `ranked` (position, score), each code once, positive scores only."""
        out: list[Match] = []
        seen: set[str] = set()
        for i, score in ranked:
            if self._codes[i] not in seen and score > 0:
                seen.add(self._codes[i])
                out.append(self._match(i, "fuzzy", round(score / 100.0, 4)))
            if len(out) == n:
                break
        return out

    def _likely(
        self, normalised: str, members: list[int], texts: npt.NDArray[np.object_]
    ) -> list[tuple[int, float]]:
        """(position, WRatio against `texts`) of the `members` scoring at least `_LIKELY`."""
        if not members:
            return []
        choices = texts[np.asarray(members, dtype=np.intp)].tolist()
        scores = process.cdist([normalised], choices, scorer=fuzz.WRatio, dtype=np.float64)[0]
        return [
            (i, float(score)) for i, score in zip(members, scores.tolist(), strict=True) if score >= _LIKELY
        ]

    def _ranked(self, normalised: str, limit: int) -> list[tuple[int, float]]:
        """The `limit` best (position, WRatio) over the register, best first and ties by position.

        The same list as scoring every address: addresses are scored in rounds,
        highest score bound first, until no address left could tie or beat the
        `limit`-th best score found, or `_MAX_SCORED` addresses were scored (the
        best of those, for text so unlike every address that bounds rule few out).
        """
        bound = _ScoreBound(self._characters, normalised)
        done = np.zeros(len(bound.bound), dtype=bool)
        positions = np.empty(0, dtype=np.intp)
        scores = np.empty(0, dtype=np.float64)
        floor, size = 0.0, _FIRST_ROUND
        while len(positions) < _MAX_SCORED:
            pending = np.flatnonzero((bound.bound >= floor - _TOLERANCE) & (bound.bound > 0) & ~done)
            if not len(pending):
                break
            size = min(size, _MAX_SCORED - len(positions))
            if len(normalised) <= _MAX_TIGHTENED_LENGTH:
                if len(pending) > 4 * size:
                    pending = pending[np.argpartition(-bound.bound[pending], 4 * size - 1)[: 4 * size]]
                bound.tighten(pending)
                pending = pending[bound.bound[pending] >= floor - _TOLERANCE]
            if len(pending) > size:
                pending = pending[np.argpartition(-bound.bound[pending], size - 1)[:size]]
            done[pending] = True
            positions = np.concatenate([positions, pending])
            scores = np.concatenate([scores, self._scores(normalised, pending)])
            positive = scores[scores > 0]
            if len(positive) >= limit:
                floor = float(-np.partition(-positive, limit - 1)[limit - 1])
            size *= 2
        order = np.lexsort((positions, -scores))[:limit]
        return list(zip(positions[order].tolist(), scores[order].tolist(), strict=True))

    def _scores(self, normalised: str, positions: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        """WRatio of `normalised` against the addresses at `positions` (no score_cutoff: it rounds)."""
        choices = self._choices[positions].tolist()
        return process.cdist([normalised], choices, scorer=fuzz.WRatio, dtype=np.float64)[0]


def building_areas(
    grid_positions: npt.ArrayLike,
    grid_communities: Sequence[str | None],
    communities: pd.DataFrame,
    streets: pd.DataFrame,
) -> list[tuple[str | None, str | None]]:
    """Per building, the names of its street and community, from the position of its grid (-1: none)."""
    community = dict(zip(communities["code"].astype(str), communities["name"], strict=True))
    street_of = dict(zip(communities["code"].astype(str), communities["street_code"], strict=True))
    street = dict(zip(streets["code"].astype(str), streets["name"], strict=True))
    out: list[tuple[str | None, str | None]] = []
    for pos in np.asarray(grid_positions, dtype=np.intp).tolist():
        code = grid_communities[pos] if pos >= 0 else None
        if code is None:
            out.append((None, None))
            continue
        out.append((street.get(str(street_of.get(str(code)))), community.get(str(code))))
    return out
