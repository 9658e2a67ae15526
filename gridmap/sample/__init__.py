"""The seeded sample district (Wuhan 武昌区) and its deliberately broken twin.

`generate` builds the seven canonical layers (`plan` all but the households'
strings, which `write_district` writes chunk by chunk at city scale); `generate_dirty` plants known
topology problems (`PLANTED`); `write_sample` / `read_sample` / `load_sample`
move them between frames, the files under `data/` and a store. data/README.md
describes the district, the numbering rule and the planted problems.
"""

from __future__ import annotations

from gridmap.sample.dirty import PLANTED, Planted, generate_dirty
from gridmap.sample.files import (
    DIRTY_DIR,
    SAMPLE_DIR,
    layer_path,
    load_sample,
    read_sample,
    write_district,
    write_sample,
)
from gridmap.sample.generate import DEFAULT_SEED, District, generate, plan

__all__ = [
    "DEFAULT_SEED",
    "DIRTY_DIR",
    "PLANTED",
    "SAMPLE_DIR",
    "District",
    "Planted",
    "generate",
    "generate_dirty",
    "layer_path",
    "load_sample",
    "plan",
    "read_sample",
    "write_district",
    "write_sample",
]
