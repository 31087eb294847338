"""Run the dbt project into a throw-away DuckDB file, for the end-to-end tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
ONLINE_RETAIL = SHARED / "data" / "online_retail"
BIN = Path(sys.executable).parent


def dbt(args: list[str], data_dir: Path, database: Path, work_dir: Path, check: bool = True,
        extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run one dbt command on ``data_dir`` into ``database``; output goes under ``work_dir``."""
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(REPO / "profiles"),
        DBT_DUCKDB_PATH=str(database),
        LOYALTY_DATA_DIR=str(data_dir),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    env.update(extra_env or {})
    command = [str(BIN / "dbt"), *args, "--target-path", str(work_dir / "target"),
               "--log-path", str(work_dir / "logs"), "--no-use-colors"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    return result


def build(data_dir: Path, database: Path, work_dir: Path, as_of_date: str, **kwargs) -> subprocess.CompletedProcess:
    """``dbt build`` as of a date."""
    return dbt(["build", "--vars", json.dumps({"as_of_date": as_of_date})], data_dir, database, work_dir, **kwargs)


def query(database: Path, sql: str) -> list[tuple]:
    """Rows of ``sql`` against a built database, read-only."""
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.sql(sql).fetchall()
