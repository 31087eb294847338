"""One day of new orders appended to a generated data set, and its removal.

The day lands in ``orders/daily/<YYYY-MM-DD>.parquet``: ``daily/`` sorts after the monthly files
``orders/YYYY-MM.parquet``, and the project treats a row in a later file as a correction of an
earlier row with the same order_id. The file holds about one day's share of the history's volume
of new orders by existing customers, plus a few corrections (same order_id, new amount) of valid
purchases from the last month of the history. Columns and text formats are the generator's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ORDER_COLUMNS = (
    "order_id",
    "customer_id",
    "ordered_at",
    "amount",
    "currency",
    "status",
    "channel",
    "discount_amount",
)
PURCHASE_STATUSES = ("completed", "delivered", "shipped", "paid")
CHANNELS = ("web", "app", "store")
CORRECTION_FACTOR = Decimal("0.8")  # a corrected order keeps 80% of its amount
CENT = Decimal("0.01")


@dataclass(frozen=True)
class AppendedDay:
    """What was appended: the file, its day, and how many rows of each kind."""

    path: Path
    day: date
    new_orders: int
    corrections: int


def daily_path(data_dir: Path, day: date) -> Path:
    return data_dir / "orders" / "daily" / f"{day.isoformat()}.parquet"


def default_new_orders(data_dir: Path) -> int:
    """About one day of the history's volume: order rows / (365 x years), from _generator.json."""
    manifest = json.loads((data_dir / "_generator.json").read_text(encoding="utf-8"))
    years = int(manifest["parameters"]["years"])
    return max(1, round(int(manifest["counts"]["order_rows"]) / (365 * years)))


def _customer_ids(data_dir: Path) -> np.ndarray:
    table = pacsv.read_csv(
        data_dir / "customers.csv",
        convert_options=pacsv.ConvertOptions(
            include_columns=["customer_id"], column_types={"customer_id": pa.string()}
        ),
    )
    ids = table.column("customer_id").to_numpy(zero_copy_only=False)
    return ids[ids != ""]


def _last_month_file(data_dir: Path) -> Path:
    monthly = sorted((data_dir / "orders").glob("*.parquet"))
    if not monthly:
        raise FileNotFoundError(f"no monthly order files in {data_dir / 'orders'}")
    return monthly[-1]


def _corrections(data_dir: Path, day: date, count: int, seed: int) -> list[dict[str, str]]:
    """``count`` valid purchases of the last monthly file, each with 80% of its amount, as text
    (the monthly file may be typed: ``typed.py``)."""
    if count <= 0:
        return []
    source = _last_month_file(data_dir).as_posix().replace("'", "''")
    statuses = ", ".join(f"'{s}'" for s in (*PURCHASE_STATUSES, ""))
    text_columns = ", ".join(f"cast({name} as varchar) as {name}" for name in ORDER_COLUMNS)
    sql = f"""
        select {text_columns}
        from read_parquet('{source}')
        where order_id = trim(order_id) and order_id <> ''
            and customer_id = trim(customer_id) and customer_id <> ''
            and try_cast(ordered_at as timestamp) >= timestamp '2000-01-01'
            and try_cast(ordered_at as timestamp) < date '{day.isoformat()}'
            and try_cast(amount as decimal(18, 2)) > 0
            and currency in ('GBP', 'EUR', 'USD', '')
            and status in ({statuses})
        qualify count(*) over (partition by order_id) = 1
        order by hash(order_id, {int(seed)}), order_id
        limit {int(count)}
    """
    with duckdb.connect() as connection:
        rows = connection.sql(sql).fetchall()
    corrected = []
    for values in rows:
        row = dict(zip(ORDER_COLUMNS, values, strict=True))
        amount = (Decimal(row["amount"]) * CORRECTION_FACTOR).quantize(CENT, ROUND_HALF_UP)
        row["amount"] = f"{amount:.2f}"
        corrected.append(row)
    return corrected


def append_day(
    data_dir: Path,
    day: date,
    *,
    seed: int = 42,
    new_orders: int | None = None,
    corrections: int | None = None,
) -> AppendedDay:
    """Write ``orders/daily/<day>.parquet`` and return what it holds.

    Defaults: ``default_new_orders`` new orders and one correction per 100 of them (at least 5).
    The same arguments always write the same file.
    """
    count = default_new_orders(data_dir) if new_orders is None else new_orders
    fixes = max(5, count // 100) if corrections is None else corrections
    rng = np.random.default_rng(np.random.SeedSequence([seed, day.toordinal()]))
    customers = _customer_ids(data_dir)
    if len(customers) == 0:
        raise ValueError(f"no customers in {data_dir / 'customers.csv'}")
    seconds = np.sort(rng.integers(0, 86_400, size=count))
    cents = np.maximum(100, np.round(rng.lognormal(8.2, 0.7, size=count))).astype(np.int64)
    columns: dict[str, list[str]] = {
        "order_id": [f"D{day:%Y%m%d}{i:07d}" for i in range(1, count + 1)],
        "customer_id": rng.choice(customers, size=count).tolist(),
        "ordered_at": [
            f"{day.isoformat()} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
            for s in seconds.tolist()
        ],
        "amount": [f"{c // 100}.{c % 100:02d}" for c in cents.tolist()],
        "currency": ["GBP"] * count,
        "status": rng.choice(PURCHASE_STATUSES, size=count).tolist(),
        "channel": rng.choice(CHANNELS, size=count).tolist(),
        "discount_amount": ["0.00"] * count,
    }
    for row in _corrections(data_dir, day, fixes, seed):
        for name in ORDER_COLUMNS:
            columns[name].append(row[name])
    schema = pa.schema([(name, pa.string()) for name in ORDER_COLUMNS])
    table = pa.table([pa.array(columns[name], pa.string()) for name in ORDER_COLUMNS], schema)
    path = daily_path(data_dir, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("_" + path.name + ".tmp")  # skipped by the project while being written
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)
    return AppendedDay(path=path, day=day, new_orders=count, corrections=table.num_rows - count)


def remove_appended(data_dir: Path) -> None:
    """Delete every appended day (the benchmark's own ``orders/daily/`` folder) and the folder."""
    folder = data_dir / "orders" / "daily"
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.is_file() and (child.suffix == ".parquet" or child.name.endswith(".tmp")):
            child.unlink()
    try:
        folder.rmdir()
    except OSError:
        pass  # something else lives there; leave it
