"""Checks the business-rule seeds against rules computed here, independently of the CSV files.

The RFM partition is re-derived from its rule (written as conditions, not as the grid the seed and
docs/segments.md print) and compared cell by cell; the grids in docs/segments.md must match the
seed too. The other seeds are checked for the properties the models rely on.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from decimal import Decimal
from itertools import pairwise, product
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS = REPO_ROOT / "seeds"
ARTICLES_DIR = REPO_ROOT.parent / "shared" / "articles"
ARTICLES = {
    "best-customers-without-discounts.ru.txt",
    "four-segmentation-methods.ru.txt",
    "potential-vip-segments.ru.txt",
    "potentially-loyal-segments.ru.txt",
    "targeted-loyalty-program.ru.txt",
}
SEGMENTS = {
    "Champions", "Loyal Customers", "Potential Loyalist", "New Customers", "Promising",
    "Need Attention", "About To Sleep", "Lapsed Regulars", "Can't Lose Them", "Hibernating", "Lost",
}
RFM_GROUPS = {"Champions", "Loyal", "Potential", "At Risk", "Sleeping"}
SMARTRFM_GROUPS = {
    "one_time_buyers", "growing", "potential_vip", "vip", "slowing_down", "churning_vip",
    "potentially_loyal", "sleeping",
}
LAPSED_GROUPS = {"sleeping", "potentially_loyal", "churning_vip"}
LIFECYCLE_STATUSES = {"new", "active", "churn_risk", "churned", "reactivated"}
VALUE_TIERS = {"top_ltv", "discount_hunter", "frequent_buyer", "regular"}
OFFER_IDS = {
    "early_access", "vip_service", "bundle_set", "tier_progress", "capped_cashback", "buy_x_get_y",
    "winback_promo", "anniversary_thanks", "nps_survey_promo", "favourite_category_promo",
    "usual_weekday_promo", "new_category_bonus", "nth_item_discount", "progressive_rewards",
    "double_points_short_expiry", "premium_addons", "previous_season_clearance", "second_purchase_bonus",
}


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def split_list(value: str) -> list[str]:
    """A '|'-separated target list; '' is the empty list (= any)."""
    return value.split("|") if value else []


def as_bool(value: str) -> bool:
    assert value in ("true", "false"), f"not a boolean: {value!r}"
    return value == "true"


def project_vars() -> dict[str, object]:
    return yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]


# --- the RFM partition -------------------------------------------------------------------------


def expected_segment(score_bins: int, r: int, f: int, m: int) -> str:
    """The segment rule of docs/segments.md, written as conditions rather than as a grid."""
    fm = math.ceil((f + m) / 2)
    if score_bins == 5:
        if r == 5 and fm >= 4:
            return "Champions"
        if r in (3, 4) and fm >= 4:
            return "Loyal Customers"
        if r >= 4 and fm in (2, 3):
            return "Potential Loyalist"
        if r == 5 and fm == 1:
            return "New Customers"
        if r == 4 and fm == 1:
            return "Promising"
        if r == 3:
            return "Need Attention" if fm == 3 else "About To Sleep"
        if fm == 5:
            return "Can't Lose Them"
        if fm >= 3:
            return "Lapsed Regulars"
        return "Lost" if (r, fm) == (1, 1) else "Hibernating"
    assert score_bins == 3
    if fm == 3:
        return {3: "Champions", 2: "Loyal Customers", 1: "Can't Lose Them"}[r]
    if fm == 1:
        return {3: "New Customers", 2: "About To Sleep", 1: "Lost"}[r]
    if f == 1:
        return {3: "Promising", 2: "About To Sleep", 1: "Hibernating"}[r]
    return {3: "Potential Loyalist", 2: "Need Attention", 1: "Lapsed Regulars"}[r]


@pytest.fixture(scope="module")
def rfm_segments() -> dict[tuple[int, int, int, int], dict[str, str]]:
    rows = read_seed("rfm_segments")
    assert list(rows[0]) == ["score_bins", "r_score", "f_score", "m_score", "rfm_segment", "rfm_group"]
    cells = {}
    for row in rows:
        key = (int(row["score_bins"]), int(row["r_score"]), int(row["f_score"]), int(row["m_score"]))
        assert key not in cells, f"cell {key} appears twice"
        cells[key] = row
    return cells


def test_rfm_segments_has_one_row_per_score_cell_of_both_grids(rfm_segments: dict) -> None:
    expected = {(5, *cell) for cell in product(range(1, 6), repeat=3)}
    expected |= {(3, *cell) for cell in product(range(1, 4), repeat=3)}
    assert len(rfm_segments) == 152
    assert set(rfm_segments) == expected


@pytest.mark.parametrize("score_bins", [5, 3])
def test_every_segment_is_reachable_in_each_grid(rfm_segments: dict, score_bins: int) -> None:
    reached = {row["rfm_segment"] for key, row in rfm_segments.items() if key[0] == score_bins}
    assert reached == SEGMENTS, f"missing: {SEGMENTS - reached}, unknown: {reached - SEGMENTS}"


def test_rfm_segments_follow_the_documented_rule(rfm_segments: dict) -> None:
    wrong = {
        key: (row["rfm_segment"], expected_segment(*key))
        for key, row in rfm_segments.items()
        if row["rfm_segment"] != expected_segment(*key)
    }
    assert not wrong, f"cells whose segment differs from the rule (seed, rule): {wrong}"


def test_a_better_score_never_moves_a_cell_to_a_lower_group(rfm_segments: dict) -> None:
    """Sanity of the rule: with F and M fixed, a more recent customer is never in a colder group."""
    warmth = {"Sleeping": 0, "At Risk": 1, "Potential": 2, "Loyal": 3, "Champions": 4}
    for (score_bins, r, f, m), row in rfm_segments.items():
        if r < score_bins:
            warmer = rfm_segments[(score_bins, r + 1, f, m)]
            assert warmth[warmer["rfm_group"]] >= warmth[row["rfm_group"]], (score_bins, r, f, m)


def grid_from_docs(marker: str) -> list[list[str]]:
    """The markdown table right after an HTML comment marker in docs/segments.md, without header."""
    lines = (REPO_ROOT / "docs" / "segments.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(f"<!-- {marker} -->") + 1
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return table[2:]  # header and separator rows


def test_the_grids_in_docs_match_the_seed(rfm_segments: dict) -> None:
    for row in grid_from_docs("rfm-grid: 5"):
        r, segments = int(row[0]), row[1:]
        for (score_bins, r_score, f, m), seed_row in rfm_segments.items():
            if score_bins == 5 and r_score == r:
                assert seed_row["rfm_segment"] == segments[math.ceil((f + m) / 2) - 1], (r, f, m)
    for row in grid_from_docs("rfm-grid: 3"):
        r, segments = int(row[0]), row[1:]
        for (score_bins, r_score, f, m), seed_row in rfm_segments.items():
            if score_bins == 3 and r_score == r:
                fm = math.ceil((f + m) / 2)
                column = 0 if fm == 1 else 3 if fm == 3 else 1 if f == 1 else 2
                assert seed_row["rfm_segment"] == segments[column], (r, f, m)


def test_rfm_segment_actions_cover_each_segment_once_with_its_group(rfm_segments: dict) -> None:
    actions = read_seed("rfm_segment_actions")
    by_segment = {row["rfm_segment"]: row for row in actions}
    assert len(by_segment) == len(actions) == 11
    assert set(by_segment) == SEGMENTS
    assert {row["rfm_group"] for row in actions} == RFM_GROUPS
    for row in actions:
        assert row["description"] and row["recommended_action"], row["rfm_segment"]
        assert row["source_article"] in ARTICLES, row
    for key, row in rfm_segments.items():
        assert row["rfm_group"] == by_segment[row["rfm_segment"]]["rfm_group"], key


# --- SmartRFM ----------------------------------------------------------------------------------

# The cells the articles describe: (recency, frequency, monetary) -> (group, offer, article).
ARTICLE_CELLS = {
    ("recent", "sometimes", "large"): ("potential_vip", "new_category_bonus", "potential-vip-segments.ru.txt"),
    ("recent", "often", "small"): ("potential_vip", "nth_item_discount", "potential-vip-segments.ru.txt"),
    ("recent", "often", "medium"): ("potential_vip", "premium_addons", "potential-vip-segments.ru.txt"),
    ("long_ago", "often", "small"): ("potentially_loyal", "anniversary_thanks", "potentially-loyal-segments.ru.txt"),
    ("long_ago", "often", "medium"): ("potentially_loyal", "capped_cashback", "potentially-loyal-segments.ru.txt"),
    ("long_ago", "sometimes", "large"): ("potentially_loyal", "nps_survey_promo", "potentially-loyal-segments.ru.txt"),
    ("long_ago", "sometimes", "medium"): (
        "potentially_loyal", "favourite_category_promo", "potentially-loyal-segments.ru.txt",
    ),
    ("long_ago", "sometimes", "small"): (
        "potentially_loyal", "previous_season_clearance", "potentially-loyal-segments.ru.txt",
    ),
}


@pytest.fixture(scope="module")
def smartrfm_cells() -> list[dict[str, str]]:
    return read_seed("smartrfm_cells")


@pytest.fixture(scope="module")
def offers() -> dict[str, dict[str, str]]:
    rows = read_seed("offer_catalog")
    by_id = {row["offer_id"]: row for row in rows}
    assert len(by_id) == len(rows), "duplicate offer_id"
    return by_id


def test_smartrfm_has_27_unique_cells_with_consistent_codes(smartrfm_cells: list[dict[str, str]]) -> None:
    bands = [(row["recency_band"], row["frequency_band"], row["monetary_band"]) for row in smartrfm_cells]
    assert len(smartrfm_cells) == 27
    assert set(bands) == set(
        product(("recent", "medium", "long_ago"), ("once", "sometimes", "often"), ("small", "medium", "large"))
    )
    assert len({row["smartrfm_cell"] for row in smartrfm_cells}) == 27
    for row, band in zip(smartrfm_cells, bands, strict=True):
        assert row["smartrfm_cell"] == "_".join(band)
        assert row["smartrfm_group"] in SMARTRFM_GROUPS, row
        assert row["recommended_mechanic"], row
        assert row["source_article"] in ARTICLES | {"derived"}, row


def test_smartrfm_cells_described_by_the_articles_use_their_groups_and_mechanics(
    smartrfm_cells: list[dict[str, str]],
) -> None:
    for row in smartrfm_cells:
        band = (row["recency_band"], row["frequency_band"], row["monetary_band"])
        if band in ARTICLE_CELLS:
            assert (row["smartrfm_group"], row["offer_id"], row["source_article"]) == ARTICLE_CELLS[band]
        else:
            # The articles name these groups only for the cells above.
            assert row["smartrfm_group"] not in ("potential_vip", "potentially_loyal"), row
    groups = Counter(row["smartrfm_group"] for row in smartrfm_cells)
    assert groups["potential_vip"] == 3 and groups["potentially_loyal"] == 5
    assert groups["vip"] == 1
    assert {row["smartrfm_group"] for row in smartrfm_cells if row["frequency_band"] == "once"} == {
        "one_time_buyers", "sleeping",
    }


def test_smartrfm_offers_exist_and_target_the_cells_group(
    smartrfm_cells: list[dict[str, str]], offers: dict[str, dict[str, str]]
) -> None:
    for row in smartrfm_cells:
        assert row["offer_id"] in offers, f"{row['smartrfm_cell']}: unknown offer {row['offer_id']}"
        targets = split_list(offers[row["offer_id"]]["target_smartrfm_groups"])
        assert not targets or row["smartrfm_group"] in targets, (
            f"{row['smartrfm_cell']}: offer {row['offer_id']} does not target {row['smartrfm_group']}"
        )


def test_the_smartrfm_table_in_docs_matches_the_seed(smartrfm_cells: list[dict[str, str]]) -> None:
    documented = [tuple(row) for row in grid_from_docs("smartrfm-cells")]
    seeded = [
        (row["smartrfm_cell"], row["smartrfm_group"], row["offer_id"], row["source_article"])
        for row in smartrfm_cells
    ]
    assert documented == seeded


# --- thresholds --------------------------------------------------------------------------------


def threshold_ranges() -> dict[tuple[str, int], list[tuple[int, Decimal | None, Decimal | None]]]:
    """(dimension, score_bins) -> [(score, min_value, max_value)] sorted by min_value, None first."""
    ranges: dict[tuple[str, int], list] = {}
    for row in read_seed("rfm_thresholds"):
        low = Decimal(row["min_value"]) if row["min_value"] else None
        high = Decimal(row["max_value"]) if row["max_value"] else None
        ranges.setdefault((row["dimension"], int(row["score_bins"])), []).append((int(row["score"]), low, high))
    for rows in ranges.values():
        rows.sort(key=lambda item: (item[1] is not None, item[1] or 0))
    return ranges


def score_of(ranges: list[tuple[int, Decimal | None, Decimal | None]], value: Decimal) -> list[int]:
    return [
        score for score, low, high in ranges
        if (low is None or value >= low) and (high is None or value < high)
    ]


def test_thresholds_cover_each_dimension_without_gaps_or_overlaps() -> None:
    ranges = threshold_ranges()
    assert set(ranges) == {(dimension, bins) for dimension in ("recency", "frequency", "monetary") for bins in (5, 3)}
    for (dimension, bins), rows in ranges.items():
        scores = [score for score, _, _ in rows]
        assert sorted(scores) == list(range(1, bins + 1)), (dimension, bins)
        # Recency: fewer days is better; frequency and monetary: more is better.
        assert scores == (sorted(scores, reverse=True) if dimension == "recency" else sorted(scores))
        assert rows[-1][2] is None, f"{dimension}/{bins}: the last range must have no upper bound"
        first_low = rows[0][1]
        assert first_low == (None if dimension == "monetary" else 0), (dimension, bins, first_low)
        for (_, low, high), (_, next_low, _) in pairwise(rows):
            assert high is not None and next_low == high, f"{dimension}/{bins}: gap or overlap at {high}"
            assert low is None or low < high
        # Every value, boundaries included, gets exactly one score.
        edges = [high for _, _, high in rows if high is not None]
        probes = [Decimal("-500.5"), Decimal(0), Decimal("0.5"), Decimal(10**9)]
        probes += [edge + delta for edge in edges for delta in (Decimal(-1), Decimal("-0.01"), 0, Decimal("0.01"))]
        for value in probes:
            if dimension != "monetary" and value < 0:
                continue
            assert len(score_of(rows, value)) == 1, (dimension, bins, value)


def test_three_bin_limits_are_a_subset_of_the_five_bin_limits() -> None:
    ranges = threshold_ranges()
    for dimension in ("recency", "frequency", "monetary"):
        limits = {bins: {high for _, _, high in ranges[(dimension, bins)] if high is not None} for bins in (3, 5)}
        assert limits[3] <= limits[5], dimension


def test_frequency_thresholds_match_the_smartrfm_bands() -> None:
    variables = project_vars()
    three_bins = threshold_ranges()[("frequency", 3)]
    once_max, sometimes_max = variables["smartrfm_once_max_orders"], variables["smartrfm_sometimes_max_orders"]
    assert score_of(three_bins, Decimal(once_max)) == [1]
    assert score_of(three_bins, Decimal(once_max + 1)) == [2]
    assert score_of(three_bins, Decimal(sometimes_max)) == [2]
    assert score_of(three_bins, Decimal(sometimes_max + 1)) == [3]
    five_bins = threshold_ranges()[("frequency", 5)]
    assert score_of(five_bins, Decimal(variables["frequent_buyer_min_orders"])) == [5]


# --- currencies and statuses -------------------------------------------------------------------


def test_currencies_convert_to_the_reporting_currency() -> None:
    rows = read_seed("currencies")
    rates = {row["currency_code"]: Decimal(row["rate_to_reporting"]) for row in rows}
    assert len(rates) == len(rows) >= 13
    assert {"GBP", "EUR", "USD"} <= set(rates)
    assert rates[str(project_vars()["reporting_currency"])] == 1
    for row in rows:
        assert re.fullmatch("[A-Z]{3}", row["currency_code"]), row
        assert row["currency_name"], row
        assert rates[row["currency_code"]] > 0, row
    # Plausibility of the static rates: a euro is worth less than a pound and more than a dollar.
    assert rates["USD"] < rates["EUR"] < rates["GBP"]


def test_order_statuses_match_the_input_contract() -> None:
    rows = read_seed("order_statuses")
    flags = {
        row["status"]: (as_bool(row["is_purchase"]), as_bool(row["is_cancelled"]), as_bool(row["is_fully_returned"]))
        for row in rows
    }
    assert len(flags) == len(rows)
    purchase, cancelled, returned = (True, False, False), (False, True, False), (True, False, True)
    assert flags == {
        "completed": purchase, "paid": purchase, "shipped": purchase, "delivered": purchase,
        "cancelled": cancelled, "canceled": cancelled,
        "returned": returned, "refunded": returned,
        # Shopify's financial statuses and WooCommerce's order statuses (input_formats/)
        "pending": purchase, "authorized": purchase, "partially_paid": purchase,
        "partially_refunded": purchase, "voided": cancelled, "expired": cancelled,
        "processing": purchase, "on-hold": purchase, "failed": cancelled,
    }


# --- the offer catalog -------------------------------------------------------------------------


def test_offer_catalog_has_exactly_the_offers_and_columns(offers: dict[str, dict[str, str]]) -> None:
    assert set(offers) == OFFER_IDS
    columns = list(next(iter(offers.values())))
    assert columns == [
        "offer_id", "offer_name", "mechanic", "target_smartrfm_groups", "target_rfm_segments",
        "target_lifecycle_statuses", "target_value_tiers", "channel", "is_price_discount",
        "is_early_access", "is_cashback", "is_winback", "cost_model", "cost_value", "requires",
        "validity_days", "priority", "source_article",
    ]


def test_offer_targets_use_known_values(offers: dict[str, dict[str, str]]) -> None:
    vocabularies = {
        "target_smartrfm_groups": SMARTRFM_GROUPS,
        "target_rfm_segments": SEGMENTS,
        "target_lifecycle_statuses": LIFECYCLE_STATUSES,
        "target_value_tiers": VALUE_TIERS,
        "requires": {"category", "consent"},
    }
    for offer_id, offer in offers.items():
        for column, vocabulary in vocabularies.items():
            values = split_list(offer[column])
            assert len(values) == len(set(values)), (offer_id, column)
            assert set(values) <= vocabulary, f"{offer_id}.{column}: {set(values) - vocabulary}"
        assert offer["channel"] in ("email", "sms", "push"), offer_id
        assert offer["source_article"] in ARTICLES, offer_id
        assert offer["offer_name"] and offer["mechanic"], offer_id


def test_every_smartrfm_group_has_an_offer(offers: dict[str, dict[str, str]]) -> None:
    targeted = {group for offer in offers.values() for group in split_list(offer["target_smartrfm_groups"])}
    assert targeted == SMARTRFM_GROUPS


def test_offer_costs_follow_their_model(offers: dict[str, dict[str, str]]) -> None:
    for offer_id, offer in offers.items():
        cost = Decimal(offer["cost_value"])
        model = offer["cost_model"]
        assert model in ("cashback_pct", "discount_pct", "fixed", "none"), offer_id
        if model == "none":
            assert cost == 0, offer_id
        else:
            assert cost > 0, offer_id
        if model == "cashback_pct":
            # best-customers-without-discounts: cashback ceilings of 5-10% of the average check.
            assert cost <= Decimal("0.10") and as_bool(offer["is_cashback"]), offer_id
        if model == "discount_pct":
            assert cost < 1 and as_bool(offer["is_price_discount"]), offer_id
        assert int(offer["validity_days"]) >= 1, offer_id


def test_value_offers_come_before_price_discounts(offers: dict[str, dict[str, str]]) -> None:
    priorities = [int(offer["priority"]) for offer in offers.values()]
    assert len(set(priorities)) == len(priorities), "priorities must be unique to break ties"
    price = [int(o["priority"]) for o in offers.values() if as_bool(o["is_price_discount"])]
    value = [int(o["priority"]) for o in offers.values() if not as_bool(o["is_price_discount"])]
    assert max(value) < min(price)


def test_no_price_discount_reaches_the_top_ltv_tier_or_the_vip_group(offers: dict[str, dict[str, str]]) -> None:
    for offer_id, offer in offers.items():
        if as_bool(offer["is_price_discount"]):
            assert offer["cost_model"] == "discount_pct", offer_id
            tiers = split_list(offer["target_value_tiers"])
            assert tiers and "top_ltv" not in tiers, f"{offer_id} would discount the top_ltv tier"
            assert "vip" not in split_list(offer["target_smartrfm_groups"]), offer_id
            assert "Champions" not in split_list(offer["target_rfm_segments"]), offer_id


def test_early_access_and_winback_rules(offers: dict[str, dict[str, str]]) -> None:
    early = [offer_id for offer_id, offer in offers.items() if as_bool(offer["is_early_access"])]
    assert early == ["early_access"]
    assert int(offers["early_access"]["validity_days"]) <= 2  # 24-48 hour windows
    winback = {offer_id for offer_id, offer in offers.items() if as_bool(offer["is_winback"])}
    assert "winback_promo" in winback
    for offer_id in winback:
        groups = set(split_list(offers[offer_id]["target_smartrfm_groups"]))
        assert groups and groups <= LAPSED_GROUPS, f"{offer_id} targets active groups: {groups - LAPSED_GROUPS}"
    assert set(split_list(offers["winback_promo"]["target_lifecycle_statuses"])) == {"churn_risk", "churned"}


def test_cited_articles_exist() -> None:
    if not ARTICLES_DIR.is_dir():
        pytest.skip(f"{ARTICLES_DIR} is not checked out beside the repository")
    assert ARTICLES <= {path.name for path in ARTICLES_DIR.iterdir()}
