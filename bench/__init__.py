"""Benchmarks: run by hand (python bench/NAME.py); each prints its figures and PASS/FAIL."""
