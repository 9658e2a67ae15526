"""The CLI's `--help`: every command and option, in Chinese and English.

Keys are the command path (`"cases list"`; `"gridmap"` for the program) and
the command path and a parameter's name (`"import crs"`); `"* NAME"` holds the
help of a parameter every command shares (`--store`). `gridmap.cli.localised`
reads it when help is shown, so the decorators carry no help text.
"""

from __future__ import annotations

from gridmap.party.vocabulary import AREA_KINDS, GRID_BRANCH_FUNDS_YUAN, LINK_QUOTA, ORG_KINDS

_REGISTER = (
    "登记册：orgs（党组织，默认），或 members、units、links、points、funds（按行的键）。",
    "The register: orgs (organisations, the default), or members, units, links, points, funds (by row key).",
)
_ROW_KEY = (
    "党组织编码，或 --register 所指登记册中一行的键。",
    "The organisation's code, or the key of a row of the --register.",
)

HELP: dict[str, tuple[str, str]] = {
    "gridmap": (
        "网格化管理：社区网格的划分、覆盖分析、地址查询与案件办理。",
        "Grid mapping for community grid governance (网格化管理).",
    ),
    "assign": (
        "推算楼栋、住户、志愿服务点和广播的所属网格（grid_code）并保存到数据库。",
        "Derive grid_code of buildings, households, service points and speakers, and save it in the store.",
    ),
    "analyze": (
        "分析每个网格、社区和街道的覆盖率、一户十联、党建配置和拓扑。",
        "Coverage, linkage, governance and topology of every grid, community and street.",
    ),
    "analyze out": (
        "输出目录：网格/社区/街道/住户 CSV、gaps.geojson 和 analysis.xlsx。",
        "Directory for grids/communities/streets/households CSV, gaps.geojson, analysis.xlsx.",
    ),
    "analyze quota": (
        "一户十联：每个党员中心户联系的户数。",
        "一户十联: households each center household links.",
    ),
    "analyze ambient_db": (
        "环境噪声 dB(A)，用于由功率和灵敏度推算广播覆盖半径。",
        "Ambient noise, dB(A), for speaker ranges from power and sensitivity.",
    ),
    "analyze engine": (
        "single：本进程计算；dask：按区县在 dask.distributed 上计算。",
        "single: this process; dask: county by county on dask.distributed.",
    ),
    "analyze scheduler": (
        "dask 调度器地址（tcp://主机:端口）；默认在本机启动 2 个工作进程。",
        "dask scheduler address (tcp://host:port); default: a local cluster of 2 workers.",
    ),
    "analyze partitions": (
        "dask：要分析的分区目录（如 `gridmap province` 所写，此时不读数据库）；目录中没有分区时，"
        "数据库的图层按分区写到这里（每个工作进程都须能访问；默认临时目录）。",
        "dask: a directory of county partitions to analyse, as `gridmap province` writes them (the store is "
        "not read), or, when it holds none, where to write the store's layers as partitions (every worker "
        "must see it; default: a temporary directory).",
    ),
    "analyze part_households": (
        "dask：住户多于此数的区县按社区分成若干部分分别分析，每部分至多这么多户。",
        "dask: a county of more households is analysed in parts of at most this many.",
    ),
    "import": (
        "把 FILE 导入图层 LAYER：先校验全部内容并列出将作的更改，再写入；有任何问题则不作更改。",
        "Import FILE into LAYER: validate all of it, show what would change, then write (or, with a\nproblem, change nothing).",
    ),
    "import layer": (
        "目标图层：streets（街道）、communities（社区）、grids（网格）、buildings（楼栋）、households（住户）、service_points（志愿服务点）、speakers（广播）、roads（道路）。",
        "Target layer: streets, communities, grids, buildings, households, service_points, speakers, roads.",
    ),
    "import file": (
        "GeoJSON、GeoPackage、Shapefile（.shp 或 .zip）、KML、CSV、XLSX 或 FlatGeobuf 文件。",
        "GeoJSON, GeoPackage, Shapefile (.shp or .zip), KML, CSV, XLSX or FlatGeobuf file.",
    ),
    "import crs": (
        "文件的坐标系：wgs84、cgcs2000、gcj02、bd09 或 EPSG:n（默认取文件自带的；CSV/XLSX 为 WGS84）。",
        "Coordinates of the file: wgs84, cgcs2000, gcj02, bd09 or EPSG:n (default: the file's own; WGS84 for CSV/XLSX).",
    ),
    "import mode": (
        "replace 替换整个图层；append 追加（新编码插入，已有编码更新）。",
        "replace the layer, or append (new codes inserted, existing codes updated).",
    ),
    "import fix": (
        "自动修复有明确安全修法的问题并逐条列出：无效多边形（make_valid）、数字后带单位（3层）、整数字段写成小数（2.5 层 → 3）、是否字段带备注（是（备注））。",
        "Repair what has an obvious safe repair, and list it: invalid polygons (make_valid), a unit after a number (3层), a fraction of an integer (2.5 floors → 3), 是（备注） for yes/no.",
    ),
    "import source_layer": (
        "文件含多个图层（GeoPackage、KML、zip）或工作表（XLSX）时，要读取的那一个。",
        "Layer (GeoPackage, KML, zip) or sheet (XLSX) to read, when there are several.",
    ),
    "import encoding": (
        "Shapefile 或 CSV 的文字编码，如 gbk（默认按 .cpg，否则 UTF-8 或 GBK）。",
        "Text encoding of a Shapefile or CSV, e.g. gbk (default: .cpg, else UTF-8 or GBK).",
    ),
    "import ignore": (
        "看似字段但不导入的列（可重复）。",
        "A column to leave out although it looks like a field (repeatable).",
    ),
    "import dry_run": (
        "只显示导入将作的更改，不作任何更改。",
        "Show what the import would change, and change nothing.",
    ),
    "import yes": (
        "删除要素或清空文件缺少的字段前不再询问。",
        "Do not ask before removing features or clearing a field the file lacks.",
    ),
    "import skip_invalid": (
        "只导入有效行；被拒的行连同原因写入 --rejects。",
        "Load the valid rows; refused rows go to --rejects with reasons.",
    ),
    "import rejects": (
        "--skip-invalid 拒收的行（原单元格及原因）写入的 CSV 文件。",
        "CSV file for the rows --skip-invalid refuses (their cells and the reasons).",
    ),
    "import chunk_rows": (
        "导入矢量文件、CSV 或 XLSX 时每批读取、校验和写入的行数；行数更多的文件分批处理，内存不随文件增长，结果不变。",
        "Rows read, checked and written per chunk when a vector file, a CSV or an XLSX workbook is imported; bigger files go chunk by chunk, in memory that does not grow with the file, with the same result.",
    ),
    "init": (
        "新建一个空数据库（七个图层，没有要素）；已有的数据库保持不变。",
        "Create an empty store (all seven layers, no features); an existing store is left as it is.",
    ),
    "layers": (
        "列出每个图层的中文名称和要素数。",
        "List every layer with its Chinese label and feature count.",
    ),
    "demo": (
        "载入示例辖区（替换数据库中的图层），完成分析并生成覆盖地图。",
        "Load the sample district (replacing the store's layers), analyse it and write the coverage map.",
    ),
    "demo out": ("HTML 地图的输出目录。", "Directory for the HTML maps."),
    "demo data": (
        "要载入的示例目录（默认 data/sample；data/dirty 用于演示校验）。",
        "Sample directory to load (default data/sample; data/dirty shows validation).",
    ),
    "sample": (
        "生成示例辖区（或更大的辖区），写成 GeoJSON 和 CSV 文件。\n\n规模 400 约为一千万户的城市；住户分块写出，任何规模下内存都只占几 GB。",
        "Generate the sample district (or a larger one) and write it as GeoJSON and CSV files.\n\nScale 400 is a city of about ten million households; households are\nwritten chunk by chunk, so memory stays a few gigabytes at any scale.",
    ),
    "sample out": ("写出图层文件的目录。", "Directory to write the layer files into."),
    "sample scale": (
        "并排的街道数（每个约 61 个网格、24,000 户；400 约一千万户）。",
        "Streets side by side (each ~61 grids, 24,000 households; 400: ~10 million).",
    ),
    "sample seed": (
        "随机种子：相同的种子生成逐字节相同的文件。",
        "Random seed: the same seed gives byte-identical files.",
    ),
    "sample dirty": (
        "植入文档所述的四个问题（data/README.md）。",
        "Plant the four documented problems (data/README.md).",
    ),
    "province": (
        "在真实区县边界内生成一个模拟省份，按区县分区，供 `--engine dask` 使用。",
        "Generate a synthetic province inside real county boundaries, as partitions for `--engine dask`.",
    ),
    "province out": (
        "按区县存放 GeoParquet 分区的目录。",
        "Directory for the per-county GeoParquet partitions.",
    ),
    "province counties": ("区县个数，从最大的开始。", "How many counties, the largest first."),
    "province scale": (
        "每个区县的街道数（每个街道约 24,000 户）。",
        "Streets per county (~24,000 households each).",
    ),
    "province seed": (
        "第一个区县的随机种子（后面的依次加 1）。",
        "Random seed of the first county (the next ones add 1).",
    ),
    "export": (
        "导出图层 LAYER（或一项分析结果）为 GeoJSON、GeoPackage、Shapefile、KML、CSV、XLSX、FlatGeobuf。",
        "Export LAYER (or an analysis output) as GeoJSON, GeoPackage, Shapefile, KML, CSV, XLSX, FlatGeobuf.",
    ),
    "export layer": (
        "要导出的图层：streets、communities、grids、buildings、households、service_points、speakers、roads，或 all（GeoPackage）；也可用 --what。",
        "Layer to export: streets, communities, grids, buildings, households, service_points, speakers, roads, or all (GeoPackage); or use --what.",
    ),
    "export out": (
        "输出文件（默认为图层名加格式后缀，如 grids.geojson）。",
        "Output file (default: LAYER and the format's suffix, e.g. grids.geojson).",
    ),
    "export fmt": (
        "geojson|gpkg|shp|kml|csv|xlsx|fgb（默认按 --out 的后缀，否则 geojson）。",
        "geojson|gpkg|shp|kml|csv|xlsx|fgb (default: from the --out suffix, else geojson).",
    ),
    "export crs": (
        "wgs84、cgcs2000、gcj02（高德/腾讯）、bd09（百度）或 EPSG:n。",
        "wgs84, cgcs2000, gcj02 (Amap/Tencent), bd09 (Baidu) or EPSG:n.",
    ),
    "export community": ("只导出这个社区（编码）。", "Only this community (code)."),
    "export grid": ("只导出这个网格（编码）。", "Only this grid (code)."),
    "export bbox": (
        "只导出落在 最小经度,最小纬度,最大经度,最大纬度（WGS84）范围内的要素。",
        "Only features in minlon,minlat,maxlon,maxlat (WGS84).",
    ),
    "export public": (
        "去掉个人信息字段和网格员姓名（默认按管理员导出）。",
        "Remove personal fields and grid worker names (the default is admin).",
    ),
    "export with_personal": (
        "写出个人信息字段（住户联系人、网格员电话）；默认不写。",
        "Write the personal fields (household contacts, grid worker phones); left out by default.",
    ),
    "export encoding": (
        "Shapefile / CSV 的文字编码，如旧版 ArcGIS 用 gbk（默认 UTF-8）。",
        "Shapefile / CSV text encoding, e.g. gbk for old ArcGIS (default UTF-8).",
    ),
    "export csv_geometry": (
        "CSV 的几何写法：wkt，或 lonlat（每个要素一个点）。",
        "CSV geometry: wkt, or lonlat (a point per feature).",
    ),
    "export headers": (
        "XLSX 表头：zh（中文名称和是/否，供社区工作人员使用）或 canonical（字段名）；两种都能原样导回。",
        "XLSX column headers: zh (Chinese labels and 是/否, for 社区 staff) or canonical (the field names); both import back.",
    ),
    "export what": (
        "导出一项分析结果而不是图层（带覆盖指标的网格、问题清单、未覆盖住户，或 K 个建议点位）。",
        "Export an analysis output instead of a layer (grids with coverage figures, gaps, uncovered households, or K proposed sites).",
    ),
    "export k": ("--what sites-… 的建议点位个数。", "Number of sites for --what sites-…."),
    "features": (
        "分页显示图层 LAYER 的要素，可按 --bbox、--where 筛选、按 --order 排序；分页由数据库完成。",
        "Show one page of LAYER, filtered by --bbox and --where, in --order; the store cuts the page.",
    ),
    "features layer": (
        "要翻阅的图层：streets、communities、grids、buildings、households、service_points、speakers、roads。",
        "Layer to page through: streets, communities, grids, buildings, households, service_points, speakers, roads.",
    ),
    "features bbox": (
        "只显示与 最小经度,最小纬度,最大经度,最大纬度（WGS84）相交的要素。",
        "Only features meeting minlon,minlat,maxlon,maxlat (WGS84).",
    ),
    "features where": (
        "字段=值：只显示该字段等于该值的要素（可重复；布尔值写 true/false，数字按数字）。",
        "FIELD=VALUE: only features whose field equals the value (repeatable; booleans true/false, numbers as numbers).",
    ),
    "features order": (
        "按字段排序，-字段 为降序（相同时按编码）。",
        "Order by FIELD, or -FIELD for descending (ties by code).",
    ),
    "features limit": ("每页要素数。", "Features per page."),
    "features offset": (
        "跳过的要素数（上一页给出的下一页起点）。",
        "Features to skip (the previous page's next offset).",
    ),
    "features fmt": ("table 表格，或 geojson / csv 输出到标准输出。", "table, or geojson / csv to stdout."),
    "features fields": (
        "字段,字段,…：要显示的列及其顺序，各种格式通用（默认 GeoJSON 和 CSV 为全部字段，表格为图层的主要字段）。",
        "FIELD,FIELD,...: the columns to show, in this order, in every format (default: GeoJSON and CSV every field, a table the layer's main fields).",
    ),
    "features with_personal": (
        "显示未打码的个人信息字段（住户联系人、网格员电话）。",
        "Show the personal fields (household contacts, grid worker phones) unmasked.",
    ),
    "history": (
        "列出修订记录（每次写入一条）：时间、操作人、命令和改了什么。\n\n同时给出 --layer 和 --code 时，每条修订显示该要素修改前后的完整内容，以及自何时起如此。",
        "List the revisions (every write is one): when, who, the command and what changed.\n\nWith --layer and --code, each revision shows that feature's full before and\nafter: what is stored about it, and since when.",
    ),
    "history layer": ("只列改动了这个图层的修订。", "Only revisions that changed this layer."),
    "history code": (
        "只列改动了这个要素的修订（与 --layer 一起用）。",
        "Only revisions that changed this feature (with --layer).",
    ),
    "history since": ("只列这个日期或时间以来的修订。", "Only revisions since this date or time."),
    "history limit": ("最多列出的修订条数，最新的在前。", "At most this many revisions, newest first."),
    "history as_json": (
        "输出 JSON，含每个要素修改前后的内容。",
        "Print JSON, with each feature's before and after.",
    ),
    "revert": (
        "把一次修订改动的每个要素恢复到修订之前的状态，作为一次新的修订。\n\n若某个要素此后又被修改则拒绝（请先撤销后面的修订）；恢复的要素与导入一样经过校验。",
        "Restore every feature a revision changed to its state before it, as a new revision.\n\nRefused when a feature has changed since (revert the later revisions first);\nthe restored features are checked like an import.",
    ),
    "revert revision": (
        "要撤销的修订（见 `gridmap history`）。",
        "The revision to undo (see `gridmap history`).",
    ),
    "diff": (
        "列出两个日期之间（边界版本不同）所属网格发生变化的楼栋和住户。",
        "List the buildings and households whose grid differs between two dates (boundary versions).",
    ),
    "diff start": ("较早的日期（YYYY-MM-DD）。", "The earlier date (YYYY-MM-DD)."),
    "diff end": ("较晚的日期（YYYY-MM-DD）。", "The later date (YYYY-MM-DD)."),
    "diff as_json": ("输出 JSON。", "Print JSON."),
    "lookup": (
        "查询一个地址或一个坐标点所属的网格、社区、街道和网格员。\n\n示例辖区中的例子：`gridmap lookup 和平路151号4栋`、`gridmap lookup 湖北省武汉市武昌区紫阳街道和平路151号4栋2单元502室`、`gridmap lookup --lon 114.3004 --lat 30.5645`。",
        "Find the grid, community, street and grid worker for an address or a point.\n\nExamples on the sample district: `gridmap lookup 和平路151号4栋`,\n`gridmap lookup 湖北省武汉市武昌区紫阳街道和平路151号4栋2单元502室`,\n`gridmap lookup --lon 114.3004 --lat 30.5645`.",
    ),
    "lookup address": (
        "地址，如 和平路151号4栋2单元502室、瑞欣社区和平路151号4栋、玉兰新村4栋（示例辖区中的地址）。",
        "An address, e.g. 和平路151号4栋2单元502室, 瑞欣社区和平路151号4栋, 玉兰新村4栋 (addresses of the sample district).",
    ),
    "lookup lon": ("坐标点的经度（或 x）。", "Longitude (or x) of a point."),
    "lookup lat": ("坐标点的纬度（或 y）。", "Latitude (or y) of a point."),
    "lookup crs": (
        "--lon/--lat 的坐标系：wgs84、cgcs2000、gcj02、bd09、EPSG:n。",
        "CRS of --lon/--lat: wgs84, cgcs2000, gcj02, bd09, EPSG:n.",
    ),
    "lookup date": (
        "按这一天（YYYY-MM-DD）有效的边界作答。",
        "Answer with the boundaries in force on this date (YYYY-MM-DD).",
    ),
    "lookup as_json": ("输出与 API 相同的 JSON 回复。", "Print the API's JSON reply."),
    "map": (
        "生成一张无需联网即可打开的交互地图（脚本全部内嵌）。",
        "Write an interactive map that opens with no network (all scripts inlined).",
    ),
    "map grid": ("详细绘制这个网格（编码）。", "Draw this grid (code) in detail."),
    "map measure": ("网格按哪项指标着色。", "What colours the grids."),
    "map basemap": (
        "none（离线）、osm、tianditu（天地图）、amap（高德，GCJ-02），或含 {z}/{x}/{y} 的瓦片地址。",
        "none (offline), osm, tianditu, amap (GCJ-02), or a tile URL with {z}/{x}/{y}.",
    ),
    "map lang": (
        "标注、图例和弹窗的语言；默认随 GRIDMAP_LANG（未设时为中文）。",
        "Language of labels, legends and popups; by default GRIDMAP_LANG's (Chinese when unset).",
    ),
    "map propose": (
        "同时建议这么多个新广播点位并画出。",
        "Also propose this many new speaker sites and draw them.",
    ),
    "map title": ("地图上显示的标题。", "Title shown on the map."),
    "map out": (
        "要写出的 HTML 文件（默认 maps/coverage.html 或 maps/grid_<编码>.html）。",
        "HTML file to write (default maps/coverage.html or maps/grid_<code>.html).",
    ),
    "map tianditu_key": ("--basemap tianditu 使用的天地图密钥。", "Tianditu key for --basemap tianditu."),
    "report": (
        "生成可打印的会议报告（A4 PDF）：封面、带标注的地图、分网格表格和整改清单。",
        "Write the printable meeting report (A4 PDF): cover, labelled map, per-grid table, action list.",
    ),
    "report out": (
        "要写出的 PDF（以 .html 结尾则写出 HTML）。",
        "PDF to write (a .html name writes the HTML instead).",
    ),
    "report street": ("按这个街道（编码）出报告。", "Report on this street (code)."),
    "report community": ("按这个社区（编码）出报告。", "Report on this community (code)."),
    "report grid": ("按这个网格（编码）出报告。", "Report on this grid (code)."),
    "report sites": ("参与排序的建议广播点位数。", "Proposed speaker sites to rank."),
    "serve": (
        "启动 API 服务；令牌来自 GRIDMAP_TOKENS 或 GRIDMAP_TOKENS_FILE（都没有时所有人均为匿名）。",
        "Serve the API; tokens come from GRIDMAP_TOKENS or GRIDMAP_TOKENS_FILE (none: everyone is anonymous).",
    ),
    "serve host": ("监听地址。", "Address to listen on."),
    "serve port": ("监听端口。", "Port to listen on."),
    "serve workers": ("工作进程数（各自维护自己的索引）。", "Worker processes (each keeps its own indexes)."),
    "validate": (
        "检查网格拓扑：重叠、缝隙、超出社区、细碎图斑和无效边界。\n\n同时按城市社区和村的范围检查每个网格的户数。\n\n有任何错误时退出码为 1（只有警告时为 0）。",
        "Check grid topology: overlaps, gaps, grids outside their community, slivers, invalid rings.\n\nHousehold counts per grid are checked against the urban and village ranges.\n\nExits 1 when any finding is an error (warnings alone exit 0).",
    ),
    "validate out": (
        "同时把结果写成 GeoJSON（EPSG:4326）到这个文件。",
        "Also write the result as GeoJSON (EPSG:4326) to this file.",
    ),
    "validate tolerance": (
        "面积小于这么多平方米的重叠、缝隙和超出社区部分视为误差。",
        "Overlaps, gaps and parts outside a community below this many m² are noise.",
    ),
    "validate sliver_area": (
        "面积小于这么多平方米的网格碎块为细碎图斑。",
        "Grid parts below this many m² are slivers.",
    ),
    "validate sliver_thinness": (
        "4πA/P² 小于此值的网格碎块为细碎图斑（圆为 1）。",
        "Grid parts with 4πA/P² below this are slivers (a circle is 1).",
    ),
    "validate urban_households": (
        "城市社区每个网格允许的户数：最少 最多。",
        "Allowed households per grid of an urban community (社区): MIN MAX.",
    ),
    "validate village_households": (
        "村每个网格允许的户数：最少 最多。",
        "Allowed households per grid of a village (村): MIN MAX.",
    ),
    "validate limit": ("表格中最多显示的问题条数。", "Show at most this many findings in the table."),
    "site": (
        "建议 K 个新点位，使新覆盖的住户最多（正常的已有点位计入覆盖）。",
        "Propose K new sites covering the most households not yet covered (working sites count as covering).",
    ),
    "site kind": (
        "speakers（广播）或 service_points（志愿服务点）。",
        "speakers (广播) or service_points (志愿服务点).",
    ),
    "site k": ("建议的新点位个数。", "How many new sites to propose."),
    "site candidates": (
        "候选点或候选面文件（默认取各楼栋的代表点）。",
        "File of candidate points or polygons (default: building representative points).",
    ),
    "site radius": (
        "新点位的半径（米；默认取图层的默认值）。",
        "Radius of the new sites in metres (default: the layer's default).",
    ),
    "site exact_limit": (
        "精确求解的最大覆盖矩阵（点对数）；更大的用贪心算法。",
        "Largest coverage matrix (pairs) solved exactly; larger ones use greedy.",
    ),
    "site walking": (
        "志愿服务点：按沿道路步行的距离计算半径内的覆盖（如 --radius 500，即 10 分钟生活圈），保留已有点位。",
        "Service points: cover households within the radius on foot along the roads (e.g. --radius 500, the 10-minute life circle), existing points kept.",
    ),
    "site out": (
        "同时把结果写成 GeoJSON（EPSG:4326）到这个文件。",
        "Also write the result as GeoJSON (EPSG:4326) to this file.",
    ),
    "cases": (
        "案件：上报、定位、列表、流转（立案/派遣/处置/核查/结案/回访 …）、催办/督办、统计。",
        "案件 Cases: report, place, list, move (立案/派遣/处置/核查/结案/回访 …), chase (催办/督办), count.",
    ),
    "cases report": (
        "上报一件案件；按地址或坐标归入所属网格，无法定位的留待定位（待定位）。",
        "Report a case (上报); it is placed in the grid of its address or point, or left to place (待定位).",
    ),
    "cases report category": ("小类编码，如 0102（暴露垃圾）。", "Subcategory code, e.g. 0102 (暴露垃圾)."),
    "cases report description": ("问题描述。", "What is wrong."),
    "cases report address": ("地点：楼栋登记中的地址。", "Where: an address of the building register."),
    "cases report lon": ("地点：经度（或 x）。", "Where: longitude (or x)."),
    "cases report lat": ("地点：纬度（或 y）。", "Where: latitude (or y)."),
    "cases report crs": ("--lon/--lat 的坐标系。", "CRS of --lon/--lat."),
    "cases report source": (
        "来源：grid_worker（网格员）、resident（居民）、hotline（热线）或 other（其他）。",
        "grid_worker, resident, hotline or other.",
    ),
    "cases report reporter_name": ("上报人。", "Who reported it."),
    "cases report reporter_phone": ("上报人电话。", "Their phone."),
    "cases report ticket_no": ("12345 工单编号。", "The 12345 work-order number (工单编号)."),
    "cases report by": ("经办人（记入历史）。", "Who is acting (recorded in the history)."),
    "cases place": (
        "为受理时无法定位的案件（待定位）指定网格、地址或坐标。",
        "Place a case that intake could not place (待定位), by grid, address or point.",
    ),
    "cases place code": ("案件编号。", "Case number."),
    "cases place grid": ("归入这个网格。", "Put it in this grid."),
    "cases place address": ("或按登记中的这个地址定位。", "Or at this address of the register."),
    "cases place lon": ("或按这个坐标点定位：经度。", "Or at this point: longitude."),
    "cases place lat": ("纬度。", "Latitude."),
    "cases place crs": ("--lon/--lat 的坐标系。", "CRS of --lon/--lat."),
    "cases place by": ("经办人（记入历史）。", "Who is acting (recorded in the history)."),
    "cases merge": (
        "并单：把一件重复上报并入它重复的案件（受理时提示，在此确认）。",
        "并单: merge a report into the case it repeats (proposed at intake, confirmed here).",
    ),
    "cases merge code": ("重复上报的案件。", "The repeated report."),
    "cases merge into": ("被重复的案件。", "The case it repeats."),
    "cases merge by": ("经办人（记入历史）。", "Who is acting (recorded in the history)."),
    "cases move": (
        "案件流转一步：状态变更、申请及审批、回访或层级变更。",
        "Move a case one step: a transition, a request and its approval, a follow-up or a level change.",
    ),
    "cases move code": ("案件编号。", "Case number."),
    "cases move action": (
        "accept（立案）、dispatch（派遣）、handle（处置）、check（核查）、close（结案）、return（退回）、void（作废）…",
        "accept, dispatch, handle, check, close, return, void, …",
    ),
    "cases move note": ("备注（申请的理由）。", "A note (the reason of a request)."),
    "cases move department": ("派遣：部门编码。", "To dispatch: the department code."),
    "cases move hours": ("延期：延长的小时数。", "To extend (延期): the extra hours."),
    "cases move reached": ("回访：是否联系到上报人？", "Follow-up: was the reporter reached?"),
    "cases move satisfaction": (
        "回访：satisfied（满意）、basic（基本满意）或 dissatisfied（不满意）。",
        "Follow-up: satisfied, basic or dissatisfied.",
    ),
    "cases move reason": (
        "回访：不满意的原因（unsolved 未解决 …）。",
        "Follow-up: why dissatisfied (unsolved, …).",
    ),
    "cases move channel": ("回访：电话或其他渠道。", "Follow-up: phone or channel."),
    "cases move by": ("经办人（记入历史）。", "Who is acting (recorded in the history)."),
    "cases list": (
        "列出案件，最新的在前；`--output` 把全部符合条件的案件写成任一导出格式。",
        "List cases, newest first; `--output` writes every match in any export format.",
    ),
    "cases list grid": ("只列这个网格的。", "Only this grid."),
    "cases list community": ("只列这个社区的。", "Only this community."),
    "cases list department": ("只列这个部门的。", "Only this department."),
    "cases list status": ("只列这些状态的（可重复）。", "Only these statuses (repeatable)."),
    "cases list overdue": ("只列超期的案件。", "Only overdue cases."),
    "cases list since": (
        "上报日期不早于这一天（YYYY-MM-DD）。",
        "Reported on or after this date (YYYY-MM-DD).",
    ),
    "cases list until": (
        "上报日期不晚于这一天（YYYY-MM-DD）。",
        "Reported on or before this date (YYYY-MM-DD).",
    ),
    "cases list ticket_no": ("只列这个 12345 工单的案件。", "Only the case of this 12345 work order."),
    "cases list unplaced": ("只列待定位的案件。", "Only cases waiting to be placed (待定位)."),
    "cases list limit": (
        "表格中最多列出的条数（最新的在前）。",
        "At most this many (newest first) in the table.",
    ),
    "cases list output": (
        "把全部符合条件的案件写入文件（.csv、.geojson…）。",
        "Write all matches to a file (.csv, .geojson…).",
    ),
    "cases list with_personal": ("上报人姓名和电话不打码。", "Keep reporters' names and phones unmasked."),
    "cases stats": (
        "按组统计受理数、结案数、三率（按等级着色）和超期案件。\n\n`--output` 写出全部指标（按时办结率、办理时长、回访、审批、层级…）。",
        "Received, closed, the three rates (三率, coloured by grade) and overdue cases per group.\n\n`--output` writes every figure (on-time rate, handling hours, follow-ups, approvals, levels…).",
    ),
    "cases stats by": (
        "按 grid（网格）、community（社区）、street（街道）或 department（部门）分组。",
        "grid, community, street or department.",
    ),
    "cases stats since": (
        "上报日期不早于这一天（YYYY-MM-DD）。",
        "Reported on or after this date (YYYY-MM-DD).",
    ),
    "cases stats until": (
        "上报日期不晚于这一天（YYYY-MM-DD）。",
        "Reported on or before this date (YYYY-MM-DD).",
    ),
    "cases stats period": (
        "month：按自然月（北京时间）和分组各一行。",
        "month: one row per calendar month (Beijing time) and group.",
    ),
    "cases stats output": ("把表格写成 CSV。", "Write the table as CSV."),
    "cases due": (
        "当天的清单：督办、催办通知（已超期）、今日到期、催办（提醒）。",
        "The day's list: 督办 (escalate), 催办通知 (overdue notice), 今日到期 (due today), 催办 (reminder).",
    ),
    "cases due on": ("哪一天（YYYY-MM-DD；默认今天）。", "The day (YYYY-MM-DD; today by default)."),
    "cases due escalate_after": (
        "超期多少个工作日后督办。",
        "Working days overdue before escalation (督办).",
    ),
    "cases seed": (
        "用辖区内随机生成的一年案件替换数据库中的案件（用于演示）。",
        "Replace the store's cases with a seeded year of cases over its district (for demos).",
    ),
    "cases seed count": ("案件数（默认每 4 户一件）。", "How many cases (default: one per 4 households)."),
    "cases seed seed": ("随机种子。", "Random seed."),
    "token": (
        "API 令牌（GRIDMAP_TOKENS_FILE 指定的文件）：添加、列出、删除。",
        "API tokens (the file GRIDMAP_TOKENS_FILE names): add, list, remove.",
    ),
    "token add": (
        "生成一个新的随机令牌并加入令牌文件；令牌只显示这一次。",
        "Make a new random token and add it to the tokens file; the token is printed once.",
    ),
    "token add name": (
        "令牌持有人（每次修改记为此人所作）。",
        "Who holds the token (recorded as who made each change).",
    ),
    "token add role": (
        "viewer（查看）、editor（编辑）、department（部门）或 admin（管理员）。",
        "viewer, editor, department or admin.",
    ),
    "token add communities": (
        "editor 可写的社区编码（逗号分隔）。",
        "Community codes an editor may write (comma-separated).",
    ),
    "token add departments": (
        "department 令牌办理的部门编码。",
        "Department codes a department token handles.",
    ),
    "token add file": (
        "令牌文件（默认 GRIDMAP_TOKENS_FILE，否则 ./tokens.json）。",
        "The tokens file (default: GRIDMAP_TOKENS_FILE, else ./tokens.json).",
    ),
    "token list": (
        "列出文件中的令牌：名称、角色、社区、部门和令牌的前几个字符。",
        "The tokens in the file: name, role, communities, departments and the token's first characters.",
    ),
    "token list file": (
        "令牌文件（默认 GRIDMAP_TOKENS_FILE，否则 ./tokens.json）。",
        "The tokens file (default: GRIDMAP_TOKENS_FILE, else ./tokens.json).",
    ),
    "token remove": (
        "从文件中删除一个令牌（运行中的服务重启后不再接受它）。",
        "Remove a token from the file (a running server stops accepting it once restarted).",
    ),
    "token remove name": (
        "令牌名称（或列表中显示的前几个字符）。",
        "The token's name (or its first characters, as listed).",
    ),
    "token remove file": (
        "令牌文件（默认 GRIDMAP_TOKENS_FILE，否则 ./tokens.json）。",
        "The tokens file (default: GRIDMAP_TOKENS_FILE, else ./tokens.json).",
    ),
    "visits": (
        "走访：记录走访、网格的待访清单、走访统计、关爱类别。",
        "走访 Visits: record a visit, a grid's due list, visit figures, care categories.",
    ),
    "visits log": ("记录一次走访。", "Record one visit."),
    "visits patrol": (
        "巡查：导入 GPX 轨迹，按网格看一周巡查情况。",
        "Patrols: import a GPX track, a week's patrol figures per grid.",
    ),
    "visits patrol import": (
        "把一条 GPX 轨迹记录为一次巡查；同一文件再导入不会重复记录。",
        "Record a GPX track as a patrol; importing the same file again records nothing.",
    ),
    "visits patrol import file": (
        "一次巡查的 GPX 文件（每个轨迹点都须有时间）。",
        "GPX file of one patrol (every track point needs a time).",
    ),
    "visits patrol import worker": (
        "巡查人（按网格的网格员姓名确定网格）。",
        "Who walked it (the grid's worker_name picks the grid).",
    ),
    "visits patrol import grid": (
        "巡查的网格；默认是该网格员负责的网格。",
        "The grid patrolled. Default: the grid the worker works.",
    ),
    "visits patrol week": (
        "按网格统计一周（周一至周日）：巡查次数、网格内公里和分钟、走过道路占比。",
        "Per grid, one week (Monday to Sunday): patrols, km and minutes inside, share of roads walked.",
    ),
    "visits patrol week on": (
        "这一周中的某一天（YYYY-MM-DD），默认今天。",
        "A day of the week (YYYY-MM-DD). Default: today.",
    ),
    "visits patrol week grid": ("只看这些网格（可重复）。", "Only these grids (repeatable)."),
    "visits log at": (
        "走访时间（ISO 格式；不带时区时为北京时间）。默认：现在。",
        "When (ISO; Beijing time without a zone). Default: now.",
    ),
    "visits log by": ("走访人。", "Who visited."),
    "visits log reached": ("是否见到人。", "Whether anyone was met."),
    "visits log notes": ("民情日记：发现了什么。", "民情日记: what was found."),
    "visits log follow_up": ("需要再次走访。", "A follow-up visit is needed."),
    "visits log case": ("由这次走访上报的案件编号。", "Code of the case raised from this visit."),
    "visits log key": (
        "幂等键（带同一个键重复提交不会再写入）。",
        "Idempotency key (a repeat with it writes nothing).",
    ),
    "visits due": (
        "待访住户：先列逾期的，再列本周到期的，按沿道路步行的顺序排列。",
        "Households to visit: overdue first, then due this week, in walking order along the roads.",
    ),
    "visits due grid": ("要生成清单的网格。", "The grid whose list to make."),
    "visits due on": (
        "哪一天（YYYY-MM-DD，北京时间）。默认：今天。",
        "The day (YYYY-MM-DD, Beijing). Default: today.",
    ),
    "visits due output": ("把清单写入文件（.csv、.xlsx…）。", "Write the list to a file (.csv, .xlsx…)."),
    "visits due with_personal": (
        "关爱类别不打码（管理员）。",
        "Show care categories unmasked (as an admin).",
    ),
    "visits stats": (
        "一段时间内按网格和网格员统计：走访次数、见到人、需再访、上报案件。",
        "Visits per grid and worker in a period: visits, reached, follow-ups, cases raised.",
    ),
    "visits stats since": (
        "起始日（YYYY-MM-DD）。默认：30 天前。",
        "First day (YYYY-MM-DD). Default: 30 days ago.",
    ),
    "visits stats until": ("截止日（YYYY-MM-DD）。默认：今天。", "Last day (YYYY-MM-DD). Default: today."),
    "visits stats grid": ("只统计这些网格（可重复）。", "Only these grids (repeatable)."),
    "visits care": (
        "设置一户的关爱类别（走访频次随之而定）。",
        "Set a household's care categories (the visit frequency follows).",
    ),
    "visits care category": (
        "关爱类别编码或名称（可重复）；none 表示一般户。",
        "Care category code or label (repeatable); none: ordinary.",
    ),
    "visits care by": ("登记人。", "Who notes it."),
    "party": (
        "党建：党组织链条（街道党委—社区大党委—网格党支部—楼栋党小组—党员中心户）、党员、一户十联、"
        "党员积分和经费。",
        "Party chain (党建): organisations from street committee to building group and center household, "
        "members, 一户十联 links, points, funds.",
    ),
    "party seed": (
        "按数据库中的图层生成一套完整的党组织链条（演示用），替换现有的党建登记。",
        "Replace the party registers with a realistic chain over the store's layers (the demo's).",
    ),
    "party tree": (
        "某日有效的党组织树，附各组织书记。",
        "The organisation tree in force on a day, with each organisation's secretary.",
    ),
    "party tree on": ("日期（YYYY-MM-DD）。默认：今天。", "The day (YYYY-MM-DD). Default: today."),
    "party tree street": (
        "只显示这个街道的街道党委（街道编码）。",
        "Only this street's committee (street code).",
    ),
    "party tree with_personal": (
        "显示完整的姓名和电话（管理员）；默认脱敏。",
        "Show names and phones unmasked (as an admin); masked by default.",
    ),
    "party org": (
        "新建党组织或开启其新版本（同时结束首日有效的旧版本）。",
        "Open a new version of an organisation (closing the one in force on its first day).",
    ),
    "party org code": ("党组织编码。", "The organisation's code."),
    "party org name": ("党组织名称。", "Its name."),
    "party org kind": (
        "组织类型：" + "、".join(f"{code}（{kind.zh}）" for code, kind in ORG_KINDS.items()) + "。",
        "Its kind: " + ", ".join(f"{code} ({kind.en})" for code, kind in ORG_KINDS.items()) + ".",
    ),
    "party org area_kind": (
        "服务区域类型：" + "、".join(f"{code}（{area.zh}）" for code, area in AREA_KINDS.items()) + "。",
        "Kind of area served: " + ", ".join(f"{code} ({area.en})" for code, area in AREA_KINDS.items()) + ".",
    ),
    "party org area": (
        "所服务区域的编码（专属网格：所在社区的编码）。",
        "The code of the area served (dedicated: its community).",
    ),
    "party org parent": ("上级党组织编码。", "The parent organisation's code."),
    "party org wkt": ("专属网格的范围多边形（WKT，WGS84）。", "A dedicated grid's polygon (WKT, WGS84)."),
    "party org secretary": ("书记姓名。", "The secretary's name."),
    "party org phone": ("书记电话。", "The secretary's phone."),
    "party org secretary_code": (
        "书记的党员编码（本组织或其下级组织的党员；姓名和电话取自党员登记）。",
        "The secretary's member code (a member of it or of one below it; name and phone from the member).",
    ),
    "party org valid_from": ("生效日（YYYY-MM-DD）。默认：今天。", "First day (YYYY-MM-DD). Default: today."),
    "party close": (
        "撤销一个党组织（须先撤销其下级组织）。",
        "Close an organisation (its children must be closed first).",
    ),
    "party close code": ("党组织编码。", "The organisation's code."),
    "party close on": (
        "撤销日（YYYY-MM-DD）。默认：今天。",
        "The day it closes (YYYY-MM-DD). Default: today.",
    ),
    "party revert": (
        "撤回一个党组织的最新版本（或撤回其撤销），或一本登记册中一行的最新改动。",
        "Undo an organisation's newest version (or its closing), or a register row's newest change.",
    ),
    "party revert code": _ROW_KEY,
    "party revert register": _REGISTER,
    "party history": (
        "一个党组织的历次版本，或一本登记册中一行的历次改动。",
        "Every version of an organisation, or every change of a register row.",
    ),
    "party history code": _ROW_KEY,
    "party history register": _REGISTER,
    "party history with_personal": (
        "显示完整的书记姓名（管理员）；默认脱敏。",
        "Show secretaries' names unmasked (as an admin); masked by default.",
    ),
    "party link": (
        f"确认一个党员中心户的一户十联联系户（替换此前的联系户，至多 {LINK_QUOTA} 户）。",
        f"Confirm a center household's 一户十联 links (replacing its earlier ones; at most {LINK_QUOTA}).",
    ),
    "party link center": ("党员中心户的住户编码。", "The 党员中心户's household code."),
    "party link households": (
        f"与其联系的住户编码（至多 {LINK_QUOTA} 户）。",
        f"The households it is linked with (at most {LINK_QUOTA}).",
    ),
    "party propose": (
        "为一个党员中心户推算的一户十联联系户建议（尚未联系的住户，由近及远）。",
        "The computed links proposed for a center household (households not linked yet, nearest first).",
    ),
    "party propose center": ("党员中心户的住户编码。", "The 党员中心户's household code."),
    "party findings": (
        "党建问题清单：未建楼栋党小组的楼栋、没有党员中心户的党小组、未建网格党支部的网格、"
        "没有共建单位的社区大党委，以及各街道的两个覆盖。",
        "Buildings without a group, groups without a 中心户, grids without a branch, 大党委 without 共建 "
        "units, 两个覆盖 per street.",
    ),
    "party findings on": ("日期（YYYY-MM-DD）。默认：今天。", "The day (YYYY-MM-DD). Default: today."),
    "party export": (
        "把一份党建登记写成办公文件（CSV 或 Excel）；除非 --with-personal，姓名和电话脱敏。",
        "Write a register to a file office staff open (names and phones masked unless --with-personal).",
    ),
    "party export register": (
        "登记：orgs（党组织）、members（党员）、units（共建单位）、links（一户十联）。",
        "The register: orgs, members, units (共建 units) or links (一户十联).",
    ),
    "party export output": ("输出文件（.csv 或 .xlsx）。", "A .csv or .xlsx file."),
    "party export with_personal": (
        "写入完整的姓名和电话（管理员）；默认脱敏。",
        "Write names and phones unmasked (as an admin); masked by default.",
    ),
    "party import": (
        "把文件中的行加入一份党建登记：全部写入，或有问题时一行不写并列出每个问题行。",
        "Add the rows of a file to a register: all of them, or none and every bad row named.",
    ),
    "party import register": ("登记：orgs（党组织）或 members（党员）。", "The register: orgs or members."),
    "party import source": (
        "含该登记各列的 .csv 或 .xlsx 文件。",
        "A .csv or .xlsx file with the register's columns.",
    ),
    "party points": (
        "党员积分：积分规则、积分记录和年度排名。",
        "Party member points (党员积分): rules, entries, the year's ranking.",
    ),
    "party points add": ("登记一条已审核的党员积分记录。", "Record an approved points entry."),
    "party points add member": ("党员编码。", "The member's code."),
    "party points add rule": ("积分规则编码。", "The points rule's code."),
    "party points add on": ("活动日期（YYYY-MM-DD）。", "When it happened (YYYY-MM-DD)."),
    "party points add approver": ("审核人。", "Who approved it."),
    "party points add evidence": (
        "佐证材料：会议记录、照片或签到表的编号。",
        "Evidence: minutes, photo or sign-in sheet reference.",
    ),
    "party points add events": ("次数。", "How many events."),
    "party points rank": (
        "年度积分（按规则封顶）在各党支部内的排名。",
        "The year's totals (caps applied) ranked per branch.",
    ),
    "party points rank year": ("年度。", "The year."),
    "party points rank base": ("每名党员年初的基础分。", "Points every member starts the year with."),
    "party points rank floor": ("年度总分的下限。", "The lowest a year's total may fall to."),
    "party points rank public": (
        "公示用名单（不含个人信息）。",
        "The public posting list (no personal field).",
    ),
    "party points rank output": ("写入 .csv 或 .xlsx 文件。", "Write it to a .csv or .xlsx file."),
    "party points rules": (
        "显示积分规则，或用文件替换（列：code、name_zh、name_en、points、annual_cap）。",
        "Show the rules, or replace them (code, name_zh, name_en, points, annual_cap).",
    ),
    "party points rules source": ("用这个文件中的规则替换现有规则。", "Replace the rules with this file's."),
    "party funds": (
        "经费：到位、支出和缺口。",
        "Funds (经费): receipts, spending, who is short.",
    ),
    "party funds add": ("登记一笔经费收入或支出。", "Record a receipt or spending."),
    "party funds add org": ("党组织编码。", "The organisation's code."),
    "party funds add year": ("年度。", "The year."),
    "party funds add flow": ("receipt（收入）或 spending（支出）。", "receipt or spending."),
    "party funds add amount": ("金额（元）。", "The amount, in yuan."),
    "party funds add source": (
        f"来源：branch_funds（网格党支部工作经费，每年 {GRID_BRANCH_FUNDS_YUAN:,} 元）或共建单位编码。",
        f"Source: branch_funds (a grid branch's working funds, ¥{GRID_BRANCH_FUNDS_YUAN:,} a year) or a 共建 "
        "unit's code.",
    ),
    "party funds add category": ("支出用途。", "What was spent on."),
    "party funds add evidence": ("发票或收据编号。", "Invoice or receipt reference."),
    "party funds year": (
        "各党组织某年应到位、已到位和缺口的经费，以及收支结余。",
        "What each organisation is owed, received and short of, and its balance.",
    ),
    "party funds year year": ("年度。", "The year."),
    "* store": (
        "GeoPackage 文件路径或 postgresql+psycopg://用户@主机/库名（默认 ./gridmap.gpkg）。",
        "GeoPackage path or postgresql+psycopg://user@host/db (default ./gridmap.gpkg).",
    ),
    "* household": ("住户编码。", "Household code."),
    "province province": (
        "两位省级行政区划代码（GB/T 2260），如 42 湖北。",
        "Two-digit province code (GB/T 2260), e.g. 42 湖北.",
    ),
    "* help": ("显示本帮助并退出。", "Show this message and exit."),
}
"""Key -> (Chinese, English) help text."""
