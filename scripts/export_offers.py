"""Write this run's offers for a CRM: one file per channel, consenting customers only.

Reads the serving database the nightly job published (``data/loyalty.duckdb`` by default, never
the working database a build may be writing): ``marts.fct_offer_assignments`` (one offer per customer),
``marts.fct_offer_coverage`` (what each offer's message carries) and ``marts.dim_customers``
(consent, checked again here). Held-out customers are never exported. A customer is exported on a
channel only when their consent on it is true, or unknown and ``--explicit-consent-only`` is not
given (the offers stage itself sends to unknown consent only when var ``offer_unknown_consent`` is
``allow``); opted-out customers never are.

Each channel's file has only the columns its offers need: the customer, offer and validity
columns, ``cashback_amount`` when a cashback offer goes out on the channel, ``discount_share`` when
a price discount does, and the personalisation values (favourite category, usual weekday, amount to
VIP, purchase count) of the channel's offers. Internal columns (costs, holdout, segments,
priorities) never leave the database.

Usage:

    python scripts/export_offers.py --database data/loyalty.duckdb --out exports/offers \
        [--format csv|parquet] [--channels email sms push] [--explicit-consent-only]

Exit codes: 0 files written, 1 the database or a mart is missing or a file cannot be written,
2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

CHANNELS = ("email", "sms", "push")
FORMATS = ("csv", "parquet")
BASE_COLUMNS = ("customer_id", "offer_id", "offer_name", "valid_from", "valid_to")
PERSONALISATION_COLUMNS = ("favourite_category", "usual_purchase_weekday", "amount_to_top_ltv", "orders_count")
REQUIRED_RELATIONS = ("marts.fct_offer_assignments", "marts.fct_offer_coverage", "marts.dim_customers")


class ExportError(Exception):
    """The export cannot be done (missing database or mart, unwritable output)."""


@dataclass(frozen=True)
class ChannelExport:
    """One file written: its channel, path, columns, rows, and the rows left out for consent."""

    channel: str
    path: Path
    columns: tuple[str, ...]
    rows: int
    skipped_for_consent: int


def connect(database: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a built database that holds the offers marts."""
    if not database.is_file():
        raise ExportError(f"{database}: database file not found (run dbt build first)")
    try:
        connection = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as error:
        raise ExportError(f"{database}: cannot open ({error})") from error
    existing = {
        f"{schema}.{name}"
        for schema, name in connection.sql(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    missing = [relation for relation in REQUIRED_RELATIONS if relation not in existing]
    if missing:
        connection.close()
        raise ExportError(f"{database}: missing {', '.join(missing)} (run dbt build with the offers models)")
    return connection


def channel_columns(connection: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """The columns each channel's file carries, from what the channel's offers need."""
    rows = connection.sql(
        "select channel, is_cashback, is_price_discount, personalised_field from marts.fct_offer_coverage"
    ).fetchall()
    columns: dict[str, tuple[str, ...]] = {}
    for channel in CHANNELS:
        offers = [row for row in rows if row[0] == channel]
        extra: list[str] = []
        if any(is_cashback for _, is_cashback, _, _ in offers):
            extra.append("cashback_amount")
        if any(is_discount for _, _, is_discount, _ in offers):
            extra.append("discount_share")
        fields = {field for *_, field in offers if field}
        unknown = fields - set(PERSONALISATION_COLUMNS)
        if unknown:
            raise ExportError(f"unknown personalisation fields in fct_offer_coverage: {sorted(unknown)}")
        extra.extend(column for column in PERSONALISATION_COLUMNS if column in fields)
        columns[channel] = BASE_COLUMNS + tuple(extra)
    return columns


def channel_query(channel: str, columns: tuple[str, ...], explicit_consent_only: bool) -> tuple[str, str]:
    """(rows to export, count of rows left out for consent) of one channel, as SQL."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    consent = f"customers.consent_{channel}"
    allowed = f"{consent} is true" if explicit_consent_only else f"{consent} is distinct from false"
    source = f"""
        from marts.fct_offer_assignments as assignments
        inner join marts.dim_customers as customers
            on assignments.customer_id = customers.customer_id
        where assignments.channel = '{channel}' and not assignments.is_holdout
    """
    selected = ", ".join(f"assignments.{column}" for column in columns)
    rows = f"select {selected} {source} and {allowed} order by assignments.customer_id"
    skipped = f"select count(*) {source} and not ({allowed})"
    return rows, skipped


def export(
    database: Path,
    out: Path,
    file_format: str = "csv",
    channels: tuple[str, ...] = CHANNELS,
    explicit_consent_only: bool = False,
) -> list[ChannelExport]:
    """Write one file per channel into ``out``; returns what was written."""
    if file_format not in FORMATS:
        raise ValueError(f"file_format must be one of {FORMATS}, got {file_format!r}")
    connection = connect(database)
    try:
        columns = channel_columns(connection)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ExportError(f"{out}: cannot create the output folder ({error})") from error
        written = []
        for channel in channels:
            rows_sql, skipped_sql = channel_query(channel, columns[channel], explicit_consent_only)
            table = connection.sql(rows_sql).arrow()
            if hasattr(table, "read_all"):  # a RecordBatchReader on newer DuckDB versions
                table = table.read_all()
            [(skipped,)] = connection.sql(skipped_sql).fetchall()
            path = out / f"offers_{channel}.{file_format}"
            try:
                if file_format == "csv":
                    pa_csv.write_csv(table, path)
                else:
                    pq.write_table(table, path)
            except OSError as error:
                raise ExportError(f"{path}: cannot write ({error})") from error
            written.append(ChannelExport(channel, path, columns[channel], table.num_rows, int(skipped)))
        return written
    finally:
        connection.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Write this run's offers (marts.fct_offer_assignments) as one file per channel for a "
            "CRM: consenting customers only, no held-out customers, and only the columns the "
            "channel's offers need."
        ),
        epilog="Exit codes: 0 written, 1 missing database or marts or unwritable output, 2 bad arguments.",
    )
    parser.add_argument("--database", type=Path, required=True, help="the DuckDB file dbt built")
    parser.add_argument("--out", type=Path, required=True, help="folder to write offers_<channel>.<format> into")
    parser.add_argument("--format", choices=FORMATS, default="csv", help="file format (default: %(default)s)")
    parser.add_argument(
        "--channels", nargs="+", choices=CHANNELS, default=list(CHANNELS),
        help="channels to write (default: all)",
    )
    parser.add_argument(
        "--explicit-consent-only", action="store_true",
        help="export only customers who opted in on the channel (default: also those whose consent is unknown)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        written = export(
            args.database, args.out, args.format, tuple(dict.fromkeys(args.channels)),
            args.explicit_consent_only,
        )
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for item in written:
        print(
            f"{item.channel:<6} {item.rows:>8} offers  {item.skipped_for_consent:>6} left out for consent  "
            f"{item.path}  ({', '.join(item.columns)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
