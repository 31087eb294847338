"""Parameters and fixed shares of the demo-data generator.

Everything that shapes the simulated shop lives here, so that the values recorded in
``_generator.json`` and the values used by the simulation come from one place.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

# Bump when the simulation changes in a way that changes the output for the same parameters,
# so that ``--if-stale`` regenerates data written by an older generator.
GENERATOR_VERSION = "2"

DEFAULT_CUSTOMERS = 10_000
ORDERS_PER_CUSTOMER = 10
MIN_ORDERS_PER_CUSTOMER = 2.0
MAX_ORDERS_PER_CUSTOMER = 200.0
CHUNK_CUSTOMERS = 50_000

OFFER_IDS: tuple[str, ...] = (
    "early_access",
    "vip_service",
    "bundle_set",
    "tier_progress",
    "capped_cashback",
    "buy_x_get_y",
    "winback_promo",
    "anniversary_thanks",
    "nps_survey_promo",
    "favourite_category_promo",
    "usual_weekday_promo",
    "new_category_bonus",
    "nth_item_discount",
    "progressive_rewards",
    "double_points_short_expiry",
    "premium_addons",
    "previous_season_clearance",
    "second_purchase_bonus",
)

# (category, typical list price in pounds, number of products)
CATEGORIES: tuple[tuple[str, float, int], ...] = (
    ("Apparel", 32.0, 40),
    ("Footwear", 65.0, 28),
    ("Accessories", 24.0, 30),
    ("Beauty", 18.0, 36),
    ("Home", 38.0, 32),
    ("Kitchen", 29.0, 30),
    ("Electronics", 85.0, 24),
    ("Toys", 21.0, 26),
    ("Sports", 45.0, 28),
    ("Books", 12.0, 30),
)
UNIT_COST_SHARE = (0.41, 0.74)  # unit cost as a share of the list price

# Vocabularies. Codes index into these tuples; the last entries are the deliberately bad values.
CURRENCIES: tuple[str, ...] = ("GBP", "EUR", "USD", "", "XYZ")
CUR_GBP, CUR_EUR, CUR_USD, CUR_EMPTY, CUR_BAD = range(5)
STATUSES: tuple[str, ...] = (
    "completed",
    "delivered",
    "shipped",
    "paid",
    "",
    "cancelled",
    "returned",
    "lost_in_mail",
)
ST_CANCELLED, ST_RETURNED, ST_BAD = 5, 6, 7
PURCHASE_STATUS_CODES = (0, 1, 2, 3, 4)
PURCHASE_STATUS_WEIGHTS = (0.55, 0.25, 0.08, 0.04, 0.08)
ORDER_CHANNELS: tuple[str, ...] = ("web", "app", "store")
SEND_CHANNELS: tuple[str, ...] = ("email", "sms", "push")
EVENT_TYPES: tuple[str, ...] = ("product_view", "add_to_cart", "visit")
EV_VIEW, EV_CART, EV_VISIT = range(3)
BOOLS: tuple[str, ...] = ("false", "true", "")  # consent / holdout values

# Shares of the simulated shop.
SHARES: dict[str, float] = {
    "never_ordered_customers": 0.08,
    "one_time_buyers": 0.28,
    "churn_after_first_stretch": 0.50,
    "reactivation_of_churners": 0.22,
    "guest_orders": 0.03,
    "return_multi_unit": 0.095,
    "return_single_unit": 0.04,
    "full_return_of_multi_unit": 0.15,
    "cancelled": 0.02,
    "status_returned": 0.005,
    "zero_amount": 0.003,
    "discount_hunters": 0.12,
    "discount_hunter_order_share": 0.75,
    "discount_other_order_share": 0.10,
    "empty_currency_of_gbp_rows": 0.03,
    "customers_eur": 0.03,
    "customers_usd": 0.015,
    "bad_rows": 0.005,
    "whitespace_ids": 0.003,
    "send_holdout": 0.10,
    "send_wave_reach": 0.09,
}
CONSENT_SHARES: dict[str, tuple[float, float, float]] = {  # (false, true, unknown)
    "email": (0.20, 0.70, 0.10),
    "sms": (0.50, 0.35, 0.15),
    "push": (0.47, 0.28, 0.25),
}
SEND_WAVE_EVERY_DAYS = 21
SEND_HISTORY_DAYS = 365
UPLIFT_WINDOW_DAYS = 14
DEFAULT_UPLIFT = 0.04

BAD_KINDS: tuple[str, ...] = (
    "blank_order_id",
    "unparseable_ordered_at",
    "future_ordered_at",
    "implausibly_old_ordered_at",
    "non_numeric_amount",
    "unknown_currency",
    "unknown_status",
    "exact_duplicate",
    "conflicting_duplicate",
)

PURCHASE_STATUSES = tuple(STATUSES[c] for c in PURCHASE_STATUS_CODES)
CONVERSION_DEFINITION = (
    "share of sends whose customer has a valid order (no deliberate defect, not part of a "
    "conflicting duplicate) with amount > 0 and status in "
    + "/".join(repr(s) for s in PURCHASE_STATUSES)
    + f" and sent_at < ordered_at <= sent_at + {UPLIFT_WINDOW_DAYS} days"
)


# "Today" for the default end date, as YYYY-MM-DD; unset or empty means the clock's date.
TODAY_ENV = "LOYALTY_TODAY"


def today() -> date:
    """The date in LOYALTY_TODAY when it is set, otherwise the clock's date."""
    text = os.environ.get(TODAY_ENV, "").strip()
    if not text:
        return date.today()
    problem = f"{TODAY_ENV} must be a date in YYYY-MM-DD form, got {text!r}"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(problem)
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2027-02-30
        raise ValueError(problem) from None


def default_end_date() -> date:
    """Yesterday (the day before today()): the newest day that can hold complete data."""
    return today() - timedelta(days=1)


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Two runs with equal configs write byte-identical files."""

    end_date: date
    seed: int = 42
    customers: int = DEFAULT_CUSTOMERS
    orders: int = DEFAULT_CUSTOMERS * ORDERS_PER_CUSTOMER
    years: int = 2
    file_format: str = "parquet"
    lines: bool = True
    events: bool = True
    uplift: float = DEFAULT_UPLIFT
    chunk_customers: int = CHUNK_CUSTOMERS

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("customers must be at least 1")
        ratio = self.orders / self.customers
        if not MIN_ORDERS_PER_CUSTOMER <= ratio <= MAX_ORDERS_PER_CUSTOMER:
            raise ValueError(
                f"orders per customer must be between {MIN_ORDERS_PER_CUSTOMER:g} and "
                f"{MAX_ORDERS_PER_CUSTOMER:g} (got {ratio:.2f})"
            )
        if not 1 <= self.years <= 10:
            raise ValueError("years must be between 1 and 10")
        if self.file_format not in ("parquet", "csv"):
            raise ValueError("file_format must be 'parquet' or 'csv'")
        if not 0.0 <= self.uplift <= 1.0:
            raise ValueError("uplift must be between 0 and 1")
        if not (2005 <= self.end_date.year - self.years and self.end_date.year <= 2090):
            raise ValueError("end date must leave the history between 2005 and 2090")
        if self.seed < 0:
            raise ValueError("seed must be >= 0")
        if self.chunk_customers < 1:
            raise ValueError("chunk_customers must be at least 1")

    @property
    def start_date(self) -> date:
        """First day of the history: the same calendar day `years` before the end date, plus one."""
        end = self.end_date
        try:
            anchor = end.replace(year=end.year - self.years)
        except ValueError:  # 29 February
            anchor = end.replace(year=end.year - self.years, day=28)
        return anchor + timedelta(days=1)

    def parameters(self) -> dict[str, Any]:
        """The parameters as recorded in _generator.json (and compared by --if-stale)."""
        values = asdict(self)
        values["end_date"] = self.end_date.isoformat()
        values["generator_version"] = GENERATOR_VERSION
        return values
