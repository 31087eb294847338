"""scripts/export_offers.py on a small hand-made database: consent per channel, held-out customers,
the columns each channel gets, both formats and the command line's exit codes (the end-to-end
export on a built project is in test_offers_demo.py); and the check of the offers vars."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from dbt_project_runner import REPO, dbt

sys.path.insert(0, str(REPO / "scripts"))
import export_offers

SCRIPT = REPO / "scripts" / "export_offers.py"

# (customer, offer, channel, holdout, cashback, discount share, category, weekday, amount to vip, orders)
ASSIGNMENTS = [
    ("c1", "capped_cashback", "email", False, 4.5, None, None, None, None, None),
    ("c2", "winback_promo", "email", False, None, 0.15, None, None, None, None),
    ("c3", "winback_promo", "email", True, None, 0.15, None, None, None, None),  # held out
    ("c4", "winback_promo", "email", False, None, 0.15, None, None, None, None),  # opted out
    ("c5", "usual_weekday_promo", "sms", False, None, 0.10, None, 3, None, None),
    ("c6", "tier_progress", "push", False, None, None, None, None, 120.5, None),
    ("c7", "tier_progress", "push", False, None, None, None, None, 80.0, None),  # consent unknown
]
# (customer, email, sms, push)
CONSENT = [
    ("c1", True, None, None), ("c2", None, None, None), ("c3", True, None, None), ("c4", False, None, None),
    ("c5", None, True, None), ("c6", None, None, True), ("c7", None, None, None),
]
# (offer, channel, cashback, price discount, personalised by)
COVERAGE = [
    ("capped_cashback", "email", True, False, None),
    ("winback_promo", "email", False, True, None),
    ("anniversary_thanks", "email", False, True, "orders_count"),
    ("usual_weekday_promo", "sms", False, True, "usual_purchase_weekday"),
    ("tier_progress", "push", False, False, "amount_to_top_ltv"),
    ("early_access", "push", False, False, None),
]


@pytest.fixture()
def database(tmp_path: Path) -> Path:
    path = tmp_path / "offers.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            """
            create table marts.fct_offer_assignments (
                customer_id varchar, offer_id varchar, offer_name varchar, channel varchar, is_holdout boolean,
                cashback_amount decimal(18, 2), discount_share decimal(10, 4), favourite_category varchar,
                usual_purchase_weekday integer, amount_to_top_ltv decimal(18, 2), orders_count bigint,
                expected_cost decimal(18, 4), valid_from date, valid_to date)
            """
        )
        connection.executemany(
            "insert into marts.fct_offer_assignments values "
            "(?, ?, upper(?), ?, ?, ?, ?, ?, ?, ?, ?, 1.5, date '2025-06-30', date '2025-07-13')",
            [(c, o, o, *rest) for c, o, *rest in ASSIGNMENTS],
        )
        connection.execute(
            "create table marts.dim_customers (customer_id varchar, consent_email boolean, consent_sms boolean, "
            "consent_push boolean)"
        )
        connection.executemany("insert into marts.dim_customers values (?, ?, ?, ?)", CONSENT)
        connection.execute(
            "create table marts.fct_offer_coverage (offer_id varchar, channel varchar, is_cashback boolean, "
            "is_price_discount boolean, personalised_field varchar)"
        )
        connection.executemany("insert into marts.fct_offer_coverage values (?, ?, ?, ?, ?)", COVERAGE)
    return path


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_each_channel_gets_only_the_columns_its_offers_need(database: Path, tmp_path: Path) -> None:
    written = {item.channel: item for item in export_offers.export(database, tmp_path / "out")}
    base = ["customer_id", "offer_id", "offer_name", "valid_from", "valid_to"]
    assert list(written["email"].columns) == [*base, "cashback_amount", "discount_share", "orders_count"]
    assert list(written["sms"].columns) == [*base, "discount_share", "usual_purchase_weekday"]
    assert list(written["push"].columns) == [*base, "amount_to_top_ltv"]
    for channel, item in written.items():
        columns, _ = read_csv(item.path)
        assert columns == list(item.columns)
        assert item.path == tmp_path / "out" / f"offers_{channel}.csv"
        assert "expected_cost" not in columns and "is_holdout" not in columns


def test_only_consenting_and_treated_customers_are_exported(database: Path, tmp_path: Path) -> None:
    written = {item.channel: item for item in export_offers.export(database, tmp_path / "out")}
    _, email = read_csv(written["email"].path)
    assert [row["customer_id"] for row in email] == ["c1", "c2"]  # c3 held out, c4 opted out
    assert written["email"].skipped_for_consent == 1
    assert email[0]["cashback_amount"] == "4.50" and email[1]["discount_share"] == "0.1500"
    _, push = read_csv(written["push"].path)
    assert [row["customer_id"] for row in push] == ["c6", "c7"]
    assert push[0]["amount_to_top_ltv"] == "120.50"
    _, sms = read_csv(written["sms"].path)
    assert [(row["customer_id"], row["usual_purchase_weekday"]) for row in sms] == [("c5", "3")]


def test_explicit_consent_only_leaves_out_unknown_consent(database: Path, tmp_path: Path) -> None:
    written = {
        item.channel: item
        for item in export_offers.export(database, tmp_path / "out", "parquet", explicit_consent_only=True)
    }
    assert pq.read_table(written["email"].path).column("customer_id").to_pylist() == ["c1"]
    assert written["email"].skipped_for_consent == 2
    assert pq.read_table(written["push"].path).column("customer_id").to_pylist() == ["c6"]
    assert pq.read_table(written["sms"].path).column("customer_id").to_pylist() == ["c5"]


def test_channels_option_writes_only_those_channels(database: Path, tmp_path: Path) -> None:
    assert export_offers.main(["--database", str(database), "--out", str(tmp_path / "out"), "--channels", "sms"]) == 0
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["offers_sms.csv"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


def test_cli_exit_codes(database: Path, tmp_path: Path) -> None:
    ok = run_cli("--database", str(database), "--out", str(tmp_path / "out"), "--format", "parquet")
    assert ok.returncode == 0, ok.stderr
    assert "email" in ok.stdout and (tmp_path / "out" / "offers_push.parquet").is_file()

    missing = run_cli("--database", str(tmp_path / "absent.duckdb"), "--out", str(tmp_path / "out"))
    assert missing.returncode == 1 and "database file not found" in missing.stderr

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    no_marts = run_cli("--database", str(empty), "--out", str(tmp_path / "out"))
    assert no_marts.returncode == 1 and "marts.fct_offer_assignments" in no_marts.stderr

    blocked = tmp_path / "a_file"
    blocked.write_text("not a folder")
    unwritable = run_cli("--database", str(database), "--out", str(blocked / "out"))
    assert unwritable.returncode == 1 and "cannot create the output folder" in unwritable.stderr

    assert run_cli("--database", str(database)).returncode == 2  # --out missing
    assert run_cli("--database", str(database), "--out", "x", "--format", "xlsx").returncode == 2
    assert run_cli("--database", str(database), "--out", "x", "--channels", "fax").returncode == 2


# --- the offers vars -----------------------------------------------------------------------------


def test_out_of_range_offers_vars_stop_the_build(tmp_path: Path) -> None:
    """The cashback share may not exceed its 10% ceiling (best-customers-without-discounts: 5-10% of
    the average check), and the consent policy is allow or deny; compiling says which var is wrong."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\n", encoding="utf-8")
    args = ["compile", "--select", "int_offer_candidates_guarded"]
    as_of = {"as_of_date": "2025-06-30"}  # a fixed day, not the run's
    ok = dbt([*args, "--vars", json.dumps(as_of)], data, tmp_path / "ok.duckdb", tmp_path / "ok", check=False)
    assert ok.returncode == 0, ok.stdout[-2000:]
    bad_vars = {**as_of, "offer_cashback_max_aov_share": 0.12, "offer_unknown_consent": "maybe"}
    bad = dbt([*args, "--vars", json.dumps(bad_vars)], data, tmp_path / "bad.duckdb", tmp_path / "bad", check=False)
    assert bad.returncode != 0
    assert "offer_cashback_max_aov_share must be in (0, 0.1]" in bad.stdout
    assert "offer_unknown_consent must be 'allow' or 'deny'" in bad.stdout
