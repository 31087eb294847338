"""The shifted-clock run (`make pytest-shifted`) runs the fast tests again under faketime, with
LOYALTY_SHIFTED_TODAY set to the day it fakes. These tests prove that the faked day really reaches
this process, a Python subprocess (the generator's default end date), dbt (run_started_at and the
default as_of_date) and DuckDB (current_date). Without the variable they are skipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dbt_project_runner import REPO, dbt

SHIFTED = os.environ.get("LOYALTY_SHIFTED_TODAY", "").strip()

pytestmark = pytest.mark.skipif(not SHIFTED, reason="only under `make pytest-shifted` (LOYALTY_SHIFTED_TODAY)")


@pytest.fixture(scope="module")
def shifted_day() -> date:
    return date.fromisoformat(SHIFTED)


def test_this_process_sees_the_shifted_day(shifted_day: date) -> None:
    assert date.today() == shifted_day
    assert datetime.now(UTC).date() == shifted_day
    assert datetime.fromtimestamp(time.time(), UTC).date() == shifted_day
    with duckdb.connect() as connection:
        assert connection.sql("select current_date").fetchone()[0] == shifted_day


def test_the_generator_defaults_to_the_day_before_the_shifted_day(shifted_day: date, tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if name != "LOYALTY_TODAY"}
    subprocess.run([sys.executable, str(REPO / "scripts" / "generate_data.py"), "--out", str(tmp_path / "data"),
                    "--customers", "50", "--no-lines", "--no-events", "--quiet"], check=True, env=env)
    manifest = json.loads((tmp_path / "data" / "_generator.json").read_text())
    assert manifest["parameters"]["end_date"] == (shifted_day - timedelta(days=1)).isoformat()


def test_dbt_and_duckdb_see_the_shifted_day(shifted_day: date, tmp_path: Path) -> None:
    """run_started_at, the default as_of_date (empty var) and DuckDB's current_date in a dbt run."""
    sql = ("select '{{ run_started_at.strftime(\"%Y-%m-%d\") }}' as run_day, '{{ as_of_date_value() }}' as as_of_day, "
           "cast(current_date as varchar) as duckdb_day")
    result = dbt(["show", "--inline", sql, "--output", "json", "--quiet"], tmp_path / "no_data",
                 tmp_path / "show.duckdb", tmp_path)
    [row] = json.loads(result.stdout)["show"]
    assert row == {"run_day": SHIFTED, "as_of_day": SHIFTED, "duckdb_day": shifted_day.isoformat()}
