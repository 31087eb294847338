"""Ids, timestamps and numbers read as the input format says (macros/staging/parse_text.sql), from
hand-made folders: every staged value is compared with one computed here with datetime, zoneinfo
and decimal, and every text that does not fit the format is quarantined as unparseable. One build
per format file: the cases share a folder."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dbt_project_runner import dbt, query

AS_OF = "2025-06-30"
EPOCH = datetime(1970, 1, 1)


# --- expected values, computed without the project's SQL -----------------------------------------

def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0, offset: str = "+00:00") -> datetime:
    """The UTC wall time of a wall time written with a fixed offset ('+02:00', '-05:30')."""
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset[1:].split(":")
    return datetime(y, mo, d, h, mi, s, us) - sign * timedelta(hours=int(hours), minutes=int(minutes))


def local(zone: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    """The UTC wall time of a local wall time in an IANA zone. A wall time that does not exist (the
    hour skipped when summer time starts) is read with the offset before the change; one that occurs
    twice (the hour repeated when it ends) as its second occurrence (decisions.md)."""
    wall = datetime(y, mo, d, h, mi, s, us)
    first = wall.replace(tzinfo=ZoneInfo(zone), fold=0)
    second = wall.replace(tzinfo=ZoneInfo(zone), fold=1)
    utc_first = first.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    utc_second = second.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    exists = first.astimezone(ZoneInfo("UTC")).astimezone(ZoneInfo(zone)).replace(tzinfo=None) == wall
    if utc_first != utc_second and exists:
        return utc_second   # ambiguous: the second occurrence
    return utc_first        # unique, or skipped: fold=0 applies the offset before the change


def epoch(text: str, unit: str = "s") -> datetime:
    """Unix time (seconds or milliseconds, decimals allowed) as a UTC wall time, to the microsecond."""
    seconds = Decimal(text) / (1000 if unit == "ms" else 1)
    micros = (seconds * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return EPOCH + timedelta(microseconds=int(micros))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def run_build(data: Path, work: Path, variables: dict | None = None, input_format: Path | None = None,
              extra_env: dict[str, str] | None = None, check: bool = True):
    env = {"LOYALTY_INPUT_FORMAT": str(input_format) if input_format else ""}
    env.update(extra_env or {})
    return dbt(["build", "--vars", json.dumps({"as_of_date": AS_OF, **(variables or {})})],
               data, work / "db.duckdb", work, check=check, extra_env=env)


def staged(database: Path, model: str, columns: str, key: str = "source_row_number", where: str = "true") -> dict:
    """key -> (columns..., quarantine_reason) of a base model."""
    rows = query(database, f"select {key}, {columns}, quarantine_reason from staging.{model} where {where}")
    return {row[0]: row[1:] for row in rows}


# --- the default format (no format file), built with the host in New York -------------------------

DEFAULT_TIMESTAMPS = [
    ("2024-03-01", at(2024, 3, 1)),
    ("2024-03-01 14:05:00", at(2024, 3, 1, 14, 5)),
    ("2024-03-01T14:05:00", at(2024, 3, 1, 14, 5)),
    ("2024-03-01 14:05", at(2024, 3, 1, 14, 5)),
    ("2024-3-1 8:26", at(2024, 3, 1, 8, 26)),
    ("2024/03/01 08:26:00", at(2024, 3, 1, 8, 26)),
    ("2024-03-01 14:05:00.123456", at(2024, 3, 1, 14, 5, 0, 123456)),
    ("2024-03-01 24:00:00", at(2024, 3, 2)),
    # offsets are applied exactly, whatever the time zone
    ("2024-03-01T23:30:00-05:00", at(2024, 3, 1, 23, 30, offset="-05:00")),
    ("2024-10-14 12:02:00 +0200", at(2024, 10, 14, 12, 2, offset="+02:00")),
    ("2024-10-14 12:02:00+02", at(2024, 10, 14, 12, 2, offset="+02:00")),
    ("2024-10-14T12:02:00Z", at(2024, 10, 14, 12, 2)),
    ("2024-10-14 12:02:00 UTC", at(2024, 10, 14, 12, 2)),
    ("2024-10-14T12:02:00.5+05:30", at(2024, 10, 14, 12, 2, 0, 500000, offset="+05:30")),
    ("2024-10-14 12:02-0930", at(2024, 10, 14, 12, 2, offset="-09:30")),
    ("2024-12-31T23:59:59+14:00", at(2024, 12, 31, 23, 59, 59, offset="+14:00")),
    # not a timestamp of this format: quarantined as unparseable
    ("yesterday", None),
    ("01.03.2024", None),                  # day-first needs date_order DMY
    ("03/01/2024", None),                  # month-first needs date_order MDY
    ("1709251200", None),                  # Unix time needs timestamp_unit
    ("2024-02-30", None),
    ("2024-03-01T25:00:00", None),
    ("2024-03-01 10:00:00+19:00", None),   # no such offset
    ("2024-03-01 10:00:00 Europe/Berlin", None),
    ("2024-03-01Z", None),                 # an offset needs a time
]

DEFAULT_AMOUNTS = [
    ("12.50", Decimal("12.50")), ("-5.25", Decimal("-5.25")), ("0", Decimal(0)), (".5", Decimal("0.5")),
    ("1e3", Decimal(1000)),   # as before: the default format is a plain cast
    ("12,50", None), ("1,234.56", None), ("12.50 EUR", None),
]

# (customer_id as written, as staged): white space of any kind is trimmed, floats with a zero
# fraction are integers, and nothing else changes
DEFAULT_CUSTOMER_IDS = [
    (" 900001.0 ", "900001"), ("900001.00", "900001"), ("\u00a0c2\u3000", "c2"), ("\ufeffc3\u200b", "c3"),
    ("\tc4\r\n", "c4"), ("\u2002c5\u202f", "c5"), ("0042", "0042"), ("900001.5", "900001.5"),
    ("1.0e5", "1.0e5"), ("#1001", "#1001"), ("\u3000\u00a0", None),
]

# a Parquet TIMESTAMP WITH TIME ZONE column: the raw view casts it to text with an offset
PARQUET_INSTANTS = [
    datetime(2024, 3, 10, 1, 30, tzinfo=ZoneInfo("America/New_York")),
    datetime(2024, 3, 10, 3, 30, tzinfo=ZoneInfo("America/New_York")),
    datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),
    datetime(2024, 6, 30, 23, 59, 59, 999999, tzinfo=ZoneInfo("Asia/Tokyo")),
]


# (ordered_at, amount) of a typed Parquet file, and the staged (ordered_at, amount, reason)
TYPED_ORDERS = [
    (datetime(2024, 3, 1, 14, 5, 0, 123456), Decimal("12.50"), (at(2024, 3, 1, 14, 5, 0, 123456), Decimal("12.5"), None)),
    (None, Decimal("3.00"), (None, Decimal(3), "missing_ordered_at")),
    (datetime(2024, 3, 1, 9), None, (at(2024, 3, 1, 9), None, "missing_amount")),
    (datetime(2090, 1, 1), Decimal("-4.10"), (datetime(2090, 1, 1), Decimal("-4.1"), "future_ordered_at")),
]


@pytest.fixture(scope="module")
def default_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("default_format")
    data = work / "data"
    rows = [[f"t{i}", f"c{i % 5}", text, "10"] for i, (text, _) in enumerate(DEFAULT_TIMESTAMPS)]
    rows += [[f"a{i}", f"c{i % 5}", "2024-05-01 10:00:00", text] for i, (text, _) in enumerate(DEFAULT_AMOUNTS)]
    rows += [[f"i{i}", text, "2024-05-02 10:00:00", "10"] for i, (text, _) in enumerate(DEFAULT_CUSTOMER_IDS)]
    # the same order id written as a float and as an integer: one id, the second row a duplicate
    rows += [["555.0", "c1", "2024-05-03 10:00:00", "10"], ["555", "c1", "2024-05-03 10:00:00", "10"]]
    write_csv(data / "orders" / "a.csv", ["order_id", "customer_id", "ordered_at", "amount"], rows)
    pq.write_table(pa.table({
        "order_id": [f"p{i}" for i in range(len(PARQUET_INSTANTS))],
        "customer_id": ["c1"] * len(PARQUET_INSTANTS),
        "ordered_at": pa.array(PARQUET_INSTANTS, type=pa.timestamp("us", tz="America/New_York")),
        "amount": [20.5] * len(PARQUET_INSTANTS),
    }), data / "orders" / "b.parquet")
    # typed Parquet columns are taken as they are (no text parsing): a naive TIMESTAMP is local time
    # in the format's zone (UTC here, whatever the host's), a DATE is midnight, DECIMAL and integer
    # amounts are exact, and a null is missing like an empty text
    pq.write_table(pa.table({
        "order_id": [f"y{i}" for i in range(len(TYPED_ORDERS))],
        "customer_id": ["c1"] * len(TYPED_ORDERS),
        "ordered_at": pa.array([row[0] for row in TYPED_ORDERS], type=pa.timestamp("us")),
        "amount": pa.array([row[1] for row in TYPED_ORDERS], type=pa.decimal128(12, 2)),
        "discount_amount": pa.array([Decimal("1.25")] * len(TYPED_ORDERS), type=pa.decimal128(12, 2)),
    }), data / "orders" / "c.parquet")
    pq.write_table(pa.table({
        "order_id": ["z0"], "customer_id": ["c2"],
        "ordered_at": pa.array([date(2024, 3, 2)], type=pa.date32()), "amount": pa.array([7], type=pa.int64()),
    }), data / "orders" / "d.parquet")
    write_csv(data / "order_lines.csv", ["order_id", "product_id", "quantity", "amount"],
              [[" t0\u00a0", "17.0", "2", "1,5"], ["t1", "\ufeff18", "1", "7.25"]])
    write_csv(data / "products.csv", ["product_id", "unit_cost"], [["17", "3.5"], ["18.0 ", "1'000"]])
    write_csv(data / "customers.csv", ["customer_id", "signup_at"],
              [["\u00a0c1", "2023-01-01T10:00:00+01:00"], ["c2", "2023-01-01 10:00"], ["c3", "01/01/2023"]])
    write_csv(data / "events.csv", ["customer_id", "event_at", "event_type", "product_id"],
              [["c1 ", "2024-05-01T08:00:00-04:00", "visit", ""], ["c2", "1714550400", "visit", ""]])
    write_csv(data / "offer_sends.csv", ["send_id", "customer_id", "offer_id", "sent_at"],
              [["1.0", " c1", "early_access", "2024-05-01 10:00:00+02:00"], ["2", "c2", "early_access", "5/1/2024"]])
    run_build(data, work, {"max_quarantine_share": 1}, extra_env={"TZ": "America/New_York"})
    return work


def test_default_format_reads_iso_timestamps_and_applies_offsets(default_build: Path) -> None:
    rows = staged(default_build / "db.duckdb", "base_shop__orders_checked", "ordered_at", key="order_id")
    for i, (text, expected) in enumerate(DEFAULT_TIMESTAMPS):
        reason = None if expected else "unparseable_ordered_at"
        assert rows[f"t{i}"] == (expected, reason), text


def test_default_format_reads_numbers_as_before(default_build: Path) -> None:
    rows = staged(default_build / "db.duckdb", "base_shop__orders_checked", "amount", key="order_id")
    for i, (text, expected) in enumerate(DEFAULT_AMOUNTS):
        reason = None if expected is not None else "unparseable_amount"
        assert rows[f"a{i}"] == (expected, reason), text


def test_ids_are_trimmed_of_any_white_space_and_float_ids_are_integers(default_build: Path) -> None:
    database = default_build / "db.duckdb"
    rows = staged(database, "base_shop__orders_checked", "customer_id", key="order_id")
    for i, (text, expected) in enumerate(DEFAULT_CUSTOMER_IDS):
        assert rows[f"i{i}"] == (expected, None), repr(text)
    duplicates = query(database, "select source_row_number, order_id, quarantine_reason "
                                 "from staging.base_shop__orders_checked where order_id = '555' order by 1")
    assert [row[1:] for row in duplicates] == [("555", None), ("555", "exact_duplicate")]
    # every base model: ids, timestamps and numbers
    assert query(database, "select order_id, product_id, amount, quarantine_reason "
                           "from staging.base_shop__order_lines_checked order by 1") == [
        ("t0", "17", None, "unparseable_amount"), ("t1", "18", Decimal("7.25"), None)]
    assert query(database, "select product_id, unit_cost, quarantine_reason "
                           "from staging.base_shop__products_checked order by 1") == [
        ("17", Decimal("3.5"), None), ("18", None, "unparseable_unit_cost")]
    assert query(database, "select customer_id, signup_at, quarantine_reason "
                           "from staging.base_shop__customers_checked order by 1") == [
        ("c1", at(2023, 1, 1, 10, offset="+01:00"), None), ("c2", at(2023, 1, 1, 10), None),
        ("c3", None, "unparseable_signup_at")]
    assert query(database, "select customer_id, event_at, quarantine_reason "
                           "from staging.base_shop__events_checked order by 1") == [
        ("c1", at(2024, 5, 1, 8, offset="-04:00"), None), ("c2", None, "unparseable_event_at")]
    assert query(database, "select send_id, customer_id, sent_at, quarantine_reason "
                           "from staging.base_shop__offer_sends_checked order by 1") == [
        ("1", "c1", at(2024, 5, 1, 10, offset="+02:00"), None), ("2", "c2", None, "unparseable_sent_at")]


def test_parquet_timestamp_with_time_zone_lands_on_its_utc_instant_whatever_the_host_zone(
        default_build: Path) -> None:
    # built with TZ=America/New_York: neither naive texts above nor these instants moved
    rows = staged(default_build / "db.duckdb", "base_shop__orders_checked", "ordered_at", key="order_id")
    for i, instant in enumerate(PARQUET_INSTANTS):
        expected = instant.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        assert rows[f"p{i}"] == (expected, None), instant.isoformat()


def test_typed_parquet_columns_are_taken_without_their_text(default_build: Path) -> None:
    database = default_build / "db.duckdb"
    rows = staged(database, "base_shop__orders_checked", "ordered_at, amount_original", key="order_id",
                  where="source_file in ('orders/c.parquet', 'orders/d.parquet')")
    expected = {f"y{i}": row[2] for i, row in enumerate(TYPED_ORDERS)}
    expected["z0"] = (at(2024, 3, 2), Decimal(7), None)
    assert rows == expected
    # the values were not parsed from text, so no text is kept for them
    assert query(database, "select count(*), count(ordered_at_text), count(amount_text), count(discount_amount_text),"
                           " sum(discount_amount) from staging.base_shop__orders_checked"
                           " where source_file = 'orders/c.parquet'") == [(4, 0, 0, 0, Decimal("5.00"))]


def test_rows_the_reader_could_not_parse_are_quarantined_with_its_reason(default_build: Path,
                                                                          tmp_path: Path) -> None:
    # The raw views fill read_error for damaged rows (their contract columns null). Until a file
    # can produce one here, the rows are added to the raw view and the models' compiled SQL is run.
    database = tmp_path / "db.duckdb"
    database.write_bytes((default_build / "db.duckdb").read_bytes())
    compiled = default_build / "target" / "compiled" / "loyalty_segments" / "models" / "staging" / "shop" / "base"
    reasons = ["malformed_row_quote", "invalid_encoding"]
    with duckdb.connect(str(database)) as connection:
        for entity in ["orders", "order_lines", "products", "customers", "events", "offer_sends"]:
            connection.execute(f"alter view raw.{entity} rename to {entity}_files")
            damaged = " union all by name ".join(
                f"select 'broken.csv' as source_file, {row}::bigint as source_row_number, '{reason}' as read_error"
                for row, reason in enumerate(reasons, start=1))
            connection.execute(f"create view raw.{entity} as select * from raw.{entity}_files "
                               f"union all by name {damaged}")
            sql = (compiled / f"base_shop__{entity}_checked.sql").read_text()
            got = connection.sql(f"select source_row_number, quarantine_reason from ({sql}) as model "
                                 "where source_file = 'broken.csv' order by 1").fetchall()
            assert got == list(enumerate(reasons, start=1)), entity


# --- a format file: every entity written its own way ------------------------------------------------

FORMAT = """
orders:
  date_order: DMY
  time_zone: Europe/Berlin
  decimal_separator: ","
  thousands_separator: "."
  continuation_row_when_empty: amount
order_lines:
  decimal_separator: ","
  thousands_separator: " "
products:
  thousands_separator: "'"
customers:
  date_order: MDY
  time_zone: America/New_York
events:
  timestamp_unit: epoch_seconds
offer_sends:
  timestamp_unit: epoch_milliseconds
  time_zone: Asia/Kolkata
"""

BERLIN = "Europe/Berlin"
# naive wall times of a typed Parquet file read with time_zone Europe/Berlin: summer, winter, and
# the hour skipped when summer time starts
BERLIN_TYPED = [
    (datetime(2024, 7, 1, 12), local(BERLIN, 2024, 7, 1, 12)),
    (datetime(2024, 1, 15, 8, 30), local(BERLIN, 2024, 1, 15, 8, 30)),
    (datetime(2024, 3, 31, 2, 30), local(BERLIN, 2024, 3, 31, 2, 30)),
]
DMY_TIMESTAMPS = [
    ("01.03.2024", local(BERLIN, 2024, 3, 1)),
    ("01/03/2024 08:26", local(BERLIN, 2024, 3, 1, 8, 26)),
    ("1/3/2024 8:26", local(BERLIN, 2024, 3, 1, 8, 26)),
    ("01-03-2024", local(BERLIN, 2024, 3, 1)),
    ("1.3.2024 8:26:15.25", local(BERLIN, 2024, 3, 1, 8, 26, 15, 250000)),
    ("15.07.2024 8:26 PM", local(BERLIN, 2024, 7, 15, 20, 26)),
    ("15/07/2024 12:05 AM", local(BERLIN, 2024, 7, 15, 0, 5)),
    ("15/07/2024 12:05 pm", local(BERLIN, 2024, 7, 15, 12, 5)),
    ("31.03.2024 02:30", local(BERLIN, 2024, 3, 31, 2, 30)),     # skipped by summer time
    ("27.10.2024 02:30", local(BERLIN, 2024, 10, 27, 2, 30)),    # repeated when it ends
    ("27.10.2024 01:59:59", local(BERLIN, 2024, 10, 27, 1, 59, 59)),
    ("2024-03-01 10:00", local(BERLIN, 2024, 3, 1, 10)),         # ISO is read under any date order
    ("2024-03-01T10:00:00Z", at(2024, 3, 1, 10)),
    ("01.03.2024 10:00 +0200", at(2024, 3, 1, 10, offset="+02:00")),
    ("1/3/2024 8:26 PM -05:00", at(2024, 3, 1, 20, 26, offset="-05:00")),
    ("15/07/2024 13:05 PM", None),
    ("15/07/2024 0:05 AM", None),
    ("01.03-2024", None),       # one separator, twice
    ("32.01.2024", None),
    ("13/25/2024", None),
    ("2024/03/01", None),       # year first is ISO: with '-'
    ("1709251200", None),
]

DMY_AMOUNTS = [
    ("1.234,56", Decimal("1234.56")), ("-1.234,5", Decimal("-1234.5")), ("12,5", Decimal("12.5")),
    ("1234,5", Decimal("1234.5")), ("1.234.567", Decimal(1234567)), ("+7,25", Decimal("7.25")),
    ("1.50", None), ("1,234.56", None), ("12,", None), ("1.2345,6", None), ("5-", None),
]

NEW_YORK = "America/New_York"
MDY_SIGNUPS = [
    ("03/10/2024 02:30", local(NEW_YORK, 2024, 3, 10, 2, 30)),   # skipped by summer time
    ("11/03/2024 01:30", local(NEW_YORK, 2024, 11, 3, 1, 30)),   # repeated when it ends
    ("3/1/2024", local(NEW_YORK, 2024, 3, 1)),
    ("12/31/2023 11:59 PM", local(NEW_YORK, 2023, 12, 31, 23, 59)),
    ("2023-07-01 12:00", local(NEW_YORK, 2023, 7, 1, 12)),
    ("31/12/2023", None),
]

EPOCH_EVENTS = [
    ("1709251200", epoch("1709251200"), None),
    ("1709251200.25", epoch("1709251200.25"), None),
    ("1709251200.1234567", epoch("1709251200.1234567"), None),
    ("2024-03-01T10:00:00+01:00", at(2024, 3, 1, 10, offset="+01:00"), None),
    ("2024-03-01 10:00", at(2024, 3, 1, 10), None),
    ("86400", epoch("86400"), None),                          # 1970-01-02: after min_valid_date
    ("-1", epoch("-1"), "implausible_event_at"),              # 1969-12-31 23:59:59: before it
    ("1709251200123", None, "unparseable_event_at"),          # milliseconds, not seconds
    ("1.7e9", None, "unparseable_event_at"),
]

EPOCH_MS_SENDS = [
    ("1709251200123", epoch("1709251200123", "ms")),
    ("1709251200123.5", epoch("1709251200123.5", "ms")),
    ("2024-03-01 10:00", local("Asia/Kolkata", 2024, 3, 1, 10)),
    ("1709251200", epoch("1709251200", "ms")),   # 1970-01-20: read as milliseconds, as declared
]


def write_format_folder(data: Path) -> None:
    rows = [[f"t{i}", f"c{i % 5}", text, "10"] for i, (text, _) in enumerate(DMY_TIMESTAMPS)]
    rows += [[f"a{i}", f"c{i % 5}", "01.05.2024", text] for i, (text, _) in enumerate(DMY_AMOUNTS)]
    # Shopify-style: the later rows of an order carry only line-item fields
    rows += [
        ["S1", "c1", "02.05.2024 10:00", "30,00"],
        ["S1", "", "", ""],             # continuation of S1
        ["S1", "", "", ""],             # and another
        ["S2", "c2", "", ""],           # no earlier S2 row: missing values, not a continuation
        ["S2", "c2", "02.05.2024 11:00", "15,00"],
    ]
    write_csv(data / "orders" / "2024-05.csv", ["order_id", "customer_id", "ordered_at", "amount"], rows)
    # a typed Parquet timestamp is local time in the format's zone, like text without an offset
    pq.write_table(pa.table({
        "order_id": [f"y{i}" for i in range(len(BERLIN_TYPED))], "customer_id": ["c1"] * len(BERLIN_TYPED),
        "ordered_at": pa.array([wall for wall, _ in BERLIN_TYPED], type=pa.timestamp("ms")),
        "amount": pa.array([Decimal("15.00")] * len(BERLIN_TYPED), type=pa.decimal128(10, 2)),
    }), data / "orders" / "2024-05-typed.parquet")
    write_csv(data / "order_lines.csv", ["order_id", "product_id", "quantity", "amount", "unit_price"], [
        ["t0", "p1", "1 000", "1\u00a0234,56", "1,23456"],
        ["t1", "p1", "2", "1\u202f234,5", "617,25"],
        ["t2", "p1", "1", "1234.56", ""],
    ])
    write_csv(data / "products.csv", ["product_id", "unit_cost"], [
        ["p1", "1'234.50"], ["p2", "1\u2019234.5"], ["p3", "12.5"], ["p4", "12'34.5"], ["p5", "1,234.5"]])
    write_csv(data / "customers.csv", ["customer_id", "signup_at"],
              [[f"c{i}", text] for i, (text, _) in enumerate(MDY_SIGNUPS)])
    write_csv(data / "events.csv", ["customer_id", "event_at", "event_type"],
              [[f"c{i}", text, "visit"] for i, (text, _, _) in enumerate(EPOCH_EVENTS)])
    write_csv(data / "offer_sends.csv", ["send_id", "customer_id", "offer_id", "sent_at"],
              [[f"s{i}", "c1", "early_access", text] for i, (text, _) in enumerate(EPOCH_MS_SENDS)])


@pytest.fixture(scope="module")
def format_build(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Builds the folder with the format file, then again after a later file corrects order S1."""
    work = tmp_path_factory.mktemp("format_file")
    data = work / "data"
    write_format_folder(data)
    input_format = work / "format.yml"
    input_format.write_text(FORMAT)
    run_build(data, work, {"max_quarantine_share": 1}, input_format=input_format)
    database = work / "db.duckdb"
    first = {
        "orders": staged(database, "base_shop__orders_checked", "order_id, ordered_at, amount",
                         where="source_file like '%.csv'"),
        "typed_orders": staged(database, "base_shop__orders_checked", "ordered_at", key="order_id",
                               where="source_file like '%.parquet'"),
        "order_lines": staged(database, "base_shop__order_lines_checked", "quantity, amount, unit_price"),
        "products": staged(database, "base_shop__products_checked", "unit_cost", key="product_id"),
        "customers": staged(database, "base_shop__customers_checked", "signup_at", key="customer_id"),
        "events": staged(database, "base_shop__events_checked", "event_at", key="customer_id"),
        "offer_sends": staged(database, "base_shop__offer_sends_checked", "sent_at", key="send_id"),
    }
    write_csv(data / "orders" / "2024-06.csv", ["order_id", "customer_id", "ordered_at", "amount"],
              [["S1", "c1", "02.05.2024 10:00", "31,00"]])
    run_build(data, work, {"max_quarantine_share": 1}, input_format=input_format)
    corrected = query(database, "select source_file, source_row_number, amount, quarantine_reason "
                                "from staging.base_shop__orders_checked where order_id = 'S1' order by 1, 2")
    return {"first": first, "corrected": corrected}


def test_day_first_dates_local_times_and_summer_time(format_build: dict) -> None:
    rows = format_build["first"]["orders"]
    for i, (text, expected) in enumerate(DMY_TIMESTAMPS):
        reason = None if expected else "unparseable_ordered_at"
        assert rows[i + 1] == (f"t{i}", expected, Decimal(10), reason), text


def test_typed_parquet_timestamps_are_local_time_in_the_formats_zone(format_build: dict) -> None:
    assert format_build["first"]["typed_orders"] == {
        f"y{i}": (expected, None) for i, (_, expected) in enumerate(BERLIN_TYPED)}


def test_numbers_with_the_formats_separators(format_build: dict) -> None:
    rows = format_build["first"]["orders"]
    offset = len(DMY_TIMESTAMPS) + 1
    for i, (text, expected) in enumerate(DMY_AMOUNTS):
        reason = None if expected is not None else "unparseable_amount"
        assert rows[offset + i] == (f"a{i}", local(BERLIN, 2024, 5, 1), expected, reason), text
    assert format_build["first"]["order_lines"] == {
        1: (Decimal(1000), Decimal("1234.56"), Decimal("1.2346"), None),   # money_type has 4 decimals
        2: (Decimal(2), Decimal("1234.5"), Decimal("617.25"), None),
        3: (Decimal(1), None, None, "unparseable_amount"),
    }
    assert format_build["first"]["products"] == {
        "p1": (Decimal("1234.50"), None), "p2": (Decimal("1234.5"), None), "p3": (Decimal("12.5"), None),
        "p4": (None, "unparseable_unit_cost"), "p5": (None, "unparseable_unit_cost"),
    }


def test_month_first_dates_in_new_york(format_build: dict) -> None:
    rows = format_build["first"]["customers"]
    for i, (text, expected) in enumerate(MDY_SIGNUPS):
        reason = None if expected else "unparseable_signup_at"
        assert rows[f"c{i}"] == (expected, reason), text


def test_unix_time_in_seconds_and_milliseconds(format_build: dict) -> None:
    events = format_build["first"]["events"]
    for i, (text, expected, reason) in enumerate(EPOCH_EVENTS):
        assert events[f"c{i}"] == (expected, reason), text
    sends = format_build["first"]["offer_sends"]
    for i, (text, expected) in enumerate(EPOCH_MS_SENDS):
        assert sends[f"s{i}"] == (expected, None), text


def test_continuation_rows_of_an_order_are_not_bad_rows(format_build: dict) -> None:
    rows = format_build["first"]["orders"]
    start = len(DMY_TIMESTAMPS) + len(DMY_AMOUNTS) + 1
    assert [rows[start + i][0:1] + rows[start + i][2:] for i in range(5)] == [
        ("S1", Decimal(30), None),
        ("S1", None, "continuation_row"),
        ("S1", None, "continuation_row"),
        ("S2", None, "missing_ordered_at"),
        ("S2", Decimal(15), None),
    ]
    # a correction of S1 in a later file supersedes its first row; the continuation rows stay
    # what they are (the incremental run classifies the loaded rows of S1 again)
    assert format_build["corrected"] == [
        ("orders/2024-05.csv", start, Decimal(30), "superseded_by_later_file"),
        ("orders/2024-05.csv", start + 1, None, "continuation_row"),
        ("orders/2024-05.csv", start + 2, None, "continuation_row"),
        ("orders/2024-06.csv", 1, Decimal(31), None),
    ]


# --- what stops the build ---------------------------------------------------------------------------

def test_quality_gate_names_the_setting_behind_each_reason(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rows = [[f"o{i}", f"c{i % 5}", f"2024-04-{1 + i:02d} 10:00:00", "10.00"] for i in range(20)]
    rows += [[f"o{i}", "", "", ""] for i in range(20)]       # 20 continuation rows: not bad rows
    rows += [
        ["b1", "c1", "1969-12-31 23:59:59", "1"],            # implausible_ordered_at
        ["b2", "c1", "2999-01-01", "1"],                     # future_ordered_at
        ["b3", "c1", "2024-01-01", "1.234,50"],              # unparseable_amount
        ["b4", "c1", "01.02.2024", "1"],                     # unparseable_ordered_at
    ]
    write_csv(data / "orders.csv", ["order_id", "customer_id", "ordered_at", "amount", "currency", "status"],
              [row + ["", ""] for row in rows] + [["b5", "c1", "2024-01-01", "1", "XXX", ""],
                                                  ["b6", "c1", "2024-01-01", "1", "", "lost"]])
    input_format = tmp_path / "format.yml"
    input_format.write_text("orders:\n  continuation_row_when_empty: amount\n")
    result = run_build(data, tmp_path, input_format=input_format, check=False)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert "Quality gate: 6 of 46 orders rows (13.04%) were quarantined" in out
    assert ("orders.csv: 1 x implausible_ordered_at (first at row 41): ordered_at before var min_valid_date"
            " (now 1970-01-01): set min_valid_date") in out
    assert "future_ordered_at (first at row 42): ordered_at after the later of the run day and as_of_date" in out
    assert "set var as_of_date or future_tolerance_days" in out
    assert ("unparseable_amount (first at row 43): amount must be a number written with the decimal_separator"
            " (now '.') and thousands_separator (now none) of the input format (orders in ") in out
    assert ("unparseable_ordered_at (first at row 44): ordered_at must be ISO 8601 (2024-03-01 14:05:00,"
            " 2024-03-01T14:05:00+02:00) or as date_order (now YMD), time_zone (now UTC) and timestamp_unit"
            " (now text)") in out
    assert "unknown_currency (first at row 45): currency not in seeds/currencies.csv" in out
    assert "unknown_status (first at row 46): status not in seeds/order_statuses.csv" in out
    assert "continuation_row" not in out


@pytest.mark.parametrize(
    ("format_text", "variables", "message"),
    [
        ("events:\n  time_zone: Mars/Olympus_Mons\n", {},
         "Unknown time zone 'Mars/Olympus_Mons' (set by events.time_zone in the input format file "),
        ("", {"source_time_zone": "Europe/Atlantis"},
         "Unknown time zone 'Europe/Atlantis' (set by var source_time_zone)"),
    ],
)
def test_unknown_time_zone_stops_naming_the_option(tmp_path: Path, format_text: str, variables: dict,
                                                   message: str) -> None:
    data = tmp_path / "data"
    write_csv(data / "orders.csv", ["order_id", "customer_id", "ordered_at", "amount"], [["o1", "c1", "2024-01-01", "1"]])
    input_format = tmp_path / "format.yml"
    input_format.write_text(format_text)
    result = dbt(["compile", "--select", "base_shop__events_checked", "--vars", json.dumps(variables)],
                 data, tmp_path / "db.duckdb", tmp_path, check=False,
                 extra_env={"LOYALTY_INPUT_FORMAT": str(input_format)})
    assert result.returncode != 0
    assert message in " ".join(result.stdout.split())
