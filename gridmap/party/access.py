"""Who may see and change what in the party registers: an admin everything, a secretary their own.

A caller answers for some organisations (an editor token's `party_orgs`: a
branch secretary's branch). They reach those and every organisation below
them: they see those organisations' secretaries and members whole, and may
write their members, points and funds, and new versions of the organisations
they answer for themselves (never one above, nor a new top). Everyone else
sees names and phones masked. The 一户十联 register is the community's: an
editor of a community confirms the links of its center households.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridmap.errors import PermissionDeniedError
from gridmap.texts import Message


def below(orgs: pd.DataFrame, roots: frozenset[str]) -> set[str]:
    """`roots` and every organisation under them (parent links of `orgs`, any version)."""
    children: dict[str, set[str]] = {}
    for code, parent in zip(orgs["code"].astype(str), orgs["parent_code"], strict=True):
        if isinstance(parent, str):
            children.setdefault(parent, set()).add(code)
    found, todo = set(roots), list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@dataclass(frozen=True)
class PartyAccess:
    """A caller as the party registers judge them."""

    admin: bool
    own: frozenset[str] = field(default_factory=frozenset)
    name: str = ""

    def reach(self, orgs: pd.DataFrame) -> set[str] | None:
        """The organisations the caller answers for with those below them (None: all, an admin)."""
        return None if self.admin else below(orgs, self.own)

    def sees_whole(self, codes: pd.Series, orgs: pd.DataFrame) -> npt.NDArray[np.bool_]:
        """For each organisation code, whether the caller sees its personal fields whole."""
        reach = self.reach(orgs)
        if reach is None:
            return np.ones(len(codes), dtype=bool)
        return codes.astype(str).isin(reach).to_numpy(dtype=bool)

    def require_org(self, code: str, orgs: pd.DataFrame, action: str) -> None:
        """Refuse unless the caller may act for organisation `code` (theirs or below theirs)."""
        reach = self.reach(orgs)
        if reach is not None and code not in reach:
            raise PermissionDeniedError(Message("party.org_not_yours", action=action, code=code))

    def require_version(self, code: str, action: str) -> None:
        """Refuse a new version of `code` unless the caller is an admin or answers for it."""
        if not self.admin and code not in self.own:
            raise PermissionDeniedError(Message("party.org_own_editors", action=action, code=code))
