"""Tests of the benchmark (scripts/benchmark.py, scripts/loyalty_bench/).

The real-dbt smoke run times the floor and one full build at 20k orders (about half a minute);
the whole sequence of steps (peers, appended day, nightly job, full rebuild, marts comparison,
exit codes) runs against stand-ins for dbt and for the peers' Python that take a second, so that
the tests stay well under a minute. The floor, the typed copy and (with the peers' venv, `make
peers`) pandas and lifetimes are checked against a plain-Python computation of the same RFM
table; the marts comparison, the appended day and the measurement are unit-tested on tiny files.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "benchmark.py"
sys.path.insert(0, str(ROOT / "scripts"))

from loyalty_bench import cli, daily, floor, peers, report, runner, typed
from loyalty_bench.compare import compare_marts, compare_rfm
from loyalty_bench.measure import run_measured

SMOKE_ORDERS = 20_000
END = date(2025, 6, 30)
AS_OF = END + timedelta(days=1)
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
TEXT_DIR = f"orders-{SMOKE_ORDERS}"
TYPED_DIR = f"orders-{SMOKE_ORDERS}-typed"


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
    if "--peers-python" not in args:
        args = ["--skip-peers", *args]
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
    entry = document["sizes"][f"typed-{SMOKE_ORDERS}"]
    assert entry["runs"][0]["error"] is None
    assert entry["variant"] == "typed" and entry["data_dir"].endswith(TYPED_DIR)
    assert not Path(entry["data_dir"]).is_absolute(), entry["data_dir"]
    assert entry["skipped"] == ["peers", "rfm_subgraph", "nightly"]
    assert entry["runs"][0]["steps"]["floor"]["details"]["column_types"] == {
        "customer_id": "VARCHAR", "ordered_at": "TIMESTAMP", "amount": "DECIMAL(18,4)"}
    assert document["machine"]["cores"] >= 1 and document["machine"]["memory_gb"] > 0
    assert (docs.read_bytes() if docs.exists() else None) == before, "docs/benchmarks.md changed"
    assert not (data_root / TEXT_DIR / "orders" / "daily").exists()
    assert not (data_root / TYPED_DIR / "orders" / "daily").exists()
    # where the full build's time went: every model of the project ran, the tests too, and with
    # one dbt thread the parts add up to dbt's own elapsed time
    full = entry["runs"][0]["steps"]["full_build"]
    parts = full["breakdown"]
    assert parts["models"]["count"] == len(list((ROOT / "models").rglob("*.sql")))
    assert parts["data_tests"]["count"] >= 100 and parts["unit_tests"]["count"] >= 20
    summed = sum(parts[k]["seconds"] for k in ("models", "data_tests", "unit_tests", "other"))
    assert summed <= full["dbt_seconds"] + 0.5 and summed >= 0.5 * full["dbt_seconds"]
    assert len(parts["slowest_models"]) == runner.SLOWEST_MODELS
    assert "## Where the time goes" in markdown and "| start and parse s |" in markdown


STUB_DBT = """\
#!{python}
# Stands in for dbt: builds marts.dim_customers from the order files into DBT_DUCKDB_PATH, as of
# LOYALTY_AS_OF_DATE. With STUB_IGNORE_DAILY set, a build without --full-refresh misses the
# appended day (a broken incremental model). Like dbt, it saves its parse in the target folder;
# each call is logged to calls.jsonl beside the working folder: its date, its target folder and
# the saved parse it started from.
import json, os, sys
from pathlib import Path
import duckdb

args = sys.argv[1:]
assert "--vars" not in args, args
as_of = os.environ["LOYALTY_AS_OF_DATE"]
target = Path(args[args.index("--target-path") + 1])
state = target / "partial_parse.msgpack"
found = state.read_text() if state.exists() else None
calls = Path(os.environ["DBT_DUCKDB_PATH"]).parent.parent / "calls.jsonl"
with calls.open("a") as log:
    log.write(json.dumps({{"as_of": as_of, "target": target.parent.name, "found": found}}) + "\\n")
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
state.write_text(f"parsed for {{target.parent.name}}")
"""


def write_stub(path: Path, template: str) -> Path:
    """An executable script from a template that names this Python."""
    path.write_text(template.format(python=sys.executable))
    path.chmod(0o755)
    return path


@pytest.fixture()
def stub_dbt(tmp_path: Path) -> Path:
    return write_stub(tmp_path / "stub-dbt", STUB_DBT)


STUB_PEERS_PYTHON = """\
#!{python}
# Stands in for the peers' Python (python -m loyalty_bench.peers ...): pandas copies the floor's
# table, lifetimes changes the m score of one customer, pyspark fails.
import json, sys
from pathlib import Path
import duckdb

args = sys.argv[1:]
peer = args[args.index("--peer") + 1]
result = Path(args[args.index("--result") + 1])
table = Path(args[args.index("--table") + 1])
if peer == "pyspark":
    sys.exit("java not found")
table.mkdir(parents=True)
floor_db = result.parent.parent / "floor" / "floor.duckdb"
with duckdb.connect(str(floor_db), read_only=True) as connection:
    change = "case when customer_id = (select min(customer_id) from floor_rfm) then 6 - m_score else m_score end"
    m_score = change if peer == "lifetimes" else "m_score"
    connection.execute(
        "copy (select customer_id, recency_days, frequency, monetary, r_score, f_score, "
        f"{{m_score}} as m_score from floor_rfm) to '{{table}}/part-0.parquet' (format parquet)")
    customers = connection.execute("select count(*) from floor_rfm").fetchone()[0]
result.write_text(json.dumps({{"peer": peer, "seconds": 0.25, "customers": customers,
                              "versions": {{peer: "0.0"}}}}))
"""


@pytest.fixture()
def stub_peers(tmp_path: Path) -> Path:
    return write_stub(tmp_path / "stub-peers-python", STUB_PEERS_PYTHON)


def test_full_sequence_with_stub_dbt(
    tmp_path: Path, data_root: Path, stub_dbt: Path, stub_peers: Path
) -> None:
    result = _bench(["--dbt", str(stub_dbt), "--keep-work", "--peers-python", str(stub_peers)],
                    tmp_path, data_root)
    # every project step ran and the marts matched; the failed peer makes the exit code 1
    assert result.returncode == cli.EXIT_STEP_FAILED, result.stdout + result.stderr
    markdown = (tmp_path / "bench.md").read_text()
    header, rows = _table(markdown)
    row = dict(zip(header, rows[0], strict=True))
    assert row["data"] == "typed Parquet"
    for column in report.RESULT_COLUMNS[4:12]:
        assert math.isfinite(_number(row[column])), (column, row[column])
    assert "×" in row["nightly s (× floor)"]
    assert row["identical marts"] == "yes"
    entry = json.loads((tmp_path / "bench.json").read_text())["sizes"][f"typed-{SMOKE_ORDERS}"]
    run = entry["runs"][0]
    assert set(run["steps"]) == set(report.STEPS) - {"pyspark", "incremental"}
    assert run["error"] is None and run["peer_errors"]["pyspark"].startswith("pyspark: exited 1")
    assert run["steps"]["pandas"]["agreement"]["identical"] is True
    lifetimes = run["steps"]["lifetimes"]["agreement"]
    assert lifetimes["identical"] is False and lifetimes["scores_differ"]["m_score"] == 1
    assert lifetimes["scores_differ"]["r_score"] == 0 and lifetimes["same_customers"]
    assert run["steps"]["nightly"]["publish_seconds"] is not None
    assert run["appended"]["new_orders"] > 0 and run["appended"]["corrections"] >= 5
    assert not Path(run["appended"]["file"]).is_absolute(), run["appended"]["file"]
    # the peers' table: the floor, pandas and lifetimes (pyspark failed), the project's steps
    assert "| pandas | 0.25 | 0.25–0.25 |" in markdown
    assert "| lifetimes | 0.25 |" in markdown and "no (its own definitions): m 1 differ" in markdown
    assert "| project: nightly refresh incl. publish |" in markdown
    assert "pyspark: exited 1" in markdown
    # the appended day was typed, used by the nightly job's database, then removed from the data
    work = tmp_path / "work" / f"typed-orders-{SMOKE_ORDERS}" / "run-1"
    with duckdb.connect(str(work / "working.duckdb"), read_only=True) as connection:
        orders = connection.sql("select sum(orders) from marts.dim_customers").fetchone()[0]
    with duckdb.connect(str(work / "full_rebuild.duckdb"), read_only=True) as connection:
        rebuilt = connection.sql("select sum(orders) from marts.dim_customers").fetchone()[0]
    assert orders == rebuilt > 0
    with duckdb.connect(str(work / "publish" / "serving.duckdb"), read_only=True) as connection:
        served = connection.sql("select sum(orders) from marts.dim_customers").fetchone()[0]
        publishes = connection.sql("select count(*) from meta.publish_log").fetchone()[0]
    assert served == orders and publishes == 2  # the full build's publish, then the nightly job's
    assert not (data_root / TYPED_DIR / "orders" / "daily").exists()
    # the date is in the environment, not --vars (the stub refuses --vars); the nightly job starts
    # from the full build's saved parse, every other dbt step parses afresh
    calls = [json.loads(line) for line in (work.parent / "calls.jsonl").read_text().splitlines()]
    as_of = date.fromisoformat(entry["as_of_date"])
    assert calls == [
        {"as_of": as_of.isoformat(), "target": "full_build", "found": None},
        {"as_of": as_of.isoformat(), "target": "rfm_subgraph", "found": None},
        {"as_of": (as_of + timedelta(days=1)).isoformat(), "target": "nightly",
         "found": "parsed for full_build"},
        {"as_of": (as_of + timedelta(days=1)).isoformat(), "target": "full_rebuild", "found": None},
    ]


def test_broken_incremental_exits_with_marts_differ(
    tmp_path: Path, data_root: Path, stub_dbt: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_IGNORE_DAILY", "1")
    result = _bench(["--dbt", str(stub_dbt), "--skip-rfm"], tmp_path, data_root)
    assert result.returncode == cli.EXIT_MARTS_DIFFER, result.stdout + result.stderr
    header, rows = _table((tmp_path / "bench.md").read_text())
    assert dict(zip(header, rows[0], strict=True))["identical marts"] == "no"
    run = json.loads((tmp_path / "bench.json").read_text())["sizes"][f"typed-{SMOKE_ORDERS}"]["runs"][0]
    assert any(line.startswith("dim_customers:") for line in run["mart_differences"])


def test_failed_step_exits_one_and_keeps_the_log(tmp_path: Path, data_root: Path) -> None:
    failing = tmp_path / "failing-dbt"
    failing.write_text("#!/bin/sh\necho 'Compilation Error in model x' >&2\nexit 2\n")
    failing.chmod(0o755)
    result = _bench(["--dbt", str(failing)], tmp_path, data_root)
    assert result.returncode == cli.EXIT_STEP_FAILED
    entry = json.loads((tmp_path / "bench.json").read_text())["sizes"][f"typed-{SMOKE_ORDERS}"]
    assert entry["error"].startswith("full_build: dbt exited 2")
    assert "Compilation Error in model x" in entry["error"]
    assert "floor" in entry["runs"][0]["steps"]


SLEEPING_DBT = """\
#!/bin/sh
# Stands in for dbt: the builds write the marts the publish needs at once, the nightly job's
# build (without unit tests) hangs.
case " $* " in
  *" unit_test "*) ;;
  *) exec "{python}" -c "import duckdb, os; c = duckdb.connect(os.environ['DBT_DUCKDB_PATH']); \\
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
    daily_dir = data_root / TYPED_DIR / "orders" / "daily"
    bench = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--sizes", str(SMOKE_ORDERS), "--runs", "1",
         "--data-root", str(data_root), "--work-dir", str(tmp_path / "work"),
         "--end-date", END.isoformat(), "--output", str(tmp_path / "bench.md"), "--quiet",
         "--dbt", str(stub), "--skip-peers"],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline and bench.poll() is None:
            time.sleep(0.1)
        assert pid_file.exists(), "the nightly step never started"
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
    with pytest.raises(SystemExit):
        parser.parse_args(["--variant", "csv"])
    assert parser.parse_args([]).variant == "typed"
    assert parser.parse_args(["--skip-nightly"]).skip_incremental


def test_command_line_names_no_folder_of_the_machine(tmp_path: Path) -> None:
    shown = cli.command_line(["--sizes", "1M", "--data-root", str(tmp_path / "bench"),
                              f"--output={tmp_path / 'b.md'}", "--project-dir", str(tmp_path),
                              "--json", str(ROOT / "docs" / "b.json"), "--variant", "text"])
    assert shown == ("scripts/benchmark.py --sizes 1M --data-root '<data-root>' "
                     "'--output=<output>' --project-dir '<a copy of the project>' "
                     "--json docs/b.json --variant text")


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
    # an entry written before the variants is text Parquet, and still rendered
    assert "### text Parquet" in markdown and "| text Parquet | 100M (99,847,998) |" in markdown
    assert ("| 100M: full build ≤ 15× the floor within memory_limit 4GB | full build failed after "
            "1317 s, peak 2,600 MB: full_build: Out of Memory Error") in markdown
    assert "| 10M: RFM subgraph faster than lifetimes | not measured | – |" in markdown
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
    assert set(rows) == {"full build", "incremental (dbt only)"}
    assert rows["incremental (dbt only)"][1:6] == ["62.0", "7.00", "36.0 (50)", "16.0 (250)", "2.00 (20)"]
    assert rows["incremental (dbt only)"][8] == "ranked 7.50, facts 5.50, kpis 3.00"
    # fixed cost of the refresh: start 7 s + tests 16 + 2 s = 25 s of the 102 s full build
    assert report.refresh_fixed_cost(entry).startswith(
        "Incremental refresh: start and parse 7.00 s and the tests 18.0 s come to 25.0 s, 25% of")
    # the nightly job: its publish is taken out of the start, and counts in the fixed cost
    for run in runs:
        nightly = dict(run["steps"].pop("incremental"), publish_seconds=4.0)
        nightly["breakdown"] = dict(nightly["breakdown"], unit_tests={"count": 0, "seconds": 0.0})
        run["steps"]["nightly"] = nightly
    entry["summary"] = report.summarise(entry)
    rows = {row[0]: row for row in report.breakdown_rows(entry)}
    assert rows["nightly"][1:3] == ["62.0", "3.00"] and rows["nightly"][7] == "4.00"
    assert report.refresh_fixed_cost(entry).startswith(
        "Nightly refresh: start and parse 3.00 s, the tests 16.0 s and the publish 4.00 s come to "
        "23.0 s, 23% of")


def test_results_of_other_variants_and_sizes_are_kept() -> None:
    previous = {"sizes": {"1000000": {"orders_requested": 1_000_000, "note": "old"},
                          "10000000": {"orders_requested": 10_000_000, "note": "old"},
                          "typed-10000000": {"orders_requested": 10_000_000, "variant": "typed",
                                             "note": "old"}}}
    merged = report.merge_results(previous, {"typed-10000000": {
        "orders_requested": 10_000_000, "variant": "typed", "note": "new"}})
    assert set(merged) == {"text-1000000", "text-10000000", "typed-10000000"}
    assert merged["text-10000000"]["note"] == "old" and merged["typed-10000000"]["note"] == "new"


def _entry(orders: int, seconds: dict[str, float], rss: float = 1500.0, variant: str = "typed",
           identical: bool = True, memory_limit: str = "1400MB") -> dict:
    medians = {step: {"seconds": value, "min_seconds": value * 0.9, "max_seconds": value * 1.1,
                      "peak_rss_mb": 100.0 if step in ("floor", *runner.PEERS) else rss}
               for step, value in seconds.items()}
    return {"orders_requested": orders, "order_rows": orders, "customers": orders // 10,
            "memory_limit": memory_limit, "variant": variant, "runs": [],
            "summary": {"medians": medians, "marts_identical": identical, "complete_runs": 3,
                        "peers_agree": {"pandas": True, "pyspark": True, "lifetimes": False}}}


def test_targets_from_figures() -> None:
    at_10m = {"floor": 20, "pandas": 40, "lifetimes": 90, "pyspark": 60, "full_build": 280,
              "rfm_subgraph": 85, "nightly": 170, "publish": 9, "full_rebuild": 290}
    sizes = {"typed-1000000": _entry(1_000_000, {k: v / 5 for k, v in at_10m.items()}, 900),
             "typed-10000000": _entry(10_000_000, at_10m, 2100),
             "typed-100000000": _entry(100_000_000, {"floor": 200, "full_build": 2900}, 5000,
                                       memory_limit="4GB"),
             "text-10000000": _entry(10_000_000, {"floor": 40, "full_build": 500}, variant="text")}
    targets = {row[0]: row for row in report.target_rows(sizes, "typed")}
    met = {name.split(": ", 1)[-1]: row[2] for name, row in targets.items()}
    assert met["RFM subgraph faster than lifetimes"] == "yes"            # 85 < 90 s
    assert met["RFM subgraph ≤ 2× pandas"] == "**no**"                   # 2.1×
    assert met["full `dbt build` ≤ 15× the floor"] == "yes"              # 14×
    assert met["nightly one-day refresh incl. publish ≤ 8× the floor"] == "**no**"  # 8.5×
    assert met["peak RSS of every project step < 2 GB (memory_limit 1400MB)"] == "**no**"
    assert targets["10M: peak RSS of every project step < 2 GB (memory_limit 1400MB)"][1] == (
        "2,100 MB (full build)")
    assert met["full build ≤ 15× the floor within memory_limit 4GB"] == "yes"  # 14.5×
    assert met["marts after the nightly refresh identical to a full rebuild"] == "yes"
    assert targets["10M: RFM subgraph ≤ 2× pandas"][1] == "2.1×"
    # the text variant has its own targets; what it did not measure is "not measured"
    text = {row[0].split(": ", 1)[-1]: row for row in report.target_rows(sizes, "text")}
    assert text["full `dbt build` ≤ 15× the floor"][1:] == ["12.5×", "yes"]
    assert text["RFM subgraph faster than lifetimes"][1:] == ["not measured", "–"]
    assert text["full build ≤ 15× the floor within memory_limit 4GB"][1:] == ["not measured", "–"]
    # a spill run with a larger memory_limit does not meet the target, whatever its time
    sizes["typed-100000000"]["memory_limit"] = "8GB"
    spill = report.target_rows(sizes, "typed")[5]
    assert spill[2] == "**no**" and "memory_limit 8GB" in spill[1]
    rows = report.scaling_rows(sizes)
    assert rows[0][:4] == ["typed Parquet", "10M / 1M", "10.0×", "5.0×"]


def test_peer_table_ratios() -> None:
    entry = _entry(10_000_000, {"floor": 5, "pandas": 20, "lifetimes": 80, "pyspark": 40,
                                "rfm_subgraph": 50, "full_build": 100, "nightly": 30})
    rows = {row[0]: row for row in report.peer_rows(entry)}
    assert list(rows) == [title for _, title in report.PEER_ROWS]
    assert rows["pandas"][1:] == ["20.0", "18.0–22.0", "100", "4.0×", "1.0×", "yes"]
    assert rows["lifetimes"][4:6] == ["16.0×", "4.0×"] and rows["lifetimes"][6].startswith("no")
    assert rows["project: RFM subgraph (dbt)"][4:] == ["10.0×", "2.5×", "–"]
    assert rows["floor (one DuckDB query)"][5] == "0.2×"
    assert report.memory_bytes("4GB") == 4e9 and report.memory_bytes("1400MiB") == 1400 * 2**20


# --- the floor, the typed copy and the peers against a plain-Python RFM ----------------------

def _text_timestamp(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip()) if text else None
    except ValueError:
        return None


def _text_amount(text: str | None) -> Decimal | None:
    try:
        value = Decimal(text.strip()) if text else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def reference_rfm(data_dir: Path, as_of: date, bins: int = 5) -> dict[str, tuple]:
    """customer_id -> (recency_days, frequency, monetary, r, f, m), from the order files with
    pyarrow and plain Python: the floor's definitions written out without SQL or pandas."""
    last: dict[str, date] = {}
    count: dict[str, int] = defaultdict(int)
    total: dict[str, Decimal] = defaultdict(Decimal)
    for path in sorted((data_dir / "orders").glob("**/*.parquet")):
        for row in pq.read_table(path, columns=["customer_id", "ordered_at", "amount"]).to_pylist():
            customer = (row["customer_id"] or "").strip()
            ordered_at = row["ordered_at"]
            ordered_at = _text_timestamp(ordered_at) if isinstance(ordered_at, str) else ordered_at
            amount = row["amount"]
            amount = _text_amount(amount) if isinstance(amount, str) else amount
            if not customer or ordered_at is None or amount is None or ordered_at.date() > as_of:
                continue
            total[customer] += amount
            if amount >= 0:
                count[customer] += 1
                last[customer] = max(last.get(customer, ordered_at.date()), ordered_at.date())
    measures = {c: ((as_of - last[c]).days, count[c], total[c]) for c in count}

    def scores(values: dict[str, object], descending: bool) -> dict[str, int]:
        ordered = sorted(values.values(), reverse=descending)
        first_rank: dict[object, int] = {}
        for position, value in enumerate(ordered, start=1):
            first_rank.setdefault(value, position)
        return {c: peers.score_from_rank(first_rank[v], len(values), bins) for c, v in values.items()}

    r = scores({c: m[0] for c, m in measures.items()}, descending=True)
    f = scores({c: m[1] for c, m in measures.items()}, descending=False)
    m = scores({c: m[2] for c, m in measures.items()}, descending=False)
    return {c: (*measures[c], r[c], f[c], m[c]) for c in measures}


def _floor_table(data_dir: Path, database: Path) -> dict[str, tuple]:
    figures = floor.run_floor(data_dir, database, AS_OF, "500MB")
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "select customer_id, recency_days, frequency, monetary, r_score, f_score, m_score "
            "from floor_rfm").fetchall()
    assert figures["customers"] == len(rows)
    return {row[0]: tuple(row[1:]) for row in rows}


@pytest.fixture(scope="module")
def typed_dir(data_root: Path) -> Path:
    return typed.make_typed(data_root / TEXT_DIR)


def test_floor_matches_plain_python_on_text_and_typed(
    data_root: Path, typed_dir: Path, tmp_path: Path
) -> None:
    expected = reference_rfm(data_root / TEXT_DIR, AS_OF)
    assert len(expected) > 1000
    assert {score for row in expected.values() for score in row[3:]} == {1, 2, 3, 4, 5}
    text = _floor_table(data_root / TEXT_DIR, tmp_path / "text.duckdb")
    assert text == expected
    typed_floor = _floor_table(typed_dir, tmp_path / "typed.duckdb")
    assert typed_floor == expected == reference_rfm(typed_dir, AS_OF)


def test_typed_copy_parses_the_text_and_is_kept_while_current(
    data_root: Path, typed_dir: Path
) -> None:
    text_dir = data_root / TEXT_DIR
    month = "orders/2025-06.parquet"
    source = pq.read_table(text_dir / month)
    copy = pq.read_table(typed_dir / month)
    assert copy.schema.field("ordered_at").type == pa.timestamp("us")
    assert copy.schema.field("amount").type == pa.decimal128(18, 4)
    assert copy.schema.field("discount_amount").type == pa.decimal128(18, 4)
    assert copy.schema.field("customer_id").type == pa.string()
    assert copy.num_rows == source.num_rows
    nulls = 0
    for before, after in zip(source.to_pylist(), copy.to_pylist(), strict=True):
        assert after["order_id"] == (before["order_id"] or "").strip()
        assert after["ordered_at"] == _text_timestamp(before["ordered_at"])
        assert after["amount"] == _text_amount(before["amount"])
        nulls += after["amount"] is None or after["ordered_at"] is None
    assert nulls > 0, "the month has no bad text to turn into nulls"
    assert (typed_dir / "customers.csv").read_bytes() == (text_dir / "customers.csv").read_bytes()
    # kept while the text set is unchanged; rewritten when its manifest changes
    stamp = (typed_dir / typed.STAMP).stat().st_mtime_ns
    assert typed.make_typed(text_dir) == typed_dir
    assert (typed_dir / typed.STAMP).stat().st_mtime_ns == stamp
    assert typed.is_current(text_dir, typed_dir)
    manifest = text_dir / "_generator.json"
    original = manifest.read_bytes()
    try:
        manifest.write_bytes(original + b"\n")
        assert not typed.is_current(text_dir, typed_dir)
    finally:
        manifest.write_bytes(original)
    assert typed.is_current(text_dir, typed_dir)


def test_typed_appended_day_and_corrections(typed_dir: Path) -> None:
    day = AS_OF
    try:
        appended = daily.append_day(typed_dir, day, seed=7)
        typed.type_appended_file(appended.path)
        table = pq.read_table(appended.path)
        assert table.schema.field("amount").type == pa.decimal128(18, 4)
        assert table.num_rows == appended.new_orders + appended.corrections
        rows = table.to_pylist()[appended.new_orders:]
        originals = {r["order_id"]: r for r in pq.read_table(typed_dir / "orders/2025-06.parquet")
                     .to_pylist()}
        for fix in rows:  # a June order again, 80% of its amount
            assert fix["ordered_at"] == originals[fix["order_id"]]["ordered_at"]
            assert abs(fix["amount"] - Decimal("0.8") * originals[fix["order_id"]]["amount"]) <= Decimal("0.005")
    finally:
        daily.remove_appended(typed_dir)
    assert not (typed_dir / "orders" / "daily").exists()


def test_compare_rfm_finds_each_kind_of_difference(data_root: Path, tmp_path: Path) -> None:
    database = tmp_path / "floor.duckdb"
    floor.run_floor(data_root / TEXT_DIR, database, AS_OF, "500MB")
    with duckdb.connect(str(database), read_only=True) as connection:
        table = connection.execute("select * from floor_rfm order by customer_id").arrow().read_all()
    rows = table.to_pylist()
    same = tmp_path / "same"
    same.mkdir()
    pq.write_table(pa.Table.from_pylist(list(reversed(rows))), same / "part-0.parquet")
    assert compare_rfm(database, same).identical
    changed = [dict(row) for row in rows[1:]]  # one customer missing
    changed[0]["f_score"] = 6 - changed[0]["f_score"] if changed[0]["f_score"] != 3 else 1
    changed[1]["monetary"] += Decimal("0.01")
    changed.append(dict(rows[0], customer_id="NOT-A-CUSTOMER"))
    other = tmp_path / "other.parquet"
    pq.write_table(pa.Table.from_pylist(changed), other)
    result = compare_rfm(database, other)
    assert not result.identical and not result.same_customers
    assert (result.only_floor, result.only_peer) == (1, 1)
    assert result.scores_differ == {"r_score": 0, "f_score": 1, "m_score": 0}
    assert result.measures_differ == {"recency_days": 0, "frequency": 0, "monetary": 1}


def test_score_from_rank_and_order_files(data_root: Path) -> None:
    assert [peers.score_from_rank(rank, 10) for rank in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [peers.score_from_rank(rank, 3) for rank in (1, 2, 3)] == [1, 2, 4]
    files = peers.order_files(data_root / TEXT_DIR)
    assert [f.name for f in files[:2]] == ["2023-07.parquet", "2023-08.parquet"]
    assert len(files) == len(list((data_root / TEXT_DIR / "orders").glob("*.parquet")))


needs_peers = pytest.mark.skipif(not PEERS_PYTHON.is_file(),
                                 reason="no .venv-peers (make peers)")


def _run_peer(peer: str, data_dir: Path, out: Path) -> tuple[dict, Path]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "scripts"))
    table = out / f"{peer}-table"
    subprocess.run([str(PEERS_PYTHON), "-m", "loyalty_bench.peers", "--peer", peer,
                    "--data-dir", str(data_dir), "--as-of", AS_OF.isoformat(),
                    "--result", str(out / f"{peer}.json"), "--table", str(table)],
                   check=True, env=env, capture_output=True, cwd=out)
    return json.loads((out / f"{peer}.json").read_text()), table


@needs_peers
@pytest.mark.parametrize("variant", ["text", "typed"])
def test_pandas_peer_matches_plain_python_and_the_floor(
    variant: str, data_root: Path, typed_dir: Path, tmp_path: Path
) -> None:
    data_dir = typed_dir if variant == "typed" else data_root / TEXT_DIR
    figures, table = _run_peer("pandas", data_dir, tmp_path)
    rows = pq.read_table(table).to_pylist()
    expected = reference_rfm(data_root / TEXT_DIR, AS_OF)
    assert figures["customers"] == len(rows) == len(expected)
    for row in rows:
        recency, frequency, monetary, *scores = expected[row["customer_id"]]
        assert (row["recency_days"], row["frequency"], *scores) == (
            recency, frequency, row["r_score"], row["f_score"], row["m_score"])
        assert row["monetary"] == pytest.approx(float(monetary), abs=5e-5)
    floor.run_floor(data_dir, tmp_path / "floor.duckdb", AS_OF, "500MB")
    assert compare_rfm(tmp_path / "floor.duckdb", table).identical


@needs_peers
def test_lifetimes_peer_runs_its_summary(data_root: Path, typed_dir: Path, tmp_path: Path) -> None:
    figures, table = _run_peer("lifetimes", typed_dir, tmp_path)
    expected = reference_rfm(data_root / TEXT_DIR, AS_OF)
    rows = {row["customer_id"]: row for row in pq.read_table(table).to_pylist()}
    assert set(rows) == set(expected)
    # lifetimes' frequency is repeat purchase days: distinct days with a purchase, minus one
    days: dict[str, set] = defaultdict(set)
    for row in pq.read_table(typed_dir / "orders/2025-06.parquet").to_pylist():
        customer = (row["customer_id"] or "").strip()
        if customer and row["ordered_at"] is not None and row["amount"] is not None \
                and row["amount"] >= 0:
            days[customer].add(row["ordered_at"].date())
    for customer, row in rows.items():
        assert row["recency_days"] == expected[customer][0]
        assert row["r_score"] == expected[customer][3]
        assert row["frequency"] >= len(days.get(customer, ())) - 1
        assert row["frequency"] <= expected[customer][1] - 1
    assert figures["lifetimes"]["customers_without_repeat_day"] == sum(
        1 for row in rows.values() if row["frequency"] == 0) > 0


def test_recorded_paths_keep_no_machine_paths(tmp_path: Path) -> None:
    """docs/benchmarks.json keeps paths relative to the repository (or the data folder), and only
    a name for a path outside it."""
    inside = runner.REPO / "data" / "bench" / "orders-10-typed"
    assert runner.recorded_path(inside) == "data/bench/orders-10-typed"
    data = tmp_path / "orders-10-typed"
    assert runner.recorded_path(data / "orders" / "daily" / "2026-01-01.parquet", data) == (
        "orders/daily/2026-01-01.parquet")
    assert runner.recorded_path(tmp_path / "elsewhere" / "orders-10") == "orders-10"
