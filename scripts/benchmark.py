#!/usr/bin/env python3
"""Benchmark the Loyalty Segments project against a hand-written DuckDB query and its peers.

Usage: python scripts/benchmark.py [--sizes 1000000,10000000] [--runs 3] [--variant typed|text]
       [--memory-limit 1400MB] [--output docs/benchmarks.md] [--skip-peers] [--skip-rfm]
       [--skip-incremental] [--peers-python .venv-peers/bin/python] [--with-lines-events] ...

The peers (pandas, lifetimes, PySpark) run with the Python of `make peers` (.venv-peers).

Run with --help for the steps, options and exit codes. The logic lives in scripts/loyalty_bench/.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loyalty_bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
