"""Text templates shipped inside evidence bundles (kept as Python constants so they install with the code)."""
