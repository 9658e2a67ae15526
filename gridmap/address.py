"""Chinese address normalisation and matching against the building register.

No library parses Chinese addresses below street level, and the register is
typed by many hands: 三栋 / 3栋 / 3号楼 / 3幢, full-width digits, a leading
湖北省武汉市武昌区…, a trailing 2单元301室. `normalize` reduces an address to
the part that names a building, so a household's address, a hotline
operator's text and the register agree. `AddressIndex` then matches exactly,
on the normalised form, and finally fuzzily among buildings whose house and
building numbers are the same (so 幸福路88号3栋 never becomes 88号8栋).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import pandas as pd
from rapidfuzz import fuzz, process

__all__ = ["AddressIndex", "Match", "house_numbers", "normalize", "normalize_many"]

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
_ADMIN_SUFFIX = r"(?:街道办事处|街道办|街道|自治州|自治县|地区|省|市|州|盟|区|县|旗|镇|乡)"
_GENERIC_PREFIX = (
    r"[\u4e00-\u9fff]{2,6}?"
    r"(?<![小园校厂景片营社])"
    + _ADMIN_SUFFIX
    + r"(?!路|街|大道|道|巷|弄|胡同|场|号|里|口|府|中心|广场|花园|村|栋|\d)"
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


# --- Matching -----------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A building found for an address; `score` is 1.0 for exact and normalised matches, else 0–1."""

    building_code: str
    method: MatchMethod
    score: float
    address: str


class AddressIndex:
    """The building register, indexed for matching addresses (raw, normalised, fuzzy).

    Fuzzy matching only compares addresses with the same numbers, which both
    guards against 88号3栋 ↔ 88号8栋 and keeps each search to a small block.
    The scorer is rapidfuzz's WRatio: plain Indel similarity for strings of
    similar length (one wrong character of eight scores 87.5), a partial
    match scaled by 0.9 when one side carries extra words (a community name
    the register omits). A tie between different buildings is no match.
    """

    def __init__(self, buildings: gpd.GeoDataFrame | pd.DataFrame, *, threshold: float = 85.0) -> None:
        has_address = buildings["address"].notna() & buildings["code"].notna()
        codes = buildings.loc[has_address, "code"].astype(str).tolist()
        raw = buildings.loc[has_address, "address"].astype(str).tolist()
        self.threshold = threshold
        self._codes = codes
        self._raw = raw
        self._normalised = [n or "" for n in normalize_many(raw)]
        self._exact: dict[str, int] = {}
        self._by_normalised: dict[str, int] = {}
        self._blocks: dict[tuple[str, ...], list[int]] = {}
        # Insert in code order so that duplicates resolve to the same building every time.
        for i in sorted(range(len(codes)), key=codes.__getitem__):
            self._exact.setdefault(raw[i].strip(), i)
            self._by_normalised.setdefault(self._normalised[i], i)
            self._blocks.setdefault(house_numbers(self._normalised[i]), []).append(i)

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

    def _match_normalised(self, normalised: str) -> Match | None:
        hit = self._by_normalised.get(normalised)
        if hit is not None:
            return self._match(hit, "normalized", 1.0)
        block = self._blocks.get(house_numbers(normalised))
        if not normalised or not block:
            return None
        choices = {i: self._normalised[i] for i in block}
        best = process.extract(normalised, choices, scorer=fuzz.WRatio, score_cutoff=self.threshold, limit=2)
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
        """Up to `n` buildings whose address resembles `query`, best first (for a "did you mean")."""
        normalised = normalize(query)
        if not normalised or not self._codes:
            return []
        ranked = process.extract(normalised, self._normalised, scorer=fuzz.WRatio, limit=n * 3)
        out: list[Match] = []
        seen: set[str] = set()
        for _, score, i in ranked:
            if self._codes[i] not in seen and score > 0:
                seen.add(self._codes[i])
                out.append(self._match(i, "fuzzy", round(score / 100.0, 4)))
            if len(out) == n:
                break
        return out
