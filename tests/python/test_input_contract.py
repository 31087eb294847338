"""Bring-your-own-orders: the input contract, from hand-made folders. Only orders is required;
files may be CSV or Parquet, one file or a folder; bad rows are quarantined with a reason; the
build stops with a message that names what and where when the input cannot be used."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dbt_project_runner import build, dbt, query

AS_OF = "2024-06-30"
HEADER = "order_id,customer_id,ordered_at,amount\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def good_rows(count: int, start: int = 0) -> str:
    return "".join(
        f"o{start + i},c{i % 7},2024-0{1 + i % 5}-1{i % 9} 10:00:00,{10 + i}.50\n" for i in range(count)
    )


def test_orders_only_csv_builds_and_optional_columns_stay_empty(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write(data / "orders.csv", HEADER + good_rows(60) + "r1,c1,2024-06-01,-5.25\ng1,,2024-06-02,3\n")
    db = tmp_path / "db.duckdb"
    build(data, db, tmp_path, AS_OF)
    [(customers, margin, category, consent)] = query(
        db, "select count(*), count(margin_amount), count(favourite_category), count(consent_email) "
            "from marts.dim_customers")
    assert (customers, margin, category, consent) == (7, 0, 0, 0)
    [(guest_revenue,)] = query(db, "select sum(guest_net_revenue) from marts.fct_revenue_reconciliation")
    assert guest_revenue == 3
    [(returns,)] = query(db, "select sum(returns_amount) from marts.dim_customers")
    assert float(returns) == 5.25


def test_folder_of_mixed_csv_and_parquet_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write(data / "orders" / "2024-01.csv", HEADER + good_rows(30))
    table = pa.table({
        "Order_ID": [f"p{i}" for i in range(30)],           # column names match case-insensitively
        "customer_id": [f"c{i % 5}" for i in range(30)],
        "ordered_at": ["2024-02-03 12:00:00"] * 30,
        "amount": [20.0 + i for i in range(30)],            # typed columns are read as text too
        "extra_column": ["ignored"] * 30,
    })
    pq.write_table(table, data / "orders" / "2024-02.parquet")
    write(data / "orders" / "_SUCCESS", "")
    db = tmp_path / "db.duckdb"
    build(data, db, tmp_path, AS_OF)
    rows = dict(query(db, "select source_file, staged_rows from marts.fct_input_reconciliation"))
    assert rows == {"orders/2024-01.csv": 30, "orders/2024-02.parquet": 30}


def test_bad_rows_are_quarantined_with_their_reason_and_position(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = (
        ",c1,2024-01-01,1\n"                 # row 121: missing_order_id
        "b1,c1,yesterday,1\n"                # row 122: unparseable_ordered_at
        "b2,c1,2024-01-01,12;50\n"           # row 123: unparseable_amount
        "b3,c1,2999-01-01,1\n"               # row 124: future_ordered_at
        "o0,c0,2024-01-10 10:00:00,10.50\n"  # row 125: exact duplicate of row 1
    )
    write(data / "orders.csv", HEADER + good_rows(120) + bad)  # 5 of 125 = 4%, under the 5% gate
    db = tmp_path / "db.duckdb"
    build(data, db, tmp_path, AS_OF)
    rows = query(db, "select source_row_number, quarantine_reason from marts.fct_quarantined_rows order by 1")
    assert rows == [
        (121, "missing_order_id"), (122, "unparseable_ordered_at"), (123, "unparseable_amount"),
        (124, "future_ordered_at"), (125, "exact_duplicate"),
    ]


def test_correction_in_a_later_file_replaces_the_order(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write(data / "orders" / "2024-01-01.csv", HEADER + good_rows(40))
    write(data / "orders" / "2024-01-02.csv", HEADER + "o3,c3,2024-04-13 10:00:00,99.00\n")
    db = tmp_path / "db.duckdb"
    build(data, db, tmp_path, AS_OF)
    assert query(db, "select amount from staging.stg_shop__orders where order_id = 'o3'") == [(99,)]
    assert query(db, "select source_file, quarantine_reason from marts.fct_quarantined_rows") == [
        ("orders/2024-01-01.csv", "superseded_by_later_file")]


def test_quality_gate_stops_the_build_naming_causes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write(data / "orders.csv", HEADER + good_rows(20) + "x1,c1,not a date,1\n" * 3)
    result = build(data, tmp_path / "db.duckdb", tmp_path, AS_OF, check=False)
    assert result.returncode != 0
    assert "Quality gate: 3 of 23 orders rows (13.04%)" in result.stdout
    assert "orders.csv: 3 x unparseable_ordered_at" in result.stdout


def test_quality_gate_threshold_is_a_var(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write(data / "orders.csv", HEADER + good_rows(20) + "x1,c1,not a date,1\n" * 3)
    result = dbt(["build", "--vars", f'{{"as_of_date": "{AS_OF}", "max_quarantine_share": 0.2}}'],
                 data, tmp_path / "db.duckdb", tmp_path, check=False)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"customers.csv": "customer_id\nc1\n"}, "no 'orders' data in LOYALTY_DATA_DIR"),
        ({"orders.csv": "order_id,customer_id,ordered_at\no1,c1,2024-01-01\n"},
         "lacks the required column amount"),
        ({"orders.csv": HEADER + "o1,c1,2024-01-01,1\n", "orders/notes.xlsx": "x"},
         "cannot read"),
    ],
)
def test_unusable_input_stops_with_what_and_where(tmp_path: Path, files: dict[str, str], message: str) -> None:
    data = tmp_path / "data"
    for name, text in files.items():
        write(data / name, text)
    result = build(data, tmp_path / "db.duckdb", tmp_path, AS_OF, check=False)
    assert result.returncode != 0
    assert message in result.stdout
