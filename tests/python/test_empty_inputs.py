"""Nothing is not success: ids starting with '#' are rows, not comments; a build that stages no
order, or ends with no customer, stops with the files and the likely cause; the summary script
prints a message instead of a traceback on empty or unusable databases."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dbt_project_runner import REPO, dbt, query

AS_OF = "2024-06-30"
HEADER = "order_id,customer_id,ordered_at,amount\n"
# Shopify numbers its orders '#1001', '#1002', ...; one order typed in by hand has no '#'. DuckDB's
# CSV sniffer alone takes '#' for a comment character here and reads 1 row of the 6.
SHOPIFY_ORDERS = HEADER + (
    "#1001,c1,2024-01-05 09:00:00,12.50\n"
    "1002,c2,2024-01-20,35.00\n"
    "#1003,,2024-02-04 12:00:00,5.00\n"
    "#1004,c3,2024-03-10 08:15:00,18.00\n"
    "#1005,c2,2024-04-02,-10.00\n"
    "#1006,c1,2024-04-15 17:45:00,22.00\n"
)
SUMMARY = REPO / "scripts" / "summary.py"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def data_rows(path: Path) -> list[dict[str, str]]:
    """The data rows of a CSV file as Python's csv module reads it (no comment handling)."""
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def build(data: Path, database: Path, work_dir: Path, **extra_vars: object) -> subprocess.CompletedProcess:
    """dbt build without the unit tests (they do not read the input folder); never raises."""
    variables = json.dumps({"as_of_date": AS_OF, **extra_vars})
    return dbt(["build", "--vars", variables, "--exclude-resource-type", "unit_test"], data, database, work_dir,
               check=False)


def summary(database: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SUMMARY), "--database", str(database)],
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def shopify_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The Shopify-style file built once, then built again with no new file (an incremental run
    that loads nothing must not trip the checks): (data folder, database, work folder)."""
    root = tmp_path_factory.mktemp("shopify")
    data = root / "data"
    write(data / "orders.csv", SHOPIFY_ORDERS)
    database = root / "db.duckdb"
    first = build(data, database, root)
    assert first.returncode == 0, first.stdout[-4000:]
    again = build(data, database, root)
    assert again.returncode == 0, again.stdout[-4000:]
    return data, database, root


def test_ids_starting_with_hash_are_staged_and_counted(shopify_build: tuple[Path, Path, Path]) -> None:
    data, database, _ = shopify_build
    rows = data_rows(data / "orders.csv")
    assert len(rows) == 6
    staged = query(database, "select order_id from staging.stg_shop__orders")
    assert sorted(order_id for (order_id,) in staged) == sorted(row["order_id"] for row in rows)
    assert query(database, "select source_file, raw_rows, staged_rows, bad_rows "
                           "from marts.fct_input_reconciliation where entity = 'orders'") == [
        ("orders.csv", len(rows), len(rows), 0)]
    customers = {row["customer_id"] for row in rows if row["customer_id"]}
    assert query(database, "select count(*) from marts.dim_customers") == [(len(customers),)]
    [(net_revenue,)] = query(database, "select sum(net_revenue) from marts.dim_customers")
    assert float(net_revenue) == sum(float(row["amount"]) for row in rows if row["customer_id"])


def test_as_of_date_before_all_data_stops_with_the_first_order_date(
        shopify_build: tuple[Path, Path, Path], tmp_path: Path) -> None:
    data, built, _ = shopify_build
    database = shutil.copy(built, tmp_path / "db.duckdb")  # an incremental run: no new file
    rows = data_rows(data / "orders.csv")
    first = min(row["ordered_at"][:10] for row in rows if row["customer_id"])
    last = max(row["ordered_at"][:10] for row in rows if row["customer_id"])
    early = build(data, database, tmp_path, as_of_date="2023-12-31")
    assert early.returncode != 0
    assert (f"No customers as of 2023-12-31: as_of_date 2023-12-31 is before all the data: the first "
            f"customer order is on {first} (the last on {last})") in early.stdout
    assert "Files: orders.csv (6 staged)" in early.stdout
    assert "No orders" not in early.stdout                # the orders are there; only the date is wrong
    assert "OK created sql incremental model staging.base_shop__orders_checked" in early.stdout


def test_header_only_orders_file_stops_naming_the_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write(data / "orders" / "2024-06-01.csv", HEADER)
    write(data / "orders" / "2024-06-02.csv", HEADER)
    database = tmp_path / "db.duckdb"
    result = build(data, database, tmp_path)
    assert result.returncode != 0
    assert ("No orders: not one row was read from the orders input "
            "(orders/2024-06-01.csv, orders/2024-06-02.csv in LOYALTY_DATA_DIR=") in result.stdout
    assert "every file is empty or has only a header row" in result.stdout
    # the build stopped before the marts: the summary says so instead of failing with a traceback
    printed = summary(database)
    assert printed.returncode == 1
    assert "has no marts.dim_customers, marts.fct_kpi_summary, marts.fct_input_reconciliation" in printed.stderr
    assert "Traceback" not in printed.stderr


def test_ragged_file_of_hash_ids_reads_every_row_and_names_the_ragged_line(tmp_path: Path) -> None:
    # every id starts with '#' and one row has an extra field: DuckDB's sniffer alone reads 0 rows.
    # The header fixes the layout: 2 rows are read, the ragged one is damaged (1 of 3 is over the
    # 5% gate), and the message names the line and the cause.
    data = tmp_path / "data"
    write(data / "orders.csv", HEADER + "#1001,c1,2024-01-05,10\n#1002,c2,2024-01-06,20,x\n#1003,c3,2024-01-07,5\n")
    result = build(data, tmp_path / "db.duckdb", tmp_path)
    assert result.returncode != 0
    assert "orders.csv' (orders, read with delimiter ',' and encoding utf-8): 1 of 3 rows could not be read" in result.stdout
    assert "the first at line 3" in result.stdout
    assert "1 x malformed_row_too_many_fields: more fields than the header" in result.stdout
    # with the gate opened, the two good rows are read and the ragged one keeps its place and cause
    database = tmp_path / "open.duckdb"
    build(data, database, tmp_path / "open", max_quarantine_share=1)
    rows = query(database, "select source_row_number, order_id, read_error from raw.orders order by 1")
    assert rows == [(1, "#1001", None), (2, None, "malformed_row_too_many_fields"), (3, "#1003", None)]


def test_every_row_quarantined_stops_with_the_reasons_by_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write(data / "orders" / "2024-01.csv", HEADER + "a1,c1,01/05/2024,10\na2,c2,yesterday,20\n")
    write(data / "orders" / "2024-02.csv", HEADER + "b1,c1,2024-02-01,\"1,200.00\"\n")
    # the quality gate would stop first (test_input_contract); with it off, this check still stops
    result = build(data, tmp_path / "db.duckdb", tmp_path, max_quarantine_share=1)
    assert result.returncode != 0
    assert "No orders staged: all 3 orders rows were quarantined" in result.stdout
    assert "orders/2024-01.csv: 2 x unparseable_ordered_at (ordered_at must be ISO 8601" in result.stdout
    assert "orders/2024-02.csv: 1 x unparseable_amount" in result.stdout


def test_summary_of_the_built_database(shopify_build: tuple[Path, Path, Path]) -> None:
    data, database, _ = shopify_build
    printed = summary(database)
    assert printed.returncode == 0, printed.stderr
    customers = {row["customer_id"] for row in data_rows(data / "orders.csv") if row["customer_id"]}
    assert printed.stdout.startswith(f"Loyalty Segments as of {AS_OF}: {len(customers)} customers, net revenue ")
    assert "  orders                 6         0         0" in printed.stdout


def test_summary_of_empty_marts_prints_and_exits_zero(shopify_build: tuple[Path, Path, Path], tmp_path: Path) -> None:
    database = shutil.copy(shopify_build[1], tmp_path / "db.duckdb")
    with duckdb.connect(str(database)) as connection:
        connection.execute("delete from marts.dim_customers")
        connection.execute("update marts.fct_kpi_summary set customers_count = 0, net_revenue = null, "
                           "top_customers_revenue_share = null, repeat_customer_rate = null")
        connection.execute("update marts.fct_input_reconciliation set raw_rows = null")
    printed = summary(database)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith(f"Loyalty Segments as of {AS_OF}: 0 customers, net revenue n/a\n")
    assert "No customers in marts.dim_customers" in printed.stdout
    assert "bring n/a of net revenue; repeat customers: n/a" in printed.stdout

    with duckdb.connect(str(database)) as connection:
        connection.execute("delete from marts.fct_kpi_summary")
        connection.execute("delete from marts.fct_input_reconciliation")
    printed = summary(database)
    assert printed.returncode == 0, printed.stderr
    assert "(marts.fct_kpi_summary has no row)" in printed.stdout


@pytest.mark.parametrize(
    ("content", "exit_code", "message"),
    [
        (None, 2, "No database at"),
        (b"", 1, "not a valid DuckDB database file"),
        (b"order_id,customer_id\n", 1, "not a valid DuckDB database file"),
        ("directory", 1, "is not a file"),
        ("other duckdb", 1, "has no marts.dim_customers"),
    ],
)
def test_summary_of_unusable_files_exits_non_zero(tmp_path: Path, content: object, exit_code: int,
                                                  message: str) -> None:
    database = tmp_path / "db.duckdb"
    if content == "directory":
        database.mkdir()
    elif content == "other duckdb":
        with duckdb.connect(str(database)) as connection:
            connection.execute("create table t as select 1 as x")
    elif content is not None:
        database.write_bytes(content)
    printed = summary(database)
    assert printed.returncode == exit_code
    assert message in printed.stderr
    assert "Traceback" not in printed.stderr
    assert printed.stdout == ""
