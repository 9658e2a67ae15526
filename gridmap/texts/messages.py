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
    # the CLI's one line for an error (gridmap.cli.main)
    "cli.error": ("错误：", "error:"),
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
}
"""Key -> (Chinese, English)."""
