"""Which language a request reads: its Accept-Language, else the server's GRIDMAP_LANG (Chinese)."""

from __future__ import annotations

from starlette.requests import Request

from gridmap.texts import LANGS, Lang, language


def _ranked(header: str) -> list[tuple[float, int, str]]:
    """(q, -position, primary tag) of each language range of an Accept-Language header."""
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranked.append((q, -position, tag.strip().split("-")[0].lower()))
    return sorted(ranked, reverse=True)


def request_language(request: Request) -> Lang:
    """The first of zh and en the Accept-Language header prefers (q > 0), else GRIDMAP_LANG."""
    for q, _, tag in _ranked(request.headers.get("accept-language", "")):
        if q > 0:
            for lang in LANGS:
                if tag == lang:
                    return lang
    return language()
