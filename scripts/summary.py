"""Print a short summary of a built Loyalty Segments database.

Customers per RFM segment and per lifecycle status, the revenue share of the top 20% of customers,
the quarantine count, and where the database file is. Reads the marts only, read-only.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb


def fetch_summary(database: Path) -> dict:
    """Read the numbers the summary prints from the marts of ``database``."""
    with duckdb.connect(str(database), read_only=True) as connection:
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


def format_summary(summary: dict, database: Path) -> str:
    """Render the summary as plain text."""
    as_of_date, customers, top_share, top_revenue_share, repeat_rate, net_revenue = summary["kpis"]
    lines = [f"Loyalty Segments as of {as_of_date}: {customers:,} customers, net revenue {net_revenue:,.2f}"]
    total = sum(count for _, count in summary["segments"]) or 1
    lines.append("\nCustomers per RFM segment:")
    lines += [f"  {name:<22} {count:>9,}  {count / total:6.1%}" for name, count in summary["segments"]]
    lines.append("\nCustomers per lifecycle status:")
    lines += [f"  {name:<22} {count:>9,}  {count / total:6.1%}" for name, count in summary["lifecycle"]]
    lines.append(
        f"\nTop {top_share:.0%} of customers bring {top_revenue_share:.1%} of net revenue; "
        f"repeat customers: {repeat_rate:.1%}"
    )
    lines.append("\nInput rows (read / quarantined / superseded by a later file):")
    lines += [f"  {entity:<12} {raw:>11,} {bad:>9,} {superseded:>9,}" for entity, raw, bad, superseded in summary["quarantine"]]
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
    try:
        summary = fetch_summary(args.database)
    except duckdb.Error as error:
        print(f"Cannot read the marts in {args.database}: {error}", file=sys.stderr)
        return 1
    print(format_summary(summary, args.database))
    return 0


if __name__ == "__main__":
    sys.exit(main())
