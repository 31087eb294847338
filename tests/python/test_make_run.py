"""`make run` works on any day, any number of times in a row, and after a build on another folder,
in one checkout: the demo is regenerated under the same file names each day and the working
database follows it. The days are set here with faketime; the databases and the demo live in a
temporary folder (the Makefile takes their paths from the environment)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dbt_project_runner import REPO
from test_incremental import compare_schemas

FIRST_DAY = "2027-03-14"
NEXT_DAY = "2027-03-15"


def make(target: str, day: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = ["faketime", f"{day} 09:00:00", "make", "--no-print-directory", "-C", str(REPO), target]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=900)


def test_make_run_on_consecutive_days_twice_and_after_another_folder(tmp_path: Path) -> None:
    assert shutil.which("faketime"), "faketime is missing: `make test` installs it (Debian package faketime)"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MAKE", "MFLAGS")) and key != "LOYALTY_TODAY"}
    env.update(LOYALTY_DATA_DIR=str(tmp_path / "demo"), DBT_DUCKDB_PATH=str(tmp_path / "work" / "loyalty.duckdb"),
               LOYALTY_SERVING_PATH=str(tmp_path / "serving.duckdb"))
    runs = []
    for day in (FIRST_DAY, FIRST_DAY, NEXT_DAY):
        result = make("run", day, env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert f"Loyalty Segments as of {day}:" in result.stdout
        runs.append(result.stdout)
    assert "rebuilt" not in runs[1]  # the same day again: nothing changed, nothing rebuilt
    assert "orders input changed" in runs[2] and "rewritten (content differs)" in runs[2]  # the new day's demo

    other = tmp_path / "other"
    subprocess.run([sys.executable, str(REPO / "scripts" / "generate_data.py"), "--out", str(other),
                    "--customers", "300", "--seed", "3", "--quiet", "--no-events", "--end-date", "2027-03-01"],
                   check=True)
    result = make("build", NEXT_DAY, {**env, "LOYALTY_DATA_DIR": str(other)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    result = make("run", NEXT_DAY, env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "orders input changed" in result.stdout  # the demo again, after the other folder

    clean = {**env, "DBT_DUCKDB_PATH": str(tmp_path / "clean" / "loyalty.duckdb"),
             "LOYALTY_SERVING_PATH": str(tmp_path / "clean.duckdb")}
    assert make("build", NEXT_DAY, clean).returncode == 0
    assert compare_schemas(tmp_path / "serving.duckdb", tmp_path / "clean.duckdb", "marts") == {}
