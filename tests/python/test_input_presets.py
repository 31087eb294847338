"""The input format presets (input_formats/*.yml) on exports written byte for byte as the shop
systems write them (tests/exports/<preset>/orders.csv: BOM or not, line ends, encoding, quoting).

One dbt build per preset. Every expected value is computed here from the fixture, without the
project's SQL: the rows with the csv module in the export's encoding, the timestamps with datetime
and zoneinfo, the amounts with decimal, and the statuses and currency rates from the seeds as they
are now (so that the tests follow seeds/order_statuses.csv when it gains the statuses a preset
needs: until then those orders are quarantined as unknown_status, and the build runs with
max_quarantine_share 1 so that the rest can be checked).

The fixtures are not under tests/fixtures/: dbt reads every CSV file there as a unit-test fixture
(decoded as UTF-8, names unique), which a cp1252 file or two files named orders.csv would break."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from dbt_project_runner import REPO, dbt, query

EXPORTS = REPO / "tests" / "exports"
PRESETS = REPO / "input_formats"
SEEDS = REPO / "seeds"
AS_OF = "2025-01-31"
UTC = ZoneInfo("UTC")
CENT = Decimal("0.0001")   # money_type() is decimal(18, 4)


# --- what the seeds say ----------------------------------------------------------------------------

def seed_statuses() -> dict[str, tuple[bool, bool, bool]]:
    """status -> (is_purchase, is_cancelled, is_fully_returned)."""
    with (SEEDS / "order_statuses.csv").open(newline="", encoding="utf-8") as handle:
        return {row["status"]: tuple(row[key] == "true" for key in ("is_purchase", "is_cancelled", "is_fully_returned"))
                for row in csv.DictReader(handle)}


def seed_rates(reporting: str) -> dict[str, Decimal]:
    """currency -> rate to the reporting currency, rebased as the seed's post-hook does (8 decimals)."""
    with (SEEDS / "currencies.csv").open(newline="", encoding="utf-8") as handle:
        base = {row["currency_code"]: Decimal(row["rate_to_reporting"]) for row in csv.DictReader(handle)}
    return {code: Decimal(1) if code == reporting
            else (rate / base[reporting]).quantize(Decimal("0.00000001"), rounding=ROUND_HALF_UP)
            for code, rate in base.items()}


# --- how each export writes its values -------------------------------------------------------------

def offset_time(text: str) -> datetime:
    """'2024-10-14 12:02:00 +0200' as a UTC wall time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").astimezone(UTC).replace(tzinfo=None)


def local_time(pattern: str, zone: str):
    """A parser of local wall times in an IANA zone, as UTC wall times. The fixtures hold no time in
    an hour skipped or repeated by summer time, which the test checks."""
    def parse(text: str) -> datetime:
        wall = datetime.strptime(text, pattern)
        first = wall.replace(tzinfo=ZoneInfo(zone), fold=0)
        second = wall.replace(tzinfo=ZoneInfo(zone), fold=1)
        assert first.utcoffset() == second.utcoffset(), f"{text} is ambiguous or skipped in {zone}"
        return first.astimezone(UTC).replace(tzinfo=None)
    return parse


def dot_decimal(text: str) -> Decimal:
    return Decimal(text)


def comma_decimal(text: str) -> Decimal:
    """'1.234,56' -> 1234.56 (German: '.' between thousands, ',' before the decimals)."""
    return Decimal(text.replace(".", "").replace(",", "."))


@dataclass
class Preset:
    name: str
    encoding: str                      # Python codec of the fixture
    delimiter: str
    columns: dict[str, str]            # contract column -> export column (as in the preset)
    parse_time: object
    parse_amount: object
    reporting_currency: str = "GBP"
    continuation: bool = False         # continuation_row_when_empty: amount
    file_bytes: dict = field(default_factory=dict)   # what the fixture's bytes must show

    @property
    def fixture(self) -> Path:
        return EXPORTS / self.name / "orders.csv"

    @property
    def format_file(self) -> Path:
        return PRESETS / f"{self.name}.yml"


SHOPIFY = Preset(
    "shopify", "utf-8", ",",
    {"order_id": "Name", "customer_id": "Email", "ordered_at": "Created at", "amount": "Total",
     "currency": "Currency", "status": "Financial Status", "discount_amount": "Discount Amount",
     "channel": "Source"},
    offset_time, dot_decimal, continuation=True,
    file_bytes={"bom": False, "line_end": b"\n"},
)
WOOCOMMERCE = Preset(
    "woocommerce", "utf-8-sig", ",",
    {"order_id": "order_id", "customer_id": "billing_email", "ordered_at": "order_date",
     "amount": "order_total", "currency": "order_currency", "status": "status", "discount_amount": "cart_discount"},
    local_time("%Y-%m-%d %H:%M:%S", "America/New_York"), dot_decimal,
    file_bytes={"bom": True, "line_end": b"\n"},
)
EUROPEAN = Preset(
    "european_example", "cp1252", ";",
    {"order_id": "Bestellnummer", "customer_id": "Kundennummer", "ordered_at": "Bestelldatum", "amount": "Betrag",
     "currency": "Währung", "discount_amount": "Rabatt", "channel": "Vertriebskanal"},
    local_time("%d.%m.%Y %H:%M", "Europe/Berlin"), comma_decimal, reporting_currency="EUR",
    file_bytes={"bom": False, "line_end": b"\r\n"},
)


# --- expected values, from the fixture ---------------------------------------------------------------

@dataclass
class Expected:
    raw_rows: int
    reasons: dict[int, str]                      # row number -> quarantine reason
    staged: dict[str, tuple]                     # order_id -> (customer_id, ordered_at UTC, amount, channel)
    customers: dict[str, tuple]                  # customer_id -> (gross, returns, net) in reporting currency
    guest_net: Decimal
    unknown_statuses: set[str]


def expected_from_fixture(preset: Preset) -> Expected:
    statuses = seed_statuses()
    rates = seed_rates(preset.reporting_currency)
    with preset.fixture.open(newline="", encoding=preset.encoding) as handle:
        rows = list(csv.DictReader(handle, delimiter=preset.delimiter))

    def value(row: dict, column: str) -> str | None:
        name = preset.columns.get(column)
        text = (row.get(name) or "").strip() if name else ""
        return text or None

    reasons: dict[int, str] = {}
    staged: dict[str, tuple] = {}
    customers: dict[str, list[Decimal]] = {}
    guest_net = Decimal(0)
    unknown: set[str] = set()
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        order_id = value(row, "order_id")
        amount_text = value(row, "amount")
        if preset.continuation and amount_text is None and order_id in seen:
            reasons[number] = "continuation_row"
            continue
        seen.add(order_id)
        status = (value(row, "status") or "completed").lower()
        if status not in statuses:
            reasons[number] = "unknown_status"
            unknown.add(status)
            continue
        is_purchase, is_cancelled, is_fully_returned = statuses[status]
        currency = (value(row, "currency") or preset.reporting_currency).upper()
        amount = (preset.parse_amount(amount_text) * rates[currency]).quantize(CENT, rounding=ROUND_HALF_UP)
        customer_id = value(row, "customer_id")
        channel = value(row, "channel")
        staged[order_id] = (customer_id, preset.parse_time(value(row, "ordered_at")), amount,
                            channel.lower() if channel else None)
        if is_cancelled:
            continue
        gross = amount if is_purchase and amount >= 0 else Decimal(0)
        returns = -amount if amount < 0 else (amount if is_fully_returned else Decimal(0))
        if customer_id is None:
            guest_net += gross - returns
        else:
            totals = customers.setdefault(customer_id, [Decimal(0), Decimal(0)])
            totals[0] += gross
            totals[1] += returns
    return Expected(
        raw_rows=len(rows), reasons=reasons, staged=staged,
        customers={customer: (gross, returns, gross - returns) for customer, (gross, returns) in customers.items()},
        guest_net=guest_net, unknown_statuses=unknown,
    )


# --- the build ------------------------------------------------------------------------------------------

def build_preset(preset: Preset, work: Path, expected: Expected) -> Path:
    """Builds a folder holding only the fixture as orders.csv, with the preset as the input format."""
    data = work / "data"
    data.mkdir()
    shutil.copyfile(preset.fixture, data / "orders.csv")
    variables = {"as_of_date": AS_OF, "reporting_currency": preset.reporting_currency}
    if expected.unknown_statuses:
        variables["max_quarantine_share"] = 1   # until the seed lists them (README "Input formats")
    database = work / "db.duckdb"
    result = dbt(["build", "--vars", json.dumps(variables)], data, database, work, check=False,
                 extra_env={"LOYALTY_INPUT_FORMAT": str(preset.format_file)})
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    return database


def check_preset(preset: Preset, tmp_path: Path) -> None:
    raw = preset.fixture.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == preset.file_bytes["bom"]
    assert raw.count(b"\r\n") == (raw.count(b"\n") if preset.file_bytes["line_end"] == b"\r\n" else 0)
    expected = expected_from_fixture(preset)
    database = build_preset(preset, tmp_path, expected)

    # staged orders: id, customer, UTC time, amount in the reporting currency, channel
    got = query(database, "select order_id, customer_id, ordered_at, amount, channel from staging.stg_shop__orders")
    assert {row[0]: row[1:] for row in got} == expected.staged

    # every raw row is staged or quarantined; the continuation rows are quarantined as such
    assert query(database, "select source_row_number, quarantine_reason from marts.fct_quarantined_rows "
                           "where entity = 'orders' order by 1") == sorted(expected.reasons.items())
    assert query(database, "select source_file, raw_rows, staged_rows, quarantined_rows "
                           "from marts.fct_input_reconciliation where entity = 'orders'") == [
        ("orders.csv", expected.raw_rows, len(expected.staged), len(expected.reasons))]
    assert expected.raw_rows == len(expected.staged) + len(expected.reasons)

    # a mart figure: gross, returns and net revenue per customer; guests only in reconciliation
    got = query(database, "select customer_id, gross_revenue, returns_amount, net_revenue from marts.dim_customers")
    assert {row[0]: row[1:] for row in got} == expected.customers
    [(guest_net,)] = query(database, "select coalesce(sum(guest_net_revenue), 0) from marts.fct_revenue_reconciliation")
    assert guest_net == expected.guest_net


# --- one build per preset ---------------------------------------------------------------------------------

def test_shopify_export(tmp_path: Path) -> None:
    expected = expected_from_fixture(SHOPIFY)
    # what the fixture holds: orders of several line items, a guest (no email), a refund, a voided
    # order, a time just after midnight in summer time that is the day before in UTC, and both offsets
    assert list(expected.reasons.values()).count("continuation_row") >= 3
    assert any(customer is None for customer, *_ in expected.staged.values())
    times = {order_id: staged[1] for order_id, staged in expected.staged.items()}
    assert times["#1004"] == datetime(2024, 6, 30, 22, 30)
    assert times["#1001"] == datetime(2024, 1, 15, 9, 2, 11)
    check_preset(SHOPIFY, tmp_path)


def test_woocommerce_export(tmp_path: Path) -> None:
    expected = expected_from_fixture(WOOCOMMERCE)
    times = {order_id: staged[1] for order_id, staged in expected.staged.items()}
    assert times["1041"] == datetime(2024, 2, 10, 14, 14, 3)    # EST, UTC-5
    assert times["1043"] == datetime(2024, 7, 5, 3, 20)         # EDT, UTC-4: the next day in UTC
    assert expected.staged["1051"][0] is None                   # created in the admin, no billing email
    check_preset(WOOCOMMERCE, tmp_path)


def test_european_export(tmp_path: Path) -> None:
    expected = expected_from_fixture(EUROPEAN)
    staged = expected.staged
    assert staged["B-10001"][2] == Decimal("1234.56")             # '1.234,56'
    assert staged["G-10003"][2] == Decimal("-49.90")              # a credit note
    assert staged["B-10002"][1] == datetime(2023, 12, 31, 23, 30)  # '01.01.2024 00:30', CET
    assert staged["B-10004"][1] == datetime(2024, 7, 15, 21, 30)   # '15.07.2024 23:30', CEST
    assert staged["B-10004"][3] == "marktplatz \u2013 amazon"     # cp1252 0x96, the en dash
    assert staged["B-10005"][0] is None                           # no customer number: a guest
    check_preset(EUROPEAN, tmp_path)


# --- an export that does not match the format ---------------------------------------------------------------

def test_columns_that_do_not_match_are_listed_in_one_message(tmp_path: Path) -> None:
    """The WooCommerce export read with the Shopify preset: one message names every missing column
    with the name it was mapped to, the columns the file has, and the mapping to write."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(WOOCOMMERCE.fixture, data / "orders.csv")
    result = dbt(["build", "--vars", json.dumps({"as_of_date": AS_OF})], data, tmp_path / "db.duckdb", tmp_path,
                 check=False, extra_env={"LOYALTY_INPUT_FORMAT": str(SHOPIFY.format_file)})
    assert result.returncode != 0
    out = result.stdout
    with WOOCOMMERCE.fixture.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle))
    assert out.count("lacks the required column") == 1
    assert ("file 'orders.csv' (orders) lacks the required columns order_id (mapped to 'Name'), "
            "customer_id (mapped to 'Email'), ordered_at (mapped to 'Created at'), amount (mapped to 'Total').") in out
    assert "Columns found: " + ", ".join(header) in out
    assert f"input_format = '{SHOPIFY.format_file}'" in out
    # the mapping to write, as YAML (dbt indents every line of the message by two spaces)
    template = ["orders:", "  columns:"] + [f"    {column}: <its column in this file>"
                                            for column in ("order_id", "customer_id", "ordered_at", "amount")]
    lines = [line.removeprefix("  ") for line in out.splitlines()]
    start = lines.index("orders:")
    assert lines[start:start + len(template)] == template
    # the optional columns the preset maps (currency, status, ...) are not reported as missing
    assert "(mapped to 'Financial Status')" not in out
