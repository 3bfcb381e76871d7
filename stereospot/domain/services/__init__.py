"""Use cases: plain functions over the ports (bundled in Deps)."""
