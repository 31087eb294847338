"""End-to-end build on generated demo data, checked against an independent computation from the
raw files: every row's fate (staged or quarantined, and why), every customer's facts, scores and
lifecycle status, the Pareto share and monthly repeat KPIs.

The data ends on a fixed day (END_DATE), so nothing here depends on the day the test runs: every
generated timestamp is on or before END_DATE or (the deliberately "future" rows) in 2099."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import reference_model as ref
from dbt_project_runner import REPO, build, dbt, query
from kpi_agreement import disagreements

CUSTOMERS = 3000
END_DATE = date(2025, 6, 30)
# No generated timestamp lies between as_of_date and this, so a run on any day before 2088 holds
# back the same rows as future_ordered_at (see classify_raw_orders).
FAR_FUTURE = datetime(2090, 1, 1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("demo")
    data_dir = work / "data"
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate_data.py"), "--out", str(data_dir),
         "--customers", str(CUSTOMERS), "--seed", "7", "--end-date", END_DATE.isoformat(), "--quiet"],
        check=True,
    )
    meta = json.loads((data_dir / "_generator.json").read_text())
    as_of = date.fromisoformat(meta["history"]["end_date"]) + timedelta(days=1)
    database = work / "demo.duckdb"
    build(data_dir, database, work, as_of.isoformat())
    return {"data_dir": data_dir, "database": database, "meta": meta, "as_of": as_of}


def _seed(name: str) -> list[dict[str, str]]:
    with open(REPO / "seeds" / f"{name}.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _parse_timestamp(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def classify_raw_orders(data_dir: Path, as_of: date) -> tuple[list[ref.Order], Counter]:
    """Apply the documented quality rules to the raw order files, in plain Python.

    A timestamp is future when it is on or after the later of the run day and as_of, plus
    future_tolerance_days (1) and a day. The run day is not known here, so the rule is applied
    with the earliest cut-off (as_of's), and no timestamp may lie between that and FAR_FUTURE:
    then every run day up to 2088 gives the same classification."""
    rates = {row["currency_code"]: Decimal(row["rate_to_reporting"]) for row in _seed("currencies")}
    statuses = {row["status"]: row for row in _seed("order_statuses")}
    future = datetime.combine(as_of + timedelta(days=2), datetime.min.time())
    reasons: Counter = Counter()
    valid: list[tuple] = []
    for path in sorted((data_dir / "orders").iterdir()):
        for row in pq.read_table(path).to_pylist():
            order_id = (row["order_id"] or "").strip()
            at_text = (row["ordered_at"] or "").strip()
            amount_text = (row["amount"] or "").strip()
            currency = (row["currency"] or "").strip().upper() or "GBP"
            status = (row["status"] or "").strip().lower() or "completed"
            ordered_at = _parse_timestamp(at_text) if at_text else None
            try:
                amount = Decimal(amount_text) if amount_text else None
            except InvalidOperation:
                amount = None
            if not order_id:
                reasons["missing_order_id"] += 1
            elif ordered_at is None:
                reasons["unparseable_ordered_at" if at_text else "missing_ordered_at"] += 1
            elif ordered_at < datetime(2000, 1, 1):
                reasons["implausible_ordered_at"] += 1
            elif ordered_at >= future:
                assert ordered_at >= FAR_FUTURE, f"{ordered_at}: future or not depends on the run day"
                reasons["future_ordered_at"] += 1
            elif amount is None:
                reasons["unparseable_amount" if amount_text else "missing_amount"] += 1
            elif currency not in rates:
                reasons["unknown_currency"] += 1
            elif status not in statuses:
                reasons["unknown_status"] += 1
            else:
                customer = (row["customer_id"] or "").strip() or None
                valid.append((path.name, order_id, customer, ordered_at, amount, currency, status,
                              (row["channel"] or "").strip().lower(), (row["discount_amount"] or "").strip()))
    # exact duplicates: identical content, the first copy is kept
    seen: set[tuple] = set()
    unique_rows = []
    for item in valid:
        if item[1:] in seen:
            reasons["exact_duplicate"] += 1
        else:
            seen.add(item[1:])
            unique_rows.append(item)
    # the same order id twice in one file with different content: no copy is kept
    copies = Counter((item[0], item[1]) for item in unique_rows)
    orders = []
    for file_name, order_id, customer, ordered_at, amount, currency, status, _, _ in unique_rows:
        if copies[(file_name, order_id)] > 1:
            reasons["conflicting_duplicate"] += 1
            continue
        flags = statuses[status]
        orders.append(ref.Order(
            customer_id=customer, ordered_at=ordered_at, amount=amount * rates[currency],
            is_cancelled=flags["is_cancelled"] == "true", is_fully_returned=flags["is_fully_returned"] == "true",
        ))
    return orders, reasons


@pytest.fixture(scope="module")
def reference(demo: dict) -> dict:
    orders, reasons = classify_raw_orders(demo["data_dir"], demo["as_of"])
    return {"orders": orders, "reasons": reasons, "customers": ref.customers_as_of(orders, demo["as_of"])}


def test_quarantine_matches_the_generator_and_the_rules(demo: dict, reference: dict) -> None:
    marts = dict(query(demo["database"],
                       "select quarantine_reason, count(*) from marts.fct_quarantined_rows "
                       "where entity = 'orders' group by 1"))
    assert marts == dict(reference["reasons"])
    bad = demo["meta"]["bad_rows"]
    assert marts.get("missing_order_id", 0) == bad["blank_order_id"]
    assert marts.get("unparseable_ordered_at", 0) == bad["unparseable_ordered_at"]
    assert marts.get("future_ordered_at", 0) == bad["future_ordered_at"]
    assert marts.get("implausible_ordered_at", 0) == bad["implausibly_old_ordered_at"]
    assert marts.get("unparseable_amount", 0) + marts.get("missing_amount", 0) == bad["non_numeric_amount"]
    assert marts.get("unknown_currency", 0) == bad["unknown_currency"]
    assert marts.get("unknown_status", 0) == bad["unknown_status"]
    assert marts.get("exact_duplicate", 0) == bad["exact_duplicate"]
    assert marts.get("conflicting_duplicate", 0) == 2 * bad["conflicting_duplicate"]
    assert sum(marts.values()) == demo["meta"]["quarantined_rows_expected"]


def test_every_raw_row_is_staged_or_quarantined(demo: dict) -> None:
    files = demo["meta"]["files"]
    rows = query(demo["database"],
                 "select entity, source_file, raw_rows, staged_rows, quarantined_rows "
                 "from marts.fct_input_reconciliation")
    assert rows
    for entity, source_file, raw, staged, quarantined in rows:
        assert raw == staged + quarantined
        if source_file in files:
            assert raw == files[source_file], source_file


def test_customer_facts_scores_and_lifecycle_match(demo: dict, reference: dict) -> None:
    customers, as_of = reference["customers"], demo["as_of"]
    scores = ref.rfm(customers, as_of)
    rows = query(demo["database"], """
        select customer_id, orders_count, purchase_days_count, returns_count, gross_revenue, returns_amount,
               net_revenue, recency_days, tenure_days, avg_days_between_orders, r_score, f_score, m_score,
               lifecycle_status
        from marts.dim_customers
    """)
    assert {row[0] for row in rows} == set(customers)
    mismatches = []
    for (customer_id, orders_count, days, returns_count, gross, returns, net, recency, tenure, interval,
         r, f, m, status) in rows:
        customer = customers[customer_id]
        expected = ref.facts(customer, as_of)
        checks = {
            "orders_count": (orders_count, expected["orders_count"]),
            "purchase_days_count": (days, expected["purchase_days_count"]),
            "returns_count": (returns_count, expected["returns_count"]),
            "gross_revenue": (float(gross), float(expected["gross_revenue"])),
            "returns_amount": (float(returns), float(expected["returns_amount"])),
            "net_revenue": (float(net), float(expected["net_revenue"])),
            "recency_days": (recency, expected["recency_days"]),
            "tenure_days": (tenure, expected["tenure_days"]),
            "avg_days_between_orders": (interval, expected["avg_days_between_orders"]),
            "scores": ((r, f, m) if r is not None else None, scores.get(customer_id)),
            "lifecycle_status": (status, ref.lifecycle(customer, as_of)),
        }
        for key, (got, want) in checks.items():
            same = got == pytest.approx(want, abs=1e-4) if isinstance(want, float) else got == want
            if not same:
                mismatches.append((customer_id, key, got, want))
    assert mismatches == [], mismatches[:10]


def test_demo_is_realistic_enough(demo: dict, reference: dict) -> None:
    [(share,)] = query(demo["database"], "select top_customers_revenue_share from marts.fct_kpi_summary")
    assert share == pytest.approx(ref.pareto_share(reference["customers"]), rel=1e-9)
    assert share >= 0.6
    statuses = dict(query(demo["database"],
                          "select lifecycle_status, count(*) from marts.dim_customers group by 1"))
    assert {"new", "active", "churn_risk", "churned", "reactivated"} <= set(statuses)
    segments = {row[0] for row in query(demo["database"], "select distinct rfm_segment from marts.dim_customers")}
    assert len(segments - {None}) >= 9


def test_monthly_repeat_kpis_match(demo: dict, reference: dict) -> None:
    buyers: dict[date, set] = defaultdict(set)
    repeaters: dict[date, set] = defaultdict(set)
    for customer in reference["customers"].values():
        days = sorted({at.date() for at, _ in customer.purchases})
        for index, day in enumerate(days):
            month = day.replace(day=1)
            buyers[month].add(customer.customer_id)
            if index > 0:
                repeaters[month].add(customer.customer_id)
    rows = query(demo["database"], """
        select month_start_date, buyers_count, repeat_buyers_count, repeat_rate
        from marts.fct_kpis_monthly where rfm_segment = 'All customers'
    """)
    assert len(rows) == len(buyers)
    for month, buyers_count, repeat_count, repeat_rate in rows:
        assert buyers_count == len(buyers[month]), month
        assert repeat_count == len(repeaters[month]), month
        assert repeat_rate == pytest.approx(len(repeaters[month]) / len(buyers[month]))


def test_rescoring_a_past_date_ignores_later_orders(demo: dict, reference: dict, tmp_path: Path) -> None:
    past = demo["as_of"] - timedelta(days=120)
    database = tmp_path / "past.duckdb"
    # the selection a user runs for segments alone, on a fresh database: with dbt's default
    # (eager) indirect selection it would fail on tests reaching outside it (dbt_project.yml flags)
    dbt(["build", "-s", "+dim_customers", "--vars", json.dumps({"as_of_date": past.isoformat()})],
        demo["data_dir"], database, tmp_path)
    [(marts,)] = query(database, "select count(*) from information_schema.tables where table_schema = 'marts'")
    assert marts == 1, "the selection builds dim_customers and no other mart"
    customers = ref.customers_as_of(reference["orders"], past)
    rows = dict(query(database, "select customer_id, net_revenue from marts.dim_customers"))
    assert set(rows) == set(customers)
    for customer_id, net in rows.items():
        assert float(net) == pytest.approx(float(customers[customer_id].net), abs=1e-4)
    [(latest,)] = query(database, "select max(last_purchase_date) from marts.dim_customers")
    assert latest <= past


def test_kpi_marts_agree_with_dim_customers(demo: dict) -> None:
    assert disagreements(demo["database"]) == []
