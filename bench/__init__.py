"""Benchmarks: `python -m bench` runs them all, `python -m bench.<name>` one of them.

Each module measures its subject and a reference side by side in one run and prints ratios:
the machines are shared and noisy, so absolute figures from different runs do not compare.
"""
