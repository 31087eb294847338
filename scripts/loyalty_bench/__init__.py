"""Benchmark of the Loyalty Segments project (scripts/benchmark.py).

Modules: ``measure`` (wall time and peak RSS of a subprocess), ``floor`` (the hand-written DuckDB
query the dbt figures are compared with), ``peers`` (the same with pandas, lifetimes and PySpark,
run with the peers' venv), ``typed`` (the typed Parquet copy of a generated data set), ``daily``
(one day of new orders and corrections), ``compare`` (mart tables of two databases, a peer's table
against the floor's), ``runner`` (the sequence of steps per size and run), ``report`` (medians,
tables, docs/benchmarks.md and .json) and ``cli`` (the command line).
"""
