"""The 一户十联 proposal: the computed links of the households the register has not linked yet."""

from __future__ import annotations

import pytest

from gridmap.errors import NotFoundError
from gridmap.party.proposal import propose_links
from gridmap.party.register import confirm_links
from gridmap.stores import Store


def test_the_proposal_leaves_out_what_is_confirmed(chain: Store) -> None:
    assert propose_links(chain, "H1") == ["H2", "H3", "H4", "H5", "H6"]  # B1's first, then B2's
    confirm_links(chain, "H1", ["H2", "H5"], by="社区")
    assert propose_links(chain, "H1") == ["H3", "H4", "H6"]
    with pytest.raises(NotFoundError):
        propose_links(chain, "H2")  # not a center household
