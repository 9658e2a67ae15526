"""gridmap's HTTP API (FastAPI): thin over the `gridmap` library."""
