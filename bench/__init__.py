"""Benchmarks: `pulumi up`/`preview`/`destroy` against the tutorial run as a plain script."""
