"""The nightly job (scripts/nightly.py): build into the working database, audit, publish to the serving
one. BI readers polling during a refresh never fail and never see a mix of two publishes; a failed
build or a held working database leaves the serving database as it was; kill -9 at random moments
never leaves it unreadable or mixed, and the next run recovers to the marts of a clean build."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from dbt_project_runner import REPO, dbt
from serving_reader import read_once
from test_incremental import compare_schemas

FIRST_DAY = "2025-07-01"
NEXT_DAY = "2025-07-02"
READER = Path(__file__).with_name("serving_reader.py")
READERS = 4
MIN_READS = 1000
KILLS_EACH = 6


def start_nightly(root: Path, as_of_date: str, *options: str, dbt_args: tuple[str, ...] = ()) -> subprocess.Popen:
    """scripts/nightly.py on root/data into root/working.duckdb and root/serving.duckdb, in a
    process group of its own (so that a kill reaches dbt too)."""
    env = dict(os.environ, LOYALTY_DATA_DIR=str(root / "data"), DBT_PROFILES_DIR=str(REPO / "profiles"),
               DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    env.pop("DBT_DUCKDB_PATH", None)
    command = [sys.executable, str(REPO / "scripts" / "nightly.py"), "--working", str(root / "working.duckdb"),
               "--serving", str(root / "serving.duckdb"), *options, "--",
               "--vars", json.dumps({"as_of_date": as_of_date}), "--target-path", str(root / "target"),
               "--log-path", str(root / "logs"), "--quiet", *dbt_args]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def nightly(root: Path, as_of_date: str, *options: str, dbt_args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    process = start_nightly(root, as_of_date, *options, dbt_args=dbt_args)
    stdout, stderr = process.communicate(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def publish_ids(serving: Path) -> list[str]:
    with duckdb.connect(str(serving), read_only=True) as connection:
        return [row[0] for row in connection.execute("select publish_id from meta.publish_log order by published_at").fetchall()]


def add_daily_orders(data: Path, day: str, name: str = "new") -> None:
    """A day of orders with a customer never seen before, so that the marts of the next publish
    differ from the last one in their row counts."""
    daily = data / "orders" / "daily"
    daily.mkdir(parents=True, exist_ok=True)
    (daily / f"{day}-{name}.csv").write_text(
        "order_id,customer_id,ordered_at,amount,currency,status,channel,discount_amount\n"
        f"{name}-1,{name}-customer,{day} 09:00:00,40.00,GBP,completed,web,\n"
        f"{name}-2,{name}-customer,{day} 10:00:00,15.50,,,app,\n")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated data, built and published once as of FIRST_DAY; tests copy it."""
    root = tmp_path_factory.mktemp("nightly")
    subprocess.run([sys.executable, str(REPO / "scripts" / "generate_data.py"), "--out", str(root / "data"),
                    "--customers", "300", "--seed", "5", "--quiet", "--no-events", "--end-date", "2025-06-30"],
                   check=True)
    result = nightly(root, FIRST_DAY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nightly: published" in result.stdout
    return root


def copy_of(published: Path, tmp_path: Path) -> Path:
    root = tmp_path / "job"
    shutil.copytree(published, root, ignore=shutil.ignore_patterns("logs"))
    return root


def test_publish_copies_the_marts_with_a_log(published: Path) -> None:
    assert compare_schemas(published / "working.duckdb", published / "serving.duckdb", "marts") == {}
    with duckdb.connect(str(published / "serving.duckdb"), read_only=True) as connection:
        [(publish_id, as_of_date, tables_count)] = connection.execute(
            "select publish_id, cast(as_of_date as varchar), tables_count from meta.publish_log").fetchall()
        listed = dict(connection.execute("select table_name, row_count from meta.published_tables").fetchall())
        schemas = {row[0] for row in connection.execute("select distinct schema_name from duckdb_tables()").fetchall()}
    with duckdb.connect(str(published / "working.duckdb"), read_only=True) as connection:
        marts = {row[0]: connection.execute(f"select count(*) from marts.{row[0]}").fetchone()[0]
                 for row in connection.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()}
    assert as_of_date == FIRST_DAY and tables_count == len(marts) and listed == marts
    assert schemas == {"marts", "meta"}  # staging and intermediate tables stay in the working database
    assert read_once(published / "serving.duckdb") == (publish_id, True)


def test_published_marts_carry_the_model_descriptions(published: Path) -> None:
    """BI tools read descriptions from the serving database: every mart and every column there has
    the description of dbt's manifest (persist_docs writes it, the publish copies it)."""
    manifest = json.loads((published / "target" / "manifest.json").read_text())
    expected = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts":
            expected[(node["name"], None)] = node["description"].strip()
            for column in node["columns"].values():
                expected[(node["name"], column["name"])] = column["description"].strip()
    with duckdb.connect(str(published / "serving.duckdb"), read_only=True) as connection:
        found = {(table, None): comment for table, comment in connection.execute(
            "select table_name, comment from duckdb_tables() where schema_name = 'marts'").fetchall()}
        found |= {(table, column): comment for table, column, comment in connection.execute(
            "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'").fetchall()}
    assert len(expected) > 200 and all(expected.values())
    assert {key: (comment or "").strip() for key, comment in found.items()} == expected


def reads_logged(logs: list[Path]) -> list[tuple[float, str, str]]:
    """(start, publish id, outcome) of every read the readers have logged so far."""
    reads = []
    for log in logs:
        for line in log.read_text().splitlines() if log.exists() else []:
            started, publish_id, outcome = line.split(" ", 2)
            reads.append((float(started), publish_id, outcome))
    return reads


def test_readers_during_a_refresh_see_whole_publishes(published: Path, tmp_path: Path) -> None:
    """Readers poll the serving database while refreshes run, until at least MIN_READS reads began
    during a refresh (one refresh, or more on a slow machine): none fails, none sees a mix."""
    root = copy_of(published, tmp_path)
    [first] = publish_ids(root / "serving.duckdb")
    stop = tmp_path / "stop"
    logs = [tmp_path / f"reader{index}.log" for index in range(READERS)]
    readers = [subprocess.Popen([sys.executable, str(READER), str(root / "serving.duckdb"), str(stop), str(log)])
               for log in logs]
    windows = []
    try:
        while len(windows) < 4:
            add_daily_orders(root / "data", "2025-07-01", name=f"r{len(windows)}")
            started = time.time()
            result = nightly(root, NEXT_DAY)
            windows.append((started, time.time()))
            assert result.returncode == 0, result.stdout + result.stderr
            during = [read for read in reads_logged(logs) if any(a <= read[0] <= b for a, b in windows)]
            if len(during) >= MIN_READS:
                break
        time.sleep(1)
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(timeout=60)
    reads = reads_logged(logs)
    during = [read for read in reads if any(a <= read[0] <= b for a, b in windows)]
    errors = [read for read in reads if read[2].startswith("error")]
    assert errors == [], errors[:3]
    assert {outcome for _, _, outcome in reads} == {"whole"}
    published_ids = publish_ids(root / "serving.duckdb")
    assert published_ids[0] == first and len(published_ids) == len(windows) + 1
    assert {publish_id for _, publish_id, _ in reads} == set(published_ids)  # every publish was read
    assert len(during) >= MIN_READS, len(during)
    with duckdb.connect(str(root / "serving.duckdb"), read_only=True) as connection:
        assert connection.execute("select count(*) from marts.dim_customers where customer_id = 'r0-customer'"
                                  ).fetchone()[0] == 1
    print(f"reads during {len(windows)} refresh(es) ({sum(b - a for a, b in windows):.0f} s): {len(during)}, "
          f"in all {len(reads)}, errors 0, mixed 0, publishes read {len(published_ids)}")


def test_failed_build_leaves_serving_untouched_and_recovers(published: Path, tmp_path: Path) -> None:
    root = copy_of(published, tmp_path)
    [first] = publish_ids(root / "serving.duckdb")
    before = read_once(root / "serving.duckdb")
    bad = root / "data" / "orders" / "daily" / "bad.csv"
    bad.parent.mkdir(parents=True)
    rows = "".join(f"bad-{index},c{index},2025-06-30 10:00:00,not-a-number,GBP,,,\n" for index in range(400))
    bad.write_text("order_id,customer_id,ordered_at,amount,currency,status,channel,discount_amount\n" + rows)
    result = nightly(root, FIRST_DAY)
    assert result.returncode == 1
    assert "Quality gate" in result.stdout + result.stderr
    assert f"nothing was published: {root / 'serving.duckdb'} still holds publish {first}" in result.stderr
    assert publish_ids(root / "serving.duckdb") == [first] and read_once(root / "serving.duckdb") == before

    bad.unlink()  # the bad file removed, the next run rebuilds the orders without it
    result = nightly(root, FIRST_DAY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rebuilt base_shop__orders_checked from all its files: orders input changed: " \
           "orders/daily/bad.csv removed or renamed" in result.stdout
    assert compare_schemas(root / "serving.duckdb", published / "serving.duckdb", "marts") == {}


def test_a_process_holding_the_working_database_stops_the_job_in_one_line(published: Path, tmp_path: Path) -> None:
    root = copy_of(published, tmp_path)
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(120)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(root / "working.duckdb")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        result = nightly(root, FIRST_DAY)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"(PID {holder.pid})" in lines[0] and "working database" in lines[0], result.stderr
    assert "serving database" in lines[0]


def test_kill_9_at_random_moments(published: Path, tmp_path: Path) -> None:
    """Kills during the build and during the publish: after each, the serving database opens and
    holds one whole publish, the last one that finished; the next run ends with the marts of a clean
    build."""
    root = copy_of(published, tmp_path)
    add_daily_orders(root / "data", "2025-07-01")
    chooser = random.Random(20261201)
    started = time.monotonic()
    finished = nightly(root, NEXT_DAY, dbt_args=("--exclude-resource-type", "test"))
    build_seconds = time.monotonic() - started
    assert finished.returncode == 0, finished.stderr
    started = time.monotonic()
    assert nightly(root, NEXT_DAY, "--publish-only").returncode == 0
    publish_seconds = time.monotonic() - started
    good = publish_ids(root / "serving.duckdb")[-1]
    kills = {"build": 0, "publish": 0}
    for attempt in range(40):
        if min(kills.values()) >= KILLS_EACH:
            break
        publish_only = kills["publish"] < kills["build"]
        add_daily_orders(root / "data", "2025-07-01", name=f"k{attempt}")
        process = start_nightly(root, NEXT_DAY, *(["--publish-only"] if publish_only else []),
                                dbt_args=("--exclude-resource-type", "test"))
        time.sleep(chooser.uniform(0.05, publish_seconds) if publish_only else chooser.uniform(0.5, build_seconds))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            kills["publish" if publish_only else "build"] += 1
        process.wait()
        seen, whole = read_once(root / "serving.duckdb")
        assert whole, attempt
        # the last good publish, or the one this job renamed into place just before the kill landed
        history = publish_ids(root / "serving.duckdb")
        assert seen == history[-1] and (seen == good or history[-2] == good), (attempt, process.returncode)
        assert process.returncode in (0, -signal.SIGKILL), (attempt, process.returncode)
        good = seen
    assert min(kills.values()) >= KILLS_EACH, kills
    result = nightly(root, NEXT_DAY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not list(root.glob(".serving.duckdb.publishing-*"))

    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copytree(root / "data", clean / "data")
    assert nightly(clean, NEXT_DAY).returncode == 0
    assert compare_schemas(root / "serving.duckdb", clean / "serving.duckdb", "marts") == {}
    print(f"kills survived: {kills['build']} during the build, {kills['publish']} during the publish")


def test_a_date_in_the_environment_keeps_the_saved_parse(published: Path, tmp_path: Path) -> None:
    """A scheduled job names its date in LOYALTY_AS_OF_DATE: a new date each night, and dbt parses
    nothing again (a new date in --vars makes it parse the whole project). A var wins over it, and a
    malformed value stops the run naming the variable."""
    work = tmp_path / "work"
    log = work / "logs" / "dbt.log"

    def compile_as_of(day: str, *args: str, check: bool = True) -> tuple[subprocess.CompletedProcess, list[str], str]:
        log.unlink(missing_ok=True)
        result = dbt(["compile", "-s", "fct_kpi_summary", *args], published / "data", tmp_path / "compile.duckdb",
                     work, check=check, extra_env={"LOYALTY_AS_OF_DATE": day})
        compiled = work / "target" / "compiled" / "loyalty_segments" / "models" / "marts" / "kpis" / "fct_kpi_summary.sql"
        dates = sorted(set(re.findall(r"cast\('(\d{4}-\d{2}-\d{2})' as date\)", compiled.read_text()))) if check else []
        return result, dates, log.read_text()

    _, dates, first = compile_as_of(FIRST_DAY)
    assert dates == [FIRST_DAY] and "saved manifest not found" in first
    _, dates, second = compile_as_of(NEXT_DAY)
    assert dates == [NEXT_DAY]
    assert "Partial parsing enabled, no changes found" in second and "Unable to do partial parsing" not in second
    _, dates, _ = compile_as_of(NEXT_DAY, "--vars", json.dumps({"as_of_date": "2025-06-15"}))
    assert dates == ["2025-06-15"]
    failed, _, _ = compile_as_of("yesterday", check=False)
    assert failed.returncode != 0
    assert "env LOYALTY_AS_OF_DATE must be YYYY-MM-DD, got 'yesterday'" in failed.stdout
