"""The offers stage on the real Online Retail invoices (../shared/data/online_retail): no product
categories, no consent, no offer sends. The build stays green, assigns what the data allows and
says in fct_offer_coverage and fct_offer_eligibility what it could not assign and why."""

from __future__ import annotations

import hashlib
import math
from datetime import date
from pathlib import Path

import pytest
from dbt_project_runner import ONLINE_RETAIL, build, query

AS_OF = date(2011, 12, 10)
SALT = "loyalty-offers"
CATEGORY_OFFERS = {"favourite_category_promo", "new_category_bonus", "premium_addons"}
CONSENT_OFFERS = {"usual_weekday_promo"}

pytestmark = pytest.mark.skipif(not ONLINE_RETAIL.exists(), reason="../shared/data/online_retail is not beside the repo")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("offers_online_retail")
    db = work / "online_retail.duckdb"
    result = build(ONLINE_RETAIL, db, work, AS_OF.isoformat())
    assert "assert_offer_holdout_share_near_target" in result.stdout
    return db


def test_offers_needing_categories_or_consent_are_documented_as_not_assignable(database: Path) -> None:
    rows = {
        offer_id: (requires, missing, matched, eligible, treated, holdout, missing_count, reason, assignable)
        for offer_id, requires, missing, matched, eligible, treated, holdout, missing_count, reason, assignable
        in query(
            database,
            """
            select offer_id, requires, missing_inputs, matched_customers_count, eligible_customers_count,
                   treated_customers_count, holdout_customers_count, removed_for_missing_input_count,
                   main_removal_reason, is_assignable
            from marts.fct_offer_coverage
            """,
        )
    }
    assert len(rows) == 18
    for offer_id in CATEGORY_OFFERS | CONSENT_OFFERS:
        requires, missing, matched, eligible, treated, holdout, missing_count, reason, assignable = rows[offer_id]
        expected_input = "category" if offer_id in CATEGORY_OFFERS else "consent"
        assert missing == expected_input and requires == expected_input, offer_id
        assert matched > 0 and eligible == 0 and treated == holdout == 0 and not assignable, offer_id
        assert missing_count > 0.5 * matched, offer_id  # the rest are in unassigned segments
        assert reason == f"missing_input_{expected_input}", offer_id
    for offer_id, (requires, missing, *_rest) in rows.items():
        if offer_id not in CATEGORY_OFFERS | CONSENT_OFFERS:
            assert requires is None and missing is None, offer_id
    assignable = {offer_id for offer_id, row in rows.items() if row[-1]}
    assert len(assignable) == 18 - len(CATEGORY_OFFERS | CONSENT_OFFERS)


def test_missing_input_pairs_carry_their_reason(database: Path) -> None:
    reasons = dict(query(
        database,
        "select offer_id, count(distinct removal_reason) from marts.fct_offer_eligibility "
        "where offer_id in ('favourite_category_promo', 'new_category_bonus', 'premium_addons', 'usual_weekday_promo') "
        "and removal_reason not in ('missing_input_category', 'missing_input_consent', 'unassigned_segment') "
        "group by 1",
    ))
    assert reasons == {}
    [(category_pairs, consent_pairs)] = query(
        database,
        "select sum(case when removal_reason = 'missing_input_category' then 1 else 0 end), "
        "sum(case when removal_reason = 'missing_input_consent' then 1 else 0 end) from marts.fct_offer_eligibility",
    )
    assert category_pairs > 0 and consent_pairs > 0


def test_assignments_use_only_what_the_data_has(database: Path) -> None:
    rows = query(
        database,
        """
        select assignments.offer_id, assignments.channel_consent, assignments.offer_segment,
               customers.smartrfm_targeting_cell, assignments.favourite_category
        from marts.fct_offer_assignments as assignments
        inner join marts.dim_customers as customers using (customer_id)
        """,
    )
    assert len(rows) > 0.8 * 4372
    assert not {offer_id for offer_id, *_ in rows} & (CATEGORY_OFFERS | CONSENT_OFFERS)
    # No consent data: consent is unknown everywhere, and unknown is allowed by default.
    assert {consent for _, consent, *_ in rows} == {None}
    assert all(segment == cell and cell != "unassigned" for _, _, segment, cell, _ in rows)
    assert all(category is None for *_, category in rows)


def test_every_scored_customer_is_accounted_for(database: Path) -> None:
    [(scored, unassigned)] = query(
        database,
        "select count(*), sum(case when smartrfm_targeting_cell = 'unassigned' then 1 else 0 end) "
        "from marts.dim_customers where smartrfm_targeting_cell is not null",
    )
    [(customers, treated, holdout, no_offer)] = query(
        database,
        "select sum(customers_count), sum(treated_customers_count), sum(holdout_customers_count), "
        "sum(no_offer_customers_count) from marts.fct_offer_economics",
    )
    [(assigned,)] = query(database, "select count(*) from marts.fct_offer_assignments")
    assert customers == scored and treated + holdout == assigned
    assert no_offer == scored - assigned and no_offer >= unassigned


def test_holdout_is_the_python_md5_bucket_for_every_customer(database: Path) -> None:
    rows = query(database, "select customer_id, holdout_bucket, is_holdout from intermediate.int_offer_holdouts_bucketed")
    assert len(rows) == 4372
    for customer_id, bucket, is_holdout in rows:
        expected = int(hashlib.md5((customer_id + SALT).encode("utf-8")).hexdigest()[:8], 16) % 10_000
        assert (bucket, is_holdout) == (expected, expected < 1000), customer_id
    [(share, count)] = query(database, "select avg(case when is_holdout then 1.0 else 0 end), count(*) "
                                       "from marts.fct_offer_assignments")
    # Within chance of the 10% target (3 binomial standard deviations; about 1.4 points here).
    assert abs(share - 0.10) <= max(0.01, 3 * math.sqrt(0.09 / count)), share


def test_no_sends_means_nothing_measured(database: Path) -> None:
    rows = query(database, "select offer_id, send_segment, treated_sends_count, holdout_sends_count, conversion_uplift "
                           "from marts.fct_offer_incrementality")
    assert rows == [("(all offers)", "(all segments)", 0, 0, None)]
