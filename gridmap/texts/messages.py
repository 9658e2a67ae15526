"""What gridmap says to people (errors, CLI output, API details): key -> (Chinese, English).

Values are filled in with `str.format` (`{row}`, `{n:,}`); a value that is
itself a `gridmap.texts.Message` is said in the same language. Keys are
grouped by who says it: `cli.` the command line, `import.` the importer's
refusals, `problem.` how a refused row is named, `lookup.` the address
lookup, `api.` the HTTP API.
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # typer's words around the help, in gridmap.cli.localised
    "cli.help.usage": ("用法：", "Usage: "),
    "cli.help.arguments": ("参数", "Arguments"),
    "cli.help.options": ("选项", "Options"),
    "cli.help.commands": ("命令", "Commands"),
    "cli.help.default": ("[默认：{}]", "[default: {}]"),
    "cli.help.required": ("[必填]", "[required]"),
    "cli.help.envvar": ("[环境变量：{}]", "[env var: {}]"),
    "cli.help.error": ("错误", "Error"),
    "cli.help.try": (
        "用 [blue]'{command_path} {help_option}'[/] 查看帮助。",
        "Try [blue]'{command_path} {help_option}'[/] for help.",
    ),
    "cli.help.aborted": ("已中止。", "Aborted."),
    # the case desk and its lifecycle (gridmap.cases): refusals and reasons
    "case.source": ("案件 {code}", "case {code}"),
    "case.source_new": ("案件", "case"),
    "case.none": ("（无）", "(none)"),
    "case.nothing": ("无", "nothing"),
    "case.or": ("{first}或{second}", "{first} or {second}"),
    "case.not_found": ("没有案件 {code}", "no case {code}"),
    "case.merge_not_editor": (
        "案件 {code} 的并单只能由社区 {community} 的编辑或管理员操作",
        "并单 (merge) of case {code} is for an editor of community {community} or an admin",
    ),
    "case.merge_status": (
        "案件 {code} 当前为{status}（{value}）；只有尚未派遣的案件可以并单",
        "case {code} is {status} ({value}); only a case not dispatched is merged",
    ),
    "case.no_duplicates": (
        "案件 {into} 不能再并入重复案件（其状态为 {status}）",
        "case {into} cannot take duplicates (it is {status})",
    ),
    "case.other_category": (
        "案件 {into} 属于另一类别（{category}）",
        "case {into} is of another category ({category})",
    ),
    "case.no_number": ("无法分配新的案件编号，请重试", "could not allocate a new case number; try again"),
    "case.place_needs_editor": (
        "为案件 {code} 定位需要编辑或管理员令牌",
        "placing case {code} needs an editor or admin token",
    ),
    "case.place_status": (
        "案件 {code} 当前为{status}（{value}）；只有尚未派遣的案件可以定位",
        "case {code} is {status} ({value}); only a case not dispatched is placed",
    ),
    "case.not_placed": ("未能定位", "not placed"),
    "case.grid_elsewhere": (
        "网格 {grid} 属于社区 {community}；您的令牌只管辖 {covers}",
        "grid {grid} is in community {community}; your token covers {covers}",
    ),
    "case.too_long": ("超过 {most} 个字符", "longer than {most} characters"),
    "case.unknown_category": (
        "未知的类别 {category}；见 /cases/categories",
        "unknown category {category}; see /cases/categories",
    ),
    "case.bad_source": ("来源只能是以下之一：{choices}", "source must be one of {choices}"),
    "case.unknown_action": (
        "未知的操作 {action}；应为 {allowed}",
        "unknown action {action}; expected {allowed}",
    ),
    "case.unseen_department": (
        "案件 {code} 没有派遣给您的部门 {mine}",
        "case {code} is not dispatched to your department(s) {mine}",
    ),
    "case.unseen_community": (
        "案件 {code} 属于社区 {community}；您的令牌只管辖 {covers}",
        "case {code} is in community {community}; your token covers {covers}",
    ),
    "case.unseen_reviewer": (
        "案件 {code} 尚未结案：回访员只回访已结案的案件",
        "case {code} is not closed: a reviewer follows up closed cases only",
    ),
    "case.unseen_role": (
        "查看案件需要编辑、部门、回访员或管理员令牌（您是 {role}）",
        "reading cases needs an editor, department, reviewer or admin token (you are {role})",
    ),
    "case.not_allowed": (
        "案件 {code} 当前为{status}（{value}），不能{action}（{verb}）；{action}只适用于：{allowed}",
        "case {code} is {status} ({value}); {action} ({verb}) needs {allowed}",
    ),
    "case.needs_reason": ("{action}（{verb}）必须说明理由", "{action} ({verb}) must give a reason"),
    "case.place_first": (
        "待定位的案件须先定位才能派遣",
        "an unplaced case (待定位) must be placed before it is dispatched",
    ),
    "case.checker_is_handler": (
        "案件 {code}：核查人不能是处置人（{who}）",
        "case {code}: the checker (核查) must not be its handler ({who})",
    ),
    "case.pending": (
        "案件 {code} 已有待审批的申请（{action} {verb}），须先批准或驳回",
        "case {code} already has a pending request ({action} {verb}); it must be approved or rejected first",
    ),
    "case.extended_once": (
        "案件 {code} 已延期过一次（延期只能一次）",
        "case {code} was extended once already (延期 moves a deadline only once)",
    ),
    "case.extension_hours": (
        "延期须给出延长的小时数，大于 0 且不超过 {most}",
        "延期 needs the extra hours, more than 0 and at most {most}",
    ),
    "case.no_pending": (
        "案件 {code} 没有可{action}（{verb}）的申请",
        "case {code} has no pending request to {action} ({verb})",
    ),
    "case.only_reject": (
        "案件 {code} 现为{status}（{value}）；其{action}（{verb}）申请只能驳回",
        "case {code} is {status} ({value}) now; its {action} ({verb}) request can only be rejected",
    ),
    "case.own_request": (
        "案件 {code}：申请须由上一级批准，不能由申请人本人批准（{who}）",
        "case {code}: a request is approved by the level above, not by who made it ({who})",
    ),
    "case.above_department": (
        "该案件所在社区的编辑或管理员",
        "an editor of the case's community or an admin",
    ),
    "case.above_editor": ("管理员", "an admin"),
    "case.approver": (
        "案件 {code} 的{action}（{verb}）申请由 {asked_by} 提出，须由{above}批准（您是 {role}）",
        "the {action} ({verb}) request on case {code} was made by a {asked_by}; it is approved by {above} "
        "(you are {role})",
    ),
    "case.reviewed_already": (
        "案件 {code} 结案后已回访过",
        "case {code} was followed up after it closed already",
    ),
    "case.reviewer_worked": (
        "案件 {code}：回访不能由其处置人或核查人进行（{who}）",
        "case {code}: the follow-up (回访) must be made by neither its handler nor its checker ({who})",
    ),
    "case.one_of": ("{name} 只能是以下之一：{choices}", "{name} must be one of {choices}"),
    "case.no_phone": (
        "上报人未留电话（匿名）：请通过上报渠道回访",
        "the reporter left no phone (anonymous): follow up through the reporting channel",
    ),
    "case.say_reached": ("请说明是否联系上了上报人", "say whether the reporter was reached"),
    "case.dissatisfied_reason": (
        "不满意的原因只能是以下之一：{choices}",
        "a dissatisfied reporter's reason must be one of {choices}",
    ),
    "case.not_reached": ("未联系上的上报人不作满意度评价", "a reporter not reached gives no satisfaction"),
    "case.joined_open": (
        "案件 {code} 已并入案件 {into}，该案件尚未结案：其上报人待该案件结案后再回访",
        "case {code} was merged into case {into}, which is not closed yet: its reporter is followed up "
        "once that case closes",
    ),
    "case.reporter_reviewed": (
        "案件 {code} 的上报人已回访过",
        "the reporter of case {code} was followed up already",
    ),
    "case.level_top": (
        "案件 {code} 已在最高层级（{level}），不能再上报",
        "case {code} is at the highest level ({level}); it cannot go up",
    ),
    "case.level_bottom": (
        "案件 {code} 已在最低层级（{level}），不能再下派",
        "case {code} is at the lowest level ({level}); it cannot go down",
    ),
    "case.street_down": (
        "案件 {code} 在街道层级；只有管理员可以下派",
        "case {code} is at the street level; only an admin sends it down",
    ),
    "case.unknown_department": (
        "未知的部门 {department}；应为以下之一：{choices}",
        "unknown department {department}; expected one of {choices}",
    ),
    "case.duty_community": ("社区 {community} 的编辑", "an editor of community {community}"),
    "case.duty_department": ("部门 {department}", "department {department}"),
    "case.duty_reviewer": ("回访员（第三方回访）", "a reviewer (第三方回访)"),
    "case.refusal": (
        "案件 {code} 的{action}（{verb}）只能由{who}或管理员操作；您是 {role}，管辖 {bound}",
        "{action} ({verb}) of case {code} is for {who} or an admin; you are {role} bound to {bound}",
    ),
    "case.half_point": ("经纬度须同时给出或都不给", "give both lon and lat, or neither"),
    "case.not_finite": ("经纬度必须是有限的数字", "lon and lat must be finite numbers"),
    "case.no_grid": ("没有网格 {grid}", "no grid {grid}"),
    "case.why.nothing": ("既没有地址也没有坐标", "neither an address nor a point was given"),
    "case.why.not_registered": ("地址不在登记册中：{address}", "address not in the register: {address}"),
    "case.why.maybe_grid": (
        "{why}；其门牌号可能位于网格 {grids}",
        "{why}; its house number may lie in grid {grids}",
    ),
    "case.why.building_outside": (
        "{address} 的楼栋不在任何网格内",
        "the building at {address} lies in no grid",
    ),
    "case.why.point_outside": ("坐标点不在任何网格内", "the point lies in no grid"),
    "case.why.also_point": ("{why}；坐标点也不在任何网格内", "{why}; the point lies in no grid"),
    "period.source": ("时段", "period"),
    "period.order": ("截止日期不能早于开始日期", "until must not be before since"),
    "period.outside": ("{day} 超出 {first}…{last}", "{day} is outside {first}…{last}"),
    # visits and patrols (gridmap.visits)
    "visit.source.visit": ("走访", "visit"),
    "visit.source.patrol": ("巡查", "patrol"),
    "visit.source.care": ("关爱", "care"),
    "visit.gpx_large": ("超过 {most:,} 字节", "larger than {most:,} bytes"),
    "visit.not_gpx": ("不是 GPX 文件：{why}", "not a GPX file: {why}"),
    "visit.no_points": ("文件中没有轨迹点", "the file holds no track points"),
    "visit.untimed": (
        "{n:,} 个轨迹点没有 <time>（第一个：第 {first} 个点）",
        "{n:,} track points carry no <time> (the first: point {first})",
    ),
    "visit.blank_key": ("幂等键不能为空", "an idempotency key must not be blank"),
    "visit.key_busy": (
        "键为 {key} 的案件正在记录中；请稍后重发",
        "the case with key {key} is being recorded; send it again shortly",
    ),
    "visit.key_required": ("需要幂等键", "an idempotency key is required"),
    "visit.worker_required": ("需要填写巡查人", "who patrolled is required"),
    "visit.visitor_required": ("需要填写走访人", "who visited is required"),
    "visit.timezone": ("时间必须带时区", "the time must carry a timezone"),
    "visit.one_of": ("应为以下之一：{choices}", "expected one of {choices}"),
    "visit.many_grids": (
        "{worker} 负责 {n} 个网格；请用 --grid 指明网格",
        "{worker} works {n} grids; name the grid with --grid",
    ),
    "visit.unknown_care": (
        "未知的关爱类别 {code}；应为以下之一：{choices}",
        "unknown care category {code}; expected one of: {choices}",
    ),
    "visit.no_household": ("没有住户 {code}", "no household {code}"),
    "visit.no_case": (
        "没有案件 {code}（请先上报案件，再关联）",
        "no case {code} (report the case first, then link it)",
    ),
    "visit.no_positions": ("巡查至少需要一个位置", "a patrol needs at least one position"),
    "visit.too_many_positions": ("{n:,} 个位置；最多 {most:,} 个", "{n:,} positions; at most {most:,}"),
    "visit.not_lonlat": ("位置 ({x}, {y}) 不是经纬度", "position ({x}, {y}) is not a lon/lat"),
    "visit.backwards": ("时间不能倒退", "times must not run backwards"),
    # typer's own usage errors, said again (gridmap.cli.usage); the English is typer's sentence
    "usage.missing": ("缺少{kind} {hint}。", "Missing {kind} {hint}."),
    "usage.kind.argument": ("参数", "argument"),
    "usage.kind.option": ("选项", "option"),
    "usage.kind.parameter": ("参数", "parameter"),
    "usage.choose_from": ("可选值：\n\t{choices}", "Choose from:\n\t{choices}"),
    "usage.no_such_option": ("没有选项 {name}", "No such option: {name}"),
    "usage.possible_options": ("{message}（可能是：{options}）", "{message} (Possible options: {options})"),
    "usage.no_value": ("选项 {name} 不带值。", "Option {name} does not take a value."),
    "usage.needs_value": ("选项 {name} 需要一个值。", "Option {name} requires an argument."),
    "usage.needs_values": ("选项 {name} 需要 {n} 个值。", "Option {name} requires {n} arguments."),
    "usage.invalid_for": ("{hint} 的值无效：{reason}", "Invalid value for {hint}: {reason}"),
    "usage.invalid": ("值无效：{reason}", "Invalid value: {reason}"),
    "usage.missing_command": ("缺少命令。", "Missing command."),
    "usage.no_such_command": ("没有命令 {name}。", "No such command {name}."),
    "usage.did_you_mean": ("{message}您是否要用 {suggestions}？", "{message}. Did you mean {suggestions}?"),
    "usage.extra_arguments": ("多余的参数（{args}）", "Got unexpected extra argument(s) ({args})"),
    "usage.values_iterable": ("应给出多个值。", "Value must be an iterable."),
    "usage.not_one_of": ("{value} 不是可选值之一：{choices}。", "{value} is not one of {choices}."),
    "usage.path.file": ("文件", "file"),
    "usage.path.dir": ("目录", "dir"),
    "usage.path.path": ("路径", "path"),
    "usage.path_missing": ("{label} {path} 不存在。", "{label} {path} does not exist."),
    "usage.path_is_file": ("{label} {path} 是文件。", "{label} {path} is a file."),
    "usage.path_is_dir": ("{label} {path} 是目录。", "{label} {path} is a directory."),
    "usage.path_unreadable": ("{label} {path} 不可读。", "{label} {path} is not readable."),
    "usage.path_unwritable": ("{label} {path} 不可写。", "{label} {path} is not writable."),
    "usage.cannot_open": ("无法打开文件 {path}：{why}", "Could not open file {path}: {why}"),
    # pydantic's reasons for refusing a value (gridmap.texts.inputs), by error type; the English is pydantic's
    "input.missing": ("必须填写", "Field required"),
    "input.int_parsing": (
        "应为整数，无法解析为整数",
        "Input should be a valid integer, unable to parse string as an integer",
    ),
    "input.int_type": ("应为整数", "Input should be a valid integer"),
    "input.int_from_float": (
        "应为整数，不能有小数部分",
        "Input should be a valid integer, got a number with a fractional part",
    ),
    "input.float_parsing": (
        "应为数字，无法解析为数字",
        "Input should be a valid number, unable to parse string as a number",
    ),
    "input.float_type": ("应为数字", "Input should be a valid number"),
    "input.finite_number": ("应为有限的数字", "Input should be a finite number"),
    "input.bool_parsing": (
        "应为是或否（true/false），无法识别",
        "Input should be a valid boolean, unable to interpret input",
    ),
    "input.bool_type": ("应为是或否（true/false）", "Input should be a valid boolean"),
    "input.string_type": ("应为文字", "Input should be a valid string"),
    "input.greater_than": ("应大于 {gt}", "Input should be greater than {gt}"),
    "input.greater_than_equal": ("应大于或等于 {ge}", "Input should be greater than or equal to {ge}"),
    "input.less_than": ("应小于 {lt}", "Input should be less than {lt}"),
    "input.less_than_equal": ("应小于或等于 {le}", "Input should be less than or equal to {le}"),
    "input.string_too_short": (
        "至少应有 {min_length} 个字符",
        "String should have at least {min_length} characters",
    ),
    "input.string_too_long": (
        "最多只能有 {max_length} 个字符",
        "String should have at most {max_length} characters",
    ),
    "input.string_pattern_mismatch": ("应符合格式 {pattern}", "String should match pattern '{pattern}'"),
    "input.too_short": (
        "{field_type}至少应有 {min_length} 项",
        "{field_type} should have at least {min_length} items",
    ),
    "input.too_long": (
        "{field_type}最多只能有 {max_length} 项，实有 {actual_length} 项",
        "{field_type} should have at most {max_length} items after validation, not {actual_length}",
    ),
    "input.literal_error": ("应为 {expected}", "Input should be {expected}"),
    "input.enum": ("应为 {expected}", "Input should be {expected}"),
    "input.date_parsing": (
        "应为日期：{error}",
        "Input should be a valid date in the format YYYY-MM-DD, {error}",
    ),
    "input.date_from_datetime_parsing": (
        "应为日期或时间：{error}",
        "Input should be a valid date or datetime, {error}",
    ),
    "input.datetime_parsing": ("应为时间：{error}", "Input should be a valid datetime, {error}"),
    "input.datetime_from_date_parsing": (
        "应为时间或日期：{error}",
        "Input should be a valid datetime or date, {error}",
    ),
    "input.json_invalid": ("不是有效的 JSON：{error}", "Invalid JSON: {error}"),
    "input.dict_type": ("应为对象", "Input should be a valid dictionary"),
    "input.model_attributes_type": (
        "应为对象",
        "Input should be a valid dictionary or object to extract fields from",
    ),
    "input.list_type": ("应为列表", "Input should be a valid list"),
    "input.extra_forbidden": ("不接受这个字段", "Extra inputs are not permitted"),
    "input.value_error": ("{error}", "Value error, {error}"),
    # the CLI's one line for an error (gridmap.cli.main)
    "cli.error": ("错误：", "error:"),
    "settings.language": (
        "GRIDMAP_LANG={value} 不是 gridmap 支持的语言；应为 zh 或 en",
        "GRIDMAP_LANG={value} is not a language gridmap speaks; expected zh or en",
    ),
    # a refused file or row (gridmap.errors.Problem, ValidationError)
    "problem.file": ("文件", "file"),
    "problem.row": ("第 {row} 行", "row {row}"),
    "problem.code": ("（编码 {code}）", " (code {code})"),
    "problem.field": ("，字段 {field}", ", field {field}"),
    "problem.describe": ("{where}{code}{field}：{reason}", "{where}{code}{field}: {reason}"),
    "validation.header": (
        "{source}：{n} 个问题，未作任何更改",
        "{source}: {n} problem(s), nothing was changed",
    ),
    "validation.line": ("  {source} {problem}", "  {source}: {problem}"),
    "validation.more": ("  … 另有 {n} 个问题", "  … and {n} more"),
    # the importer's reasons for refusing (or repairing) a cell, gridmap.ingest.values
    "import.in_column": ("（列 {column}）", " (column {column})"),
    "import.an_integer": ("整数", "an integer"),
    "import.a_number": ("数字", "a number"),
    "import.not_kind": ("{cell} 不是{kind}{label}{hint}", "{cell} is not {kind}{label}{hint}"),
    "import.hint_drop_unit": ("（--fix 可去掉单位）", " (--fix drops the unit)"),
    "import.hint_round": ("（--fix 可四舍五入）", " (--fix rounds it half up)"),
    "import.repaired": ("已修复：{what}", "repaired: {what}"),
    "import.replaced": ("{cell} → {value}{label}", "{cell} → {value}{label}"),
    "import.rounded": ("{cell} → {value}（四舍五入）{label}", "{cell} → {value} (rounded half up){label}"),
    "import.out_of_range": (
        "{cell} 超出范围（最大 {most:,}）{label}",
        "{cell} is out of range (at most {most:,}){label}",
    ),
    "import.negative": ("{field} 不能为负数：{cell}{label}", "negative {field} {cell}{label}"),
    "import.not_expected": ("{cell} 无法识别，应为{expected}{label}", "{cell} is not {expected}{label}"),
    "import.expected_yes_no": (
        "是或否（是/否、Y/N、1/0、true/false）",
        "yes/no (是/否, Y/N, 1/0, true/false)",
    ),
    "import.expected_one_of": ("以下之一：{spellings}", "one of {spellings}"),
    "import.code_unprintable": (
        "{cell} 含有控制字符或不可打印字符{label}",
        "{cell} holds control or non-printing characters{label}",
    ),
    "import.code_forbidden": (
        "{cell} 含有 {chars} 之一，网址中无法引用{label}",
        "{cell} holds one of {chars}, which a URL cannot name{label}",
    ),
    "import.code_long": ("超过 {most} 个字符{label}", "longer than {most} characters{label}"),
    "import.text_unsafe": (
        "含有控制字符或双向文本控制符{label}",
        "holds control characters or bidirectional overrides{label}",
    ),
    "import.text_long": (
        "共 {n:,} 个字符，最多保留 {most} 个{label}",
        "{n:,} characters; at most {most} are kept{label}",
    ),
    "import.not_phone": (
        "{cell} 不是电话号码（应为手机号如 13812341234，或带区号的固定电话）{label}",
        "{cell} is not a phone number (a mobile like 13812341234, or a landline with its area code){label}",
    ),
    "import.required_column": (
        "缺少必填列（可用的列名：{names}）",
        "required column is missing (accepted names: {names})",
    ),
    "import.required_empty": ("必填值为空", "required value is empty"),
    # gridmap.ingest.geometry and gridmap.ingest.area
    "import.not_wkt": ("{cell} 不是 WKT（列 {column}）", "{cell} is not WKT (column {column})"),
    "import.half_point": ("填了 {given}，但 {empty} 为空", "{given} is given but {empty} is empty"),
    "import.not_coordinate": ("{cell} 不是数字（列 {column}）", "{cell} is not a number (column {column})"),
    "import.empty_geometry": ("几何为空", "empty geometry"),
    "import.want_point": ("点（Point）", "a Point"),
    "import.want_line": (
        "有长度的线（LineString 或 MultiLineString）",
        "a LineString or MultiLineString of some length",
    ),
    "import.want_polygon": ("面（Polygon 或 MultiPolygon）", "a Polygon or MultiPolygon"),
    "import.wrong_type": ("几何类型应为{wanted}，实为 {got}", "expected {wanted}, got a {got}"),
    "import.swapped": (
        "经纬度似乎写反了：({x}, {y}) 在{area}之外",
        "lon/lat look swapped: ({x}, {y}) is outside {area}",
    ),
    "import.not_lonlat": (
        "坐标 ({x}, {y}) 不是经纬度（超出 ±180/±90）：投影坐标须用 --crs EPSG:<代码> 指明",
        "coordinates ({x}, {y}) are not lon/lat (outside ±180/±90): projected data needs --crs EPSG:<code>",
    ),
    "import.outside": ("坐标 ({x}, {y}) 在{area}之外", "coordinates ({x}, {y}) are outside {area}"),
    "import.outside_crs": (
        "坐标 ({x}, {y}) 超出 {crs} 的有效范围",
        "coordinates ({x}, {y}) are outside the valid area of {crs}",
    ),
    "import.lands_outside": (
        "{crs} 坐标 ({x}, {y}) 换算后为 ({lon}, {lat})，在{area}之外：坐标系是否正确？",
        "coordinates ({x}, {y}) in {crs} land at ({lon}, {lat}), outside {area}: is the CRS right?",
    ),
    "import.invalid_geometry_fix": (
        "几何无效：{reason}（可用 --fix 修复）",
        "invalid geometry: {reason} (repair with --fix)",
    ),
    "import.invalid_geometry_lost": (
        "几何无效：{reason}；修复后已不剩任何多边形",
        "invalid geometry: {reason}; no polygon is left after repair",
    ),
    "area.box": ("经度 {x0}–{x1}、纬度 {y0}–{y1}", "lon {x0}–{x1}, lat {y0}–{y1}"),
    "area.china": (
        "中国范围（{box}；可用 {variable} 另设范围）",
        "China's extent ({box}; {variable} sets another area)",
    ),
    "area.world": ("全球范围", "the world"),
    "area.setting": ("服务范围（{box}，{variable}）", "the service area ({box}, {variable})"),
    "area.streets": ("已载入街道的范围（{box}）", "the loaded streets' extent ({box})"),
    "area.crs": ("{crs} 的有效范围（{box}）", "the valid area of {crs} ({box})"),
    "area.china_crs": (
        "中国范围，即 {crs} 的定义范围（{box}）",
        "China's extent, where {crs} is defined ({box})",
    ),
    "area.within_china": (
        "{area}中位于中国境内、{crs} 有定义的部分",
        "{area} within China, where {crs} is defined",
    ),
    # gridmap.ingest.readers: a file that cannot be read
    "read.unsupported": (
        "不支持的文件类型 {suffix}；可导入：{accepted}",
        "unsupported file type {suffix}; accepted: {accepted}",
    ),
    "read.not_found": ("文件不存在", "file not found"),
    "read.osm_roads": (
        "OpenStreetMap 数据只能导入为道路（roads），不能导入为 {layer}",
        "an OpenStreetMap extract imports as roads, not {layer}",
    ),
    "read.unknown_encoding": (
        "未知的编码 {encoding}（如 utf-8、gbk、gb18030）",
        "unknown encoding {encoding} (e.g. utf-8, gbk, gb18030)",
    ),
    "read.not_utf8_gbk": (
        "文字既不是 UTF-8 也不是 GBK（第 {byte} 字节）；请用 --encoding 指明",
        "text is neither UTF-8 nor GBK (byte {byte}); pass --encoding",
    ),
    "read.not_encoding": (
        "文字不是 {encoding}（第 {byte} 字节：{why}）",
        "text is not {encoding} (byte {byte}: {why})",
    ),
    "read.no_header": ("空文件：没有表头行", "empty file: no header row"),
    "read.bad_csv": ("无法解析 CSV：{why}", "cannot parse CSV: {why}"),
    "read.bad_workbook": ("无法打开工作簿：{why}", "cannot open workbook: {why}"),
    "read.zip_bomb": (
        "工作簿将从 {packed:,} 字节解压到 {inflated:,} 字节（{times:,.0f} 倍），疑为压缩炸弹，拒绝读取",
        "the workbook would inflate from {packed:,} to {inflated:,} bytes ({times:,.0f} times); refused as a likely zip bomb",
    ),
    "read.no_layer": ("文件中没有图层", "the file holds no layer"),
    "read.shp_not_utf8": (
        "文字不是 utf-8；请用 --encoding 指明文件的编码（如 gbk）",
        "text is not utf-8; pass the file's --encoding (e.g. gbk)",
    ),
    "read.bad_sidecar": (
        "无法读取字段名附属文件 {sidecar}：{why}",
        "cannot read the field-name sidecar {sidecar}: {why}",
    ),
    "read.not_sidecar": (
        "字段名附属文件 {sidecar} 不是 gridmap 的附属文件",
        "the field-name sidecar {sidecar} is not a gridmap sidecar",
    ),
    "read.bad_zip": ("无法打开 zip：{why}", "cannot open zip: {why}"),
    "read.cannot_open": ("无法打开：{why}", "cannot open: {why}"),
    "read.invalid_geometry": ("几何无效：{why}", "invalid geometry: {why}"),
    "read.bad_layer": ("无法读取图层 {layer}：{why}", "cannot read layer {layer}: {why}"),
    "read.cpg_encoding": (".cpg 声明的编码", "the encoding its .cpg declares"),
    "read.not_declared": (
        "文字不是{encoding}（{why}）；请用 --encoding 指明",
        "text is not {encoding} ({why}); pass --encoding",
    ),
    "read.no_such_layer": (
        "没有名为 {wanted} 的图层；文件中有：{names}",
        "no layer {wanted}; the file has: {names}",
    ),
    "read.no_such_sheet": (
        "没有名为 {wanted} 的工作表；文件中有：{names}",
        "no sheet {wanted}; the file has: {names}",
    ),
    "read.which_layer": (
        "文件有 {n} 个图层（{names}），没有一个名为 {layer}：请用 --source-layer 选择",
        "{n} layers ({names}) and none is named {layer}: choose one with --source-layer",
    ),
    "read.which_sheet": (
        "文件有 {n} 个工作表（{names}），没有一个名为 {layer}：请用 --source-layer 选择",
        "{n} sheets ({names}) and none is named {layer}: choose one with --source-layer",
    ),
    # gridmap.ingest.importer, columns, spreadsheet, rejects
    "import.no_rows": ("文件中没有数据行", "the file holds no rows"),
    "import.no_crs": (
        "{file}：文件没有说明坐标系；请用 --crs 指明",
        "{file}: the file does not say its coordinate system; pass --crs",
    ),
    "import.unmapped": (
        "{why}：请改列名，或加 --ignore {column}",
        "{why}: rename the column, or pass --ignore {column}",
    ),
    "import.every_row": ("全部 {n:,} 行都有问题", "every one of the {n:,} rows has a problem"),
    "import.duplicate": (
        "编码 {code} 重复（首次出现在第 {first} 行）",
        "duplicate code {code} (first in row {first})",
    ),
    "import.parent_empty": ("（{layer} 为空：请先导入它）", " ({layer} is empty: import it first)"),
    "import.unknown_parent": (
        "{field} {ref} 不存在：{layer} 中没有这个编码{hint}",
        "unknown {field} {ref}: no such code in {layer}{hint}",
    ),
    "import.no_geometry": ("没有几何", "no geometry"),
    "import.no_building": (
        "没有几何，也没有楼栋与其 building_code 或地址相符",
        "no geometry, and no building matches its building_code or address",
    ),
    "import.no_geometry_columns": (
        "没有几何列：应有经纬度列（经度/纬度、lon/lng/longitude/x、lat/latitude/y）或 WKT 列（wkt/geometry/几何）",
        "no geometry columns: expected lon/lat (经度/纬度, lon/lng/longitude/x, lat/latitude/y) or WKT (wkt/geometry/几何)",
    ),
    "import.rejects_unwritable": (
        "无法把被拒的行写入 {path}：{why}",
        "cannot write the rejected rows to {path}: {why}",
    ),
    "columns.ignored_as_asked": ("按要求忽略（--ignore）", "ignored as asked (--ignore)"),
    "columns.cut_name": (
        "被截成 {limit} 个字符的列名，可能是 {fields} 中任一个",
        "a name cut to {limit} characters that could be any of {fields}",
    ),
    "columns.looks_like": (
        "看似 {layer} 的 {fields}，但列名不对",
        "looks like {fields} of {layer} but is not its name",
    ),
    "columns.not_a_field": ("不是 {layer} 的字段", "not a field of {layer}"),
    "columns.also": ("同样对应 {field}；已使用列 {used}", "also matches {field}; column {used} is used"),
    "columns.derived": (
        "{field} 由 gridmap 推算，从不取自导入文件",
        "{field} is derived by gridmap, never taken from input",
    ),
    "sheet.scientific": ("科学计数法，如 {example}", "scientific notation such as {example}"),
    "sheet.decimal": ("带小数尾巴的数字，如 {example}", "numbers with a decimal tail such as {example}"),
    "sheet.lost_zero": (
        "丢了开头 0 的号码，如 {example}",
        "numbers that lost their leading 0 such as {example}",
    ),
    "sheet.lost_zeros": (
        "丢了开头 0 的编码，如 {example}",
        "codes that lost their leading zeros such as {example}",
    ),
    "sheet.mangled": (
        "列 {column} 中有{how}（第 {row} 行）：电子表格把它们转成了数字，丢失的数字无法从这个文件恢复。"
        "请从 gridmap 重新导出为 XLSX（编码和电话在 Excel 中保持为文本），"
        "或在 Excel 中通过“数据 → 从文本/CSV”打开该 CSV，并把这些列设为文本",
        "column {column} holds {how} (row {row}): a spreadsheet turned them into numbers; the lost digits cannot "
        "be recovered from this file. Export the layer again from gridmap as XLSX (codes and phones stay text in "
        "Excel), or open the CSV through Excel's Data → From Text/CSV with these columns set to Text",
    ),
    "list.separator": ("；", "; "),
    "list.comma": ("，", ", "),
    # gridmap.ingest.changes: what an import would change
    "changes.added": ("新增", "added"),
    "changes.changed": ("修改", "changed"),
    "changes.removed": ("删除", "removed"),
    "changes.unchanged": ("不变", "unchanged"),
    "changes.remove": ("删除 {n:,} 个 {layer}", "remove {n:,} {layer}"),
    "changes.clear": (
        "清空 {n:,} 个 {layer} 的 {field}（文件中没有 {field} 列）",
        "clear {field} of {n:,} {layer} (the file has no {field} column)",
    ),
    "import.not_confirmed": (
        "{file}：导入未经确认，未作任何更改",
        "{file}: import not confirmed; nothing was changed",
    ),
    # gridmap import, init, layers (gridmap.cli.data)
    "cli.import.skip_needs_rejects": (
        "--skip-invalid 须同时给出 --rejects 文件，被拒的行才不会无人知晓",
        "--skip-invalid needs --rejects FILE, so no refused row goes unseen",
    ),
    "cli.import.rejects_needs_skip": (
        "--rejects 只在 --skip-invalid 时写出",
        "--rejects is written only with --skip-invalid",
    ),
    "cli.import.importing": ("正在导入 {file}", "importing {file}"),
    "cli.import.refused": (
        "[yellow]{n:,} 行被拒[/]，连同原因写入 {path}",
        "[yellow]{n:,} row(s) refused[/], written with their reasons to {path}",
    ),
    "cli.import.cancelled": (
        "这次导入将{loss}；未作任何更改（确认请加 --yes，或用 --mode append 保留文件中没有的要素）",
        "this import would {loss}; nothing was changed (pass --yes to confirm, or --mode append to keep features the file does not hold)",
    ),
    "cli.import.confirm": ("{loss}？", "{loss}?"),
    "cli.import.dry_run": ("[bold]试运行[/]：未作任何更改", "[bold]dry run[/]: nothing was changed"),
    "cli.import.format": ("格式 {value}", "format {value}"),
    "cli.import.crs": ("坐标系 {value}", "CRS {value}"),
    "cli.import.layer": ("图层 {value}", "layer {value}"),
    "cli.import.encoding": ("编码 {value}", "encoding {value}"),
    "cli.import.read": (
        "[bold]已读取[/] {source} 中的 {n:,} 条{label}（{layer}）[dim]（{details}）[/]",
        "[bold]read[/] {n:,} {layer} ({label}) from {source} [dim]({details})[/]",
    ),
    "cli.import.columns": ("列的对应", "columns"),
    "cli.import.source_column": ("文件中的列", "source column"),
    "cli.import.from_sidecar": (" [dim]（列名取自附属文件）[/]", " [dim](name from the sidecar)[/]"),
    "cli.import.geometry": ("几何（{role}）", "geometry ({role})"),
    "cli.import.ignored": ("[yellow]已忽略[/]：{why}", "[yellow]ignored[/]: {why}"),
    "cli.import.repaired": (
        "  [yellow]已修复[/] 第 {row} 行{field}：{what}",
        "  [yellow]repaired[/] row {row}{field}: {what}",
    ),
    "cli.import.placed": (
        "  {n:,} 户按所在楼栋的位置定位",
        "  {n:,} household(s) placed at their building's point",
    ),
    "cli.import.changes": ("{layer} 的更改（{mode}）", "changes to {layer} ({mode})"),
    "cli.import.change": ("更改", "change"),
    "cli.import.features": ("要素数", "features"),
    "cli.import.sample": ("编码（示例）", "codes (sample)"),
    "cli.import.changed_fields": ("  修改的字段：{fields}", "  changed fields: {fields}"),
    "cli.import.would_clear": (
        "  [red]{n:,} 个 {layer} 将失去 {field}[/]：文件中没有 {field} 列",
        "  [red]{n:,} {layer} would lose their {field}[/]: the file has no {field} column",
    ),
    "cli.import.done": (
        "[bold green]已导入[/] {source} 中的 {n:,} 条{label}（{layer}）[dim]（{timing}）[/]",
        "[bold green]imported[/] {n:,} {layer} ({label}) from {source} [dim]({timing})[/]",
    ),
    "cli.import.timing": ("{mode}，{seconds:.1f} 秒", "{mode}, {seconds:.1f} s"),
    "cli.import.rate": ("，每秒 {rate:,.0f} 行", ", {rate:,.0f} rows/s"),
    "cli.import.upserted": (
        "  新增 {inserted:,} 条，更新 {updated:,} 条（编码已在库中）",
        "  {inserted:,} inserted, {updated:,} updated (codes already in the store)",
    ),
    "cli.init.exists": (
        "{url} 已有 gridmap 数据库；未作任何更改",
        "a gridmap store already exists at {url}; nothing was changed",
    ),
    "cli.init.created": (
        "已在 {url} 新建空数据库（{n} 个图层）",
        "created an empty store at {url} ({n} layers)",
    ),
    "cli.layers.title": ("{url} 中的图层", "layers in {url}"),
    "cli.layers.layer": ("图层", "layer"),
    "cli.layers.label": ("名称", "label"),
    "cli.layers.features": ("要素数", "features"),
    # gridmap.lookup: what an address or point lookup could not answer
    "lookup.no_building": ("未找到与地址 {address} 相符的楼栋", "no building matches the address {address}"),
    "lookup.no_building_near": (
        "未找到与地址 {address} 相符的楼栋；该门牌号可能位于网格 {grids}",
        "no building matches the address {address}; its house number may lie in grid {grids}",
    ),
    "lookup.building_outside": (
        "楼栋 {building}（{address}）不在任何网格内",
        "building {building} ({address}) lies in no grid",
    ),
    "lookup.point_outside": (
        "坐标点 ({lon}, {lat})（{crs}）不在任何网格内",
        "no grid contains the point ({lon}, {lat}) in {crs}",
    ),
    # the API's refusals (api/auth.py, api/cookies.py, api/ogc.py, api/errors.py)
    "api.needs_role": (
        "{action}需要 {role} 角色（您是 {you}）",
        "{action} needs the {role} role (you are {you})",
    ),
    "api.needs_viewer": ("读取 {layer} 需要查看者（viewer）令牌", "reading {layer} needs a viewer token"),
    "api.action.coverage": ("覆盖率数据", "coverage figures"),
    "api.action.visit_lists": ("读取走访清单", "reading visit lists"),
    "api.action.visits": ("读取走访记录", "reading visits"),
    "api.action.visit_figures": ("读取走访统计", "reading visit figures"),
    "api.action.record_visits": ("记录走访", "recording visits"),
    "api.action.history": ("读取修改记录", "reading the history"),
    "api.action.revision": ("读取整个版本", "reading a whole revision"),
    "api.action.revert": ("撤销版本", "reverting a revision"),
    "api.action.party_orgs": ("读取党组织", "reading the party organisations"),
    "api.action.change_party_orgs": ("修改党组织", "changing party organisations"),
    "api.action.party_members": ("读取党员", "reading party members"),
    "api.action.change_party_members": ("修改党员", "changing party members"),
    "api.action.links": ("读取一户十联台账", "reading the 一户十联 register"),
    "api.action.link_proposal": ("读取一户十联建议", "reading the 一户十联 proposal"),
    "api.action.confirm_links": ("确认一户十联", "confirming 一户十联 links"),
    "api.action.party_findings": ("读取党建问题", "reading party findings"),
    "api.action.points": ("读取积分", "reading points"),
    "api.action.record_points": ("记录积分", "recording points"),
    "api.action.funds": ("读取党费", "reading party funds"),
    "api.action.record_funds": ("记录党费", "recording funds"),
    "api.action.record_patrols": ("记录巡查", "recording patrols"),
    "api.action.patrols": ("读取巡查记录", "reading patrols"),
    "api.action.patrol_figures": ("读取巡查统计", "reading patrol figures"),
    "api.action.meeting_report": ("会议报告", "a meeting report"),
    "api.action.case_statistics": ("案件统计", "case statistics"),
    "api.action.case_dashboard": ("案件看板", "the case dashboard"),
    "api.action.action_list": ("网格行动清单", "a grid's action list"),
    "api.action.sign_in": ("登录", "signing in"),
    "api.action.sign_out": ("退出登录", "signing out"),
    "api.unknown_token": ("未知或已撤销的令牌", "unknown or revoked token"),
    "api.too_many_tokens": (
        "来自 {client} 的未知令牌过多；请 {wait} 秒后再试",
        "too many unknown tokens from {client}; try again in {wait} s",
    ),
    "api.basic_not_base64": (
        "Basic 凭据不是 user:password 的 base64 编码",
        "the Basic credentials are not base64 of user:password",
    ),
    "api.basic_no_token": (
        "请把令牌作为 Basic 认证的密码发送",
        "send the token as the password of Basic authentication",
    ),
    "api.bad_authorization": (
        "Authorization 头应为 `Bearer <令牌>` 或 Basic",
        "the Authorization header must be `Bearer <token>` or Basic",
    ),
    "api.session_invalid": ("会话 cookie 无效：请重新登录", "the session cookie is not valid: sign in again"),
    "api.session_expired": ("会话已过期：请重新登录", "the session has expired: sign in again"),
    "api.session_ended": ("此会话已退出：请重新登录", "this session was signed out: sign in again"),
    "api.session_revoked": (
        "此会话的令牌已被撤销：请重新登录",
        "the token of this session was revoked: sign in again",
    ),
    "api.csrf": (
        "用会话 cookie 写入需要 X-CSRF-Token 请求头",
        "a write with the session cookie needs the X-CSRF-Token header",
    ),
    "api.cross_site": ("拒绝来自其他网站的{action}", "{action} from another site is refused"),
    "write.admin_only": (
        "{action}：{layer} 只能由管理员修改",
        "{action}: {layer} may be changed only by an admin",
    ),
    "api.query.unknown": (
        "未知的查询参数 {key}；此资源接受：{known}",
        "unknown query parameter {key}; this resource takes: {known}",
    ),
    "api.query.one_of": (
        "{name} 只能是以下之一：{choices}，而不是 {value}",
        "{name} must be one of {choices}, not {value}",
    ),
    "api.query.integer": ("{name} 必须是整数，而不是 {value}", "{name} must be an integer, not {value}"),
    "api.query.between": ("在 {low} 与 {high} 之间", "between {low} and {high}"),
    "api.query.least": ("至少为 {low}", "at least {low}"),
    "api.query.bound": ("{name} 必须{bound}，而不是 {value}", "{name} must be {bound}, not {value}"),
    "api.query.crs": (
        "不支持 {name} {value}；可用：{supported}",
        "{name} {value} is not supported; use one of {supported}",
    ),
    "api.query.without": ("给出了 {name} 却没有 {needs}", "{name} is given without a {needs}"),
    "api.query.bbox_shape": (
        "bbox 必须是四个或六个以逗号分隔的数字",
        "bbox must be four or six comma-separated numbers",
    ),
    "api.query.bbox_order": (
        "投影坐标系中 bbox 必须最小值 ≤ 最大值",
        "bbox must have min ≤ max in a projected system",
    ),
    "api.query.filter_crs": (
        "filter-crs：筛选条件不含几何；只接受 CRS84",
        "filter-crs: filters hold no geometry; only CRS84 is accepted",
    ),
    "api.query.after_or_before": ("after 和 before 只能给出一个", "give after or before, not both"),
    "api.query.cursor_offset": (
        "{name} 按编码分页：不能同时使用 offset",
        "{name} cuts the page by code: not with offset as well",
    ),
    "api.query.cursor_code": ("{name} 必须是要素编码", "{name} must be a feature code"),
    "api.server.misconfigured": (
        "服务器配置有误；原因见服务器日志",
        "the server is misconfigured; its log says why",
    ),
    "api.server.store_unavailable": (
        "数据库不可用；详情见服务器日志",
        "the store is unavailable; the server log has the details",
    ),
    "api.server.internal": ("内部错误；详情见服务器日志", "internal error; the server log has the details"),
    "api.server.not_ready": ("尚未就绪；请稍后再试", "not ready yet; try again shortly"),
    "api.http.404": ("未找到", "Not Found"),
    "api.http.405": ("不允许的请求方法", "Method Not Allowed"),
    "api.http.406": ("无法提供所请求的格式", "Not Acceptable"),
    "api.http.413": ("请求内容过大", "Request Entity Too Large"),
    "api.http.415": ("不支持的内容类型", "Unsupported Media Type"),
    "error.unknown_layer": (
        "未知的图层 {name}；应为以下之一：{names}",
        "unknown layer {name}; expected one of: {names}",
    ),
    "error.some_code": ("所给编码之一", "one of the codes given"),
    "error.taken": (
        "{layer} 中已有编码 {codes}：新要素需要新编码",
        "{layer} already has code(s) {codes}: a new feature needs a new code",
    ),
    # api/errors.py: a request FastAPI could not parse
    "api.invalid": ("参数无效：{fields}", "invalid {fields}"),
    "api.invalid_request": ("请求无效", "invalid request"),
    # gridmap lookup (gridmap.cli.lookup)
    "cli.lookup.either": (
        "请给出地址 ADDRESS，或同时给出 --lon 和 --lat",
        "give either an ADDRESS or both --lon and --lat",
    ),
    "cli.lookup.title": ("查询结果", "lookup"),
    "cli.lookup.grid": ("网格", "grid"),
    "cli.lookup.party_branch": ("网格党支部", "party branch"),
    "cli.lookup.worker": ("网格员", "grid worker"),
    "cli.lookup.community": ("社区", "community"),
    "cli.lookup.street": ("街道", "street"),
    "cli.lookup.building": ("楼栋", "building"),
    "cli.lookup.address": ("地址", "address"),
    "cli.lookup.score": ("相似度", "score"),
    "cli.lookup.match": ("匹配方式", "match"),
    "cli.lookup.disagrees": ("与地址所写不符", "not where written"),
    "cli.lookup.did_you_mean": ("您是否要找", "did you mean"),
    # gridmap validate and gridmap site (gridmap.cli.validate)
    "cli.wrote_features": ("已把 {n:,} 个要素写入 {path}", "wrote {n:,} feature(s) to {path}"),
    "cli.validate.reading": ("正在读取网格、社区和住户", "reading grids, communities and households"),
    "cli.validate.checking": ("正在检查网格拓扑", "validating grid topology"),
    "cli.validate.clean": (
        "[bold green]未发现问题[/]：{n:,} 个网格完整覆盖所属社区",
        "[bold green]no findings[/]: {n:,} grids cover their communities cleanly",
    ),
    "cli.validate.title": (
        "网格拓扑：{errors:,} 个错误，{warnings:,} 个警告",
        "grid topology: {errors:,} error(s), {warnings:,} warning(s)",
    ),
    "cli.validate.more": (
        "… 另有 {n:,} 条（用 --out 取得全部）",
        "… and {n:,} more (use --out to get them all)",
    ),
    "cli.site.no_roads": (
        "没有道路数据：请先导入道路（gridmap import roads 文件）再按步行选址",
        "no roads loaded: import roads (gridmap import roads FILE) to site on foot",
    ),
    "cli.site.reading": ("正在读取住户、楼栋和已有点位", "reading households, buildings and sites"),
    "cli.site.siting": ("正在为 {kind} 选址 {k} 处", "siting {k} {kind}"),
    "cli.site.on_foot": ("（步行）", " on foot"),
    "cli.site.proposed": (
        "[bold]建议新增{label}（{kind}）{n} 处（共求 {k} 处）[/]，半径 {radius:,.0f} 米{on_foot}：新覆盖 {gain:,} 户"
        "（{before:,} → {after:,}，共 {total:,} 户；新增前覆盖率 {share:.1%}）",
        "[bold]proposed {n} of {k} {kind} ({label})[/], radius {radius:,.0f} m{on_foot}: {gain:,} more households covered "
        "({before:,} → {after:,} of {total:,}; {share:.1%} before)",
    ),
    "cli.site.exact": ("精确最优解（混合整数规划，HiGHS）", "exact optimum (MIP, HiGHS)"),
    "cli.site.greedy": ("贪心算法加单点交换改进", "greedy with 1-swap improvement"),
    "cli.site.method": ("方法：{method}；{status}", "method: {method}; {status}"),
    "cli.site.greedy_gap": (
        "；贪心算法只能达到 {total:,}（少 {gap:.1%}）",
        "; greedy would reach {total:,} ({gap:.1%} below)",
    ),
    "cli.site.details": (
        "{details}\n候选点 {candidates:,} 个，需求点 {points:,} 个（{demand}），用时 {seconds:.1f} 秒",
        "{details}\n{candidates:,} candidates, {points:,} demand points ({demand}), {seconds:.1f} s",
    ),
    "cli.site.rank": ("序号", "rank"),
    "cli.site.candidate": ("候选点", "candidate"),
    "cli.site.label": ("名称/地址", "name/address"),
    "cli.site.gain": ("新增户数", "new households"),
    "cli.site.covered": ("累计户数", "households covered"),
    "cli.site.share": ("覆盖率", "coverage"),
    # api/lookup.py: a lookup's own 422s
    "api.lookup.not_number": ("{name} 必须是数字", "{name} must be a number"),
    "api.lookup.range": (
        "{name} 必须在 -{bound} 到 {bound} 之间",
        "{name} must be between -{bound} and {bound}",
    ),
    "api.lookup.both": ("地址和经纬度只能给出一种", "give either address or lon/lat, not both"),
    "api.lookup.blank": ("地址为空", "address is blank"),
    "api.lookup.long": ("地址超过 {most} 个字符", "address is longer than {most} characters"),
    "api.lookup.missing": (
        "请给出地址，或同时给出经度和纬度（缺少 {missing}）",
        "give an address, or both lon and lat ({missing} is missing)",
    ),
    # gridmap map, report and serve
    "cli.reading_store": ("正在读取数据库", "reading the store"),
    "cli.analysing": ("正在分析", "analysing"),
    "cli.map.analysing": ("正在分析覆盖情况", "analysing coverage"),
    "cli.map.siting_grid": (
        "正在为网格 {grid} 选 {k} 处新广播点位",
        "choosing {k} new speaker sites in grid {grid}",
    ),
    "cli.map.drawing_grid": ("正在绘制网格 {grid}", "drawing grid {grid}"),
    "cli.map.siting": ("正在选 {k} 处新广播点位", "choosing {k} new speaker sites"),
    "cli.map.drawing": ("正在绘制辖区地图", "drawing the district"),
    "cli.map.writing": ("正在写出 HTML", "writing HTML"),
    "cli.map.wrote": (
        "已写出 {path}（{mb:.1f} MB）；用浏览器打开即可，无需联网",
        "wrote {path} ({mb:.1f} MB); open it in a browser, no network needed",
    ),
    "cli.report.one_scope": (
        "--street、--community、--grid 最多只能给一个",
        "give at most one of --street, --community, --grid",
    ),
    "cli.report.laying_out": ("正在排版报告", "laying out the report"),
    "cli.report.printing": ("正在打印 PDF", "printing the PDF"),
    "cli.report.wrote": (
        "已写出 {path}（{kb:.0f} kB），用时 {seconds:.1f} 秒",
        "wrote {path} ({kb:.0f} kB) in {seconds:.1f} s",
    ),
    "cli.serve.warning": ("警告：{warning}", "warning: {warning}"),
    "cli.serve.serving": (
        "正在提供 {store} 的服务：http://{host}:{port}（{workers} 个工作进程，{tokens} 个令牌）；接口文档见 /docs",
        "serving {store} on http://{host}:{port} ({workers} worker(s), {tokens} token(s)); docs at /docs",
    ),
    # gridmap assign and analyze (gridmap.cli.analysis)
    "cli.assign.counted": (
        "{label}（{layer}）：{total:,} 个中有 {n:,} 个在网格内",
        "{layer} ({label}): {n:,} of {total:,} in a grid",
    ),
    "cli.assign.lost": (
        "[yellow]{n:,} 个要素不在任何网格内[/]（见 `gridmap analyze --out`）",
        "[yellow]{n:,} features lie in no grid[/] (see `gridmap analyze --out`)",
    ),
    "cli.analyze.wrote": ("已把 {files} 写入 {out}", "wrote {files} to {out}"),
    "cli.analyze.streets": ("街道汇总", "Streets"),
    "cli.analyze.street": ("街道", "street"),
    "cli.analyze.households": ("户数", "households"),
    "cli.analyze.no_branch": ("无支部", "no branch"),
    "cli.analyze.no_worker": ("无网格员", "no worker"),
    "cli.analyze.gaps": ("问题", "gaps"),
    "cli.analyze.grade": ("等级", "grade"),
    "cli.analyze.totals": (
        "[bold]{grids:,}[/] 个网格共 [bold]{households:,}[/] 户：{shares}",
        "[bold]{households:,}[/] households in [bold]{grids:,}[/] grids: {shares}",
    ),
    "cli.analyze.grades": (
        "各等级网格数：{grades}；未建党支部 {no_branch:,}，未配网格员 {no_worker:,}",
        "grids by grade: {grades}; without party branch {no_branch:,}, without worker {no_worker:,}",
    ),
    "cli.analyze.gaps_line": (
        "{uncovered:,} 户不在正常广播覆盖范围内，未覆盖面积 {km2:,.2f} 平方公里；{centers:,} 个党员中心户联系不足；"
        "{topology:,} 个拓扑错误；{unassigned:,} 个要素不在任何网格内",
        "{uncovered:,} households outside working speaker range, uncovered area {km2:,.2f} km²; "
        "{centers:,} center households under quota; {topology:,} topology errors; {unassigned:,} features in no grid",
    ),
    # gridmap history, revert, diff (gridmap.cli.history)
    "history.inserted": ("新增", "inserted"),
    "history.updated": ("修改", "updated"),
    "history.deleted": ("删除", "deleted"),
    "cli.history.bad_since": (
        "--since 应为日期或时间，如 2025-01-31 或 2025-01-31T08:00，而不是 {value}",
        "--since must be a date or time like 2025-01-31 or 2025-01-31T08:00, not {value}",
    ),
    "cli.history.title": ("修改记录", "history"),
    "cli.history.revision": ("版本", "revision"),
    "cli.history.at": ("时间（北京时间）", "at (Beijing time)"),
    "cli.history.author": ("修改人", "author"),
    "cli.history.command": ("命令", "command"),
    "cli.history.changes": ("变更", "changes"),
    "cli.history.reverts": ("{command}（撤销版本 {n}）", "{command} (reverts {n})"),
    "cli.history.reverted": ("已撤销版本 {old}，记为版本 {new}", "reverted revision {old} as revision {new}"),
    "cli.diff.title": (
        "{layer}：{start} 至 {end} 之间所属网格变化的有 {n:,} 个",
        "{layer}: {n:,} changed grid between {start} and {end}",
    ),
    # gridmap export (gridmap.cli.export)
    "cli.export.reading": ("正在读取 {layer}", "reading {layer}"),
    "cli.export.reading_all": ("正在读取全部图层", "reading every layer"),
    "cli.export.layer_or_what": (
        "请给出图层 LAYER 或 --what，二者只能选一",
        "give a LAYER or --what, not both",
    ),
    "cli.export.all_gpkg": (
        "`all` 把全部图层写入一个 GeoPackage：请用 --format gpkg",
        "`all` layers go into one GeoPackage: use --format gpkg",
    ),
    "cli.export.csv_geometry": (
        "--csv-geometry 只能是 wkt 或 lonlat",
        "--csv-geometry must be wkt or lonlat",
    ),
    "cli.export.headers": ("--headers 只能是以下之一：{choices}", "--headers must be one of {choices}"),
    "cli.export.all_written": ("7 个图层共 {n:,} 个要素 → {path}", "{n:,} features in 7 layers → {path}"),
    "cli.export.writing": ("正在写出 {format}", "writing {format}"),
    "cli.export.encoding": (
        "文字无法用 {encoding} 编码写出：{why}",
        "text cannot be written as {encoding}: {why}",
    ),
    "cli.export.written": (
        "{n:,} 个要素 → {path}（{format}，{kib:,.0f} KiB）",
        "{n:,} features → {path} ({format}, {kib:,.0f} KiB)",
    ),
    "cli.export.with_personal": (
        "[yellow]含个人信息字段[/]：{fields}",
        "[yellow]with personal fields[/]: {fields}",
    ),
    "cli.export.personal_left_out": (
        "未写出个人信息字段：{fields}（--with-personal 可写出）",
        "personal fields left out: {fields} (--with-personal writes them)",
    ),
    # gridmap token add|list|remove (gridmap.cli.tokens)
    "cli.token.not_object": (
        "{path}：应为把令牌映射到 {{role, communities}} 的 JSON 对象",
        "{path}: expected a JSON object mapping token to {{role, communities}}",
    ),
    "cli.token.exists": (
        "{path} 中已有名为 {name} 的令牌；请先删除它或换个名称",
        "a token named {name} is already in {path}; remove it first or pick another name",
    ),
    "cli.token.added": ("已添加令牌 {name}（{role}）→ {path}：", "added token {name} ({role}) → {path}:"),
    "cli.token.keep_it": (
        "请妥善保存，令牌不再显示。用 GRIDMAP_TOKENS_FILE={path} gridmap serve 启动服务，"
        "然后用它登录工作台 http://127.0.0.1:8000/",
        "keep it: it is not shown again. Start the server with GRIDMAP_TOKENS_FILE={path} gridmap serve, "
        "then sign in to the console at http://127.0.0.1:8000/",
    ),
    "cli.token.name": ("名称", "name"),
    "cli.token.role": ("角色", "role"),
    "cli.token.communities": ("社区", "communities"),
    "cli.token.departments": ("部门", "departments"),
    "cli.token.token": ("令牌", "token"),
    "cli.token.count": ("{n} 个令牌", "{n} token(s)"),
    "cli.token.not_found": (
        "{path} 中没有唯一名为 {name} 的令牌（现有：{known}）",
        "no single token named {name} in {path} (tokens: {known})",
    ),
    "cli.token.removed": (
        "已从 {path} 删除令牌 {name}（重启服务后生效）",
        "removed token {name} from {path} (takes effect when the server restarts)",
    ),
    # gridmap demo, sample, province (gridmap.cli.demo)
    "cli.demo.step.load": ("载入示例数据、一年走访与巡查", "load sample, a year of visits and patrols"),
    "cli.demo.step.read": ("读取图层", "read layers"),
    "cli.demo.step.analyse": ("分析", "analyse"),
    "cli.demo.step.save": ("保存归属", "save grid codes"),
    "cli.demo.step.cases": ("生成案件", "seed a year of cases"),
    "cli.demo.step.maps": ("绘制地图", "draw maps"),
    "cli.demo.visits": ("近一年走访：{n:,} 次", "visits of the past year: {n:,}"),
    "cli.demo.patrols": ("近 {weeks} 周巡查：{n:,} 次", "patrols of the past {weeks} weeks: {n:,}"),
    "cli.demo.party": (
        "党组织 {orgs:,} 个，党员 {members:,} 名，一户十联确认 {links:,} 户",
        "party organisations: {orgs:,}, members: {members:,}, confirmed 一户十联 links: {links:,}",
    ),
    "cli.demo.open_map": ("[bold]打开地图：[/]{path}", "[bold]open the map:[/] {path}"),
    "cli.demo.worst_grid": ("最需关注的网格：{path}", "grid most in need: {path}"),
    "cli.demo.sample": ("示例区汇总", "Sample district"),
    "cli.demo.dirty": ("示例区（含预置问题）汇总", "Sample district with planted problems"),
    "cli.demo.summary_of": ("{name} 汇总", "Summary of {name}"),
    "cli.demo.streets": ("街道", "streets"),
    "cli.demo.communities": ("社区/村", "communities"),
    "cli.demo.grids": ("网格", "grids"),
    "cli.demo.households": ("户", "households"),
    "cli.demo.no_branch": ("无党支部网格", "grids without party branch"),
    "cli.demo.no_worker": ("无网格员网格", "grids without worker"),
    "cli.demo.topology": ("拓扑错误", "topology errors"),
    "cli.demo.unassigned": ("不在任何网格", "features in no grid"),
    "cli.demo.top_gaps": ("广播盲区最大的网格", "Top speaker gaps"),
    "cli.demo.grid_code": ("网格编码", "grid"),
    "cli.demo.name": ("名称", "name"),
    "cli.demo.uncovered": ("盲区户", "uncovered"),
    "cli.demo.cases": ("近一年案件（{n:,}）", "Cases of the past year ({n:,})"),
    "cli.demo.cases.received": ("受理", "received"),
    "cli.demo.cases.closed": ("结案", "closed"),
    "cli.demo.cases.on_time": ("按期结案率", "closed on time"),
    "cli.demo.cases.hours": ("平均处置(工作小时)", "mean handling (working hours)"),
    "cli.demo.cases.overdue": ("当前超期", "overdue now"),
    "cli.sample.generating": ("正在生成规模 {scale} 的辖区", "generating scale {scale}"),
    "cli.sample.writing": ("正在写出 {out}", "writing {out}"),
    "cli.sample.done": (
        "生成用时 {seconds:.1f} 秒，已写出 {mib:.1f} MiB 到 {out}",
        "generated in {seconds:.1f} s, wrote {mib:.1f} MiB to {out}",
    ),
    "cli.province.county": (
        "{code} {name}：{streets} 个街道，{grids:,} 个网格，{households:,} 户",
        "{code} {name}: {streets} streets, {grids:,} grids, {households:,} households",
    ),
    "cli.province.done": (
        "{counties} 个区县，共 {households:,} 户，用时 {seconds:.0f} 秒，写入 {out}",
        "{counties} counties, {households:,} households in {seconds:.0f} s, written to {out}",
    ),
    # gridmap features (gridmap.cli.features)
    "cli.features.where": ("--where 应为 字段=值，而不是 {text}", "--where needs FIELD=VALUE, not {text}"),
    "cli.features.fields": (
        "--fields 应为 字段,字段,…，而不是 {text}",
        "--fields needs FIELD,FIELD,..., not {text}",
    ),
    "cli.features.twice": ("{option} 两次给出 {field}", "{option} names {field} twice"),
    "cli.features.no_field": (
        "{layer} 没有字段 {name}；它的字段有：{fields}",
        "{layer} has no field {name}; its fields are: {fields}",
    ),
    "cli.features.past_end": (
        "从第 {offset:,} 个起没有要素：已超过最后一个",
        "none from offset {offset:,}: past the last match",
    ),
    "cli.features.of": ("{matched:,} 个中的 {shown:,} 个", "{shown:,} of {matched:,}"),
    "cli.features.more_follow": ("{shown:,} 个，后面还有", "{shown:,}, more follow"),
    "cli.features.from": ("，从第 {offset:,} 个起", " from offset {offset:,}"),
    "cli.features.next": ("；下一页：--offset {offset}", "; next page: --offset {offset}"),
    "cli.features.not_shown": (
        "未显示：{fields}（用 --fields 选择列）",
        "Not shown: {fields} (choose columns with --fields)",
    ),
    # gridmap cases (gridmap.cli.cases)
    "cli.bad_date": (
        "{option} 应为日期 YYYY-MM-DD，而不是 {text}",
        "{option} must be a date YYYY-MM-DD, not {text}",
    ),
    "cli.rows_written": ("{n:,} 行 → {path}", "{n:,} rows → {path}"),
    "cli.cases.reported": ("已上报 {code} → 网格 {grid}", "reported {code} → grid {grid}"),
    "cli.cases.unplaced": ("已上报 {code} → 待定位（{reason}）", "reported {code} → unplaced ({reason})"),
    "cli.cases.suggestions": ("；建议地址：{hints}", "; suggestions: {hints}"),
    "cli.cases.placed": ("{code} → 网格 {grid}", "{code} → grid {grid}"),
    "cli.cases.merged": ("{code} 已并入 {into}", "{code} merged into {into}"),
    "cli.cases.due": ("，处置时限 {at}（北京时间）", ", due {at} (Beijing time)"),
    "cli.cases.moved": ("{code}：{label}（{status}）{due}", "{code}: {status} ({label}){due}"),
    "cli.cases.written": ("{n:,} 件案件 → {path}", "{n:,} cases → {path}"),
    "cli.cases.by": (
        "--by 只能是以下之一：{choices}，而不是 {by}",
        "--by must be one of {choices}, not {by}",
    ),
    "cli.cases.period": (
        "--period 只能是以下之一：{choices}，而不是 {period}",
        "--period must be one of {choices}, not {period}",
    ),
    "cli.yes": ("是", "yes"),
    "cli.no": ("否", "no"),
    "cli.cases.list_title": (
        "案件 {shown:,} / {total:,} 件（北京时间）",
        "cases: {shown:,} of {total:,} (Beijing time)",
    ),
    "cli.cases.col.code": ("案件编号", "case"),
    "cli.cases.col.status": ("状态", "status"),
    "cli.cases.col.category": ("类别", "category"),
    "cli.cases.col.grid_code": ("网格", "grid"),
    "cli.cases.col.department": ("处置部门", "department"),
    "cli.cases.col.reported_at": ("上报时间", "reported"),
    "cli.cases.col.due_at": ("处置时限", "due"),
    "cli.cases.col.overdue": ("超期", "overdue"),
    "cli.cases.stats_title": ("案件统计（按{by}）", "case statistics by {by}"),
    "cli.cases.due_title": ("催办督办清单 {day}：{n:,} 件", "cases to chase on {day}: {n:,}"),
    "cli.cases.due.kind": ("类型", "kind"),
    "cli.cases.due.code": ("案件编号", "case"),
    "cli.cases.due.category": ("类别", "category"),
    "cli.cases.due.grid": ("网格", "grid"),
    "cli.cases.due.department": ("部门", "department"),
    "cli.cases.due.due_at": ("处置时限", "due"),
    "cli.cases.due.overdue_days": ("超期工作日", "working days overdue"),
    "cli.cases.due.escalate_to": ("上报至", "escalate to"),
    "cli.cases.unplaced_grid": ("待定位", "unplaced"),
    "cli.cases.seeded": ("已生成过去一年的 {n:,} 件案件", "{n:,} cases seeded over the past year"),
    # gridmap visits (gridmap.cli.visits)
    "cli.visits.bad_time": (
        "--at 应为时间 YYYY-MM-DDTHH:MM，而不是 {text}",
        "--at must be a time YYYY-MM-DDTHH:MM, not {text}",
    ),
    "cli.visits.recorded": (
        "已记录 {household} 的走访 {key}（{at}）",
        "visit {key} of {household} recorded ({at})",
    ),
    "cli.visits.already": (
        "{household} 的走访 {key} 此前已记录（{at}）",
        "visit {key} of {household} already recorded ({at})",
    ),
    "cli.visits.written": ("{n:,} 户 → {path}", "{n:,} households → {path}"),
    "cli.visits.ordinary": ("一般户", "ordinary"),
    "cli.patrol.recorded": (
        "已记录 {grid} 网格 {day} 的巡查：网格内 {km:.2f} 公里、{minutes:.0f} 分钟（共走 {walked:.2f} 公里）",
        "patrol of {grid} on {day} recorded: {km:.2f} km and {minutes:.0f} min inside the grid "
        "({walked:.2f} km walked)",
    ),
    "cli.patrol.already": (
        "{grid} 网格 {day} 的这次巡查已记录过：网格内 {km:.2f} 公里、{minutes:.0f} 分钟（共走 {walked:.2f} 公里）",
        "patrol of {grid} on {day} already recorded: {km:.2f} km and {minutes:.0f} min inside the grid "
        "({walked:.2f} km walked)",
    ),
}
"""Key -> (Chinese, English)."""
