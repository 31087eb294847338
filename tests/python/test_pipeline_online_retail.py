"""End-to-end build on the real Online Retail invoices (../shared/data/online_retail), checked
against an independent computation from the raw parquet file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import reference_model as ref
from dbt_project_runner import ONLINE_RETAIL, build, query
from kpi_agreement import disagreements

AS_OF = date(2011, 12, 10)

pytestmark = pytest.mark.skipif(not ONLINE_RETAIL.exists(), reason="../shared/data/online_retail is not beside the repo")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("online_retail")
    db = work / "online_retail.duckdb"
    build(ONLINE_RETAIL, db, work, AS_OF.isoformat())
    return db


@pytest.fixture(scope="module")
def raw_orders() -> list[ref.Order]:
    table = pq.read_table(ONLINE_RETAIL / "orders.parquet").to_pylist()
    return [
        ref.Order(
            customer_id=(row["customer_id"] or "").strip() or None,
            ordered_at=row["ordered_at"],
            amount=Decimal(str(row["amount"])),
        )
        for row in table
    ]


def test_every_customer_and_guest_revenue_is_accounted_for(database: Path, raw_orders: list[ref.Order]) -> None:
    customers = {o.customer_id for o in raw_orders if o.customer_id}
    assert len(customers) == 4372  # as the data set's README says
    [(count, net)] = query(database, "select count(*), sum(net_revenue) from marts.dim_customers")
    assert count == len(customers)
    expected_net = sum(o.amount for o in raw_orders if o.customer_id)
    assert net == pytest.approx(expected_net, abs=Decimal("0.01"))
    [(total, guests)] = query(
        database, "select sum(net_revenue), sum(guest_net_revenue) from marts.fct_revenue_reconciliation"
    )
    assert total == Decimal("9747747.934")
    assert guests == pytest.approx(sum(o.amount for o in raw_orders if not o.customer_id), abs=Decimal("0.01"))


def test_nothing_quarantined_and_every_row_read(database: Path) -> None:
    rows = {
        entity: (raw, staged)
        for entity, raw, staged in query(
            database, "select entity, raw_rows, staged_rows from marts.fct_input_reconciliation"
        )
    }
    assert rows["orders"] == (25900, 25900)
    assert rows["order_lines"] == (541909, 541909)


def test_customer_facts_scores_and_lifecycle_match_independent_computation(
    database: Path, raw_orders: list[ref.Order]
) -> None:
    customers = ref.customers_as_of(raw_orders, AS_OF)
    scores = ref.rfm(customers, AS_OF)
    rows = query(
        database,
        """
        select customer_id, orders_count, purchase_days_count, gross_revenue, returns_amount, net_revenue,
               recency_days, tenure_days, avg_days_between_orders, r_score, f_score, m_score, lifecycle_status
        from marts.dim_customers
        """,
    )
    assert len(rows) == len(customers)
    mismatches = []
    for (customer_id, orders_count, days_count, gross, returns, net, recency, tenure, interval,
         r, f, m, status) in rows:
        expected = ref.facts(customers[customer_id], AS_OF)
        actual = {
            "orders_count": orders_count, "purchase_days_count": days_count, "gross_revenue": gross,
            "returns_amount": returns, "net_revenue": net, "recency_days": recency, "tenure_days": tenure,
            "avg_days_between_orders": interval, "scores": (r, f, m) if r is not None else None,
            "lifecycle_status": status,
        }
        wanted = {key: expected.get(key) for key in actual if key in expected}
        wanted["scores"] = scores.get(customer_id)
        wanted["lifecycle_status"] = ref.lifecycle(customers[customer_id], AS_OF)
        for key, value in wanted.items():
            got = actual[key]
            same = got == pytest.approx(value) if isinstance(value, float) else got == value
            if not same:
                mismatches.append((customer_id, key, got, value))
    assert mismatches == [], mismatches[:10]


def test_pareto_share_matches(database: Path, raw_orders: list[ref.Order]) -> None:
    customers = ref.customers_as_of(raw_orders, AS_OF)
    [(share,)] = query(database, "select top_customers_revenue_share from marts.fct_kpi_summary")
    assert share == pytest.approx(ref.pareto_share(customers), rel=1e-9)


def test_every_targeting_segment_is_large_enough(database: Path) -> None:
    rows = query(
        database,
        """
        select rfm_targeting_segment, count(*) * 1.0 / sum(count(*)) over ()
        from marts.dim_customers where rfm_targeting_segment is not null group by 1
        """,
    )
    assert rows
    assert all(share >= 0.02 for segment, share in rows if segment != "unassigned"), rows


def test_kpi_marts_agree_with_dim_customers(database: Path) -> None:
    assert disagreements(database) == []
