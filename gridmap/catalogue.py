"""The one definition of gridmap's layers and their fields.

Stores, import validation, API schemas and exports are all derived from this
table, so a field is added here once and appears everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from gridmap.errors import UnknownLayerError

FieldType = Literal["text", "integer", "real", "boolean"]
GeometryKind = Literal["MultiPolygon", "Polygon", "Point", "MultiLineString"]

# What any text may hold, judged by import validation, the API and the stores alike.
MAX_CODE_LENGTH = 64
CODE_FORBIDDEN = "/?#"
"""Characters a code may not hold: a feature's URL (`/collections/{layer}/items/{code}`) could not
name it again."""
TEXT_MAX_LENGTH = 200
"""The longest text a field holds unless it says otherwise (`Field.max_length`)."""
UNSAFE_TEXT = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
"""Control characters and bidirectional overrides (which make text read differently from how it is
stored: "\u202e" turns a name around); tab and line breaks are allowed in free text."""
MASKED_PHONE = re.compile(r"\d{3}\*{4}\d{4}")
"""A phone as shown below the role that sees it (`gridmap.privacy.mask_phone`): sent back, it stands for
the stored number."""
PHONE = re.compile(r"(?:\+?86)?(?:1[3-9]\d{9}|0\d{9,11}|[2-9]\d{6,7})")
"""A Chinese mobile (11 digits from 13), a landline with its area code, or a local landline number;
spaces, dashes and brackets between digits are allowed (`PHONE_SEPARATORS`)."""
PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")


@dataclass(frozen=True)
class Field:
    """One attribute of a layer."""

    name: str
    type: FieldType
    label_zh: str
    label_en: str
    required: bool = False
    default: object = None
    personal: bool = False
    derived: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    max_length: int = TEXT_MAX_LENGTH
    """The longest text it holds (text fields)."""
    phone: bool = False
    """Must look like a phone number (`PHONE`)."""


@dataclass(frozen=True)
class Parent:
    """A field that must name a feature of another layer."""

    field: str
    layer: str


@dataclass(frozen=True)
class Layer:
    """A layer: its geometry kind, fields and parent links."""

    name: str
    label_zh: str
    label_en: str
    geometry: GeometryKind
    fields: tuple[Field, ...]
    parents: tuple[Parent, ...] = ()
    accepted_geometries: tuple[str, ...] = field(default=())
    table_fields: tuple[str, ...] = ()
    """The fields a table of features shows unless asked for others, chosen to be read whole in
    80 terminal columns (empty: every field)."""

    def __post_init__(self) -> None:
        unknown = set(self.table_fields) - set(self.field_names)
        if unknown:
            raise ValueError(f"{self.name}.table_fields names no field of the layer: {sorted(unknown)}")

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def table_columns(self) -> list[str]:
        """`table_fields`, or every field when the layer names none."""
        return list(self.table_fields) or self.field_names

    @property
    def columns(self) -> list[str]:
        """Canonical column order of a frame of this layer (geometry last)."""
        return [*self.field_names, "geometry"]

    def get(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def personal_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.personal]

    @property
    def versioned(self) -> bool:
        """Whether the layer keeps boundary versions with validity dates (streets, communities, grids)."""
        return all(name in self.field_names for name in DATE_FIELDS)

    @property
    def input_fields(self) -> list[Field]:
        """Fields an import may set (derived ones are computed, never trusted)."""
        return [f for f in self.fields if not f.derived]


def _code(label_zh: str = "编码") -> Field:
    return Field(
        "code",
        "text",
        label_zh,
        "Code",
        required=True,
        aliases=("编码", "代码", "编号", "id", "ID", "Code", "CODE"),
    )


_NAME = Field("name", "text", "名称", "Name", aliases=("名称", "名字", "Name", "NAME"))
_GRID_CODE = Field("grid_code", "text", "所属网格", "Grid", derived=True, aliases=("所属网格", "网格编码"))
_ADDRESS = Field(
    "address", "text", "地址", "Address", aliases=("地址", "详细地址", "门牌地址"), max_length=300
)
# Boundary versions (DB11/T 2157 keeps start and end dates for every grid): ISO dates (YYYY-MM-DD).
# valid_to is set only on closed versions, which the store keeps beside the current rows.
_VALID_FROM = Field(
    "valid_from", "text", "启用日期", "Valid from", aliases=("启用日期", "生效日期", "开始日期", "起始日期")
)
_VALID_TO = Field(
    "valid_to", "text", "停用日期", "Valid to", derived=True, aliases=("停用日期", "失效日期", "终止日期")
)
DATE_FIELDS = ("valid_from", "valid_to")

STREETS = Layer(
    "streets",
    "街道/乡镇",
    "Streets",
    "MultiPolygon",
    (
        _code("街道编码"),
        Field("name", "text", "名称", "Name", required=True, aliases=_NAME.aliases),
        _VALID_FROM,
        _VALID_TO,
    ),
)

COMMUNITIES = Layer(
    "communities",
    "社区/村",
    "Communities",
    "MultiPolygon",
    (
        _code("社区编码"),
        Field("name", "text", "名称", "Name", required=True, aliases=_NAME.aliases),
        Field(
            "street_code",
            "text",
            "所属街道",
            "Street",
            required=True,
            aliases=("所属街道", "街道编码", "街道"),
        ),
        Field(
            "kind",
            "text",
            "类型",
            "Kind",
            default="community",
            aliases=("类型", "社区类型"),
            choices=("community", "village"),
        ),
        _VALID_FROM,
        _VALID_TO,
    ),
    parents=(Parent("street_code", "streets"),),
)

GRIDS = Layer(
    "grids",
    "网格",
    "Grids",
    "MultiPolygon",
    (
        _code("网格编码"),
        Field("name", "text", "名称", "Name", required=True, aliases=(*_NAME.aliases, "网格名称")),
        Field(
            "community_code",
            "text",
            "所属社区",
            "Community",
            required=True,
            aliases=("所属社区", "社区编码", "所属村", "社区"),
        ),
        Field(
            "party_branch", "text", "网格党支部", "Party branch", aliases=("网格党支部", "党支部", "党组织")
        ),
        Field("worker_name", "text", "网格员", "Grid worker", aliases=("网格员", "网格员姓名", "网格长")),
        Field(
            "worker_phone",
            "text",
            "网格员电话",
            "Worker phone",
            personal=True,
            phone=True,
            aliases=("网格员电话", "联系电话", "电话", "手机"),
        ),
        _VALID_FROM,
        _VALID_TO,
    ),
    parents=(Parent("community_code", "communities"),),
    table_fields=("code", "name", "party_branch", "worker_name", "worker_phone"),
)

BUILDINGS = Layer(
    "buildings",
    "楼栋",
    "Buildings",
    "Polygon",
    (
        _code("楼栋编码"),
        Field("name", "text", "名称", "Name", aliases=(*_NAME.aliases, "楼栋名称")),
        _ADDRESS,
        Field("floors", "integer", "楼层", "Floors", aliases=("楼层", "层数", "楼层数")),
        _GRID_CODE,
    ),
    accepted_geometries=("Polygon", "MultiPolygon"),
)

HOUSEHOLDS = Layer(
    "households",
    "户",
    "Households",
    "Point",
    (
        _code("户编码"),
        _ADDRESS,
        Field("building_code", "text", "所属楼栋", "Building", aliases=("所属楼栋", "楼栋编码", "楼栋")),
        Field("unit", "text", "单元", "Unit", aliases=("单元", "单元号")),
        Field("room", "text", "室", "Room", aliases=("室", "房号", "门牌号", "房间号")),
        Field("size", "integer", "人口", "Persons", default=1, aliases=("人口", "人数", "户人口")),
        Field(
            "party_member",
            "boolean",
            "党员户",
            "Party member",
            default=False,
            aliases=("党员户", "党员", "是否党员"),
        ),
        Field(
            "center_household",
            "boolean",
            "党员中心户",
            "Center household",
            default=False,
            aliases=("党员中心户", "中心户", "是否中心户"),
        ),
        Field(
            "contact_name",
            "text",
            "联系人",
            "Contact name",
            personal=True,
            aliases=("联系人", "户主", "户主姓名", "姓名"),
        ),
        Field(
            "contact_phone",
            "text",
            "联系电话",
            "Contact phone",
            personal=True,
            phone=True,
            aliases=("联系电话", "电话", "手机", "手机号"),
        ),
        _GRID_CODE,
    ),
    parents=(Parent("building_code", "buildings"),),
    table_fields=("code", "address", "size", "contact_name", "contact_phone"),
)

SERVICE_POINTS = Layer(
    "service_points",
    "志愿服务点",
    "Service points",
    "Point",
    (
        _code("服务点编码"),
        _NAME,
        Field("kind", "text", "类型", "Kind", aliases=("类型", "服务类型")),
        Field(
            "radius_m",
            "real",
            "服务半径(米)",
            "Radius (m)",
            default=500.0,
            aliases=("半径", "服务半径", "半径(米)", "服务半径(米)"),
        ),
        _GRID_CODE,
    ),
    table_fields=("code", "name", "kind", "radius_m"),
)

SPEAKERS = Layer(
    "speakers",
    "广播(村村响)",
    "Speakers",
    "Point",
    (
        _code("广播编码"),
        _NAME,
        Field(
            "radius_m",
            "real",
            "覆盖半径(米)",
            "Radius (m)",
            default=300.0,
            aliases=("半径", "覆盖半径", "半径(米)", "覆盖半径(米)"),
        ),
        Field(
            "status",
            "text",
            "状态",
            "Status",
            default="working",
            aliases=("状态", "运行状态"),
            choices=("working", "broken"),
        ),
        Field("power_w", "real", "功率(瓦)", "Power (W)", aliases=("功率", "功率(W)", "功率(瓦)")),
        Field("sensitivity_db", "real", "灵敏度(dB)", "Sensitivity (dB)", aliases=("灵敏度", "灵敏度(dB)")),
        _GRID_CODE,
    ),
    table_fields=("code", "name", "status", "radius_m"),
)

ROADS = Layer(
    "roads",
    "道路",
    "Roads",
    "MultiLineString",
    (
        _code("道路编码"),
        Field("name", "text", "名称", "Name", aliases=(*_NAME.aliases, "道路名称", "路名")),
        Field("kind", "text", "道路类型", "Kind", aliases=("类型", "道路类型", "道路等级", "highway")),
        Field(
            "walkable",
            "boolean",
            "可步行",
            "Walkable",
            default=True,
            aliases=("可步行", "步行", "是否可步行", "foot"),
        ),
    ),
    accepted_geometries=("LineString", "MultiLineString"),
    table_fields=("code", "name", "kind", "walkable"),
)
"""The walking network (`gridmap.walking`): lines kept as given, joined where their vertices coincide."""

CASES = Layer(
    "cases",
    "案件",
    "Cases",
    "Point",
    (
        _code("案件编号"),
        Field("category", "text", "案件类别", "Category", required=True, aliases=("类别", "小类")),
        Field(
            "description", "text", "问题描述", "Description", aliases=("描述", "问题描述"), max_length=2000
        ),
        Field("source", "text", "来源", "Source", aliases=("来源", "案件来源")),
        Field("reported_at", "text", "上报时间", "Reported at", required=True),
        Field("reporter_name", "text", "上报人", "Reporter", personal=True, aliases=("上报人", "举报人")),
        Field(
            "reporter_phone",
            "text",
            "上报人电话",
            "Reporter phone",
            personal=True,
            aliases=("联系电话",),
            phone=True,
        ),
        _ADDRESS,
        Field("building_code", "text", "所属楼栋", "Building", derived=True),
        _GRID_CODE,
        Field("community_code", "text", "所属社区", "Community", derived=True),
        Field("street_code", "text", "所属街道", "Street", derived=True),
        Field("department", "text", "处置部门", "Department"),
        Field("status", "text", "状态", "Status", required=True),
        Field("due_at", "text", "处置时限", "Due at", derived=True),
        Field("overdue", "boolean", "已超期", "Overdue", derived=True),
        Field("handler", "text", "处置人", "Handler", derived=True),
        Field("checker", "text", "核查人", "Checker", derived=True),
        Field("closed_at", "text", "结案时间", "Closed at", derived=True),
        Field("on_time", "boolean", "按期处置", "Handled on time", derived=True),
        Field("ticket_no", "text", "工单编号", "Work-order number", aliases=("工单号", "12345工单号")),
        Field("placed_by", "text", "定位方式", "Placed by", derived=True),
        Field("level", "text", "办理层级", "Level", derived=True),
        Field("pending_request", "text", "待审批申请", "Pending request", derived=True),
        Field("extensions", "integer", "延期次数", "Extensions", derived=True),
        Field("reopened", "integer", "重办次数", "Reopened", derived=True),
        Field("reviewed_at", "text", "回访时间", "Followed up at", derived=True),
        Field("reached", "boolean", "回访联系上", "Reporter reached", derived=True),
        Field("satisfaction", "text", "满意度", "Satisfaction", derived=True),
        Field("duplicate_of", "text", "并入案件", "Merged into", derived=True),
        Field("speaker_code", "text", "故障广播", "Broken speaker", derived=True),
    ),
)
"""Cases (案件) are declared here with the layers but kept out of `LAYERS`: they change only through
their lifecycle (`gridmap.cases`), and only callers the case concerns may read them, so the generic
layer paths (features, tiles, imports, exports of every layer) must not reach them."""

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (STREETS, COMMUNITIES, GRIDS, BUILDINGS, HOUSEHOLDS, SERVICE_POINTS, SPEAKERS, ROADS)
}
LAYER_NAMES: tuple[str, ...] = tuple(LAYERS)


def get_layer(name: str) -> Layer:
    """The catalogue entry for `name`; an UnknownLayerError names the allowed layers."""
    try:
        return LAYERS[name]
    except KeyError:
        raise UnknownLayerError(name) from None
