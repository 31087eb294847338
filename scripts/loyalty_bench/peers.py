"""The floor's per-customer RFM computed the way a user of pandas, lifetimes or PySpark would.

Each peer reads every order file (``orders/**/*.parquet``, the floor's files), parses text
columns (typed columns are used as they are), skips rows that do not parse, guest orders (blank
customer_id) and orders after as_of, and computes per customer:

- recency_days: days from the customer's last order with a non-negative amount to as_of;
- frequency: orders with a non-negative amount (customers without one are left out);
- monetary: the sum of the amounts (returns included);

and tie-safe 1..5 scores ``1 + floor(5 * (rank - 1) / customers)``, rank as SQL's ``rank()``
(equal values share the lowest rank), recency ranked descending: the floor's definitions
(``floor.py``). The result is written as Parquet to ``--table`` (a folder); ``compare.compare_rfm``
checks it against the floor's table.

- ``pandas``: ``read_parquet`` per file and ``concat``, ``groupby``, ``rank(method='min')``.
  Amounts are float64 (a typed decimal column converted), monetary rounded to the amounts' 4
  decimals so that equal sums tie as they do in decimal arithmetic.
- ``lifetimes``: the pandas read and parse, then ``summary_data_from_transaction_data`` (freq
  ``D``, monetary) on the orders with a non-negative amount, scored the same way. lifetimes
  defines its own measures: frequency is the number of repeat purchase days (days with an order,
  minus one), monetary_value the mean of the repeat days' totals (0 without a repeat day), recency
  the days from the first to the last purchase day and T the days from the first purchase day to
  as_of. Scored here: recency_days = T - recency (the floor's recency), frequency and monetary as
  lifetimes has them; so its f and m scores are not expected to match the floor's.
- ``pyspark``: a ``local[2]`` session (driver memory 2g, session time zone UTC, no web UI),
  ``spark.read.parquet`` of the same files, ``try_cast``, ``groupBy``, ``rank()`` over windows,
  the result written with ``write.parquet``.

``seconds`` is the peer's whole work, including importing its library, starting the Spark session
(the JVM) and stopping it, reading the files and writing the result; it leaves out only starting
the Python interpreter (``process_seconds`` of the benchmark has that too). Run as
``python -m loyalty_bench.peers`` with the peers' own venv (``make peers``), so that its memory is
measured in a process of its own, like the floor's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PEERS = ("pandas", "lifetimes", "pyspark")
READ_COLUMNS = ("customer_id", "ordered_at", "amount")
RESULT_COLUMNS = ("customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score",
                  "m_score")
SCORE_BINS = 5
MONEY_DECIMALS = 4
SPARK_DRIVER_MEMORY = "2g"
SPARK_MASTER = "local[2]"
LIFETIMES_DEFINITIONS = {
    "frequency": "repeat purchase days: days with an order of a non-negative amount, minus one",
    "recency": "days from the first to the last purchase day",
    "T": "days from the first purchase day to as_of",
    "monetary_value": "mean of the repeat purchase days' totals (0 without a repeat day)",
    "scored_as": "recency_days = T - recency, frequency = frequency, monetary = monetary_value",
}


def order_files(data_dir: Path) -> list[Path]:
    """The floor's files: every Parquet file below orders/ (monthly files and appended days)."""
    return sorted((data_dir / "orders").glob("**/*.parquet"))


def score_from_rank(rank: int, customers: int, bins: int = SCORE_BINS) -> int:
    """``1 + floor(bins * (rank - 1) / customers)``: rank 1 -> 1, the last ranks -> ``bins``."""
    return 1 + (bins * (rank - 1)) // customers


# --- pandas ---------------------------------------------------------------------------------

def parse_orders(orders: Any) -> Any:
    """The valid rows of a pandas frame of order columns, typed: customer_id (trimmed, guests
    dropped), ordered_at (datetime64), amount (float64). Text that does not parse drops the row."""
    import pandas as pd
    from pandas.api import types as pdt

    customer = orders["customer_id"].astype("string").str.strip()
    ordered_at = orders["ordered_at"]
    if not pdt.is_datetime64_any_dtype(ordered_at):
        ordered_at = pd.to_datetime(ordered_at.astype("string").str.strip(), format="ISO8601",
                                    errors="coerce")
    amount = orders["amount"]
    if _holds_text(amount):
        amount = pd.to_numeric(amount.astype("string").str.strip(), errors="coerce")
    amount = amount.astype("float64")  # a typed decimal column arrives as Python Decimals
    frame = pd.DataFrame({"customer_id": customer, "ordered_at": ordered_at, "amount": amount})
    keep = customer.notna() & (customer != "") & ordered_at.notna() & amount.notna()
    return frame[keep.fillna(False).astype(bool)].reset_index(drop=True)


def _holds_text(series: Any) -> bool:
    """A column of text (a string dtype, or objects that are str), not of numbers or Decimals."""
    import pandas as pd

    if isinstance(series.dtype, pd.StringDtype):
        return True
    if series.dtype != object:
        return False
    first = series.dropna().head(1)
    return bool(len(first)) and isinstance(first.iloc[0], str)


def read_orders_pandas(data_dir: Path) -> tuple[Any, int]:
    """(valid orders, rows read) from every order file, with pandas."""
    import pandas as pd

    frames = [pd.read_parquet(path, columns=list(READ_COLUMNS)) for path in order_files(data_dir)]
    orders = pd.concat(frames, ignore_index=True)
    return parse_orders(orders), len(orders)


def scores_pandas(per_customer: Any, bins: int = SCORE_BINS) -> Any:
    """The 1..bins scores of a frame with recency_days, frequency and monetary, tie-safe."""
    customers = len(per_customer)
    out = per_customer.copy()
    for column, measure, ascending in (("r_score", "recency_days", False),
                                       ("f_score", "frequency", True),
                                       ("m_score", "monetary", True)):
        rank = per_customer[measure].rank(method="min", ascending=ascending).astype("int64")
        out[column] = (1 + (bins * (rank - 1)) // customers).astype("int32")
    return out


def rfm_pandas(orders: Any, as_of: date, bins: int = SCORE_BINS) -> Any:
    """The floor's table from valid orders (``parse_orders``), with pandas."""
    import pandas as pd

    end = pd.Timestamp(as_of + timedelta(days=1))
    orders = orders[orders["ordered_at"] < end]
    purchase = orders["amount"] >= 0
    grouped = orders.assign(
        purchase_at=orders["ordered_at"].where(purchase), is_purchase=purchase
    ).groupby("customer_id", sort=False)
    per_customer = grouped.agg(last_purchase_at=("purchase_at", "max"),
                               frequency=("is_purchase", "sum"),
                               monetary=("amount", "sum"))
    per_customer = per_customer[per_customer["frequency"] > 0]
    recency = (pd.Timestamp(as_of) - per_customer["last_purchase_at"].dt.normalize()).dt.days
    table = pd.DataFrame({
        "customer_id": per_customer.index.astype("string"),
        "recency_days": recency.astype("int64").to_numpy(),
        "frequency": per_customer["frequency"].astype("int64").to_numpy(),
        "monetary": per_customer["monetary"].round(MONEY_DECIMALS).to_numpy(),
    })
    return scores_pandas(table, bins)


def rfm_lifetimes(orders: Any, as_of: date, bins: int = SCORE_BINS) -> tuple[Any, dict[str, Any]]:
    """lifetimes' summary of the purchases (non-negative amounts), scored like the floor; and what
    lifetimes computed, in figures."""
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    purchases = orders[orders["amount"] >= 0]
    summary = summary_data_from_transaction_data(
        purchases, "customer_id", "ordered_at", monetary_value_col="amount",
        observation_period_end=pd.Timestamp(as_of), freq="D")
    table = pd.DataFrame({
        "customer_id": summary.index.astype("string"),
        "recency_days": (summary["T"] - summary["recency"]).round().astype("int64").to_numpy(),
        "frequency": summary["frequency"].round().astype("int64").to_numpy(),
        "monetary": summary["monetary_value"].round(MONEY_DECIMALS).to_numpy(),
    })
    facts = {
        "definitions": LIFETIMES_DEFINITIONS,
        "customers_without_repeat_day": int((summary["frequency"] == 0).sum()),
        "mean_frequency": round(float(summary["frequency"].mean()), 4) if len(summary) else None,
        "mean_T": round(float(summary["T"].mean()), 2) if len(summary) else None,
    }
    return scores_pandas(table, bins), facts


def write_pandas(table: Any, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    table.to_parquet(folder / "part-0.parquet", index=False)


# --- PySpark --------------------------------------------------------------------------------

def rfm_pyspark(data_dir: Path, as_of: date, folder: Path, bins: int = SCORE_BINS) -> None:
    """Start a local session, compute the floor's table, write it to ``folder``, stop the session."""
    from pyspark.sql import SparkSession, Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    spark = (SparkSession.builder.master(SPARK_MASTER).appName("rfm-peer")
             .config("spark.driver.memory", SPARK_DRIVER_MEMORY)
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.ui.enabled", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("WARN")
    try:
        raw = spark.read.parquet(*(path.as_posix() for path in order_files(data_dir)))
        kinds = {field.name: field.dataType for field in raw.schema.fields}

        def text(column: str) -> bool:
            return isinstance(kinds[column], T.StringType)

        customer = F.trim("customer_id") if text("customer_id") else F.col("customer_id").cast("string")
        ordered_at = (F.trim("ordered_at").try_cast("timestamp") if text("ordered_at")
                      else F.col("ordered_at"))
        amount = (F.trim("amount").try_cast("decimal(18,4)") if text("amount")
                  else F.col("amount").cast("decimal(18,4)"))
        valid = (raw.select(customer.alias("customer_id"), ordered_at.alias("ordered_at"),
                            amount.alias("amount"))
                 .where((F.col("customer_id") != "") & F.col("ordered_at").isNotNull()
                        & F.col("amount").isNotNull()
                        & (F.to_date("ordered_at") <= F.lit(as_of))))
        purchase = F.col("amount") >= 0
        per_customer = (valid.groupBy("customer_id")
                        .agg(F.max(F.when(purchase, F.col("ordered_at"))).alias("last_purchase_at"),
                             F.count(F.when(purchase, 1)).alias("frequency"),
                             F.sum("amount").alias("monetary"))
                        .where(F.col("frequency") > 0)
                        .select("customer_id",
                                F.datediff(F.lit(as_of), F.to_date("last_purchase_at"))
                                .alias("recency_days"),
                                "frequency", "monetary"))
        customers = F.count(F.lit(1)).over(Window.partitionBy())

        def score(order: Any) -> Any:
            rank = F.rank().over(Window.orderBy(order))
            return (1 + F.floor(bins * (rank - 1) / customers)).cast("int")

        table = per_customer.select(
            "customer_id", "recency_days", "frequency", "monetary",
            score(F.col("recency_days").desc()).alias("r_score"),
            score(F.col("frequency")).alias("f_score"),
            score(F.col("monetary")).alias("m_score"))
        table.write.mode("overwrite").parquet(folder.as_posix())
    finally:
        spark.stop()
        _wait_for_jvm()


def _wait_for_jvm(timeout: float = 60.0) -> None:
    """Let the session's JVM exit and reap it, so that its peak memory counts in this process's
    children (``ru_maxrss``) rather than being lost with an orphan."""
    try:
        from pyspark import SparkContext
    except ImportError:
        return
    gateway = getattr(SparkContext, "_gateway", None)
    process = getattr(gateway, "proc", None)
    if process is None:
        return
    with contextlib.suppress(Exception):  # the gateway may be gone already; the wait decides
        gateway.shutdown()
    if process.stdin is not None:
        process.stdin.close()  # the JVM of a pyspark-shell exits when its stdin closes
    try:
        process.wait(timeout=timeout)
    except Exception:  # noqa: BLE001 - a JVM that does not stop is killed, never left behind
        process.kill()
        process.wait()
    SparkContext._gateway = None
    SparkContext._jvm = None


# --- command --------------------------------------------------------------------------------

def library_versions(peer: str) -> dict[str, str]:
    from importlib import metadata

    packages = {"pandas": ("pandas", "pyarrow", "numpy"),
                "lifetimes": ("lifetimes", "pandas", "numpy", "scipy"),
                "pyspark": ("pyspark",)}[peer]
    versions = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions


def run_peer(peer: str, data_dir: Path, as_of: date, table: Path) -> dict[str, Any]:
    """Compute and write one peer's table; returns its figures (seconds as the module says)."""
    started = time.perf_counter()
    result: dict[str, Any] = {"peer": peer}
    if peer == "pyspark":
        rfm_pyspark(data_dir, as_of, table)
    else:
        orders, rows_read = read_orders_pandas(data_dir)
        if peer == "pandas":
            scored = rfm_pandas(orders, as_of)
        else:
            scored, result["lifetimes"] = rfm_lifetimes(orders, as_of)
        write_pandas(scored, table)
        result.update(customers=len(scored), rows_read=rows_read, rows_valid=len(orders))
    result["seconds"] = time.perf_counter() - started
    if peer == "pyspark":  # counted after the clock stopped: the peer itself does not need it
        import pyarrow.dataset as ds

        result["customers"] = ds.dataset(table.as_posix(), format="parquet").count_rows()
    result["includes"] = ("library import, session start and stop, reading the files, parsing, "
                          "aggregating, scoring, writing the result"
                          if peer == "pyspark" else
                          "library import, reading the files, parsing, aggregating, scoring, "
                          "writing the result")
    result["versions"] = library_versions(peer)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loyalty_bench.peers",
        description="Compute the floor's per-customer RFM with pandas, lifetimes or PySpark.",
    )
    parser.add_argument("--peer", choices=PEERS, required=True)
    parser.add_argument("--data-dir", type=Path, required=True, help="input folder (orders/)")
    parser.add_argument("--as-of", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument("--result", type=Path, required=True, help="JSON file for the figures")
    parser.add_argument("--table", type=Path,
                        help="folder for the result table as Parquet (default: next to --result)")
    args = parser.parse_args(argv)
    table = args.table or args.result.with_name(f"{args.peer}-table")
    result = run_peer(args.peer, args.data_dir, args.as_of, table)
    result["table"] = str(table)
    args.result.write_text(json.dumps(result) + "\n", encoding="utf-8")
    print(f"{args.peer}: {result['customers']} customers in {result['seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
