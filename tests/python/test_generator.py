"""Tests of the demo-data generator (scripts/generate_data.py).

Every check reads the written files back (with DuckDB) and recomputes the property on its own,
instead of trusting the generator's bookkeeping; where the generator records a number in
_generator.json, the test compares it with its own count.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_data.py"
END = date(2025, 6, 30)
SEED = 7
CUSTOMERS = 3000
# The offer ids the generator may send are the catalog's: read them from the seed, not a copy.
with open(ROOT / "seeds" / "offer_catalog.csv", newline="") as _catalog:
    OFFER_IDS = {row["offer_id"] for row in csv.DictReader(_catalog)}
PURCHASE_STATUSES = "('', 'completed', 'paid', 'shipped', 'delivered')"
KNOWN_STATUSES = "('', 'completed', 'paid', 'shipped', 'delivered', 'cancelled', 'returned', 'refunded')"


def _package() -> ModuleType:
    if str(SCRIPT.parent) not in sys.path:
        sys.path.insert(0, str(SCRIPT.parent))
    return importlib.import_module("loyalty_data")


def _generate(out: Path, **kwargs: object) -> dict:
    pkg = _package()
    settings = {
        "end_date": END,
        "seed": SEED,
        "customers": CUSTOMERS,
        "orders": CUSTOMERS * 10,
    }
    settings.update(kwargs)
    return pkg.generate(pkg.GeneratorConfig(**settings), out)


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The generator's command line; ``env`` adds to (or, with None values, removes from) the
    environment."""
    environment = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
    )


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _reader(path: str, file_format: str) -> str:
    if file_format == "parquet":
        return f"read_parquet('{path}', filename = true)"
    return f"read_csv('{path}', all_varchar = true, header = true, filename = true)"


def _connect(folder: Path, file_format: str = "parquet") -> duckdb.DuckDBPyConnection:
    """Views over the written files, plus `checked`: every order row with its own defect kind."""
    con = duckdb.connect()
    ext = file_format
    con.execute(
        f"create view orders_raw as select * from {_reader(f'{folder}/orders/*.{ext}', file_format)}"
    )
    for name in ("order_lines", "events"):
        if (folder / f"{name}.{ext}").exists():
            con.execute(
                f"create view {name} as select * from {_reader(f'{folder}/{name}.{ext}', file_format)}"
            )
    for name in ("products", "customers", "offer_sends"):
        con.execute(
            f"create view {name} as select * from {_reader(f'{folder}/{name}.csv', 'csv')}"
        )
    end_next = (END + timedelta(days=1)).isoformat()
    con.execute("""
        create view parsed as
        select
            filename,
            coalesce(order_id, '') as order_id, coalesce(customer_id, '') as customer_id,
            coalesce(ordered_at, '') as ordered_at, coalesce(amount, '') as amount,
            coalesce(currency, '') as currency, coalesce(status, '') as status,
            coalesce(channel, '') as channel, coalesce(discount_amount, '') as discount_amount,
            trim(coalesce(order_id, '')) as oid,
            trim(coalesce(customer_id, '')) as cid,
            try_strptime(ordered_at, '%Y-%m-%d %H:%M:%S') as ts,
            case when regexp_full_match(amount, '-?[0-9]+\\.[0-9]{2}')
                then cast(amount as decimal(18, 2)) end as amt,
            try_cast(discount_amount as decimal(18, 2)) as disc
        from orders_raw
    """)
    con.execute(f"""
        create view checked as
        with conflicts as (
            select filename, oid from parsed where oid <> ''
            group by all having count(distinct amount) > 1
        )
        select
            parsed.*,
            case
                when parsed.oid = '' then 'blank_order_id'
                when parsed.ts is null then 'unparseable_ordered_at'
                when parsed.ts >= timestamp '{end_next}' then 'future_ordered_at'
                when parsed.ts < timestamp '2000-01-01' then 'implausibly_old_ordered_at'
                when parsed.amt is null then 'non_numeric_amount'
                when parsed.currency not in ('GBP', 'EUR', 'USD', '') then 'unknown_currency'
                when parsed.status not in {KNOWN_STATUSES} then 'unknown_status'
            end as defect,
            conflicts.oid is not null as in_conflict
        from parsed
        left join conflicts using (filename, oid)
    """)
    con.execute(
        "create view valid as select * from checked where defect is null and not in_conflict"
    )
    con.execute(
        """
        create view purchases as
        select distinct oid, cid, ts, amt, disc, channel from valid
        where cid <> '' and amt > 0 and status in """
        + PURCHASE_STATUSES
    )
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.sql(sql).fetchone()[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo")
    manifest = _generate(out)
    return out, manifest


@pytest.fixture(scope="module")
def con(demo: tuple[Path, dict]) -> duckdb.DuckDBPyConnection:
    return _connect(demo[0])


# ------------------------------------------------------------------------------ layout, counts


def test_layout_and_file_row_counts(
    demo: tuple[Path, dict], con: duckdb.DuckDBPyConnection
) -> None:
    out, manifest = demo
    months = sorted(p.name for p in (out / "orders").iterdir())
    assert (
        months[0] == "2023-07.parquet"
        and months[-1] == "2025-06.parquet"
        and len(months) == 24
    )
    expected = {
        *(f"orders/{m}" for m in months),
        "order_lines.parquet",
        "events.parquet",
        "products.csv",
        "customers.csv",
        "offer_sends.csv",
    }
    assert set(manifest["files"]) == expected
    assert {p.name for p in out.iterdir()} == {"orders", "_generator.json"} | {
        f for f in expected if "/" not in f
    }
    for name, rows in manifest["files"].items():
        fmt = "parquet" if name.endswith(".parquet") else "csv"
        assert (
            _one(con, f"select count(*) from {_reader(str(out / name), fmt)}") == rows
        ), name
    # all columns are text, in the contract's order
    for name, cols in {
        "orders_raw": [
            "order_id",
            "customer_id",
            "ordered_at",
            "amount",
            "currency",
            "status",
            "channel",
            "discount_amount",
        ],
        "order_lines": ["order_id", "product_id", "quantity", "unit_price", "amount"],
        "events": ["customer_id", "event_at", "event_type", "product_id"],
    }.items():
        described = con.sql(f"describe {name}").fetchall()
        assert [r[0] for r in described if r[0] != "filename"] == cols
        assert {r[1] for r in described} == {"VARCHAR"}
    assert manifest["parameters"]["end_date"] == END.isoformat()
    total = manifest["counts"]["order_rows"]
    assert abs(total - CUSTOMERS * 10) / (CUSTOMERS * 10) < 0.10


def test_bad_rows_match_manifest(
    demo: tuple[Path, dict], con: duckdb.DuckDBPyConnection
) -> None:
    _, manifest = demo
    found = dict(
        con.sql(
            "select defect, count(*) from checked where defect is not null group by 1"
        ).fetchall()
    )
    found["exact_duplicate"] = _one(
        con,
        """
        select coalesce(sum(n - 1), 0) from (
            select count(*) as n from parsed
            group by filename, order_id, customer_id, ordered_at, amount, currency, status, channel,
                discount_amount
            having count(*) > 1)""",
    )
    found["conflicting_duplicate"] = _one(
        con,
        """
        select coalesce(sum(n - 1), 0) from (
            select count(*) as n from parsed where oid <> '' group by filename, oid
            having count(distinct amount) > 1)""",
    )
    bad = manifest["bad_rows"]
    assert {k: int(v) for k, v in found.items()} == bad
    assert all(v > 0 for v in bad.values()), bad
    share = manifest["bad_rows_total"] / manifest["counts"]["order_rows"]
    assert 0.003 <= share <= 0.008
    # the deliberately future rows are the only ones after the end date, all in 2099
    assert (
        _one(
            con,
            "select count(*) from checked where defect = 'future_ordered_at' and year(ts) <> 2099",
        )
        == 0
    )
    # ids with surrounding spaces: counted separately and valid once trimmed
    spaced = _one(
        con,
        """
        select count(*) from checked
        where (order_id <> oid and oid <> '') or customer_id <> cid""",
    )
    assert spaced == manifest["whitespace_id_rows"] > 0
    assert (
        _one(
            con,
            """
        select count(*) from checked where ((order_id <> oid and oid <> '') or customer_id <> cid)
            and (defect is not null or in_conflict)""",
        )
        == 0
    )


def test_history_window(con: duckdb.DuckDBPyConnection) -> None:
    lo, hi = con.sql("select min(ts), max(ts) from valid").fetchone()
    assert lo.date() >= date(2023, 7, 1)
    assert hi.date() <= END
    assert hi.date() >= END - timedelta(days=2)
    assert (
        _one(
            con,
            f"""
        select count(*) from events
        where cast(event_at as timestamp) not between date '2023-07-01' and date '{END}' + 1""",
        )
        == 0
    )
    # each month file holds only its own month (defective timestamps aside)
    assert (
        _one(
            con,
            """
        select count(*) from valid
        where strftime(ts, '%Y-%m') <> regexp_extract(filename, '(\\d{4}-\\d{2})\\.parquet$', 1)""",
        )
        == 0
    )


# ------------------------------------------------------------------------------ realism


def test_pareto_revenue(con: duckdb.DuckDBPyConnection) -> None:
    top = _one(
        con,
        """
        with net as (
            select cid, sum(amt) as spend from valid
            where cid <> '' and status not in ('cancelled', 'returned') group by cid),
        ranked as (select spend, row_number() over (order by spend desc) as rn, count(*) over () as n from net)
        select sum(spend) filter (where rn <= 0.2 * n) / sum(spend) from ranked""",
    )
    assert top >= 0.60


def test_returns_guests_zero_cancelled_currencies(
    con: duckdb.DuckDBPyConnection,
) -> None:
    n = _one(con, "select count(*) from valid")
    returns = _one(con, "select count(*) from valid where amt < 0")
    assert 0.05 <= returns / n <= 0.10
    assert 0.02 <= _one(con, "select count(*) from valid where cid = ''") / n <= 0.04
    assert 0 < _one(con, "select count(*) from valid where amt = 0") < 0.01 * n
    assert (
        0.01
        <= _one(con, "select count(*) from valid where status = 'cancelled'") / n
        <= 0.04
    )
    currencies = dict(
        con.sql("select currency, count(*) from valid group by 1").fetchall()
    )
    assert set(currencies) == {"GBP", "EUR", "USD", ""}
    assert currencies["GBP"] / n > 0.85
    # a return belongs to a customer who bought before it, and is mostly smaller than the purchase
    orphans = _one(
        con,
        """
        select count(*) from valid as r
        where r.amt < 0 and (r.cid = '' or not exists (
            select 1 from purchases as p where p.cid = r.cid and p.ts < r.ts))""",
    )
    assert orphans == 0
    avg_return, avg_purchase = con.sql("""
        select avg(-amt) filter (where amt < 0), avg(amt) filter (where amt > 0) from valid""").fetchone()
    assert avg_return < 0.8 * avg_purchase
    assert _one(con, "select count(*) from valid where disc < 0") == 0


def test_purchase_rhythms_churn_and_reactivation(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute("""
        create or replace temp table gaps as
        select cid, epoch(ts - lag(ts) over (partition by cid order by ts)) / 86400.0 as gap, ts
        from purchases""")
    # each customer has a typical interval: gaps vary far more between customers than within
    p10, p90, icc = con.sql("""
        with g as (select cid, ln(greatest(gap, 0.5)) as lg from gaps where gap is not null),
        c as (select cid, avg(lg) as m, count(*) as n from g group by cid having count(*) >= 5),
        j as (select g.lg, c.m from g join c using (cid))
        select quantile_cont(exp(m), 0.1), quantile_cont(exp(m), 0.9),
               var_pop(m) / var_pop(lg) from j""").fetchone()
    assert p90 / p10 > 3
    assert icc > 0.3
    repeaters = _one(con, "select count(distinct cid) from gaps where gap is not null")
    churned = _one(
        con,
        f"""
        with c as (select cid, count(*) as n, max(ts) as last, avg(gap) as mean_gap from gaps group by cid)
        select count(*) from c
        where n >= 3 and date '{END}' - cast(last as date) > greatest(180, 3 * mean_gap)""",
    )
    assert churned / repeaters > 0.07
    reactivated = _one(
        con,
        """
        with g as (
            select cid, gap, median(gap) over (partition by cid) as usual,
                   lead(ts) over (partition by cid order by ts) as next_ts
            from gaps where gap is not null)
        select count(distinct cid) from g where gap > 150 and gap > 4 * usual""",
    )
    assert reactivated / repeaters > 0.01


def test_seasonality_december_peak(con: duckdb.DuckDBPyConnection) -> None:
    per_day = dict(
        con.sql("""
        select month(ts) as m, count(*) / count(distinct cast(ts as date)) from valid
        where amt > 0 group by 1""").fetchall()
    )
    rest = [per_day[m] for m in range(2, 11)]
    assert per_day[12] > 1.3 * (sum(rest) / len(rest))


def test_discount_hunters(con: duckdb.DuckDBPyConnection) -> None:
    shares = con.sql("""
        select count(*) filter (where hunter_share > 0.5) / count(*),
               avg(hunter_share) filter (where hunter_share <= 0.5)
        from (select cid, avg(case when disc > 0 then 1 else 0 end) as hunter_share
              from purchases group by cid having count(*) >= 4)""").fetchone()
    assert 0.04 <= shares[0] <= 0.25
    assert shares[1] < 0.25


def test_lines_sum_to_orders_and_products(con: duckdb.DuckDBPyConnection) -> None:
    mismatches, missing, checked = con.sql("""
        with o as (select distinct oid, amt, disc from valid),
        l as (select order_id, sum(cast(amount as decimal(18, 2))) as total,
                     sum(cast(quantity as integer) * cast(unit_price as decimal(18, 2))) as gross
              from order_lines group by order_id)
        select count(*) filter (where l.total <> o.amt),
               count(*) filter (where l.order_id is null),
               count(*) filter (where o.amt > 0 and l.gross - l.total <> o.disc)
        from o left join l on l.order_id = o.oid""").fetchone()
    assert mismatches == 0 and missing == 0 and checked == 0
    assert (
        _one(
            con, "select count(*) from order_lines where cast(quantity as integer) < 0"
        )
        > 0
    )
    assert (
        _one(
            con,
            """select count(*) from order_lines
                        where (cast(quantity as integer) < 0) <> (cast(amount as decimal(18, 2)) < 0)""",
        )
        == 0
    )
    # one line per product and order; no accidental exact duplicates among lines or events
    same_product = """
        select count(*) from (
            select order_id, product_id from order_lines group by all having count(*) > 1)"""
    assert _one(con, same_product) == 0
    same_event = """
        select count(*) from (
            select customer_id, event_at, event_type, product_id from events
            group by all having count(*) > 1)"""
    assert _one(con, same_event) == 0
    n_products, n_categories = con.sql(
        "select count(*), count(distinct category) from products"
    ).fetchone()
    assert 200 <= n_products <= 500 and 8 <= n_categories <= 12
    lo, hi = con.sql("""
        select min(cost / price), max(cost / price) from (
            select cast(p.unit_cost as decimal(18, 2)) as cost, max(cast(l.unit_price as decimal(18, 2))) as price
            from products as p join order_lines as l using (product_id) group by all)""").fetchone()
    assert 0.40 <= lo and hi <= 0.75


def test_customers_and_consent(
    demo: tuple[Path, dict], con: duckdb.DuckDBPyConnection
) -> None:
    assert _one(con, "select count(distinct customer_id) from customers") == CUSTOMERS
    shares = {
        ch: dict(
            con.sql(
                f"select coalesce(consent_{ch}, ''), count(*) / {CUSTOMERS} from customers group by 1"
            ).fetchall()
        )
        for ch in ("email", "sms", "push")
    }
    assert set(shares["email"]) == {"true", "false", ""}
    assert abs(shares["email"]["true"] - 0.70) < 0.03
    assert abs(shares["email"]["false"] - 0.20) < 0.03
    assert abs(shares["email"][""] - 0.10) < 0.03
    assert shares["push"]["true"] < shares["sms"]["true"] < shares["email"]["true"]
    # orders only from known customers, none before their sign-up
    assert (
        _one(
            con,
            """
        select count(*) from valid as v left join customers as c on c.customer_id = v.cid
        where v.cid <> '' and (c.customer_id is null or v.ts < cast(c.signup_at as timestamp))""",
        )
        == 0
    )


def test_events_lead_to_purchases(con: duckdb.DuckDBPyConnection) -> None:
    assert {
        r[0] for r in con.sql("select distinct event_type from events").fetchall()
    } == {"product_view", "add_to_cart", "visit"}
    # online purchases are preceded by a view of one of their products by the same customer
    viewed = _one(
        con,
        """
        with p as (select distinct oid, cid, ts from purchases where channel in ('web', 'app')),
        hit as (
            select distinct p.oid from p
            join order_lines as l on l.order_id = p.oid
            join events as e on e.customer_id = p.cid and e.product_id = l.product_id
                and e.event_type = 'product_view'
                and cast(e.event_at as timestamp) between p.ts - interval 1 day and p.ts)
        select (select count(*) from hit) / (select count(*) from p)""",
    )
    assert viewed > 0.8
    # some carts are abandoned: no purchase of that product within 7 days
    abandoned = _one(
        con,
        """
        with carts as (
            select customer_id, product_id, cast(event_at as timestamp) as at
            from events where event_type = 'add_to_cart'),
        bought as (select p.cid, l.product_id, p.ts from purchases as p join order_lines as l on l.order_id = p.oid)
        select avg(case when exists (
            select 1 from bought as b where b.cid = carts.customer_id and b.product_id = carts.product_id
                and b.ts between carts.at and carts.at + interval 7 day) then 0 else 1 end)
        from carts""",
    )
    assert 0.1 <= abandoned <= 0.7


def test_offer_sends_and_known_uplift(
    demo: tuple[Path, dict], con: duckdb.DuckDBPyConnection
) -> None:
    _, manifest = demo
    offers = {
        r[0] for r in con.sql("select distinct offer_id from offer_sends").fetchall()
    }
    assert offers and offers <= OFFER_IDS
    flags = dict(
        con.sql("select is_holdout, count(*) from offer_sends group by 1").fetchall()
    )
    assert set(flags) == {"true", "false"}
    assert 0.08 <= flags["true"] / (flags["true"] + flags["false"]) <= 0.12
    assert {
        r[0] for r in con.sql("select distinct channel from offer_sends").fetchall()
    } <= {"email", "sms", "push"}
    # a send only goes through a channel the customer consented to
    assert (
        _one(
            con,
            """
        select count(*) from offer_sends as s join customers as c using (customer_id)
        where (s.channel = 'email' and c.consent_email is distinct from 'true')
           or (s.channel = 'sms' and c.consent_sms is distinct from 'true')
           or (s.channel = 'push' and c.consent_push is distinct from 'true')""",
        )
        == 0
    )
    rows = con.sql("""
        select s.is_holdout, count(*), count(*) filter (where exists (
            select 1 from purchases as p where p.cid = s.customer_id
                and p.ts > cast(s.sent_at as timestamp)
                and p.ts <= cast(s.sent_at as timestamp) + interval 14 day))
        from offer_sends as s group by 1""").fetchall()
    found = {("holdout" if h == "true" else "treated"): (n, c) for h, n, c in rows}
    truth = manifest["truth"]["conversion"]
    for group, (n, c) in found.items():
        assert (truth[group]["sends"], truth[group]["converted"]) == (n, c), group
    assert truth["treated"]["rate"] > truth["holdout"]["rate"]
    assert (
        manifest["truth"]["uplift"] == 0.04
        and manifest["truth"]["incremental_orders"] > 0
    )


# ------------------------------------------------------------------------------ runs and CLI


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder in (a, b):
        _generate(folder, customers=800, orders=8000)
    _generate(c, customers=800, orders=8000, seed=SEED + 1)
    assert _digest(a) == _digest(b)
    assert _digest(a)["orders/2025-06.parquet"] != _digest(c)["orders/2025-06.parquet"]


def test_csv_format_holds_the_same_data(tmp_path: Path) -> None:
    """Format and --no-events change the files written, not the orders in them."""
    pq_dir, csv_dir = tmp_path / "pq", tmp_path / "csv"
    _generate(pq_dir, customers=600, orders=6000)
    manifest = _generate(
        csv_dir, customers=600, orders=6000, file_format="csv", events=False
    )
    assert not list(csv_dir.rglob("*.parquet"))
    assert (csv_dir / "orders" / "2025-06.csv").is_file() and (
        csv_dir / "order_lines.csv"
    ).is_file()
    assert not (csv_dir / "events.csv").exists()
    a, b = _connect(pq_dir, "parquet"), _connect(csv_dir, "csv")
    cols = "order_id, customer_id, ordered_at, amount, currency, status, channel, discount_amount"
    pq_rows = sorted(a.sql(f"select {cols} from parsed").fetchall())
    csv_rows = sorted(b.sql(f"select {cols} from parsed").fetchall())
    assert pq_rows == csv_rows and len(csv_rows) == manifest["counts"]["order_rows"]
    assert (
        b.sql("select count(*) from order_lines").fetchone()[0]
        == manifest["counts"]["order_lines"]
    )


def test_cli_if_stale_and_flags(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    base = [
        "--out",
        str(out),
        "--customers",
        "300",
        "--end-date",
        "2025-06-30",
        "--quiet",
    ]
    first = _run_cli(*base, "--if-stale")
    assert first.returncode == 0, first.stderr
    manifest_path = out / "_generator.json"
    stamp = manifest_path.stat().st_mtime_ns
    second = _run_cli(*base[:-1], "--if-stale")
    assert second.returncode == 0 and "up to date" in second.stdout
    assert manifest_path.stat().st_mtime_ns == stamp
    # other parameters: regenerated, and files of the previous run are gone
    third = _run_cli(
        *base,
        "--if-stale",
        "--format",
        "csv",
        "--no-lines",
        "--no-events",
        "--seed",
        "3",
    )
    assert third.returncode == 0, third.stderr
    manifest = json.loads(manifest_path.read_text())
    assert (
        manifest["parameters"]["seed"] == 3
        and manifest["parameters"]["file_format"] == "csv"
    )
    assert not list(out.rglob("*.parquet"))
    assert not (out / "order_lines.csv").exists() and not (out / "events.csv").exists()
    assert set(manifest["files"]) == {
        p.relative_to(out).as_posix() for p in out.rglob("*.csv")
    }


def test_cli_defaults_and_bad_arguments(tmp_path: Path) -> None:
    help_run = _run_cli("--help")
    assert (
        help_run.returncode == 0
        and "--if-stale" in help_run.stdout
        and "exit codes" in help_run.stdout
    )
    assert "LOYALTY_TODAY" in help_run.stdout
    out = tmp_path / "defaults"
    # "today" comes from LOYALTY_TODAY here, never from the clock: the default end date is the
    # day before it (a leap day)
    run = _run_cli(
        "--out", str(out), "--orders", "2000", "--no-events", "--quiet",
        env={"LOYALTY_TODAY": "2028-03-01"},
    )
    assert run.returncode == 0, run.stderr
    params = json.loads((out / "_generator.json").read_text())["parameters"]
    assert params["end_date"] == "2028-02-29"
    assert params["customers"] == 200 and params["orders"] == 2000
    # --end-date wins over LOYALTY_TODAY; a malformed LOYALTY_TODAY is a usage error
    run = _run_cli(
        "--out", str(out), "--orders", "2000", "--no-events", "--quiet", "--end-date", "2025-06-30",
        env={"LOYALTY_TODAY": "2028-03-01"},
    )
    assert run.returncode == 0, run.stderr
    assert json.loads((out / "_generator.json").read_text())["parameters"]["end_date"] == "2025-06-30"
    for bad_today in ("2028-02-30", "1.3.2028", "today"):
        result = _run_cli("--out", str(tmp_path / "never"), "--quiet", env={"LOYALTY_TODAY": bad_today})
        assert result.returncode == 2, bad_today
        assert f"LOYALTY_TODAY must be a date in YYYY-MM-DD form, got {bad_today!r}" in result.stderr
    for bad in (
        ["--customers", "-5"],
        ["--customers", "ten"],
        ["--format", "xml"],
        ["--end-date", "2025-13-01"],
        ["--customers", "100", "--orders", "50"],
        ["--uplift", "1.5"],
        ["--years", "0"],
        ["--no-such-flag"],
    ):
        result = _run_cli("--out", str(tmp_path / "never"), *bad)
        assert result.returncode == 2, bad
        assert "error" in result.stderr
    assert not (tmp_path / "never").exists()


def test_default_end_date_is_the_day_before_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without LOYALTY_TODAY the default end date follows the clock (frozen here, so the test
    does not depend on the day it runs); with it, the variable's date."""
    _package()  # scripts/ on sys.path
    config = importlib.import_module("loyalty_data.config")

    class FrozenDate(date):
        @classmethod
        def today(cls) -> date:
            return cls(2029, 1, 1)

    monkeypatch.setattr(config, "date", FrozenDate)
    monkeypatch.delenv("LOYALTY_TODAY", raising=False)
    assert config.default_end_date() == date(2028, 12, 31)
    monkeypatch.setenv("LOYALTY_TODAY", " ")
    assert config.default_end_date() == date(2028, 12, 31)
    monkeypatch.setenv("LOYALTY_TODAY", "2024-03-01")
    assert config.default_end_date() == date(2024, 2, 29)
    monkeypatch.setenv("LOYALTY_TODAY", "20240301")
    with pytest.raises(ValueError, match="LOYALTY_TODAY must be a date in YYYY-MM-DD form"):
        config.default_end_date()


def test_cli_write_failure_exit_code(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = _run_cli(
        "--out",
        str(blocker),
        "--customers",
        "50",
        "--quiet",
        "--end-date",
        "2025-06-30",
    )
    assert result.returncode == 1 and "error" in result.stderr
