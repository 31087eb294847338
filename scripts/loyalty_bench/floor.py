"""The floor: one hand-written DuckDB query over the raw order files computing per-customer RFM.

It is the least work any pipeline producing RFM scores from these files has to do: read every
order file, parse the text columns (typed columns are used as they are), aggregate per customer
and rank three measures. It skips rows that do not parse and guest orders, and does none of the
project's validation, currency conversion, de-duplication or corrections, so it is a lower bound,
not an equivalent.

Run as ``python -m loyalty_bench.floor`` (with ``scripts/`` on ``PYTHONPATH``) so that its memory
is measured in a process of its own; it writes the query's own seconds to ``--result``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

FLOOR_TABLE = "floor_rfm"
SCORE_BINS = 5
FLOOR_COLUMNS = ("customer_id", "ordered_at", "amount")
TEXT_TYPE = "VARCHAR"
AMOUNT_TYPE = "DECIMAL(18,4)"


def orders_glob(data_dir: Path) -> str:
    """Every Parquet order file: the monthly files and anything below orders/ (daily files)."""
    return (data_dir / "orders" / "**" / "*.parquet").as_posix()


def column_types(connection: duckdb.DuckDBPyConnection, data_dir: Path) -> dict[str, str]:
    """The type of each column the floor reads, as DuckDB sees the order files together."""
    glob = orders_glob(data_dir).replace("'", "''")
    rows = connection.execute(
        f"describe select {', '.join(FLOOR_COLUMNS)} "
        f"from read_parquet('{glob}', union_by_name = true)").fetchall()
    return {str(row[0]): str(row[1]).replace(" ", "").upper() for row in rows}


def parsed_columns(types: dict[str, str] | None = None) -> list[str]:
    """The select list of the floor's first step: text is trimmed and try_cast (text that does not
    parse becomes null), typed columns are used as they are (cast only when of another type)."""
    types = types or {}

    def text(column: str) -> bool:
        return types.get(column, TEXT_TYPE) == TEXT_TYPE

    customer = ("trim(customer_id)" if text("customer_id")
                else "cast(customer_id as varchar)")
    ordered_at = ("try_cast(trim(ordered_at) as timestamp)" if text("ordered_at")
                  else "ordered_at" if types["ordered_at"] == "TIMESTAMP"
                  else "cast(ordered_at as timestamp)")
    amount = ("try_cast(trim(amount) as decimal(18, 4))" if text("amount")
              else "amount" if types["amount"] == AMOUNT_TYPE
              else "cast(amount as decimal(18, 4))")
    return [f"{customer} as customer_id", f"{ordered_at} as ordered_at", f"{amount} as amount"]


def floor_sql(data_dir: Path, as_of: date, bins: int = SCORE_BINS,
              types: dict[str, str] | None = None) -> str:
    """CREATE TABLE AS of per-customer recency, frequency, monetary and tie-safe 1..bins scores.

    Scores are ``1 + floor(bins * (rank - 1) / customers)`` with the worst value ranked first, so
    equal values share a score (the project's own definition, docs/decisions.md). ``types`` (from
    ``column_types``) tells which columns are typed; without it every column is read as text.
    """
    glob = orders_glob(data_dir).replace("'", "''")
    day = as_of.isoformat()
    select = ",\n        ".join(parsed_columns(types))

    def score(order: str) -> str:
        return (
            f"cast(1 + floor({bins} * (rank() over (order by {order}) - 1) / count(*) over ())"
            " as integer)"
        )

    return f"""
create or replace table {FLOOR_TABLE} as
with parsed as (
    select
        {select}
    from read_parquet('{glob}', union_by_name = true)
),

valid as (
    select customer_id, ordered_at, amount
    from parsed
    where customer_id <> ''
        and ordered_at is not null
        and amount is not null
        and ordered_at < date '{day}' + interval 1 day
),

per_customer as (
    select
        customer_id,
        date_diff('day', cast(max(ordered_at) filter (where amount >= 0) as date), date '{day}')
            as recency_days,
        count(*) filter (where amount >= 0) as frequency,
        sum(amount) as monetary
    from valid
    group by customer_id
    having count(*) filter (where amount >= 0) > 0
)

select
    customer_id,
    recency_days,
    frequency,
    monetary,
    {score("recency_days desc")} as r_score,
    {score("frequency")} as f_score,
    {score("monetary")} as m_score
from per_customer
"""


def run_floor(data_dir: Path, database: Path, as_of: date, memory_limit: str) -> dict[str, float]:
    """Run the floor query into ``database``; return its seconds (the files' column types read,
    the query, the table written), the customers scored and the column types found."""
    started = time.perf_counter()
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"set memory_limit = '{memory_limit}'")
        connection.execute("set enable_progress_bar = false")
        types = column_types(connection, data_dir)
        connection.execute(floor_sql(data_dir, as_of, types=types))
        seconds = time.perf_counter() - started
        row = connection.execute(f"select count(*) from {FLOOR_TABLE}").fetchone()
    return {"seconds": seconds, "customers": int(row[0]) if row else 0, "column_types": types}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loyalty_bench.floor",
        description="Run the benchmark's floor query (per-customer RFM from the raw order files).",
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="input folder (orders/)")
    parser.add_argument("--database", type=Path, required=True, help="DuckDB file to write")
    parser.add_argument("--as-of", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument("--memory-limit", default="1400MB", help="DuckDB memory_limit")
    parser.add_argument("--result", type=Path, required=True, help="JSON file for the figures")
    args = parser.parse_args(argv)
    try:
        result = run_floor(args.data_dir, args.database, args.as_of, args.memory_limit)
    except duckdb.Error as exc:
        print(f"floor query failed: {exc}", file=sys.stderr)
        return 1
    args.result.write_text(json.dumps(result) + "\n", encoding="utf-8")
    print(f"floor: {result['customers']} customers in {result['seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
