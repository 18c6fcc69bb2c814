"""Benchmarks; run them as modules (`python -m bench.checkout`), never from the test suite."""
