"""An independent, plain-Python computation of the customer facts, RFM scores and lifecycle status
that the dbt models produce, written from the documented rules (README, docs/decisions.md), not
from the SQL. The end-to-end tests compare the marts with it customer by customer."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

DEFAULTS = {
    "lifecycle_new_days": 30,
    "lifecycle_churn_risk_interval_multiplier": 1.5,
    "lifecycle_churn_interval_multiplier": 3.0,
    "lifecycle_min_interval_days": 7,
    "lifecycle_one_time_churn_risk_days": 60,
    "lifecycle_one_time_churn_days": 180,
    "lifecycle_reactivation_window_days": 30,
    "lifecycle_check_window_days": 90,
    "lifecycle_check_drop_share": 0.3,
}


@dataclass
class Order:
    customer_id: str | None
    ordered_at: datetime
    amount: Decimal          # reporting currency; negative = return / refund
    is_cancelled: bool = False
    is_fully_returned: bool = False


@dataclass
class Customer:
    customer_id: str
    purchases: list[tuple[datetime, Decimal]] = field(default_factory=list)
    gross: Decimal = Decimal(0)
    returns: Decimal = Decimal(0)
    returns_count: int = 0

    @property
    def net(self) -> Decimal:
        return self.gross - self.returns


def customers_as_of(orders: list[Order], as_of: date) -> dict[str, Customer]:
    """Aggregate identified customers' orders up to and including ``as_of``."""
    customers: dict[str, Customer] = {}
    for order in orders:
        if order.customer_id is None or order.is_cancelled or order.ordered_at.date() > as_of:
            continue
        customer = customers.setdefault(order.customer_id, Customer(order.customer_id))
        if order.amount < 0:
            customer.returns += -order.amount
            customer.returns_count += 1
        else:
            customer.gross += order.amount
            customer.purchases.append((order.ordered_at, order.amount))
            if order.is_fully_returned:
                customer.returns += order.amount
    return customers


def facts(customer: Customer, as_of: date) -> dict:
    """The per-customer facts of dim_customers."""
    days = sorted({at.date() for at, _ in customer.purchases})
    row = {
        "orders_count": len(customer.purchases),
        "purchase_days_count": len(days),
        "gross_revenue": customer.gross,
        "returns_amount": customer.returns,
        "net_revenue": customer.net,
        "returns_count": customer.returns_count,
    }
    if not days:
        return row | {"recency_days": None, "tenure_days": None, "avg_days_between_orders": None}
    row["first_purchase_date"], row["last_purchase_date"] = days[0], days[-1]
    row["recency_days"] = (as_of - days[-1]).days
    row["tenure_days"] = (as_of - days[0]).days
    row["avg_days_between_orders"] = (days[-1] - days[0]).days / (len(days) - 1) if len(days) > 1 else None
    row["avg_order_value"] = float(customer.gross) / len(customer.purchases)
    return row


def quantile_scores(values: dict[str, float], bins: int, higher_is_better: bool) -> dict[str, int]:
    """1 + floor(bins x share of customers strictly worse); ties share a score."""
    ordered = sorted(values.values())
    total = len(ordered)
    scores = {}
    for key, value in values.items():
        if higher_is_better:
            worse = _count_less(ordered, value)
        else:
            worse = total - _count_less_or_equal(ordered, value)
        scores[key] = 1 + math.floor(bins * worse / total)
    return scores


def _count_less(ordered: list[float], value: float) -> int:
    low, high = 0, len(ordered)
    while low < high:
        middle = (low + high) // 2
        if ordered[middle] < value:
            low = middle + 1
        else:
            high = middle
    return low


def _count_less_or_equal(ordered: list[float], value: float) -> int:
    low, high = 0, len(ordered)
    while low < high:
        middle = (low + high) // 2
        if ordered[middle] <= value:
            low = middle + 1
        else:
            high = middle
    return low


def rfm(customers: dict[str, Customer], as_of: date, bins: int = 5) -> dict[str, tuple[int, int, int]]:
    """(r, f, m) scores of every customer with a purchase."""
    buyers = {key: facts(c, as_of) for key, c in customers.items() if c.purchases}
    r = quantile_scores({k: v["recency_days"] for k, v in buyers.items()}, bins, higher_is_better=False)
    f = quantile_scores({k: v["orders_count"] for k, v in buyers.items()}, bins, higher_is_better=True)
    m = quantile_scores({k: float(v["net_revenue"]) for k, v in buyers.items()}, bins, higher_is_better=True)
    return {k: (r[k], f[k], m[k]) for k in buyers}


def lifecycle(customer: Customer, as_of: date, settings: dict | None = None) -> str:
    """Lifecycle status by the documented rules (first match wins)."""
    s = DEFAULTS | (settings or {})
    if not customer.purchases:
        return "returns_only"
    days = sorted({at.date() for at, _ in customer.purchases})
    recency = (as_of - days[-1]).days
    tenure = (as_of - days[0]).days
    floor_days = s["lifecycle_min_interval_days"]

    def typical(interval: float | None) -> float | None:
        return None if interval is None else max(interval, floor_days)

    interval = typical((days[-1] - days[0]).days / (len(days) - 1) if len(days) > 1 else None)
    was_churned = False
    if len(days) == 2:
        was_churned = (days[-1] - days[-2]).days > s["lifecycle_one_time_churn_days"]
    elif len(days) > 2:
        before = typical((days[-2] - days[0]).days / (len(days) - 2))
        was_churned = (days[-1] - days[-2]).days > s["lifecycle_churn_interval_multiplier"] * before

    window_start = date.fromordinal(days[-1].toordinal() - s["lifecycle_check_window_days"])
    recent = [float(a) for at, a in customer.purchases if at.date() > window_start]
    earlier = [float(a) for at, a in customer.purchases if at.date() <= window_start]
    falling = bool(recent and earlier) and (
        sum(recent) / len(recent) < (1 - s["lifecycle_check_drop_share"]) * (sum(earlier) / len(earlier))
    )

    if tenure <= s["lifecycle_new_days"]:
        return "new"
    if recency <= s["lifecycle_reactivation_window_days"] and was_churned:
        return "reactivated"
    if interval is None:
        if recency > s["lifecycle_one_time_churn_days"]:
            return "churned"
        if recency > s["lifecycle_one_time_churn_risk_days"]:
            return "churn_risk"
        return "active"
    if recency > s["lifecycle_churn_interval_multiplier"] * interval:
        return "churned"
    if recency > s["lifecycle_churn_risk_interval_multiplier"] * interval or (falling and recency > interval):
        return "churn_risk"
    return "active"


def pareto_share(customers: dict[str, Customer], top_share: float = 0.2) -> float:
    """Share of net revenue from the top ``top_share`` of buyers by net revenue."""
    nets = sorted((float(c.net) for c in customers.values() if c.purchases), reverse=True)
    top = sum(nets[: math.floor(top_share * len(nets))])
    return top / sum(nets)


def group_by_customer(orders: list[Order]) -> dict[str | None, list[Order]]:
    grouped: dict[str | None, list[Order]] = defaultdict(list)
    for order in orders:
        grouped[order.customer_id].append(order)
    return grouped
