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

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from rapidfuzz import fuzz, process

__all__ = ["AddressIndex", "Match", "house_numbers", "normalize", "normalize_many", "place_forms"]

MatchMethod = Literal["exact", "normalized", "fuzzy"]

# --- Administrative prefix ----------------------------------------------------

# Provinces and province-level cities, regions and SARs, with their suffixes.
_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|"
    "海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
_KNOWN_PREFIX = rf"(?:{_PROVINCES})(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?"
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
_PREFIX = re.compile(rf"^(?:{_KNOWN_PREFIX}|{_GENERIC_PREFIX})")
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


def _strip_prefix(text: str) -> str:
    """Drop leading province / city / district / street / town tokens, keeping something behind."""
    for _ in range(_MAX_PREFIX_TOKENS):
        m = _PREFIX.match(text)
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


def normalize(address: str) -> str:
    """The building-level form of an address, for comparing addresses written differently.

    Full-width → half-width and case-folded; punctuation dropped and spaces
    dropped in Chinese text, collapsed elsewhere; leading administrative units
    (省/市/区/县/街道/镇/乡) removed; Chinese numerals → digits (三栋 → 3栋,
    一百零五号 → 105号); 号楼/幢/座 → 栋, 弄 → 巷; unit and room removed.
    """
    text = unicodedata.normalize("NFKC", address).casefold()
    text = _DASHES.sub("-", text)
    text = _PUNCTUATION.sub(" ", text).replace("_", " ")
    text = _squeeze_spaces(text)
    text = _strip_prefix(text.lstrip(" -#"))
    text = _NUMERAL.sub(_replace_numeral, text)
    text = _HASH_BUILDING.sub(r"\1栋", text)
    for pattern, replacement in _SYNONYMS:
        text = pattern.sub(replacement, text)
    return _strip_unit_room(_squeeze_spaces(text).strip(" -#")).strip(" -#")


def normalize_many(addresses: Iterable[str | None]) -> list[str | None]:
    """`normalize` over a whole register; each distinct address is normalised once."""
    values = pd.Series(list(addresses), dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    normalised = [normalize(str(u)) for u in uniques]
    return [normalised[c] if c >= 0 else None for c in codes]


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

    def __init__(self, texts: Sequence[str]) -> None:
        n = len(texts)
        self.size = n
        self.lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
        self.spaced = np.fromiter((_several_tokens(t) for t in texts), dtype=bool, count=n)
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
# A community named before the road, even one the store does not know (丁字桥社区和平路…).
_ANY_COMMUNITY = re.compile(r"^[\u4e00-\u9fff]{2,8}?社区(?:居委会|居民委员会)?")
# Suffixes a street, community or village name is written with or without.
_PLACE_SUFFIX = re.compile(r"(?:街道办事处|街道办|街道|社区居委会|社区|居委会|村委会|村|镇|乡)$")
_PLACE_FORMS = ("", "街道", "街道办事处", "街道办", "街", "社区", "社区居委会", "社区居民委员会", "居委会")
_VILLAGE_FORMS = ("村", "村委会", "村民委员会", "镇", "乡")
# A registered name says something beyond a number (科技大厦, 玉兰新村4栋; not 3栋 or 12号).
_LETTERS = re.compile(r"[^\W\d_栋号]")
# Likely intended buildings (same numbers, the named estate) must score at least this to be suggested first.
_LIKELY = 60.0


def _road(normalised: str) -> str | None:
    """The road of a normalised Chinese address (what precedes its house number), if it has one."""
    m = _ROAD_HOUSE.match(normalised)
    return m.group(1) if m is not None and _CJK.search(m.group(1)) else None


def place_forms(names: Iterable[str | None]) -> set[str]:
    """The ways the store's street, community and village names are written before a road.

    紫阳街道 → 紫阳街道, 紫阳街道办事处, 紫阳街, 紫阳 …; 瑞欣社区 → 瑞欣社区, 瑞欣社区居委会, 瑞欣 ….
    A form is only ever dropped when a road or an estate of the register follows it.
    """
    out: set[str] = set()
    for name in names:
        if not name:
            continue
        text = _squeeze_spaces(unicodedata.normalize("NFKC", str(name)).casefold())
        base = _PLACE_SUFFIX.sub("", text)
        out.add(text)
        if len(base) >= 2:
            out.update(base + form for form in (*_PLACE_FORMS, *_VILLAGE_FORMS))
    return out


@dataclass(frozen=True)
class _Reading:
    """What an address names, read against the register.

    `text` is the normalised address with known places dropped and an estate
    name between house and building number dropped (和平路151号玉兰新村4栋 →
    和平路151号4栋); `road` is set when the road is one of the register's,
    `hit` when the address named a building by its registered name, and
    `unknown_road` when it names, before a house number, a road the register lacks.
    """

    text: str
    road: str | None = None
    estate: str | None = None
    hit: int | None = None
    unknown_road: bool = False


class _Prefixes:
    """Strings looked up as prefixes of a text, longest first (a dict per length, no regex alternation)."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = {w for w in words if w}
        self.lengths = sorted({len(w) for w in self.words}, reverse=True)

    def at_start(self, text: str) -> str | None:
        """The longest word `text` starts with, if any."""
        for length in self.lengths:
            if length <= len(text) and text[:length] in self.words:
                return text[:length]
        return None


# --- Matching -----------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A building found for an address; `score` is 1.0 for exact and normalised matches, else 0–1."""

    building_code: str
    method: MatchMethod
    score: float
    address: str


class AddressIndex:
    """The building register, indexed for matching addresses (raw, normalised, by name, fuzzy).

    An address is read as [places] road house-number [estate] building, or
    [places] [road] estate building (the building's registered name, 玉兰新村4栋).
    Places are the administrative units `normalize` drops and the store's own
    street, community and village names (`places`). A road before a house
    number must be one of the register's: a road the register lacks is never
    matched to another one (和平里151号 is not 和平路151号), it gets suggestions.
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
        threshold: float = 85.0,
    ) -> None:
        has_address = buildings["address"].notna() & buildings["code"].notna()
        codes = buildings.loc[has_address, "code"].astype(str).tolist()
        raw = buildings.loc[has_address, "address"].astype(str).tolist()
        names: list[str | None] = (
            normalize_many(buildings.loc[has_address, "name"].astype(object).tolist())
            if "name" in buildings.columns
            else [None] * len(codes)
        )
        self.threshold = threshold
        self._codes = codes
        self._raw = raw
        self._normalised = [n or "" for n in normalize_many(raw)]
        self._choices = np.array(self._normalised, dtype=object)
        self._names = np.array([n or "" for n in names], dtype=object)
        self._characters = _Characters(self._normalised)
        self._exact: dict[str, int] = {}
        self._by_normalised: dict[str, int] = {}
        self._by_name: dict[str, int] = {}
        self._blocks: dict[tuple[str | None, tuple[str, ...]], list[int]] = {}
        self._by_numbers: dict[tuple[str, ...], list[int]] = {}
        self._by_estate: dict[str, list[int]] = {}
        self._road_of: list[str | None] = [_road(n) for n in self._normalised]
        self._estate_of: list[str | None] = [None] * len(codes)
        for i, name in enumerate(names):
            m = _ESTATE_BUILDING.match(name or "")
            if m is not None and len(m.group(1)) >= 2:
                self._estate_of[i] = m.group(1)
        self._roads = _Prefixes(r for r in self._road_of if r)
        self._estates = _Prefixes(e for e in self._estate_of if e)
        self._places = _Prefixes(place_forms(places))
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

    @classmethod
    def from_frames(cls, frames: Mapping[str, pd.DataFrame], *, threshold: float = 85.0) -> AddressIndex:
        """The index of `frames["buildings"]`, knowing the street and community names of `frames`."""
        places: list[str | None] = []
        for layer in ("streets", "communities"):
            frame = frames.get(layer)
            if frame is not None and "name" in frame.columns:
                places.extend(frame["name"].astype(object).where(frame["name"].notna(), None).tolist())
        return cls(frames["buildings"], places=places, threshold=threshold)

    def __len__(self) -> int:
        return len(self._codes)

    def _match(self, i: int, method: MatchMethod, score: float) -> Match:
        return Match(self._codes[i], method, score, self._raw[i])

    def match(self, query: str) -> Match | None:
        """The building `query` names: exact, then normalised, then fuzzy; None if none is good enough."""
        hit = self._exact.get(query.strip())
        if hit is not None:
            return self._match(hit, "exact", 1.0)
        return self._match_normalised(normalize(query))

    def _read(self, normalised: str) -> _Reading:
        """`normalised` read against the register, dropping known places before the road if need be."""
        text = normalised
        for _ in range(_MAX_PREFIX_TOKENS + 1):
            reading = self._read_road_or_estate(text)
            if reading is not None:
                return reading
            place = self._places.at_start(text)
            generic = _ANY_COMMUNITY.match(text) or _PREFIX.match(text)
            length = max(len(place or ""), generic.end() if generic else 0)
            if not length or length == len(text) or text[length].isdigit():
                break
            text = text[length:]
        m = _ROAD_HOUSE.match(normalised)
        return _Reading(normalised, unknown_road=m is not None and _CJK.search(m.group(1)) is not None)

    def _read_road_or_estate(self, text: str) -> _Reading | None:
        """A reading when `text` starts with a road or an estate of the register, else None."""
        m = _ROAD_HOUSE.match(text)
        if m is not None and m.group(1) in self._roads.words:
            rest = text[m.end() :]
            estate = self._estates.at_start(rest)
            if estate is not None and len(rest) > len(estate):
                rest = rest[len(estate) :]
            return _Reading(text[: m.end()] + rest, road=m.group(1), estate=estate)
        road = self._roads.at_start(text)
        body = text[len(road) :] if road is not None and not text[len(road) :][:1].isdigit() else text
        estate = self._estates.at_start(body)
        if estate is None:
            return None
        number = _ESTATE_NUMBER.sub(r"\1栋", body[len(estate) :])
        hit = self._by_name.get(estate + number)
        if hit is not None and road is not None and body is not text and self._road_of[hit] != road:
            hit = None
        return _Reading(text, road=road if body is not text else None, estate=estate, hit=hit)

    def _agrees(self, reading: _Reading, i: int) -> bool:
        """Whether building `i` is in the estate the address names (when it names one)."""
        return reading.estate is None or self._estate_of[i] in (None, reading.estate)

    def _match_normalised(self, normalised: str) -> Match | None:
        if not normalised:
            return None
        reading = self._read(normalised)
        if reading.hit is not None:
            return self._match(reading.hit, "normalized", 1.0)
        hit = self._by_normalised.get(reading.text)
        if hit is None and reading.text != normalised and not reading.unknown_road:
            hit = self._by_normalised.get(normalised)
        if hit is None:
            hit = self._by_name.get(reading.text)
        if hit is not None and self._agrees(reading, hit):
            return self._match(hit, "normalized", 1.0)
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
        return self._match(i, "fuzzy", round(score / 100.0, 4))

    def match_many(self, queries: Sequence[str]) -> list[Match | None]:
        """`match` for a batch; the queries are normalised together."""
        out: list[Match | None] = [None] * len(queries)
        pending: list[int] = []
        for k, query in enumerate(queries):
            hit = self._exact.get(query.strip())
            if hit is None:
                pending.append(k)
            else:
                out[k] = self._match(hit, "exact", 1.0)
        normalised = normalize_many(queries[k] for k in pending)
        for k, norm in zip(pending, normalised, strict=True):
            out[k] = self._match_normalised(norm or "")
        return out

    def suggest(self, query: str, n: int = 5) -> list[Match]:
        """Up to `n` buildings whose address resembles `query`, likely intended ones first.

        Likely intended: buildings with the same house and building numbers
        (和平里151号4栋 → 和平路151号4栋) or in the estate the address names,
        scoring at least 60; then the best of the whole register.
        """
        normalised = normalize(query)[:_MAX_SUGGEST_LENGTH]
        if not normalised or not self._codes:
            return []
        reading = self._read(normalised)
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
