"""The analysis beyond one machine: county partitions as GeoParquet, analysed on dask.distributed.

`write_partitions(frames, root)` splits the layers by county (first six
digits of the codes); `analyze_partitioned(root, client)` runs the same pure
`gridmap.analysis.analyze` once per county on the cluster, after settling what
crosses county lines by location (`spread`); `merge` puts the counties'
results together into one `Analysis`, equal to the single-process run on the
same data. `cluster(scheduler)` connects to a scheduler or starts a
LocalCluster. docs/SCALE.md describes how a province and the nation run.
"""

from __future__ import annotations

from gridmap.distributed.engine import CountyRun, analyze_partitioned, cluster, merge
from gridmap.distributed.partitions import county_of, read_counties, write_partitions

__all__ = [
    "CountyRun",
    "analyze_partitioned",
    "cluster",
    "county_of",
    "merge",
    "read_counties",
    "write_partitions",
]
