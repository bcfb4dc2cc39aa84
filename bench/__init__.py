"""Benchmarks, run by hand from the repository root (python -m bench.NAME); each prints its
figures and PASS or FAIL."""
