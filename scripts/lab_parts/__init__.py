"""The path-transparency lab behind scripts/lab (see docs/lab.md)."""
