"""`envdash snapshot ...`."""
