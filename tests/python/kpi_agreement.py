"""Where the KPI marts and dim_customers state the same number, they must state the same value:
every headline of fct_kpi_summary is recomputed here from dim_customers alone, and every total of
fct_kpis_monthly's 'All customers' rows (and of its segment rows) from dim_customers too."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from dbt_project_runner import query

SUMMARY = ("customers_count", "repeat_customers_count", "orders_count", "net_revenue", "avg_days_between_purchases",
           "avg_ltv", "margin_amount", "active_customers_count", "churned_customers_count")


def disagreements(database: Path) -> list[tuple[str, object, object]]:
    """(what, stated by a KPI mart, recomputed from dim_customers) for every number that differs."""
    customers = query(database, """
        select customer_id, orders_count, purchase_days_count, is_repeat_customer, net_revenue, margin_amount,
               first_purchase_date, last_purchase_date, lifecycle_status, rfm_segment
        from marts.dim_customers where orders_count > 0
    """)
    buyers = [dict(zip(("id", "orders", "days", "repeat", "net", "margin", "first", "last", "status", "segment"), row))
              for row in customers]
    repeat = [c for c in buyers if c["days"] >= 2]
    gaps = sum(c["days"] - 1 for c in repeat)
    statuses = Counter(c["status"] for c in buyers)
    expected = {
        "customers_count": len(buyers),
        "repeat_customers_count": len(repeat),
        "orders_count": sum(c["orders"] for c in buyers),
        "net_revenue": sum((c["net"] for c in buyers), Decimal(0)),
        "avg_days_between_purchases": sum((c["last"] - c["first"]).days for c in repeat) / gaps if gaps else None,
        "avg_ltv": float(sum((c["net"] for c in buyers), Decimal(0))) / len(buyers),
        # null when no order has a known cost (Online Retail has no unit costs)
        "margin_amount": sum((c["margin"] for c in buyers if c["margin"] is not None), Decimal(0))
        if any(c["margin"] is not None for c in buyers) else None,
        "active_customers_count": statuses["active"],
        "churned_customers_count": statuses["churned"],
    }
    [summary] = query(database, f"select {', '.join(SUMMARY)} from marts.fct_kpi_summary")
    found = []
    for name, stated in zip(SUMMARY, summary):
        want = expected[name]
        same = stated == pytest.approx(want, rel=1e-9) if isinstance(want, float) else stated == want
        if not same:
            found.append((f"fct_kpi_summary.{name}", stated, want))
    found += [(f"dim_customers.is_repeat_customer of {c['id']}", c["repeat"], c["days"] >= 2)
              for c in buyers if c["repeat"] != (c["days"] >= 2)]

    # fct_kpis_monthly, all months together: orders, revenue, margin and customers acquired add up
    # to the customers' totals, overall and per segment (a customer has one segment).
    monthly = query(database, """
        select rfm_segment, sum(orders_count), sum(net_revenue), sum(margin_amount), sum(new_customers_count)
        from marts.fct_kpis_monthly group by rfm_segment
    """)
    per_segment: dict[str, list] = {}
    for c in buyers:
        for key in (c["segment"], "All customers"):
            totals = per_segment.setdefault(key, [0, Decimal(0), Decimal(0), 0])
            totals[0] += c["orders"]
            totals[1] += c["net"]
            totals[2] += c["margin"] or 0
            totals[3] += 1
    for segment, orders, net, margin, new in monthly:
        want = per_segment.get(segment)
        got = [orders, net, margin or Decimal(0), new]
        if want is None or [int(got[0]), Decimal(got[1]), Decimal(got[2]), int(got[3])] != want:
            found.append((f"fct_kpis_monthly totals of {segment}", got, want))
    [(days, gaps_by_month)] = query(database, """
        select sum(days_between_purchases), sum(repeat_purchase_days_count)
        from marts.fct_kpis_monthly where rfm_segment = 'All customers'
    """)
    if (int(days or 0), int(gaps_by_month or 0)) != (sum((c["last"] - c["first"]).days for c in repeat), gaps):
        found.append(("fct_kpis_monthly gaps between purchase days, all months", (days, gaps_by_month),
                      (sum((c["last"] - c["first"]).days for c in repeat), gaps)))
    missing = set(per_segment) - {row[0] for row in monthly}
    found += [(f"fct_kpis_monthly has no rows for {segment}", None, per_segment[segment]) for segment in missing]
    return found
