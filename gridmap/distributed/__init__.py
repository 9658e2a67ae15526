"""The analysis beyond one machine: county partitions as GeoParquet, analysed on dask.distributed.

`partitions.write_partitions(frames, root)` splits the layers by county (first
six digits of the codes); `engine.analyze_partitioned(root, client)` runs the
same pure `gridmap.analysis.analyze` once per county on the cluster, after
settling what crosses county lines by location (`spread`), and a county too
large for one task in parts of whole communities (`parts`); `engine.merge`
puts the results together into one `Analysis`, equal to the single-process
run on the same data. `engine.cluster(scheduler)` connects to a
scheduler or starts a LocalCluster. docs/SCALE.md describes how a province and
the nation run. The modules are imported by name: the engine imports dask,
about a second that commands not using it need not pay.
"""
