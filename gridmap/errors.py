"""Domain errors. They know nothing of HTTP; `api/` maps each kind to a status once."""

from __future__ import annotations

from dataclasses import dataclass


class GridmapError(Exception):
    """Base of every error gridmap raises on purpose."""


class ConfigError(GridmapError):
    """Settings or a store URL that cannot be used."""


class CRSError(GridmapError):
    """An unknown coordinate system, or a frame without one."""


class UnknownLayerError(GridmapError):
    """A layer name that is not in the catalogue."""

    def __init__(self, name: str) -> None:
        from gridmap.catalogue import LAYER_NAMES

        super().__init__(f"unknown layer {name!r}; expected one of: {', '.join(LAYER_NAMES)}")
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
        shown = ", ".join(codes[:10]) if codes else "one of the codes given"
        return cls(f"{layer} already has code(s) {shown}: a new feature needs a new code")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row of an input file."""

    row: int | None
    field: str | None
    reason: str
    code: str | None = None

    def describe(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        if self.code:
            where += f" (code {self.code})"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.reason}"


class ValidationError(GridmapError):
    """Input that fails validation: lists every problem, names the file and the rows."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        shown = "\n".join(f"  {source}: {p.describe()}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{source}: {len(problems)} problem(s), nothing was changed\n{shown}{more}")


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
