"""Print a short summary of a built Loyalty Segments database.

Customers per RFM segment and per lifecycle status, the revenue share of the top 20% of customers,
the quarantine count, and where the database file is. Reads the marts only, read-only.

Exit status: 0 when the summary is printed (also for a database whose marts are empty), 1 when the
file cannot be opened as a DuckDB database or lacks the marts (the build did not finish), 2 when
there is no file.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

REQUIRED_TABLES = ("dim_customers", "fct_kpi_summary", "fct_input_reconciliation")
NOT_AVAILABLE = "n/a"


class UnusableDatabase(Exception):
    """The file is not a DuckDB database with the marts this summary reads."""


def fetch_summary(database: Path) -> dict:
    """Read the numbers the summary prints from the marts of ``database``."""
    try:
        connection = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as error:
        raise UnusableDatabase(f"Cannot open {database} as a DuckDB database: {error}") from error
    with connection:
        present = {
            name for (name,) in connection.sql(
                "select table_name from duckdb_tables() where schema_name = 'marts' "
                "union all select view_name from duckdb_views() where schema_name = 'marts'"
            ).fetchall()
        }
        missing = [f"marts.{name}" for name in REQUIRED_TABLES if name not in present]
        if missing:
            raise UnusableDatabase(
                f"{database} has no {', '.join(missing)}: the build did not finish (or this is not a "
                "Loyalty Segments database). Run `make run` or `dbt build` and read the error it stops with."
            )
        segments = connection.sql(
            """
            select coalesce(rfm_segment, '(no purchase)') as segment, count(*) as customers
            from marts.dim_customers group by 1 order by 2 desc, 1
            """
        ).fetchall()
        lifecycle = connection.sql(
            """
            select lifecycle_status, count(*) as customers
            from marts.dim_customers group by 1 order by 2 desc, 1
            """
        ).fetchall()
        kpis = connection.sql(
            """
            select as_of_date, customers_count, pareto_top_share, top_customers_revenue_share,
                   repeat_customer_rate, net_revenue
            from marts.fct_kpi_summary
            """
        ).fetchone()
        quarantine = connection.sql(
            """
            select entity, sum(raw_rows), sum(bad_rows), sum(superseded_rows)
            from marts.fct_input_reconciliation group by 1 order by 1
            """
        ).fetchall()
    return {"segments": segments, "lifecycle": lifecycle, "kpis": kpis, "quarantine": quarantine}


def _formatted(value: object, spec: str, align: str = "") -> str:
    """``value`` formatted with ``align`` + ``spec``; n/a (aligned alike) for a missing value."""
    return format(NOT_AVAILABLE, align) if value is None else format(value, align + spec)


def format_summary(summary: dict, database: Path) -> str:
    """Render the summary as plain text; missing or null numbers print as n/a."""
    total = sum(count for _, count in summary["segments"])
    as_of_date, customers, top_share, top_revenue_share, repeat_rate, net_revenue = (
        summary["kpis"] or (None, total, None, None, None, None))
    headline = (
        f"Loyalty Segments as of {as_of_date or NOT_AVAILABLE}: {_formatted(customers, ',')} customers, "
        f"net revenue {_formatted(net_revenue, ',.2f')}"
    )
    lines = [headline]
    if summary["kpis"] is None:
        lines.append("(marts.fct_kpi_summary has no row)")
    if not total:
        lines.append(
            "No customers in marts.dim_customers: no order with a customer id on or before as_of_date. "
            "Check the input folder, its customer_id column and as_of_date."
        )
    lines.append("\nCustomers per RFM segment:")
    lines += [f"  {name:<22} {count:>9,}  {count / (total or 1):6.1%}" for name, count in summary["segments"]]
    lines.append("\nCustomers per lifecycle status:")
    lines += [
        f"  {name or '(none)':<22} {count:>9,}  {count / (total or 1):6.1%}" for name, count in summary["lifecycle"]
    ]
    lines.append(
        f"\nTop {_formatted(top_share, '.0%')} of customers bring {_formatted(top_revenue_share, '.1%')} of "
        f"net revenue; repeat customers: {_formatted(repeat_rate, '.1%')}"
    )
    lines.append("\nInput rows (read / quarantined / superseded by a later file):")
    lines += [
        f"  {entity or '(none)':<12} {_formatted(raw, ',', '>11')} {_formatted(bad, ',', '>9')} "
        f"{_formatted(superseded, ',', '>9')}"
        for entity, raw, bad, superseded in summary["quarantine"]
    ]
    lines.append(f"\nDatabase: {database.resolve()}  (marts.dim_customers, marts.fct_kpis_monthly, …)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database",
        type=Path,
        default=Path(os.environ.get("DBT_DUCKDB_PATH", "data/loyalty.duckdb")),
        help="DuckDB file built by dbt (default: $DBT_DUCKDB_PATH or data/loyalty.duckdb)",
    )
    args = parser.parse_args(argv)
    if not args.database.exists():
        print(f"No database at {args.database}: run `make run` (or dbt build) first.", file=sys.stderr)
        return 2
    if not args.database.is_file():
        print(f"{args.database} is not a file: expected the DuckDB database built by dbt.", file=sys.stderr)
        return 1
    try:
        summary = fetch_summary(args.database)
    except UnusableDatabase as error:
        print(error, file=sys.stderr)
        return 1
    except duckdb.Error as error:
        print(f"Cannot read the marts in {args.database}: {error}", file=sys.stderr)
        return 1
    print(format_summary(summary, args.database))
    return 0


if __name__ == "__main__":
    sys.exit(main())
