"""Benchmarks: one module per workload, sharing `bench.common`."""
