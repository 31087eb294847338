"""Tests of the benchmark (scripts/benchmark.py, scripts/loyalty_bench/).

The real-dbt smoke run times the floor and one full build at 20k orders (about half a minute);
the whole sequence of steps (appended day, incremental refresh, full rebuild, marts comparison,
exit codes) runs against a stand-in dbt executable that builds one mart table in a second, so that
the tests stay well under a minute. The marts comparison, the appended day and the measurement
are unit-tested on tiny files.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "benchmark.py"
sys.path.insert(0, str(ROOT / "scripts"))

from loyalty_bench import cli, daily, report, runner
from loyalty_bench.compare import compare_marts
from loyalty_bench.measure import run_measured

SMOKE_ORDERS = 20_000
END = date(2025, 6, 30)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated once for the module: the benchmark reuses it (--if-stale)."""
    root = tmp_path_factory.mktemp("bench-data")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_data.py"),
         "--out", str(root / f"orders-{SMOKE_ORDERS}"), "--orders", str(SMOKE_ORDERS),
         "--seed", "42", "--end-date", END.isoformat(), "--format", "parquet",
         "--no-lines", "--no-events", "--quiet"],
        check=True,
    )
    return root


def _bench(args: list[str], tmp_path: Path, data_root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", str(SMOKE_ORDERS), "--runs", "1",
         "--data-root", str(data_root), "--work-dir", str(tmp_path / "work"),
         "--end-date", END.isoformat(), "--output", str(tmp_path / "bench.md"), "--quiet", *args],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )


def _table(markdown: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the first markdown table (the results)."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != len(header):
            break
        rows.append(cells)
    return header, rows


def _number(cell: str) -> float:
    return float(cell.split(" ")[0].replace(",", ""))


def test_smoke_run_with_dbt(tmp_path: Path, data_root: Path) -> None:
    docs = ROOT / "docs" / "benchmarks.md"
    before = docs.read_bytes() if docs.exists() else None
    result = _bench(["--skip-rfm", "--skip-incremental"], tmp_path, data_root)
    assert result.returncode == 0, result.stdout + result.stderr
    markdown = (tmp_path / "bench.md").read_text()
    header, rows = _table(markdown)
    assert tuple(header) == report.RESULT_COLUMNS
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    for column in ("floor s", "full build s (× floor)", "floor MB", "full build MB"):
        value = _number(row[column])
        assert math.isfinite(value) and value > 0, (column, row[column])
    assert "×" in row["full build s (× floor)"]
    assert "## Targets" in markdown and "## How to reproduce" in markdown
    document = json.loads((tmp_path / "bench.json").read_text())
    entry = document["sizes"][str(SMOKE_ORDERS)]
    assert entry["runs"][0]["error"] is None
    assert entry["skipped"] == ["rfm_subgraph", "incremental"]
    assert document["machine"]["cores"] >= 1 and document["machine"]["memory_gb"] > 0
    assert (docs.read_bytes() if docs.exists() else None) == before, "docs/benchmarks.md changed"
    assert not (data_root / f"orders-{SMOKE_ORDERS}" / "orders" / "daily").exists()
    # where the full build's time went: every model of the project ran, the tests too, and with
    # one dbt thread the parts add up to dbt's own elapsed time
    full = entry["runs"][0]["steps"]["full_build"]
    parts = full["breakdown"]
    assert parts["models"]["count"] == len(list((ROOT / "models").rglob("*.sql")))
    assert parts["data_tests"]["count"] >= 100 and parts["unit_tests"]["count"] >= 20
    summed = sum(parts[k]["seconds"] for k in ("models", "data_tests", "unit_tests", "other"))
    assert summed <= full["dbt_seconds"] + 0.5 and summed >= 0.5 * full["dbt_seconds"]
    assert len(parts["slowest_models"]) == runner.SLOWEST_MODELS
    assert "## Where the time goes" in markdown and "dbt start and parse s" in markdown


STUB_DBT = """\
#!{python}
# Stands in for dbt: builds marts.dim_customers from the order files into DBT_DUCKDB_PATH.
# With STUB_IGNORE_DAILY set, a build without --full-refresh misses the appended day (a broken
# incremental model).
import json, os, sys
from pathlib import Path
import duckdb

args = sys.argv[1:]
as_of = json.loads(args[args.index("--vars") + 1])["as_of_date"]
target = Path(args[args.index("--target-path") + 1])
data = os.environ["LOYALTY_DATA_DIR"]
broken = os.environ.get("STUB_IGNORE_DAILY") and "--full-refresh" not in args
files = f"{{data}}/orders/*.parquet" if broken else f"{{data}}/orders/**/*.parquet"
with duckdb.connect(os.environ["DBT_DUCKDB_PATH"]) as connection:
    connection.execute("create schema if not exists marts")
    connection.execute(f'''
        create or replace table marts.dim_customers as
        select trim(customer_id) as customer_id, count(*) as orders,
               avg(try_cast(amount as double)) as avg_amount
        from read_parquet('{{files}}')
        where trim(customer_id) <> ''
            and try_cast(ordered_at as timestamp) < date '{{as_of}}' + interval 1 day
        group by 1''')
    # the other marts the nightly job's publish requires
    connection.execute(f"create or replace table marts.fct_kpi_summary as select date '{{as_of}}' as as_of_date")
    connection.execute("create or replace table marts.fct_kpis_monthly as select 1 as month")
    connection.execute("create or replace table marts.fct_input_reconciliation as select 1 as rows_read")
target.mkdir(parents=True, exist_ok=True)
(target / "run_results.json").write_text(json.dumps({{"elapsed_time": 0.01}}))
"""


@pytest.fixture()
def stub_dbt(tmp_path: Path) -> Path:
    path = tmp_path / "stub-dbt"
    path.write_text(STUB_DBT.format(python=sys.executable))
    path.chmod(0o755)
    return path


def test_full_sequence_with_stub_dbt(tmp_path: Path, data_root: Path, stub_dbt: Path) -> None:
    result = _bench(["--dbt", str(stub_dbt), "--keep-work"], tmp_path, data_root)
    assert result.returncode == cli.EXIT_OK, result.stdout + result.stderr
    header, rows = _table((tmp_path / "bench.md").read_text())
    row = dict(zip(header, rows[0], strict=True))
    for column in report.RESULT_COLUMNS[3:11]:
        assert math.isfinite(_number(row[column])), (column, row[column])
    assert "%" in row["incremental s (% of full build)"]
    assert row["identical marts"] == "yes"
    run = json.loads((tmp_path / "bench.json").read_text())["sizes"][str(SMOKE_ORDERS)]["runs"][0]
    assert set(run["steps"]) == set(report.STEPS)
    assert run["appended"]["new_orders"] > 0 and run["appended"]["corrections"] >= 5
    # the appended day was used by the incremental database, then removed from the data
    database = tmp_path / "work" / f"orders-{SMOKE_ORDERS}" / "run-1" / "incremental.duckdb"
    with duckdb.connect(str(database), read_only=True) as connection:
        orders = connection.sql("select sum(orders) from marts.dim_customers").fetchone()[0]
    assert orders > 0
    assert not (data_root / f"orders-{SMOKE_ORDERS}" / "orders" / "daily").exists()


def test_broken_incremental_exits_with_marts_differ(
    tmp_path: Path, data_root: Path, stub_dbt: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_IGNORE_DAILY", "1")
    result = _bench(["--dbt", str(stub_dbt), "--skip-rfm"], tmp_path, data_root)
    assert result.returncode == cli.EXIT_MARTS_DIFFER, result.stdout + result.stderr
    header, rows = _table((tmp_path / "bench.md").read_text())
    assert dict(zip(header, rows[0], strict=True))["identical marts"] == "no"
    run = json.loads((tmp_path / "bench.json").read_text())["sizes"][str(SMOKE_ORDERS)]["runs"][0]
    assert any(line.startswith("dim_customers:") for line in run["mart_differences"])


def test_failed_step_exits_one_and_keeps_the_log(tmp_path: Path, data_root: Path) -> None:
    failing = tmp_path / "failing-dbt"
    failing.write_text("#!/bin/sh\necho 'Compilation Error in model x' >&2\nexit 2\n")
    failing.chmod(0o755)
    result = _bench(["--dbt", str(failing)], tmp_path, data_root)
    assert result.returncode == cli.EXIT_STEP_FAILED
    entry = json.loads((tmp_path / "bench.json").read_text())["sizes"][str(SMOKE_ORDERS)]
    assert entry["error"].startswith("full_build: dbt exited 2")
    assert "Compilation Error in model x" in entry["error"]
    assert "floor" in entry["runs"][0]["steps"]


SLEEPING_DBT = """\
#!/bin/sh
# Stands in for dbt: full-refresh builds write the marts the publish needs at once, the
# incremental refresh hangs.
case " $* " in
  *" --full-refresh "*) exec "{python}" -c "import duckdb, os; c = duckdb.connect(os.environ['DBT_DUCKDB_PATH']); \\
c.execute('create schema if not exists marts'); \\
[c.execute(f'create or replace table marts.{{t}} as select 1 as x') for t in \\
('dim_customers', 'fct_kpis_monthly', 'fct_input_reconciliation')]; \\
c.execute('create or replace table marts.fct_kpi_summary as select current_date as as_of_date')" ;;
esac
echo $$ > "{pid_file}"
exec sleep 120
"""


def test_sigterm_stops_dbt_and_removes_the_appended_day(tmp_path: Path, data_root: Path) -> None:
    pid_file = tmp_path / "dbt.pid"
    stub = tmp_path / "sleeping-dbt"
    stub.write_text(SLEEPING_DBT.format(pid_file=pid_file, python=sys.executable))
    stub.chmod(0o755)
    daily_dir = data_root / f"orders-{SMOKE_ORDERS}" / "orders" / "daily"
    bench = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--sizes", str(SMOKE_ORDERS), "--runs", "1",
         "--data-root", str(data_root), "--work-dir", str(tmp_path / "work"),
         "--end-date", END.isoformat(), "--output", str(tmp_path / "bench.md"), "--quiet",
         "--dbt", str(stub)],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline and bench.poll() is None:
            time.sleep(0.1)
        assert pid_file.exists(), "the incremental step never started"
        assert daily_dir.exists()
        bench.send_signal(signal.SIGTERM)
        assert bench.wait(timeout=30) == cli.EXIT_INTERRUPTED
    finally:
        if bench.poll() is None:
            bench.kill()
    pid = int(pid_file.read_text())
    status = Path(f"/proc/{pid}/status")
    assert not status.exists() or "\tZ" in status.read_text(), "dbt still running"
    assert not daily_dir.exists()
    assert not (tmp_path / "bench.md").exists()


# --- units ----------------------------------------------------------------------------------

def _marts_db(path: Path, rows: list[tuple], extra_table: bool = False) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.dim_customers (customer_id varchar, orders bigint, "
            "share double, revenue decimal(18, 4), last_order date)"
        )
        connection.executemany("insert into marts.dim_customers values (?, ?, ?, ?, ?)", rows)
        connection.execute("create table marts.fct_kpi_summary as select 1 as customers")
        if extra_table:
            connection.execute("create table marts.fct_extra as select 1 as x")
    return path


ROWS = [
    ("C1", 3, 0.1 + 0.2, 10.5, date(2025, 1, 1)),
    ("C2", 1, 1 / 3, -2.25, None),
    ("C3", 1, None, 0, date(2025, 2, 1)),
]


def test_compare_identical_and_float_noise(tmp_path: Path) -> None:
    left = _marts_db(tmp_path / "a.duckdb", ROWS)
    noisy = [(c, o, s * (1 + 1e-15) if s is not None else None, r, d) for c, o, s, r, d in ROWS]
    right = _marts_db(tmp_path / "b.duckdb", list(reversed(noisy)))
    result = compare_marts(left, right)
    assert result.identical, result.differences()
    assert [t.name for t in result.tables] == ["dim_customers", "fct_kpi_summary"]


@pytest.mark.parametrize(
    ("rows", "extra_table", "expected"),
    [
        ([ROWS[0], ROWS[1], ("C3", 2, None, 0, date(2025, 2, 1))], False,
         "dim_customers: rows 3 vs 3, 1 only in the first, 1 only in the second"),
        ([ROWS[0], ROWS[1], ("C3", 1, None, 0.0001, date(2025, 2, 1))], False,
         "dim_customers: rows 3 vs 3, 1 only in the first, 1 only in the second"),
        ([*ROWS, ROWS[2]], False, "dim_customers: rows 3 vs 4, 0 only in the first, 1 only in the second"),
        (ROWS[:2], False, "dim_customers: rows 3 vs 2, 1 only in the first, 0 only in the second"),
        ([ROWS[0], ROWS[1], ("C3", 1, 0.5, 0, date(2025, 2, 1))], False,
         "dim_customers: rows 3 vs 3, 1 only in the first, 1 only in the second"),
        (ROWS, True, "fct_extra: missing in the first"),
    ],
)
def test_compare_detects_an_injected_difference(
    tmp_path: Path, rows: list[tuple], extra_table: bool, expected: str
) -> None:
    left = _marts_db(tmp_path / "a.duckdb", ROWS)
    right = _marts_db(tmp_path / "b.duckdb", rows, extra_table=extra_table)
    result = compare_marts(left, right)
    assert not result.identical
    assert result.differences() == [expected]


def test_compare_detects_changed_column_type(tmp_path: Path) -> None:
    left = _marts_db(tmp_path / "a.duckdb", ROWS)
    right = _marts_db(tmp_path / "b.duckdb", ROWS)
    with duckdb.connect(str(right)) as connection:
        connection.execute("alter table marts.fct_kpi_summary alter customers type varchar")
    assert compare_marts(left, right).differences() == ["fct_kpi_summary: columns or types differ"]


def test_append_day_writes_new_orders_and_corrections(data_root: Path) -> None:
    data_dir = data_root / f"orders-{SMOKE_ORDERS}"
    day = date(2025, 7, 1)
    try:
        appended = daily.append_day(data_dir, day, seed=42)
        table = pq.read_table(appended.path)
        assert appended.path == data_dir / "orders" / "daily" / "2025-07-01.parquet"
        assert table.column_names == list(daily.ORDER_COLUMNS)
        assert all(str(field.type) == "string" for field in table.schema)
        assert table.num_rows == appended.new_orders + appended.corrections
        assert appended.new_orders == daily.default_new_orders(data_dir) > 0
        assert appended.corrections == 5
        rows = table.to_pylist()
        new, fixes = rows[: appended.new_orders], rows[appended.new_orders :]
        assert all(r["ordered_at"].startswith("2025-07-01 ") for r in new)
        assert len({r["order_id"] for r in new}) == len(new)
        with duckdb.connect() as connection:
            customers = {r[0] for r in connection.sql(
                f"select customer_id from read_csv('{data_dir}/customers.csv', all_varchar=true)"
            ).fetchall()}
            originals = dict(connection.sql(
                f"select order_id, amount from read_parquet('{data_dir}/orders/2025-06.parquet')"
            ).fetchall())
        assert {r["customer_id"] for r in new} <= customers
        for fix in fixes:  # same order id as a June order, 80% of its amount
            assert fix["ordered_at"] < "2025-07-01"
            assert float(fix["amount"]) == pytest.approx(0.8 * float(originals[fix["order_id"]]),
                                                         abs=0.006)
        assert daily.append_day(data_dir, day, seed=42).path.read_bytes() == appended.path.read_bytes()
    finally:
        daily.remove_appended(data_dir)
    assert not (data_dir / "orders" / "daily").exists()


@pytest.mark.parametrize("gnu_time", [Path("/usr/bin/time"), None])
def test_run_measured_reports_peak_memory_and_exit_code(tmp_path: Path, gnu_time: Path | None) -> None:
    if gnu_time is not None and not gnu_time.is_file():
        pytest.skip("no /usr/bin/time")
    script = "import sys; block = bytearray(200 * 2**20); block[::4096] = b'x' * len(block[::4096]); sys.exit(3)"
    measured = run_measured([sys.executable, "-c", script], log_path=tmp_path / "x.log",
                            gnu_time=gnu_time)
    assert measured.returncode == 3 and not measured.ok
    assert measured.peak_rss_mb is not None and 200 <= measured.peak_rss_mb < 600
    assert measured.seconds > 0


def test_size_arguments() -> None:
    assert cli.parse_sizes("1M,10m,20k,1_000_000") == [20_000, 1_000_000, 10_000_000]
    assert cli.parse_size("100000000") == 100_000_000
    with pytest.raises(cli.argparse.ArgumentTypeError):
        cli.parse_size("ten")
    parser = cli.build_parser()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--memory-limit", "lots"])
    assert exit_info.value.code == cli.EXIT_USAGE


OOM_LOG = """full_build: dbt exited 1; log /tmp/x/dbt-output.log
09:42:25    compiled code at /tmp/x/target/compiled/p/models/int/int_customer_preferences.sql
09:42:25  Failure in model int_customer_days_aggregated (models/int_customer_days_aggregated.sql)
09:42:25    Runtime Error in model int_customer_days_aggregated (models/int_customer_days_aggregated.sql)
  Out of Memory Error: could not allocate block of size 256.0 KiB (1.8 GiB/1.8 GiB used)
09:42:25  Done. PASS=159 WARN=0 ERROR=2 SKIP=170 NO-OP=0 TOTAL=331"""


def test_error_summary_names_the_step_message_and_models() -> None:
    assert report.error_summary(OOM_LOG) == (
        "full_build: Out of Memory Error: could not allocate block of size 256.0 KiB "
        "(1.8 GiB/1.8 GiB used) (in int_customer_preferences, int_customer_days_aggregated)"
    )
    assert report.error_summary("floor: exited 1; log f\nno details") == "floor: exited 1; log f"


def test_render_only_rewrites_the_markdown_from_the_json(tmp_path: Path) -> None:
    entry = {"orders_requested": 100_000_000, "order_rows": 99_847_998, "customers": 10_000_000,
             "memory_limit": "2GB", "error": OOM_LOG,
             "runs": [{"steps": {"floor": {"seconds": 107.0, "peak_rss_mb": 2079.0}},
                       "error": OOM_LOG, "load_average": [2.0, 2.1],
                       "failed_step": {"step": "full_build", "seconds": 1317.0,
                                       "peak_rss_mb": 2600.0}}]}
    entry["summary"] = report.summarise(entry)
    document = {"written_at": "2026-01-01 00:00 UTC", "command": "scripts/benchmark.py",
                "machine": report.machine_info("2GB"), "sizes": {"100000000": entry}}
    (tmp_path / "b.json").write_text(json.dumps(document))
    assert cli.main(["--render-only", "--output", str(tmp_path / "b.md")]) == cli.EXIT_OK
    markdown = (tmp_path / "b.md").read_text()
    assert ("| 100M orders build to the end within the memory limit | full build failed after "
            "1317 s, peak 2,600 MB: full_build: Out of Memory Error") in markdown
    assert cli.main(["--render-only", "--output", str(tmp_path / "none.md")]) == cli.EXIT_STEP_FAILED


def test_dbt_breakdown_sums_each_kind_of_node() -> None:
    results = {"elapsed_time": 9.0, "results": [
        {"unique_id": "model.p.a", "execution_time": 2.0},
        {"unique_id": "model.p.b", "execution_time": 3.5},
        {"unique_id": "model.p.c", "execution_time": 0.25},
        {"unique_id": "test.p.unique_a_id.123", "execution_time": 1.0},
        {"unique_id": "test.p.assert_x", "execution_time": 0.5},
        {"unique_id": "unit_test.p.a.case", "execution_time": 0.75},
        {"unique_id": "operation.p.p-on-run-start-0", "execution_time": 0.5},
        {"unique_id": "model.p.d", "execution_time": None},
    ]}
    parts = runner.dbt_breakdown(results)
    assert parts["models"] == {"count": 4, "seconds": 5.75}
    assert parts["data_tests"] == {"count": 2, "seconds": 1.5}
    assert parts["unit_tests"] == {"count": 1, "seconds": 0.75}
    assert parts["other"] == {"count": 1, "seconds": 0.5}
    assert parts["slowest_models"] == [["b", 3.5], ["a", 2.0], ["c", 0.25], ["d", 0.0]]
    assert runner.dbt_breakdown(None) is None and runner.dbt_breakdown({"results": "x"}) is None


def test_where_the_time_goes_from_the_runs() -> None:
    def step(seconds: float, dbt_seconds: float, models: float, tests: float, slowest: list) -> dict:
        return {"seconds": seconds, "peak_rss_mb": 1.0, "dbt_seconds": dbt_seconds,
                "breakdown": {"models": {"count": 50, "seconds": models},
                              "data_tests": {"count": 250, "seconds": tests},
                              "unit_tests": {"count": 20, "seconds": 2.0},
                              "other": {"count": 1, "seconds": 0.5},
                              "slowest_models": slowest}}

    runs = [{"steps": {"full_build": step(100.0, 92.0, 70.0, 19.5, [["base", 20.0], ["facts", 6.0]]),
                       "incremental": step(60.0, 53.0, 35.0, 15.5, [["ranked", 7.0], ["facts", 5.0]])}},
            {"steps": {"full_build": step(104.0, 95.0, 74.0, 18.5, [["base", 24.0], ["facts", 4.0]]),
                       "incremental": step(64.0, 56.0, 37.0, 16.5, [["ranked", 8.0], ["kpis", 3.0]])}},
            {"steps": {"full_build": step(102.0, 94.0, 72.0, 19.0, [["base", 22.0], ["facts", 5.0]]),
                       "incremental": step(62.0, 55.0, 36.0, 16.0, [["ranked", 7.5], ["facts", 6.0]])}}]
    entry = {"orders_requested": 10_000_000, "runs": runs}
    entry["summary"] = report.summarise(entry)
    full = report.breakdown_medians(entry, "full_build")
    assert full["wall"] == 102.0 and full["startup"] == 8.0 and full["models"]["seconds"] == 72.0
    assert full["slowest_models"] == [(22.0, "base"), (5.0, "facts")]
    rows = {row[0]: row for row in report.breakdown_rows(entry)}
    assert set(rows) == {"full build", "incremental"}
    assert rows["incremental"][1:6] == ["62.0", "7.00", "36.0 (50)", "16.0 (250)", "2.00 (20)"]
    assert rows["incremental"][7] == "ranked 7.50, facts 5.50, kpis 3.00"
    # fixed cost of the refresh: start 7 s + tests 16 + 2 s = 25 s of the 102 s full build
    assert report.refresh_fixed_cost(entry).startswith(
        "Incremental refresh: dbt start and parse 7.00 s and the tests 18.0 s come to 25.0 s, 25% of")


def test_results_of_other_sizes_are_kept() -> None:
    previous = {"sizes": {"1000000": {"orders_requested": 1_000_000, "note": "old"},
                          "10000000": {"orders_requested": 10_000_000, "note": "old"}}}
    merged = report.merge_results(previous, {"10000000": {"orders_requested": 10_000_000,
                                                          "note": "new"}})
    assert merged["1000000"]["note"] == "old" and merged["10000000"]["note"] == "new"


def test_targets_from_figures() -> None:
    def entry(orders: int, floor: float, full: float, rfm: float, incremental: float,
              rss: float) -> dict:
        medians = {"floor": {"seconds": floor, "peak_rss_mb": 100.0},
                   "full_build": {"seconds": full, "peak_rss_mb": rss},
                   "rfm_subgraph": {"seconds": rfm, "peak_rss_mb": rss},
                   "incremental": {"seconds": incremental, "peak_rss_mb": rss}}
        return {"orders_requested": orders, "order_rows": orders, "customers": orders // 10,
                "memory_limit": "2GB", "runs": [],
                "summary": {"medians": medians, "marts_identical": True, "complete_runs": 3}}

    sizes = {"1000000": entry(1_000_000, 2, 15, 3, 1, 900),
             "10000000": entry(10_000_000, 20, 180, 50, 10, 1500)}
    targets = {row[0]: row for row in report.target_rows(sizes)}
    met = {name.split(": ", 1)[-1]: row[2] for name, row in targets.items()}
    assert met["full `dbt build` ≤ 10× the floor"] == "yes"          # 9×
    assert met["RFM subgraph ≤ 2× the floor"] == "**no**"            # 2.5×
    assert met["one-day incremental refresh ≤ 10% of the full build"] == "yes"
    assert met["time grows ≤ 10×"] == "**no**"                        # RFM 16.7×
    assert report.fmt_share(10 / 180) == "6%"
    rows = report.scaling_rows(sizes)
    assert rows[0][:3] == ["10M / 1M", "10.0×", "10.0×"]
