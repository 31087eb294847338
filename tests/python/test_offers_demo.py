"""End-to-end checks of the offers stage on generated data: the measured uplift recovers the one the
generator simulated, the intervals match an independent computation, the holdout is the hash
computed in Python and stays put across runs, the guardrails hold against the raw files, and the
CRM export writes what each channel needs for consenting customers only.

The data: 20,000 customers (seed 42) ending 2025-06-30, built as of 2025-07-15 so that the
14-day window of every send has closed and the mart counts the same sends as the generator. With
about 2,200 held-out and 19,800 treated sends the interval's half-width is about 1.8 points, enough
to exclude 0 for the simulated uplift (4% of treated sends get an extra order)."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from dbt_project_runner import REPO, build, dbt, query

END_DATE = date(2025, 6, 30)
AS_OF = END_DATE + timedelta(days=15)
CUSTOMERS = 20_000
SALT = "loyalty-offers"
HOLDOUT_SHARE = 0.10
Z = 1.96
MIN_SENDS = 30

sys.path.insert(0, str(REPO / "scripts"))
import export_offers


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(data folder, built database, work folder)."""
    work = tmp_path_factory.mktemp("offers_demo")
    data = work / "data"
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate_data.py"), "--out", str(data), "--customers",
         str(CUSTOMERS), "--end-date", END_DATE.isoformat(), "--seed", "42", "--quiet"],
        check=True,
    )
    database = work / "demo.duckdb"
    build(data, database, work, AS_OF.isoformat())
    return data, database, work


@pytest.fixture(scope="module")
def second_run(demo: tuple[Path, Path, Path]) -> Path:
    """The offers rebuilt as of END_DATE on a copy of the database: another run, with other
    segments and offers, and with sends still inside the cap window (two send waves fall in the 30
    days before END_DATE, so the frequency cap has customers to stop). Its tests run too."""
    data, database, work = demo
    # Same file name: DuckDB names the catalog after the file, and the views refer to it.
    second = work / "second_run" / database.name
    second.parent.mkdir()
    shutil.copy(database, second)
    dbt(["build", "--select", "+fct_offer_eligibility", "+fct_offer_assignments+",
         "--vars", json.dumps({"as_of_date": END_DATE.isoformat()})], data, second, work / "second_run")
    return second


@pytest.fixture(scope="module")
def truth(demo: tuple[Path, Path, Path]) -> dict:
    return json.loads((demo[0] / "_generator.json").read_text())["truth"]


def holdout_bucket(customer_id: str, salt: str = SALT) -> int:
    return int(hashlib.md5((customer_id + salt).encode("utf-8")).hexdigest()[:8], 16) % 10_000


def raw_customers(data: Path) -> dict[str, dict[str, str]]:
    with (data / "customers.csv").open(newline="", encoding="utf-8") as handle:
        return {row["customer_id"].strip(): row for row in csv.DictReader(handle)}


# --- measurement -------------------------------------------------------------------------------


def test_measured_uplift_recovers_the_simulated_one(demo: tuple[Path, Path, Path], truth: dict) -> None:
    [row] = query(
        demo[1],
        """
        select treated_sends_count, holdout_sends_count, treated_converted_count, holdout_converted_count,
               open_window_sends_count, conversion_uplift, conversion_uplift_ci_low, conversion_uplift_ci_high,
               is_conversion_uplift_significant
        from marts.fct_offer_incrementality
        where offer_id = '(all offers)' and send_segment = '(all segments)'
        """,
    )
    treated, holdout, treated_converted, holdout_converted, open_sends, uplift, low, high, significant = row
    # Every window has closed, so the mart measures exactly the generator's sends and conversions.
    assert open_sends == 0
    assert (treated, treated_converted) == (truth["conversion"]["treated"]["sends"],
                                            truth["conversion"]["treated"]["converted"])
    assert (holdout, holdout_converted) == (truth["conversion"]["holdout"]["sends"],
                                            truth["conversion"]["holdout"]["converted"])
    assert uplift == pytest.approx(truth["conversion_difference"], abs=1e-6)
    # The true difference lies in the interval, and the interval excludes 0 at this size.
    assert low <= truth["conversion_difference"] <= high
    assert low > 0 and significant is True
    # So does the difference the simulation implies: an extra order only changes sends that would
    # not have converted anyway, uplift × (1 - holdout conversion).
    expected = truth["uplift"] * (1 - truth["conversion"]["holdout"]["rate"])
    assert low <= expected <= high


def test_intervals_match_an_independent_computation(demo: tuple[Path, Path, Path]) -> None:
    sends = query(
        demo[1],
        "select offer_id, send_segment, is_holdout, is_converted, window_revenue "
        "from intermediate.int_offer_sends_measured where is_window_closed",
    )
    groups: dict[tuple[str, str], dict[bool, list[tuple[bool, float]]]] = defaultdict(lambda: defaultdict(list))
    for offer_id, segment, is_holdout, converted, revenue in sends:
        for key in ((offer_id, segment), (offer_id, "(all segments)"), ("(all offers)", segment),
                    ("(all offers)", "(all segments)")):
            groups[key][is_holdout].append((converted, float(revenue)))
    rows = query(
        demo[1],
        """
        select offer_id, send_segment, conversion_uplift, conversion_uplift_ci_low, conversion_uplift_ci_high,
               revenue_uplift_per_send, revenue_uplift_ci_low, revenue_uplift_ci_high, is_measurable
        from marts.fct_offer_incrementality
        """,
    )
    assert {(offer_id, segment) for offer_id, segment, *_ in rows} == set(groups)
    checked = 0
    for offer_id, segment, uplift, low, high, revenue_uplift, revenue_low, revenue_high, measurable in rows:
        treated, held = groups[(offer_id, segment)][False], groups[(offer_id, segment)][True]
        if not treated or not held:
            continue
        p_t = sum(c for c, _ in treated) / len(treated)
        p_h = sum(c for c, _ in held) / len(held)
        assert uplift == pytest.approx(p_t - p_h, abs=1e-9)
        mean_t = sum(r for _, r in treated) / len(treated)
        mean_h = sum(r for _, r in held) / len(held)
        assert revenue_uplift == pytest.approx(mean_t - mean_h, rel=1e-9, abs=1e-9)
        assert measurable == (len(treated) >= MIN_SENDS and len(held) >= MIN_SENDS)
        if not measurable:
            assert low is None and revenue_low is None
            continue
        se = math.sqrt(p_t * (1 - p_t) / len(treated) + p_h * (1 - p_h) / len(held))
        assert (low, high) == (pytest.approx(p_t - p_h - Z * se, abs=1e-9), pytest.approx(p_t - p_h + Z * se, abs=1e-9))
        var_t = sum((r - mean_t) ** 2 for _, r in treated) / (len(treated) - 1)
        var_h = sum((r - mean_h) ** 2 for _, r in held) / (len(held) - 1)
        welch = math.sqrt(var_t / len(treated) + var_h / len(held))
        assert revenue_low == pytest.approx(mean_t - mean_h - Z * welch, rel=1e-6, abs=1e-6)
        assert revenue_high == pytest.approx(mean_t - mean_h + Z * welch, rel=1e-6, abs=1e-6)
        checked += 1
    assert checked > 20


# --- holdout -----------------------------------------------------------------------------------


def test_holdout_buckets_are_the_python_md5_buckets(demo: tuple[Path, Path, Path]) -> None:
    rows = query(demo[1], "select customer_id, holdout_bucket, is_holdout from intermediate.int_offer_holdouts_bucketed")
    assert len(rows) > CUSTOMERS * 0.75
    mismatches = [
        (customer_id, bucket, holdout_bucket(customer_id))
        for customer_id, bucket, is_holdout in rows
        if bucket != holdout_bucket(customer_id) or is_holdout != (holdout_bucket(customer_id) < HOLDOUT_SHARE * 10_000)
    ]
    assert mismatches == []
    assigned = query(demo[1], "select customer_id, holdout_bucket, is_holdout from marts.fct_offer_assignments")
    assert all(bucket == holdout_bucket(customer_id) for customer_id, bucket, _ in assigned)
    share = sum(is_holdout for *_, is_holdout in assigned) / len(assigned)
    assert abs(share - HOLDOUT_SHARE) <= 0.01, share


def test_holdout_groups_are_stable_across_runs(demo: tuple[Path, Path, Path], second_run: Path) -> None:
    first = dict(query(demo[1], "select customer_id, is_holdout from marts.fct_offer_assignments"))
    first_offers = dict(query(demo[1], "select customer_id, offer_id from marts.fct_offer_assignments"))
    second = dict(query(second_run, "select customer_id, is_holdout from marts.fct_offer_assignments"))
    second_offers = dict(query(second_run, "select customer_id, offer_id from marts.fct_offer_assignments"))
    common = first.keys() & second.keys()
    assert len(common) > 0.5 * len(first)
    assert sum(first_offers[c] != second_offers[c] for c in common) > 0.01 * len(common)  # the runs differ
    assert [c for c in common if first[c] != second[c]] == []


# --- guardrails against the raw files ------------------------------------------------------------


def test_no_offer_to_opted_out_customers(demo: tuple[Path, Path, Path]) -> None:
    customers = raw_customers(demo[0])
    rows = query(demo[1], "select customer_id, channel from marts.fct_offer_assignments")
    opted_out = [(c, ch) for c, ch in rows if customers.get(c, {}).get(f"consent_{ch}", "").strip() == "false"]
    assert rows and opted_out == []
    # SMS offers require an explicit opt-in (seeds/offer_catalog.csv: requires consent).
    sms = [c for c, ch in rows if ch == "sms"]
    assert sms and all(customers[c]["consent_sms"].strip() == "true" for c in sms)


def test_frequency_cap_counts_the_send_history(demo: tuple[Path, Path, Path], second_run: Path) -> None:
    window_start = END_DATE - timedelta(days=29)
    recent: Counter[str] = Counter()
    with (demo[0] / "offer_sends.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            sent = datetime.fromisoformat(row["sent_at"].strip()).date()
            if row["is_holdout"].strip() != "true" and window_start <= sent <= END_DATE:
                recent[row["customer_id"].strip()] += 1
    assert max(recent.values()) == 2  # the cap has something to do
    treated = {c for (c,) in query(second_run, "select customer_id from marts.fct_offer_assignments where not is_holdout")}
    assert treated and [c for c in treated if recent[c] + 1 > 2] == []
    capped = {c for (c,) in query(
        second_run, "select distinct customer_id from marts.fct_offer_eligibility where removal_reason = 'frequency_cap'")}
    assert capped and all(recent[c] >= 2 for c in capped)


def test_cashback_and_discounts_respect_their_limits(demo: tuple[Path, Path, Path]) -> None:
    rows = query(
        demo[1],
        "select value_tier, is_price_discount, is_cashback, is_holdout, cashback_amount, avg_order_value "
        "from marts.fct_offer_assignments",
    )
    cashback = [(amount, aov) for _, _, is_cashback, holdout, amount, aov in rows if is_cashback and not holdout]
    # average order values are decimals (4 places): the ceiling holds exactly, in whole cents
    assert cashback and all(amount <= Decimal("0.05") * aov for amount, aov in cashback)
    assert any(amount == (Decimal("0.05") * aov * 100).to_integral_value(ROUND_FLOOR) / 100 for amount, aov in cashback)
    assert not [r for r in rows if r[0] == "top_ltv" and r[1]]


# --- export --------------------------------------------------------------------------------------


def expected_channel_columns() -> dict[str, tuple[str, ...]]:
    """From the catalog and the personalisation var, read independently of the models."""
    with (REPO / "seeds" / "offer_catalog.csv").open(newline="", encoding="utf-8") as handle:
        catalog = list(csv.DictReader(handle))
    fields = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]["offer_personalised_fields"]
    columns = {}
    for channel in ("email", "sms", "push"):
        offers = [o for o in catalog if o["channel"] == channel]
        extra = []
        if any(o["is_cashback"] == "true" for o in offers):
            extra.append("cashback_amount")
        if any(o["is_price_discount"] == "true" for o in offers):
            extra.append("discount_share")
        used = {fields[o["offer_id"]] for o in offers if o["offer_id"] in fields}
        extra += [c for c in ("favourite_category", "usual_purchase_weekday", "amount_to_top_ltv", "orders_count") if c in used]
        columns[channel] = ("customer_id", "offer_id", "offer_name", "valid_from", "valid_to", *extra)
    return columns


def test_export_writes_each_channel_for_consenting_customers(demo: tuple[Path, Path, Path], tmp_path: Path) -> None:
    data, database, _ = demo
    customers = raw_customers(data)
    assert export_offers.main(["--database", str(database), "--out", str(tmp_path / "csv")]) == 0
    expected_columns = expected_channel_columns()
    treated = query(database, "select customer_id, channel from marts.fct_offer_assignments where not is_holdout")
    holdouts = {c for (c,) in query(database, "select customer_id from marts.fct_offer_assignments where is_holdout")}
    for channel in ("email", "sms", "push"):
        with (tmp_path / "csv" / f"offers_{channel}.csv").open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            assert tuple(reader.fieldnames or ()) == expected_columns[channel]
        exported = [row["customer_id"] for row in rows]
        assert len(exported) == len(set(exported))
        assert not set(exported) & holdouts
        assert all(customers[c][f"consent_{channel}"].strip() != "false" for c in exported)
        assert sorted(exported) == sorted(c for c, ch in treated if ch == channel)
        assert {row["offer_id"] for row in rows} <= {
            o for (o,) in query(database, f"select offer_id from marts.fct_offer_coverage where channel = '{channel}'")
        }
    # Opted-in only, as Parquet.
    written = export_offers.export(database, tmp_path / "parquet", "parquet", explicit_consent_only=True)
    assert sum(item.skipped_for_consent for item in written) > 0
    for item in written:
        table = pq.read_table(item.path)
        assert tuple(table.column_names) == expected_columns[item.channel]
        assert all(customers[c][f"consent_{item.channel}"].strip() == "true" for c in table.column("customer_id").to_pylist())
        assert table.num_rows == item.rows
