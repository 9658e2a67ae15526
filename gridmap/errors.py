"""Domain errors. They know nothing of HTTP; `api/` maps each kind to a status once."""

from __future__ import annotations

from dataclasses import dataclass

from gridmap.texts import Lang, Message, text


class GridmapError(Exception):
    """Base of every error gridmap raises on purpose.

    Its message may be a `gridmap.texts.Message`: `str(error)` says it in the
    reader's language (GRIDMAP_LANG), `error.text(lang)` in any.
    """

    def text(self, lang: Lang | None = None) -> str:
        """The message in `lang` (default: `gridmap.texts.language()`)."""
        return text(self.args[0], lang) if len(self.args) == 1 else super().__str__()

    def __str__(self) -> str:
        first = self.args[0] if len(self.args) == 1 else None
        return first.render() if isinstance(first, Message) else super().__str__()


class ConfigError(GridmapError):
    """Settings or a store URL that cannot be used."""


class CRSError(GridmapError):
    """An unknown coordinate system, or a frame without one."""


class UnknownLayerError(GridmapError):
    """A layer name that is not in the catalogue."""

    def __init__(self, name: str) -> None:
        from gridmap.catalogue import LAYER_NAMES

        super().__init__(Message("error.unknown_layer", name=repr(name), names=", ".join(LAYER_NAMES)))
        self.name = name


class NotFoundError(GridmapError):
    """A feature, grid or address that does not exist."""


class PermissionDeniedError(GridmapError):
    """The caller's role does not allow this action."""


class StoreError(GridmapError):
    """The store could not be opened, read or written."""


class ImportCancelled(GridmapError):
    """An import whose change set would lose data was not confirmed: nothing was written."""


class UnavailableError(GridmapError):
    """A result that is still being computed for the first time: ask again shortly."""


class ConflictError(GridmapError):
    """A create that names a code which already exists (the store's key refused it)."""

    @classmethod
    def taken(cls, layer: str, codes: list[str]) -> ConflictError:
        """The error for an insert into `layer` whose `codes` (some may be unknown) already exist."""
        shown = ", ".join(codes[:10]) if codes else Message("error.some_code")
        return cls(Message("error.taken", layer=layer, codes=shown))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row of an input file."""

    row: int | None
    field: str | None
    reason: str
    """A `gridmap.texts.Message` where the reason is said to people (its `str` is the English)."""
    code: str | None = None

    def describe(self, lang: Lang | None = None) -> str:
        """Where (the row, its code, the field) and why, in `lang` (default: the reader's)."""
        where = Message("problem.file") if self.row is None else Message("problem.row", row=self.row)
        return text(
            Message(
                "problem.describe",
                where=where,
                code=Message("problem.code", code=self.code) if self.code else "",
                field=Message("problem.field", field=self.field) if self.field else "",
                reason=self.reason,
            ),
            lang,
        )


SHOWN_PROBLEMS = 50
"""Problems a ValidationError's message lists (all of them stay in `problems`)."""


class ValidationError(GridmapError):
    """Input that fails validation: lists every problem, names the file and the rows."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self.text("en"))

    def text(self, lang: Lang | None = None) -> str:
        lines = [text(Message("validation.header", source=self.source, n=len(self.problems)), lang)]
        lines += [
            text(Message("validation.line", source=self.source, problem=p.describe(lang)), lang)
            for p in self.problems[:SHOWN_PROBLEMS]
        ]
        if len(self.problems) > SHOWN_PROBLEMS:
            lines.append(text(Message("validation.more", n=len(self.problems) - SHOWN_PROBLEMS), lang))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


class RevertConflictError(GridmapError):
    """A revision cannot be reverted because a later revision changed the same features."""


class TransitionError(GridmapError):
    """A case transition its current status does not allow (or that another caller just made)."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


def driver_reason(exc: BaseException) -> str:
    """The first line of a database driver's error, without SQLAlchemy's statement dump."""
    inner = getattr(exc, "orig", None) or exc
    return str(inner).strip().splitlines()[0] if str(inner).strip() else type(inner).__name__
