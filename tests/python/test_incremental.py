"""A nightly refresh reads only new files, and its marts are identical to a full rebuild: new
orders, late orders, corrections of old orders (the same order id in a later file), duplicates of
loaded rows, conflicts inside the new file, and order lines arriving after their order.

The data ends on a fixed day (END), so what the test expects does not depend on the day it runs:
every generated timestamp is on or before END or (the deliberately "future" rows) in 2099, and a
run on any day before 2088 holds back the same rows as future."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from dbt_project_runner import REPO, build, dbt, query

END = date(2025, 6, 30)
# Rows the model holds back as future_ordered_at are those on or after the later of the run day and
# as_of_date, plus future_tolerance_days (1) and a day. No generated timestamp lies between the
# first build's as_of_date and FAR_FUTURE, so the rows held back are the same on any run day.
FAR_FUTURE = datetime(2090, 1, 1)


def raw_order_rows(data: Path) -> list[tuple[str, str, datetime | None]]:
    """(source_file, trimmed order id, parsed ordered_at or None) of every row of the order files."""
    rows = []
    for path in sorted((data / "orders").glob("*.parquet")):
        for row in pq.read_table(path, columns=["order_id", "ordered_at"]).to_pylist():
            try:
                ordered_at = datetime.fromisoformat((row["ordered_at"] or "").strip())
            except ValueError:
                ordered_at = None
            rows.append((path.relative_to(data).as_posix(), (row["order_id"] or "").strip(), ordered_at))
    return rows


def compare_schemas(left: Path, right: Path, schema: str) -> dict[str, tuple[int, int]]:
    """Tables of ``schema`` whose contents differ between two databases: name -> (left-only rows,
    right-only rows), multiset semantics. Floating-point columns are compared to 9 decimals:
    their sums depend on the order rows are added in, which a parallel engine does not fix."""
    differences = {}
    with duckdb.connect() as connection:
        connection.execute(f"attach '{left}' as left_db (read_only)")
        connection.execute(f"attach '{right}' as right_db (read_only)")
        tables = [row[0] for row in connection.execute(
            "select table_name from duckdb_tables() where database_name = 'left_db' and schema_name = ? "
            "order by 1", [schema]).fetchall()]
        for table in tables:
            columns = ", ".join(
                f"round({name}, 9)" if data_type in ("DOUBLE", "FLOAT") else name
                for name, data_type in connection.execute(
                    "select column_name, data_type from duckdb_columns() where database_name = 'left_db' "
                    "and schema_name = ? and table_name = ? order by column_index", [schema, table]).fetchall()
            )
            left_rows = f"select {columns} from left_db.{schema}.{table}"
            right_rows = f"select {columns} from right_db.{schema}.{table}"
            left_only = connection.execute(
                f"select count(*) from ({left_rows} except all {right_rows})").fetchone()[0]
            right_only = connection.execute(
                f"select count(*) from ({right_rows} except all {left_rows})").fetchone()[0]
            if left_only or right_only:
                differences[table] = (left_only, right_only)
    return differences


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("incremental")
    data = work / "data"
    subprocess.run([sys.executable, str(REPO / "scripts" / "generate_data.py"), "--out", str(data),
                    "--customers", "1500", "--seed", "11", "--quiet", "--no-events", "--end-date", END.isoformat()],
                   check=True)
    manifest = json.loads((data / "_generator.json").read_text())
    end = END
    first, second = end + timedelta(days=1), end + timedelta(days=2)
    loaded_rows = raw_order_rows(data)
    # order lines as a folder, so that a later file can add lines
    (data / "order_lines").mkdir()
    (data / "order_lines.parquet").rename(data / "order_lines" / "history.parquet")
    # offer sends and customers as folders too: a later file corrects or adds rows
    for entity in ("offer_sends", "customers"):
        (data / entity).mkdir()
        (data / f"{entity}.csv").rename(data / entity / "archive.csv")
    sends = list(csv.DictReader((data / "offer_sends" / "archive.csv").open()))
    customers = list(csv.DictReader((data / "customers" / "archive.csv").open()))
    loaded = pq.read_table(sorted((data / "orders").glob("*.parquet"))[3]).to_pylist()
    old = [row for row in loaded if row["order_id"] and row["customer_id"] and row["amount"]
           and row["amount"].replace(".", "").isdigit() and (row["status"] or "") in ("", "completed")][:4]
    # events: a product view and a visit now, the same two again and a cart in the next file
    events_header = "customer_id,event_at,event_type,product_id\n"
    seen = [f"{old[0]['customer_id']},{(end - timedelta(days=2)).isoformat()} 10:00:00,product_view,P0001\n",
            f"{old[0]['customer_id']},{(end - timedelta(days=2)).isoformat()} 11:00:00,visit,\n"]
    (data / "events").mkdir()
    # enough other events that two duplicates stay under max_quarantine_share
    others = [f"{old[1]['customer_id']},{(end - timedelta(days=3)).isoformat()} 09:{minute:02d}:00,visit,\n"
              for minute in range(50)]
    (data / "events" / "archive.csv").write_text(events_header + "".join(seen + others))
    incremental_db = work / "incremental.duckdb"
    build(data, incremental_db, work, first.isoformat())
    [(late_order, late_cost)] = query(incremental_db, """
        select order_id, cost_amount from intermediate.int_orders_measured
        where cost_amount is not null and is_purchase_order and not is_guest
        order by order_id limit 1
    """)

    day = end.isoformat()
    header = "order_id,customer_id,ordered_at,amount,currency,status,channel,discount_amount\n"
    lines = [f"N{i},{old[0]['customer_id']},{day} 1{i}:00:00,{20 + i}.00,GBP,completed,web,\n" for i in range(3)]
    lines.append(f"L1,{old[1]['customer_id']},{(end - timedelta(days=40)).isoformat()} 09:00:00,15.00,,,app,\n")
    # a correction of a loaded order: new amount and a later day
    lines.append(f"{old[0]['order_id']},{old[0]['customer_id']},{day} 08:00:00,999.00,GBP,completed,web,\n")
    # a correction that moves a loaded order to another customer
    lines.append(f"{old[1]['order_id']},{old[2]['customer_id']},{old[1]['ordered_at']},{old[1]['amount']},"
                 f"{old[1]['currency'] or ''},{old[1]['status'] or ''},{old[1]['channel'] or ''},"
                 f"{old[1]['discount_amount'] or ''}\n")
    # a conflict inside the new file about a loaded order: neither copy wins, the old row is superseded
    lines.append(f"{old[3]['order_id']},{old[3]['customer_id']},{day} 10:00:00,1.00,GBP,completed,web,\n")
    lines.append(f"{old[3]['order_id']},{old[3]['customer_id']},{day} 10:00:00,2.00,GBP,completed,web,\n")
    new_order_ids = {line.split(",")[0] for line in lines}
    daily = data / "orders" / "daily" / f"{day}.csv"
    daily.parent.mkdir()
    daily.write_text(header + "".join(lines))
    # lines of a new order, and a late line of an order loaded in the first build (its cost grows)
    product = next(row for row in csv.DictReader((data / "products.csv").open()) if row["unit_cost"])
    late_lines = data / "order_lines" / "daily" / f"{day}.csv"
    late_lines.parent.mkdir()
    late_lines.write_text(
        "order_id,product_id,quantity,unit_price,amount\n"
        f"N0,{product['product_id']},1,20.00,20.00\n"
        f"{late_order},{product['product_id']},2,5.00,10.00\n"
    )

    (data / "events" / "daily").mkdir()
    (data / "events" / "daily" / f"{day}.csv").write_text(
        events_header + "".join(seen) + f"{old[0]['customer_id']},{day} 12:00:00,add_to_cart,P0001\n")

    # offer sends: a new send, a loaded send again unchanged (a duplicate), a loaded send corrected
    # (now a holdout) and a loaded send twice with different offers (a conflict)
    send_fields = list(sends[0])
    send_rows = [dict(sends[0], send_id="NEW-SEND-1", customer_id=old[0]["customer_id"], sent_at=f"{day} 07:00:00"),
                 sends[1], dict(sends[2], is_holdout="true" if sends[2]["is_holdout"] == "false" else "false"),
                 dict(sends[3], offer_id="winback_discount"), dict(sends[3], offer_id="vip_early_access")]
    (data / "offer_sends" / "daily").mkdir()
    with (data / "offer_sends" / "daily" / f"{day}.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, send_fields)
        writer.writeheader()
        writer.writerows(send_rows)
    # customers: a loaded customer's consent changed, and a new customer
    customer_fields = list(customers[0])
    customer_rows = [dict(customers[0], consent_email="false" if customers[0]["consent_email"] == "true" else "true"),
                     dict(customers[0], customer_id="NEW-CUSTOMER-1")]
    (data / "customers" / "daily").mkdir()
    with (data / "customers" / "daily" / f"{day}.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, customer_fields)
        writer.writeheader()
        writer.writerows(customer_rows)

    result = build(data, incremental_db, work, second.isoformat())
    full_db = work / "full.duckdb"
    build(data, full_db, work / "full", second.isoformat())
    return {"incremental": incremental_db, "full": full_db, "old": old, "work": work, "data": data,
            "second": second, "day": day, "log": result.stdout, "late_order": late_order, "late_cost": late_cost,
            "unit_cost": Decimal(product["unit_cost"]), "first": first, "loaded_rows": loaded_rows,
            "new_order_ids": new_order_ids, "new_rows": len(lines), "manifest": manifest,
            "sends": sends, "customers": customers, "flipped_consent": customer_rows[0]["consent_email"]}


def test_marts_identical_to_a_full_rebuild(refreshed: dict) -> None:
    assert compare_schemas(refreshed["incremental"], refreshed["full"], "marts") == {}


def test_intermediates_identical_apart_from_load_times(refreshed: dict) -> None:
    for table, columns in {
        "int_orders_measured": "* exclude (batch_loaded_at)",
        "int_customer_days_aggregated": "* exclude (batch_loaded_at)",
        "int_customer_months_aggregated": "* exclude (as_of_date, batch_loaded_at)",
        "int_customer_facts_snapshotted": "* exclude (batch_loaded_at)",
        "int_offer_sends_measured": "* exclude (as_of_date, batch_loaded_at)",
    }.items():
        left = query(refreshed["incremental"], f"select {columns} from intermediate.{table} order by all")
        right = query(refreshed["full"], f"select {columns} from intermediate.{table} order by all")
        assert left == right, table


def test_refresh_reclassified_only_the_new_file_and_affected_orders(refreshed: dict) -> None:
    rows = query(refreshed["incremental"], """
        select source_file, count(*) from staging.base_shop__orders_checked
        where batch_loaded_at = (select max(batch_loaded_at) from staging.base_shop__orders_checked)
        group by 1 order by 1
    """)
    files = dict(rows)
    assert files.pop(f"orders/daily/{refreshed['day']}.csv") == refreshed["new_rows"] == 8
    # Besides the new file, exactly the loaded rows that share an order id with a new row or with a
    # row held back as future (re-checked on every run), counted here from the raw files.
    loaded = refreshed["loaded_rows"]
    earliest_cutoff = datetime.combine(refreshed["first"] + timedelta(days=2), datetime.min.time())
    assert not [row for row in loaded if row[2] and earliest_cutoff <= row[2] < FAR_FUTURE]
    held_back = {order_id for _, order_id, ordered_at in loaded
                 if order_id and ordered_at and ordered_at >= FAR_FUTURE}
    assert len(held_back) == refreshed["manifest"]["bad_rows"]["future_ordered_at"] > 0
    corrected = refreshed["new_order_ids"] & {order_id for _, order_id, _ in loaded}
    assert corrected == {refreshed["old"][i]["order_id"] for i in (0, 1, 3)}
    expected = Counter(source_file for source_file, order_id, _ in loaded if order_id in held_back | corrected)
    assert files == dict(expected)


def test_corrections_and_conflicts_applied(refreshed: dict) -> None:
    old = refreshed["old"]
    reasons = [row[0] for row in query(refreshed["incremental"], f"""
        select quarantine_reason from staging.base_shop__orders_checked
        where order_id in ('{old[0]["order_id"]}', '{old[1]["order_id"]}', '{old[3]["order_id"]}')
    """)]
    assert sorted(reasons, key=str) == sorted(
        ["superseded_by_later_file"] * 3 + [None, None] + ["conflicting_duplicate"] * 2, key=str)
    [(amount, customer)] = query(refreshed["incremental"],
                                 f"select amount, customer_id from staging.stg_shop__orders "
                                 f"where order_id = '{old[0]['order_id']}'")
    assert (float(amount), customer) == (999.0, old[0]["customer_id"])
    [(customer,)] = query(refreshed["incremental"],
                          f"select customer_id from staging.stg_shop__orders where order_id = '{old[1]['order_id']}'")
    assert customer == old[2]["customer_id"]


def test_offer_sends_and_customers_in_a_later_file_reclassify_only_their_ids(refreshed: dict) -> None:
    """The refresh reads only the new send and customer files; a loaded row whose id arrives again is
    classified again with it (superseded, a duplicate or a conflict), and no other loaded row is."""
    day, sends = refreshed["day"], refreshed["sends"]
    latest = """
        select source_file, source_row_number, quarantine_reason from staging.{table}
        where batch_loaded_at = (select max(batch_loaded_at) from staging.{table})
        order by source_file, source_row_number
    """
    # rows are numbered from 1 (sends[0]); the archive's ids 2-4 arrive again in the daily file
    assert query(refreshed["incremental"], latest.format(table="base_shop__offer_sends_checked")) == [
        ("offer_sends/archive.csv", 2, None),
        ("offer_sends/archive.csv", 3, "superseded_by_later_file"),
        ("offer_sends/archive.csv", 4, "superseded_by_later_file"),
        ("offer_sends/daily/" + day + ".csv", 1, None),
        ("offer_sends/daily/" + day + ".csv", 2, "exact_duplicate"),
        ("offer_sends/daily/" + day + ".csv", 3, None),
        ("offer_sends/daily/" + day + ".csv", 4, "conflicting_duplicate"),
        ("offer_sends/daily/" + day + ".csv", 5, "conflicting_duplicate"),
    ]
    [(is_holdout,)] = query(refreshed["incremental"],
                            f"select is_holdout from staging.stg_shop__offer_sends where send_id = '{sends[2]['send_id']}'")
    assert is_holdout == (sends[2]["is_holdout"] == "false")
    assert query(refreshed["incremental"], latest.format(table="base_shop__customers_checked")) == [
        ("customers/archive.csv", 1, "superseded_by_later_file"),
        ("customers/daily/" + day + ".csv", 1, None),
        ("customers/daily/" + day + ".csv", 2, None),
    ]
    [(consent,)] = query(refreshed["incremental"], "select consent_email from staging.stg_shop__customers "
                         f"where customer_id = '{refreshed['customers'][0]['customer_id']}'")
    assert consent == (refreshed["flipped_consent"] == "true")
    for table in ("base_shop__offer_sends_checked", "base_shop__customers_checked"):
        columns = "* exclude (batch_loaded_at)"
        assert query(refreshed["incremental"], f"select {columns} from staging.{table} order by all") == \
            query(refreshed["full"], f"select {columns} from staging.{table} order by all"), table


def test_events_in_a_later_file_are_checked_against_loaded_ones(refreshed: dict) -> None:
    """Events repeated in a later file are duplicates of the loaded ones (a visit has no product);
    the new cart is staged; the table equals a full rebuild's."""
    daily = f"events/daily/{refreshed['day']}.csv"
    rows = query(refreshed["incremental"], """
        select source_file, event_type, quarantine_reason from staging.base_shop__events_checked
        where source_file like 'events/daily/%' or source_row_number <= 2
        order by source_file, source_row_number
    """)
    assert rows == [
        ("events/archive.csv", "product_view", None),
        ("events/archive.csv", "visit", None),
        (daily, "product_view", "exact_duplicate"),
        (daily, "visit", "exact_duplicate"),
        (daily, "add_to_cart", None),
    ]
    every_row = "select * exclude (batch_loaded_at) from staging.base_shop__events_checked order by all"
    assert query(refreshed["incremental"], every_row) == query(refreshed["full"], every_row)


def test_late_lines_update_a_loaded_order(refreshed: dict) -> None:
    """A line file after the order's own file adds to its cost on the next refresh, and the
    customer's day carries the new cost, as on a full rebuild."""
    order = refreshed["late_order"]
    expected = refreshed["late_cost"] + 2 * refreshed["unit_cost"]
    for database in (refreshed["incremental"], refreshed["full"]):
        [(cost,)] = query(database, f"select cost_amount from intermediate.int_orders_measured "
                                    f"where order_id = '{order}'")
        assert cost == expected
    day_costs = f"""
        select days.cost_amount from intermediate.int_customer_days_aggregated as days
        inner join intermediate.int_orders_measured as orders
            on days.customer_id = orders.customer_id and days.order_date = orders.order_date
        where orders.order_id = '{order}'"""
    assert query(refreshed["incremental"], day_costs) == query(refreshed["full"], day_costs)
    [(new_order_cost,)] = query(refreshed["incremental"],
                                "select cost_amount from intermediate.int_orders_measured where order_id = 'N0'")
    assert new_order_cost == refreshed["unit_cost"]


# The key tests given new_rows_column (macros/staging/checked_slices.sql): table -> key columns.
SLICED_KEY_TESTS = {
    "staging.base_shop__orders_checked": ["source_file", "source_row_number"],
    "staging.base_shop__order_lines_checked": ["source_file", "source_row_number"],
    "staging.base_shop__events_checked": ["source_file", "source_row_number"],
    "staging.base_shop__offer_sends_checked": ["source_file", "source_row_number"],
    "staging.base_shop__customers_checked": ["source_file", "source_row_number"],
    "staging.stg_shop__orders": ["order_id"],
    "intermediate.int_orders_measured": ["order_id"],
    "intermediate.int_customer_days_aggregated": ["customer_id", "order_date"],
    "intermediate.int_customer_months_aggregated": ["customer_id", "month_start_date"],
}


def test_key_tests_of_incremental_tables_check_the_rows_loaded_since_they_passed(
    refreshed: dict, tmp_path: Path
) -> None:
    # a copy under the same file name: the views name the database's catalog
    database = tmp_path / refreshed["incremental"].name
    shutil.copy(refreshed["incremental"], database)
    recorded = dict(query(database, "select test_key, checked_through from meta.checked_test_slices"))
    assert len(recorded) == len(SLICED_KEY_TESTS)
    for table, columns in SLICED_KEY_TESTS.items():
        [(latest,)] = query(database, f"select max(batch_loaded_at) from {table}")
        assert recorded[f"{table}:{','.join(columns)}:batch_loaded_at"] == latest, table
    measured_key = "intermediate.int_orders_measured:order_id:batch_loaded_at"
    # two duplicated orders: one in a batch after the record, one among the rows checked before
    with duckdb.connect(str(database)) as connection:
        [new_copy, old_copy] = [row[0] for row in connection.execute(
            "select order_id from intermediate.int_orders_measured order by order_id limit 2").fetchall()]
        connection.execute(f"""
            insert into intermediate.int_orders_measured
            select * replace (batch_loaded_at + interval 1 second as batch_loaded_at)
            from intermediate.int_orders_measured where order_id = '{new_copy}';
            insert into intermediate.int_orders_measured
            select * from intermediate.int_orders_measured where order_id = '{old_copy}'""")
    duplicated = query(database, """
        select order_id from intermediate.int_orders_measured group by order_id having count(*) > 1 order by 1""")
    assert duplicated == [(new_copy,), (old_copy,)]
    work = tmp_path / "work"

    def unique_test() -> tuple[str, int, str]:
        dbt(["test", "-s", "int_orders_measured", "--vars", json.dumps({"as_of_date": refreshed["second"].isoformat()})],
            refreshed["data"], database, work, check=False)
        results = json.loads((work / "target" / "run_results.json").read_text())["results"]
        [result] = [r for r in results if r["unique_id"].startswith(
            "test.loyalty_segments.unique_combination_of_columns_int_orders_measured_order_id")]
        return result["status"], result["failures"], result["compiled_code"]

    # the new slice: the duplicate loaded after the record is found, the old one is not looked at
    status, failures, sql = unique_test()
    assert (status, failures) == ("fail", 1) and "new_keys" in sql
    # a test that failed records nothing: the next run checks the same slice again
    assert query(database, f"select checked_through from meta.checked_test_slices where test_key = '{measured_key}'") \
        == [(recorded[measured_key],)]
    assert unique_test()[:2] == ("fail", 1)
    # without a record the whole table is checked
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"delete from meta.checked_test_slices where test_key = '{measured_key}'")
    status, failures, sql = unique_test()
    assert (status, failures) == ("fail", len(duplicated)) and "new_keys" not in sql
    # once the duplicates are gone the test passes and records the table's latest batch again
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"""
            delete from intermediate.int_orders_measured where order_id = '{new_copy}'
                and batch_loaded_at = (select max(batch_loaded_at) from intermediate.int_orders_measured);
            delete from intermediate.int_orders_measured where rowid = (
                select max(rowid) from intermediate.int_orders_measured where order_id = '{old_copy}')""")
    assert unique_test()[:2] == ("pass", 0)
    assert query(database, f"select checked_through from meta.checked_test_slices where test_key = '{measured_key}'") \
        == [(recorded[measured_key],)]


def test_customer_months_and_facts_follow_the_as_of_date_both_ways(refreshed: dict, tmp_path: Path) -> None:
    """The incremental customer-months recompute only the customers whose history up to as_of_date
    changed, and the customer facts measure only those again; set back past the late order and a
    month's end, then forward again, both tables equal the same models built from all the
    customer-days as of each date."""
    database = tmp_path / refreshed["incremental"].name
    shutil.copy(refreshed["incremental"], database)
    months = "intermediate.int_customer_months_aggregated"
    rows = {
        months: f"select * exclude (as_of_date, batch_loaded_at) from {months} order by all",
        "facts": "select * exclude (batch_loaded_at) from intermediate.int_customer_facts_snapshotted order by all",
        "sends": "select * exclude (batch_loaded_at) from intermediate.int_offer_sends_measured order by all",
    }
    selection = ["-s", "int_score_dates", "int_customer_months_aggregated", "int_customer_facts_snapshotted",
                 "int_offer_sends_classified", "int_offer_sends_measured"]
    [(customers,)] = query(database, f"select count(distinct customer_id) from {months}")
    back = END - timedelta(days=45)
    for previous, as_of in ((refreshed["second"], back), (back, refreshed["second"])):
        at = json.dumps({"as_of_date": as_of.isoformat()})
        dbt(["run", *selection, "--vars", at], refreshed["data"], database, tmp_path / "work")
        [(recomputed, latest_as_of)] = query(database, f"""
            select count(distinct customer_id), max(as_of_date) from {months}
            where batch_loaded_at = (select max(batch_loaded_at) from {months})""")
        # the customers with a day between the two dates, whose history up to as_of_date changed,
        # less those left without a day up to it (their placeholder rows are dropped)
        [(expected,)] = query(database, f"""
            select count(distinct customer_id) from intermediate.int_customer_days_aggregated
            where order_date > date '{min(previous, as_of)}' and order_date <= date '{max(previous, as_of)}'
                and customer_id in (select customer_id from intermediate.int_customer_days_aggregated
                    where order_date <= date '{as_of}')""")
        assert (recomputed, latest_as_of) == (expected, as_of)
        assert 0 < recomputed < customers
        rebuilt = tmp_path / "rebuilt" / database.name
        rebuilt.parent.mkdir(exist_ok=True)
        shutil.copy(database, rebuilt)
        dbt(["run", *selection, "--full-refresh", "--vars", at], refreshed["data"], rebuilt, tmp_path / "rebuilt-work")
        for table, every_row in rows.items():
            assert query(database, every_row) == query(rebuilt, every_row), (table, as_of)
        [(after_as_of,)] = query(database, f"select count(*) from {months} where month_start_date > date '{as_of}'")
        assert after_as_of == 0


def test_customer_facts_keep_the_rows_of_customers_without_a_day_between(refreshed: dict, tmp_path: Path) -> None:
    """A day later, a customer with a day between a score date and the one before it is measured
    again at both dates; one without keeps the previous rows, with recency and tenure a day longer.
    Marked rows show which: the mark survives only where the row was kept."""
    database = tmp_path / refreshed["incremental"].name
    shutil.copy(refreshed["incremental"], database)
    facts = "intermediate.int_customer_facts_snapshotted"
    dates = [date for (date,) in query(database, f"select distinct score_date from {facts} order by 1")]
    assert dates == [refreshed["second"] - timedelta(days=30), refreshed["second"]]
    moved = dates[0] + timedelta(days=1)
    # a customer with a purchase day on the day the earlier score date moves to, and one without
    # any day after the earlier score date
    [(measured_again,)] = query(database, f"""
        select min(customer_id) from intermediate.int_customer_days_aggregated where order_date = date '{moved}'""")
    [(kept,)] = query(database, f"""
        select min(customer_id) from {facts} where score_date = date '{dates[0]}' and has_purchased
            and customer_id not in (select customer_id from intermediate.int_customer_days_aggregated
                where order_date > date '{dates[0]}')""")
    before = dict(query(database, f"select score_date, recency_days from {facts} where customer_id = '{kept}'"))
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"update {facts} set gross_revenue = -12345 where customer_id in ('{kept}', '{measured_again}')")
    at = json.dumps({"as_of_date": (refreshed["second"] + timedelta(days=1)).isoformat()})
    dbt(["run", "-s", "int_score_dates", "int_customer_facts_snapshotted", "--vars", at], refreshed["data"], database,
        tmp_path / "work")
    after = query(database, f"""
        select customer_id, score_date, gross_revenue = -12345, recency_days from {facts}
        where customer_id in ('{kept}', '{measured_again}') order by all""")
    assert [row[:3] for row in after if row[0] == kept] == [
        (kept, date + timedelta(days=1), True) for date in dates]
    assert [row[3] for row in after if row[0] == kept] == [before[date] + 1 for date in dates]
    assert {row[2] for row in after if row[0] == measured_again} == {False}
    assert len([row for row in after if row[0] == measured_again]) == 2


def test_offer_sends_measured_keep_the_rows_of_windows_closed_at_both_dates(refreshed: dict, tmp_path: Path) -> None:
    """A day later, with no file and no customer changed, only the sends whose window was still open
    at either date are measured again; a send whose window had closed keeps its previous row. Every
    row is marked first: the mark survives exactly where the row was kept. Unmarked, the reused
    table equals a full rebuild's."""
    sends = "intermediate.int_offer_sends_measured"
    window = int(next(line for line in (REPO / "dbt_project.yml").read_text().splitlines()
                      if line.strip().startswith("offer_measurement_window_days:")).split(":")[1].split("#")[0])
    previous, following = refreshed["second"], refreshed["second"] + timedelta(days=1)
    marked, reused, rebuilt = (tmp_path / name / refreshed["incremental"].name for name in ("marked", "reused", "rebuilt"))
    for database in (marked, reused, rebuilt):
        database.parent.mkdir()
        shutil.copy(refreshed["incremental"], database)
    # a window is open at a date while it ends at or after the end of that date
    open_from = datetime.combine(previous + timedelta(days=1), datetime.min.time()) - timedelta(days=window)
    expected = {send_id for (send_id,) in query(marked, f"""
        select send_id from intermediate.int_offer_sends_classified where sent_at >= timestamp '{open_from}'
        union select send_id from staging.stg_shop__offer_sends where cast(sent_at as date) = date '{following}'""")}
    with duckdb.connect(str(marked)) as connection:
        connection.execute(f"update {sends} set window_revenue = -12345")
    at = json.dumps({"as_of_date": following.isoformat()})
    selection = ["-s", "int_offer_sends_classified", "int_offer_sends_measured"]
    for database in (marked, reused):
        dbt(["run", *selection, "--vars", at], refreshed["data"], database, database.parent / "work")
    measured_again = {send_id for (send_id,) in query(marked, f"select send_id from {sends} where window_revenue <> -12345")}
    [(total,)] = query(marked, f"select count(*) from {sends}")
    assert measured_again == expected
    assert 0 < len(expected) < total
    dbt(["run", *selection, "--full-refresh", "--vars", at], refreshed["data"], rebuilt, rebuilt.parent / "work")
    every_row = f"select * exclude (batch_loaded_at) from {sends} order by all"
    assert query(reused, every_row) == query(rebuilt, every_row)


def test_full_refresh_flag_gives_the_same_marts(refreshed: dict) -> None:
    work = refreshed["work"]
    dbt(["build", "--full-refresh", "--vars", json.dumps({"as_of_date": refreshed["second"].isoformat()})],
        refreshed["data"], refreshed["incremental"], work)
    assert compare_schemas(refreshed["incremental"], refreshed["full"], "marts") == {}


def test_compare_detects_a_difference(tmp_path: Path) -> None:
    for name, value in (("a", 1), ("b", 2)):
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as connection:
            connection.execute("create schema marts")
            connection.execute(f"create table marts.t as select {value} as x, 0.1 + 0.2 as y union all select 3, 0.3")
    assert compare_schemas(tmp_path / "a.duckdb", tmp_path / "b.duckdb", "marts") == {"t": (1, 1)}
