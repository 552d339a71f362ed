"""Benchmarks for hrss_fraud, run with ``python -m bench.runner`` (see bench/README.md)."""
