"""Benchmarks run by ``make bench`` (``python -m benchmarks.run``); see ``README.md``."""
