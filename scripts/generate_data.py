#!/usr/bin/env python3
"""Generate the demo data set of the Loyalty Segments project.

Usage: python scripts/generate_data.py --out data/demo [--customers N | --orders N] [--seed S]
       [--end-date YYYY-MM-DD] [--years Y] [--format parquet|csv] [--uplift P] [--if-stale]
       [--no-lines] [--no-events] [--quiet]

Run with --help for the file layout and exit codes. The logic lives in scripts/loyalty_data/.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loyalty_data.cli import main

if __name__ == "__main__":
    sys.exit(main())
