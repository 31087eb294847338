"""Money and currency: a sum that does not fit the money type stops the build with a message that
names the customer, the model and the value (not DuckDB's cast error); a shop reporting in EUR
converts its EUR, USD and GBP orders with the seed's rates rebased to EUR, checked against a
computation in plain Python; an unknown reporting currency stops at the seed, naming the var."""

from __future__ import annotations

import csv
import json
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from dbt_project_runner import REPO, dbt, query

AS_OF = "2024-06-30"
SEED = REPO / "seeds" / "currencies.csv"
HEADER = "order_id,customer_id,ordered_at,amount,currency,status\n"

# One customer with two valid orders of 60 trillion (each fits decimal(18,4), their sum does
# not), two ordinary customers, and two guest orders of 60 trillion in one month.
HUGE_ORDERS = HEADER + (
    "H1,big,2024-01-05 09:00:00,60000000000000.00,GBP,\n"
    "H2,big,2024-02-05 09:00:00,60000000000000.00,GBP,\n"
    "S1,small-1,2024-02-06 10:00:00,35.00,GBP,\n"
    "S2,small-2,2024-03-01 11:00:00,20.00,GBP,\n"
    "G1,,2024-03-02 12:00:00,60000000000000.00,GBP,\n"
    "G2,,2024-03-03 12:00:00,60000000000000.00,GBP,\n"
)

# A shop reporting in EUR: orders in EUR (also an empty currency, which means the reporting
# currency), USD (one written in lower case), one in GBP (the seed's base currency), a return, a
# cancelled order and guest orders.
EUR_ORDERS = HEADER + (
    "E1,eu-1,2024-01-10 10:00:00,100.00,EUR,\n"
    "E2,eu-1,2024-03-12 10:00:00,45.50,,\n"
    "U1,us-1,2024-02-01 09:00:00,120.00,USD,completed\n"
    "U2,us-1,2024-04-15 09:00:00,-20.00,USD,\n"
    "M1,mixed,2024-01-20 08:00:00,80.00,usd,\n"
    "M2,mixed,2024-02-20 08:00:00,60.00,EUR,\n"
    "M3,mixed,2024-05-05 08:00:00,33.33,GBP,\n"
    "M4,mixed,2024-05-06 08:00:00,10.00,EUR,cancelled\n"
    "G1,,2024-03-01 12:00:00,50.00,USD,\n"
    "G2,,2024-03-02 12:00:00,25.00,EUR,\n"
)


def build(data: Path, database: Path, work_dir: Path, select: list[str] | None = None,
          **extra_vars: object) -> subprocess.CompletedProcess:
    """dbt build without the unit tests (they do not read the input folder); never raises."""
    variables = json.dumps({"as_of_date": AS_OF, **extra_vars})
    args = ["build", "--vars", variables, "--exclude-resource-type", "unit_test", *(select or [])]
    return dbt(args, data, database, work_dir, check=False)


def write_orders(root: Path, text: str) -> Path:
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "orders.csv").write_text(text)
    return data


def seed_rates() -> dict[str, Decimal]:
    """The rates as written in the seed file, against its base currency."""
    with SEED.open(newline="") as handle:
        return {row["currency_code"]: Decimal(row["rate_to_reporting"]) for row in csv.DictReader(handle)}


# --- money overflow ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def overflow_build(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess:
    root = tmp_path_factory.mktemp("overflow")
    data = write_orders(root, HUGE_ORDERS)
    return build(data, root / "db.duckdb", root)


def test_customer_sum_beyond_the_money_type_stops_naming_customer_model_and_value(
        overflow_build: subprocess.CompletedProcess) -> None:
    output = overflow_build.stdout
    assert overflow_build.returncode != 0, output[-4000:]
    assert "Conversion Error" not in output and "out of range" not in output, output[-6000:]
    messages = [line for line in output.splitlines() if "does not fit the money type" in line]
    customer = [line for line in messages if "int_customer_facts_snapshotted:" in line]
    assert customer, output[-6000:]
    message = customer[0]
    assert "customer_id=big" in message
    assert "is 120000000000000.0000" in message
    assert "decimal(18, 4): at most 99999999999999.9999 (99 trillion)" in message
    assert "unit and decimal separator of the input amount column" in message
    assert "money_type() in macros/cross_db/money_type.sql" in message
    # The ordinary customers are not named: only sums that do not fit stop the build.
    assert not any("small-" in line for line in messages)


def test_total_beyond_the_money_type_stops_naming_the_month(overflow_build: subprocess.CompletedProcess) -> None:
    """Each guest order fits, their month does not: the reconciliation mart names the month."""
    output = overflow_build.stdout
    totals = [line for line in output.splitlines()
              if "fct_revenue_reconciliation:" in line and "does not fit the money type" in line]
    assert totals, output[-6000:]
    assert "month=2024-03-01" in totals[0]
    assert "is 120000000000020.0000" in totals[0]  # both guest orders and small-2's 20.00


# --- reporting currency ------------------------------------------------------------------------


def test_seed_rates_are_written_against_one_base_currency() -> None:
    rates = seed_rates()
    base = [code for code, rate in rates.items() if rate == 1]
    assert base == ["GBP"], base
    assert all(rate > 0 for rate in rates.values())


@pytest.fixture(scope="module")
def eur_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("eur-shop")
    data = write_orders(root, EUR_ORDERS)
    database = root / "db.duckdb"
    result = build(data, database, root, reporting_currency="EUR")
    assert result.returncode == 0, result.stdout[-6000:]
    return database


def expected_eur_revenue() -> tuple[dict[str, dict[str, Decimal]], dict[str, Decimal], int]:
    """Revenue per customer and guest revenue in EUR, in plain Python from the raw rows and the
    seed file: rate(c -> EUR) = rate(c -> GBP) / rate(EUR -> GBP), cancelled orders left out,
    negative amounts are returns; and the number of orders converted."""
    rates = seed_rates()
    per_customer: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    guests: dict[str, Decimal] = defaultdict(Decimal)
    converted = 0
    for row in csv.DictReader(EUR_ORDERS.splitlines()):
        if row["status"] == "cancelled":
            continue
        currency = row["currency"].strip().upper() or "EUR"
        amount = Decimal(row["amount"]) * rates[currency] / rates["EUR"]
        converted += 1
        if not row["customer_id"]:
            guests["net"] += amount
            continue
        totals = per_customer[row["customer_id"]]
        totals["gross"] += max(amount, Decimal(0))
        totals["returns"] += max(-amount, Decimal(0))
        totals["net"] += amount
    return per_customer, guests, converted


def close(actual: Decimal, expected: Decimal, orders: int) -> bool:
    """Equal up to the documented rounding: rates to 8 decimals, each order to 4 decimals."""
    return abs(actual - expected) <= Decimal("0.0001") * max(orders, 1)


def test_eur_shop_revenue_matches_python(eur_shop: Path) -> None:
    per_customer, _, converted = expected_eur_revenue()
    rows = query(eur_shop, "select customer_id, gross_revenue, returns_amount, net_revenue "
                           "from marts.dim_customers order by customer_id")
    assert [row[0] for row in rows] == sorted(per_customer)
    for customer_id, gross, returns, net in rows:
        expected = per_customer[customer_id]
        assert close(gross, expected["gross"], converted), (customer_id, gross, expected["gross"])
        assert close(returns, expected["returns"], converted), (customer_id, returns, expected["returns"])
        assert close(net, expected["net"], converted), (customer_id, net, expected["net"])
    # EUR orders, and those with an empty currency, are taken as they are.
    assert per_customer["eu-1"]["net"] == Decimal("145.50")
    assert rows[[row[0] for row in rows].index("eu-1")][3] == Decimal("145.5000")


def test_eur_shop_reconciliation_matches_python(eur_shop: Path) -> None:
    per_customer, guests, converted = expected_eur_revenue()
    customer_net, guest_net, net = query(
        eur_shop, "select sum(customer_net_revenue), sum(guest_net_revenue), sum(net_revenue) "
                  "from marts.fct_revenue_reconciliation")[0]
    assert close(customer_net, sum(totals["net"] for totals in per_customer.values()), converted)
    assert close(guest_net, guests["net"], converted)
    assert net == customer_net + guest_net


def test_eur_shop_rates_are_rebased_to_eur(eur_shop: Path) -> None:
    rates = seed_rates()
    loaded = dict(query(eur_shop, "select currency_code, rate_to_reporting from seeds.currencies"))
    assert loaded["EUR"] == 1
    assert set(loaded) == set(rates)
    for code, rate in rates.items():
        assert abs(loaded[code] - rate / rates["EUR"]) <= Decimal("0.000000005"), code
    staged = dict(query(eur_shop, "select order_id, rate_to_reporting from staging.base_shop__orders_checked"))
    assert staged["E2"] == 1 and staged["G2"] == 1  # empty currency = EUR
    assert staged["M1"] == loaded["USD"]


def test_unknown_reporting_currency_stops_at_the_seed_naming_the_var(tmp_path: Path) -> None:
    data = write_orders(tmp_path, EUR_ORDERS)
    result = build(data, tmp_path / "db.duckdb", tmp_path, select=["--select", "currencies"],
                   reporting_currency="XYZ")
    assert result.returncode != 0
    assert "var reporting_currency is 'XYZ', which seeds/currencies.csv does not list" in result.stdout, \
        result.stdout[-4000:]
    assert "EUR, GBP" in result.stdout  # the codes it can take


def test_order_beyond_the_money_type_once_converted_is_quarantined(tmp_path: Path) -> None:
    # 90 trillion pounds fit decimal(18,4); in euros (rate above 1) they do not: that order is
    # quarantined as amount_out_of_range instead of failing the conversion
    rates = seed_rates()
    assert rates["GBP"] / rates["EUR"] > 1
    good = "".join(f"e{i},c{i % 5},2024-03-{1 + i % 28:02d} 10:00:00,{10 + i}.00,EUR,paid\n" for i in range(40))
    data = write_orders(tmp_path, HEADER + good + "huge,c1,2024-03-05 10:00:00,90000000000000.00,GBP,paid\n")
    database = tmp_path / "db.duckdb"
    result = build(data, database, tmp_path, select=["-s", "+base_shop__orders_checked", "--exclude", "test_type:data"],
                   reporting_currency="EUR")
    assert result.returncode == 0, result.stdout[-4000:]
    rows = query(database, "select order_id, amount, quarantine_reason from staging.base_shop__orders_checked "
                           "where quarantine_reason is not null")
    assert rows == [("huge", None, "amount_out_of_range")]
