"""The layer catalogue: the fields a table shows by default."""

from __future__ import annotations

import pytest

from gridmap.catalogue import HOUSEHOLDS, STREETS, Field, Layer


def test_table_columns_are_the_chosen_fields_or_all() -> None:
    assert HOUSEHOLDS.table_columns == ["code", "address", "size", "contact_name", "contact_phone"]
    assert STREETS.table_columns == ["code", "name", "valid_from", "valid_to"]


def test_a_table_field_must_be_a_field_of_the_layer() -> None:
    code = Field("code", "text", "编码", "Code", required=True)
    with pytest.raises(ValueError, match=r"things.table_fields names no field of the layer: \['size'\]"):
        Layer("things", "物", "Things", "Point", (code,), table_fields=("code", "size"))
