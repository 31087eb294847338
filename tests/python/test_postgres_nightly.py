"""The nightly job on PostgreSQL (scripts/nightly.py --target postgres): load, build, audit, and
publish by a schema swap that a reader never sees half of; a second night loads only the new file,
a rewritten file rebuilds its entity, and a failed build leaves the serving schema as it was."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import local_postgres
import publish_postgres
from dbt_project_runner import REPO
from test_engines import engine_env


def nightly_postgres(root: Path, postgres, as_of: str, *options: str) -> subprocess.CompletedProcess:
    env = engine_env("postgres", root, root / "data", postgres, "nightly")
    command = [sys.executable, str(REPO / "scripts" / "nightly.py"), "--target", "postgres", *options, "--",
               "--vars", json.dumps({"as_of_date": as_of}), "--target-path", str(root / "target"),
               "--log-path", str(root / "logs"), "--quiet"]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=900)


def serving_query(postgres, sql: str) -> list[tuple]:
    connection = publish_postgres.connect(dict(postgres.env, PGDATABASE="nightly"))
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


def add_day_of_orders(data: Path, day: str) -> None:
    daily = data / "orders" / "daily"
    daily.mkdir(parents=True, exist_ok=True)
    (daily / f"{day}.csv").write_text(
        "order_id,customer_id,ordered_at,amount,currency,status,channel,discount_amount\n"
        f"n-{day}-1,new-{day},{day} 09:00:00,40.00,GBP,completed,web,\n")


def test_postgres_nightly_publishes_by_schema_swap(postgres, tmp_path: Path) -> None:
    root = tmp_path
    subprocess.run([sys.executable, str(REPO / "scripts" / "generate_data.py"), "--out", str(root / "data"),
                    "--customers", "300", "--seed", "5", "--quiet", "--no-events", "--end-date", "2025-06-30"],
                   check=True)
    local_postgres.create_database(postgres, "nightly", replace=True)
    first = nightly_postgres(root, postgres, "2025-07-01")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "to schema serving" in first.stdout
    published = serving_query(postgres, "select publish_id from serving.publish_log")
    assert len(published) == 1
    # the serving schema holds the built marts, row for row
    for table in ("dim_customers", "fct_kpis_monthly", "fct_quarantined_rows"):
        assert sorted(serving_query(postgres, f"select * from serving.{table}"), key=repr) == \
            sorted(serving_query(postgres, f"select * from marts.{table}"), key=repr)

    # a reader inside a transaction keeps the publish it started on; the swap waits for it and the
    # reader's next transaction sees the new publish whole
    reader = publish_postgres.connect(dict(postgres.env, PGDATABASE="nightly"))
    with reader.cursor() as cursor:
        cursor.execute("select count(*) from serving.dim_customers")
        customers_before = cursor.fetchone()[0]
    add_day_of_orders(root / "data", "2025-07-01")
    outcome = {}
    second = threading.Thread(target=lambda: outcome.update(result=nightly_postgres(root, postgres, "2025-07-02")))
    second.start()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and second.is_alive():
        waiting = serving_query(postgres, "select count(*) from pg_stat_activity where wait_event_type = 'Lock'")[0][0]
        if waiting:
            break
        time.sleep(0.5)
    assert second.is_alive(), "the publish did not wait for the open reader"
    with reader.cursor() as cursor:
        cursor.execute("select count(*) from serving.dim_customers")
        assert cursor.fetchone()[0] == customers_before
    reader.commit()
    second.join(timeout=600)
    result = outcome["result"]
    assert result.returncode == 0, result.stdout + result.stderr
    with reader.cursor() as cursor:
        cursor.execute("select count(*) from serving.dim_customers")
        assert cursor.fetchone()[0] == customers_before + 1
        cursor.execute("select count(*) from serving.publish_log")
        assert cursor.fetchone()[0] == 2
    reader.close()
    # the second night loaded only the new file into the incremental orders (no rebuild logged)
    assert serving_query(postgres, "select count(*) from meta.input_state_log "
                                   "where run_started_at > (select min(published_at) from serving.publish_log)") == [(0,)]

    # a rewritten file rebuilds the orders from all files, as on DuckDB
    daily = root / "data" / "orders" / "daily" / "2025-07-01.csv"
    daily.write_text(daily.read_text().replace("40.00", "45.00"))
    third = nightly_postgres(root, postgres, "2025-07-02")
    assert third.returncode == 0, third.stdout + third.stderr
    reasons = serving_query(postgres, "select model, reason from meta.input_state_log order by run_started_at desc limit 1")
    assert reasons and "rewritten" in reasons[0][1], reasons

    # a build that fails leaves the serving schema as it was
    shutil.rmtree(root / "data" / "orders")
    for leftover in (root / "data").glob("orders.*"):
        leftover.unlink()
    failed = nightly_postgres(root, postgres, "2025-07-03")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "nothing was built or published" in failed.stderr
    assert len(serving_query(postgres, "select publish_id from serving.publish_log")) == 3
