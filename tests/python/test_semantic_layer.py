"""The semantic layer (models/semantic, docs/metrics.md): `mf query` on the serving target against a
published serving database, every answer compared with an independent SQL query of its marts.

Generated data is built and published once by scripts/nightly.py as of a fixed date, while
`dbt parse --target serving` writes the semantic manifest; the `mf query` calls then run side by
side (each has a few seconds of start-up), with this module holding its own read-only connection
to the serving database all along: a target that opened it for writing could not open it at all.

Category values (segment names, lifecycle statuses, the marts' roll-up labels) are not written
here: they come from the data, or from the metric filters of the semantic manifest, and
test_metric_filters_name_values_in_the_data checks every value a filter names against the data.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import duckdb
import nightly
import pytest
import yaml
from dbt_project_runner import BIN, REPO

END_DATE = "2025-06-30"
AS_OF = "2025-07-01"
# The project files dbt and mf read; mf reads the manifest from <project>/target, so the tests
# give it a project folder of their own that links to these.
PROJECT_ENTRIES = ("dbt_project.yml", "models", "macros", "seeds", "tests")
FILTER = re.compile(r"\{\{ Dimension\('(?P<dimension>\w+)'\) \}\}(?:\s*(?P<op>=|<>)\s*'(?P<value>[^']*)')?")

CUSTOMER_TOTALS = ["customers", "repeat_customers", "repeat_customer_rate", "orders", "net_revenue",
                   "gross_revenue", "avg_ltv", "avg_order_value", "margin", "margin_per_customer",
                   "days_between_purchases", "purchase_gaps", "avg_days_between_purchases"]
MONTHLY = ["buyers", "repeat_buyers", "monthly_repeat_rate", "new_customers", "monthly_orders",
           "monthly_net_revenue", "repeat_net_revenue", "repeat_revenue_share", "monthly_margin",
           "monthly_days_between_purchases", "monthly_repeat_purchase_days", "monthly_avg_days_between_purchases",
           "cumulative_net_revenue", "cumulative_new_customers", "cumulative_avg_ltv"]
OFFERS = ["treated_sends", "holdout_sends", "treated_conversions", "holdout_conversions",
          "treated_conversion_rate", "holdout_conversion_rate", "conversion_uplift", "incremental_conversions",
          "treated_revenue_window", "holdout_revenue_window", "revenue_uplift_per_send", "incremental_revenue"]
ASSIGNMENTS = ["assigned_customers", "holdout_customers", "offer_holdout_share", "planned_offer_cost"]


def run_mf(env: dict[str, str], out: Path, metrics: list[str], group_by: list[str] = ()) -> subprocess.CompletedProcess:
    command = [str(BIN / "mf"), "query", "--metrics", ",".join(metrics), "--csv", str(out), "--quiet"]
    if group_by:
        command += ["--group-by", ",".join(group_by)]
    return subprocess.run(command, cwd=out.parent, env=env, capture_output=True, text=True, timeout=300, check=False)


def read_rows(result: subprocess.CompletedProcess, out: Path) -> list[dict[str, str]]:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def number(text: str | None) -> float | None:
    return None if text in (None, "", "None") else float(text)


def same(actual: str | None, expected: object) -> bool:
    """mf's CSV text against a value from DuckDB: both null, or equal to 1e-9 relative."""
    value = number(actual)
    if expected is None or value is None:
        return value is None and expected is None
    return value == pytest.approx(float(expected), rel=1e-9, abs=1e-9)


def mismatches(rows: list[dict[str, str]], expected: dict[tuple, dict[str, object]], keys: list[str]) -> list:
    """Every (group, metric) where mf and SQL disagree, and groups only one of them has."""
    found = {tuple(row[key][:10] if key.startswith("metric_time") else row[key] for key in keys): row for row in rows}
    wrong = [("groups", sorted(set(found) ^ set(expected), key=str))] if set(found) != set(expected) else []
    for group, values in expected.items():
        for metric, value in values.items():
            if group in found and not same(found[group].get(metric), value):
                wrong.append((group, metric, found[group].get(metric), value))
    return wrong


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("semantic")
    subprocess.run([sys.executable, str(REPO / "scripts" / "generate_data.py"), "--out", str(root / "data"),
                    "--customers", "300", "--seed", "5", "--quiet", "--no-events", "--end-date", END_DATE],
                   check=True)
    project = root / "project"
    project.mkdir()
    for entry in PROJECT_ENTRIES:
        (project / entry).symlink_to(REPO / entry)
    serving = root / "serving.duckdb"
    base = {key: value for key, value in os.environ.items()
            if key not in ("DBT_TARGET", "DBT_DUCKDB_PATH", "DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_PROJECT_DIR")}
    base.update(DBT_PROFILES_DIR=str(REPO / "profiles"), DBT_SEND_ANONYMOUS_USAGE_STATS="False",
                LOYALTY_DATA_DIR=str(root / "data"), LOYALTY_SERVING_PATH=str(serving))
    # the manifest is written while the job builds: parsing needs no database
    parse = subprocess.Popen(
        [str(BIN / "dbt"), "parse", "--target", "serving", "--project-dir", str(project), "--target-path",
         str(project / "target"), "--log-path", str(root / "logs"), "--quiet", "--no-use-colors"],
        cwd=root, env=base, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Only the marts the semantic models read (and the publish needs), without the data tests (the
    # nightly job's audit, not the subject here).
    marts = {name for path in (REPO / "models" / "semantic").glob("*.yml")
             for name in re.findall(r"ref\('(\w+)'\)", path.read_text())}
    marts |= {"metricflow_time_spine", *nightly.REQUIRED_MARTS}
    job = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "nightly.py"), "--working", str(root / "working.duckdb"),
         "--serving", str(serving), "--", "--vars", json.dumps({"as_of_date": AS_OF}),
         "--target-path", str(root / "build"), "--log-path", str(root / "logs"), "--quiet",
         "--select", *(f"+{name}" for name in sorted(marts)), "--exclude-resource-type", "test"],
        cwd=REPO, env=base, capture_output=True, text=True, timeout=900, check=False)
    parsed = parse.communicate(timeout=600)[0]
    assert job.returncode == 0, job.stdout[-4000:] + job.stderr[-4000:]
    assert parse.returncode == 0, parsed[-4000:]
    manifest = json.loads((project / "target" / "semantic_manifest.json").read_text())

    env = dict(base, DBT_TARGET="serving", DBT_PROJECT_DIR=str(project), DBT_LOG_PATH=str(root / "logs"))
    queries = {
        "totals": ([metric["name"] for metric in manifest["metrics"]], []),
        "by_rfm_group": ([*CUSTOMER_TOTALS, "churn_risk_customer_share", "top_ltv_revenue_share"], ["customer__rfm_group"]),
        "by_month": (MONTHLY, ["metric_time__month"]),
        "by_month_segment": (MONTHLY, ["metric_time__month", "segment_month__rfm_segment"]),
        "by_offer": (OFFERS, ["offer_measurement__offer_id"]),
        "by_value_tier": (ASSIGNMENTS, ["customer__value_tier"]),
    }
    connection = duckdb.connect(str(serving), read_only=True)
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {name: pool.submit(run_mf, env, root / f"{name}.csv", *query) for name, query in queries.items()}
            results = {name: (future.result(), root / f"{name}.csv") for name, future in futures.items()}
        yield {"connection": connection, "manifest": manifest, "results": results}
    finally:
        connection.close()


def rows_of(layer: dict, name: str) -> list[dict[str, str]]:
    return read_rows(*layer["results"][name])


def sql(layer: dict, query: str, parameters: list | None = None) -> list[tuple]:
    return layer["connection"].execute(query, parameters or []).fetchall()


def metric(layer: dict, name: str) -> dict:
    [found] = [item for item in layer["manifest"]["metrics"] if item["name"] == name]
    return found


def filters(item: dict) -> list[str]:
    """The where clauses of a metric: its own, and those of a ratio's numerator and denominator."""
    inputs = [item.get("filter")] + [(item["type_params"].get(side) or {}).get("filter")
                                     for side in ("numerator", "denominator")]
    return [where["where_sql_template"] for found in inputs if found for where in found["where_filters"]]


def filter_literal(layer: dict, name: str, dimension: str) -> str:
    """The value a filter of metric ``name`` compares ``dimension`` with."""
    [value] = [match["value"] for where in filters(metric(layer, name)) for match in FILTER.finditer(where)
               if match["dimension"] == dimension]
    return value


CUSTOMER_SQL = """
    select {group} as grouping_value,
        count(*) as customers,
        count(case when is_repeat_customer then 1 end) as repeat_customers,
        cast(count(case when is_repeat_customer then 1 end) as double) / count(*) as repeat_customer_rate,
        sum(orders_count) as orders,
        sum(net_revenue) as net_revenue,
        sum(gross_revenue) as gross_revenue,
        avg(net_revenue) as avg_ltv,
        sum(gross_revenue) / sum(orders_count) as avg_order_value,
        sum(margin_amount) as margin,
        sum(margin_amount) / count(*) as margin_per_customer,
        sum(case when is_repeat_customer then last_purchase_date - first_purchase_date end) as days_between_purchases,
        sum(case when is_repeat_customer then purchase_days_count - 1 end) as purchase_gaps,
        sum(case when is_repeat_customer then last_purchase_date - first_purchase_date end)
        / sum(case when is_repeat_customer then purchase_days_count - 1 end) as avg_days_between_purchases
    from marts.dim_customers
    where orders_count > 0
    group by all
"""


def customer_expected(layer: dict, group: str) -> dict[tuple, dict[str, object]]:
    rows = layer["connection"].execute(CUSTOMER_SQL.format(group=group))
    names = [column[0] for column in rows.description][1:]
    return {(row[0],): dict(zip(names, row[1:], strict=True)) for row in rows.fetchall()}


def test_serving_database_holds_the_time_spine(layer: dict) -> None:
    """One row per day from min_valid_date to as_of_date, published with the marts."""
    first_day = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]["min_valid_date"]
    [(count, distinct, low, high)] = sql(
        layer, "select count(*), count(distinct date_day), min(date_day), max(date_day) from marts.metricflow_time_spine")
    assert (low, high) == (date.fromisoformat(first_day), date.fromisoformat(AS_OF))
    assert count == distinct == (high - low + timedelta(days=1)).days
    [(outside,)] = sql(layer, """
        select count(*) from marts.dim_customers
        where first_purchase_date not in (select date_day from marts.metricflow_time_spine)
           or last_purchase_date not in (select date_day from marts.metricflow_time_spine)""")
    assert outside == 0


def test_metric_filters_name_values_in_the_data(layer: dict) -> None:
    """A renamed segment, status or roll-up label would make a filtered metric silently 0 or wrong:
    every value a filter compares with must occur in the column the dimension reads. A value the
    monthly metrics leave out (the mart's total row) must not be a segment of dim_customers."""
    columns = {}
    for model in layer["manifest"]["semantic_models"]:
        entity = model.get("primary_entity") or next(e["name"] for e in model["entities"] if e["type"] == "primary")
        for dimension in model["dimensions"]:
            columns[f"{entity}__{dimension['name']}"] = (model["node_relation"]["alias"], dimension.get("expr") or dimension["name"])
    checked = set()
    for item in layer["manifest"]["metrics"]:
        for where in filters(item):
            for match in FILTER.finditer(where):
                assert match["dimension"] in columns, (item["name"], match["dimension"])
                if match["value"] is None:
                    continue
                table, column = columns[match["dimension"]]
                [(found,)] = sql(layer, f"select count(*) from marts.{table} where {column} = ?", [match["value"]])
                assert found > 0, f"{item['name']}: no {table}.{column} = '{match['value']}'"
                if match["op"] == "<>" and column == "rfm_segment":
                    [(clash,)] = sql(layer, "select count(*) from marts.dim_customers where rfm_segment = ?", [match["value"]])
                    assert clash == 0, f"{item['name']} leaves out the real segment '{match['value']}'"
                checked.add((table, column, match["value"]))
    assert len(checked) >= 10  # the segment and lifecycle shares and both roll-up labels


def test_totals_match_the_marts(layer: dict) -> None:
    """Every metric at once, without a group-by: the customer metrics against dim_customers and the
    headline numbers of fct_kpi_summary, the monthly ones against the mart's total rows, the offer
    ones against the roll-up row of fct_offer_incrementality and fct_offer_assignments."""
    [row] = rows_of(layer, "totals")
    assert set(row) == {item["name"] for item in layer["manifest"]["metrics"]}
    [expected] = customer_expected(layer, "'all'").values()
    summary = layer["connection"].execute("select * from marts.fct_kpi_summary")
    summary = dict(zip([column[0] for column in summary.description], summary.fetchone(), strict=True))
    expected |= {
        "customers": summary["customers_count"], "repeat_customers": summary["repeat_customers_count"],
        "repeat_customer_rate": summary["repeat_customer_rate"], "orders": summary["orders_count"],
        "net_revenue": summary["net_revenue"], "avg_ltv": summary["avg_ltv"], "margin": summary["margin_amount"],
        "avg_days_between_purchases": summary["avg_days_between_purchases"],
        "repeat_revenue_share": summary["repeat_revenue_share"],
    }
    total = filter_literal(layer, "buyers", "segment_month__rfm_segment")
    [(buyers, repeat_buyers, new_customers, orders, net, repeat_net, margin, gap_days, gaps)] = sql(layer, """
        select sum(buyers_count), sum(repeat_buyers_count), sum(new_customers_count), sum(orders_count),
            sum(net_revenue), sum(repeat_net_revenue), sum(margin_amount), sum(days_between_purchases),
            sum(repeat_purchase_days_count)
        from marts.fct_kpis_monthly where rfm_segment = ?""", [total])
    [(last_ltv,)] = sql(layer, "select avg_ltv from marts.fct_kpis_monthly where rfm_segment = ? "
                               "order by month_start_date desc limit 1", [total])
    expected |= {
        "buyers": buyers, "repeat_buyers": repeat_buyers, "monthly_repeat_rate": repeat_buyers / buyers,
        "new_customers": new_customers, "monthly_orders": orders, "monthly_net_revenue": net,
        "repeat_net_revenue": repeat_net, "monthly_margin": margin, "cumulative_net_revenue": net,
        "monthly_days_between_purchases": gap_days, "monthly_repeat_purchase_days": gaps,
        # over all months, the monthly mean interval is the headline one
        "monthly_avg_days_between_purchases": summary["avg_days_between_purchases"],
        "cumulative_new_customers": new_customers, "cumulative_avg_ltv": last_ltv,
    }
    all_offers = filter_literal(layer, "treated_sends", "offer_measurement__offer_id")
    all_segments = filter_literal(layer, "treated_sends", "offer_measurement__send_segment")
    expected |= offer_expected(layer, "offer_id = ? and send_segment = ?", [all_offers, all_segments])[(all_offers,)]
    [(assigned, held_out, cost)] = sql(layer, "select count(*), count(case when is_holdout then 1 end), "
                                              "sum(expected_cost) from marts.fct_offer_assignments")
    expected |= {"assigned_customers": assigned, "holdout_customers": held_out,
                 "offer_holdout_share": held_out / assigned, "planned_offer_cost": cost}
    expected |= share_expected(layer)
    assert set(expected) == set(row), set(row) ^ set(expected)
    assert mismatches([row], {(): expected}, []) == []
    assert 0 < number(row["repeat_customers"]) < number(row["customers"]) == summary["customers_count"]


def share_expected(layer: dict) -> dict[str, object]:
    """Each share metric of dim_customers recomputed from the column and value its filter names."""
    shares = {}
    for item in layer["manifest"]["metrics"]:
        numerator = item["type_params"].get("numerator") or {}
        if item["type"] != "ratio" or not numerator.get("filter"):
            continue
        [where] = numerator["filter"]["where_filters"]
        [match] = FILTER.finditer(where["where_sql_template"])
        column = match["dimension"].removeprefix("customer__")
        condition = column if match["value"] is None else f"{column} = ?"
        parameters = [] if match["value"] is None else [match["value"]]
        measure = "net_revenue" if numerator["name"] == "net_revenue" else "1"
        [(share,)] = sql(layer, f"""
            select cast(sum(case when {condition} then {measure} end) as double) / sum({measure})
            from marts.dim_customers where orders_count > 0""", parameters)
        shares[item["name"]] = share
    assert len(shares) >= 10
    return shares


def test_customer_metrics_by_group_match_dim_customers(layer: dict) -> None:
    """Grouped by RFM group, against dim_customers. A share grouped by a dimension is the share
    within each group, 0 in a group with none."""
    expected = customer_expected(layer, "rfm_group")
    status = filter_literal(layer, "churn_risk_customer_share", "customer__lifecycle_status")
    for group, churn_risk, top_ltv_revenue in sql(layer, """
            select rfm_group, cast(count(case when lifecycle_status = ? then 1 end) as double) / count(*),
                cast(coalesce(sum(case when is_top_ltv then net_revenue end), 0) as double) / sum(net_revenue)
            from marts.dim_customers where orders_count > 0 group by all""", [status]):
        expected[(group,)] |= {"churn_risk_customer_share": churn_risk, "top_ltv_revenue_share": top_ltv_revenue}
    assert len(expected) >= 3
    assert mismatches(rows_of(layer, "by_rfm_group"), expected, ["customer__rfm_group"]) == []


def monthly_expected(layer: dict, where: str, parameters: list, with_segment: bool) -> dict[tuple, dict[str, object]]:
    rows = layer["connection"].execute(f"""
        select cast(month_start_date as varchar), rfm_segment, buyers_count, repeat_buyers_count, repeat_rate,
            new_customers_count, orders_count, net_revenue, repeat_net_revenue, repeat_revenue_share, margin_amount,
            days_between_purchases, repeat_purchase_days_count, avg_days_between_purchases,
            sum(net_revenue) over (partition by rfm_segment order by month_start_date),
            sum(new_customers_count) over (partition by rfm_segment order by month_start_date), avg_ltv
        from marts.fct_kpis_monthly where {where}""", parameters).fetchall()
    return {((month, segment) if with_segment else (month,)): dict(zip(MONTHLY, values, strict=True))
            for month, segment, *values in rows}


def test_monthly_metrics_match_fct_kpis_monthly(layer: dict) -> None:
    """By month, mf adds up the segment rows: equal to the mart's total row of each month, rates and
    the cumulative LTV included. By month and segment, equal to the segment rows."""
    total = filter_literal(layer, "buyers", "segment_month__rfm_segment")
    expected = monthly_expected(layer, "rfm_segment = ?", [total], with_segment=False)
    rows = rows_of(layer, "by_month")
    # the cumulative metrics also give the month of as_of_date, with no purchases yet, the last total
    last = max(expected)
    extra = {(row["metric_time__month"][:10],) for row in rows} - set(expected)
    assert extra <= {(AS_OF[:8] + "01",)}
    for month in extra:
        expected[month] = {name: None for name in MONTHLY} | {
            name: expected[last][name] for name in ("cumulative_net_revenue", "cumulative_new_customers", "cumulative_avg_ltv")}
    assert mismatches(rows, expected, ["metric_time__month"]) == []

    segments = monthly_expected(layer, "rfm_segment <> ?", [total], with_segment=True)
    rows = [row for row in rows_of(layer, "by_month_segment") if row["buyers"]]  # months with purchases
    assert mismatches(rows, segments, ["metric_time__month", "segment_month__rfm_segment"]) == []


def offer_expected(layer: dict, where: str, parameters: list) -> dict[tuple, dict[str, object]]:
    rows = layer["connection"].execute(f"""
        select offer_id, treated_sends_count, holdout_sends_count, treated_converted_count, holdout_converted_count,
            treated_conversion_rate, holdout_conversion_rate, conversion_uplift, incremental_conversions,
            coalesce(treated_revenue_per_send * treated_sends_count, 0),
            coalesce(holdout_revenue_per_send * holdout_sends_count, 0), revenue_uplift_per_send, incremental_revenue
        from marts.fct_offer_incrementality where {where}""", parameters).fetchall()
    return {(offer,): dict(zip(OFFERS, values, strict=True)) for offer, *values in rows}


def test_offer_uplift_matches_fct_offer_incrementality(layer: dict) -> None:
    """mf adds up the (offer, send segment) rows; the mart's per-offer roll-up rows are computed from
    the sends themselves: treated and held-out sends, conversions and their rates, the uplifts."""
    all_offers = filter_literal(layer, "treated_sends", "offer_measurement__offer_id")
    all_segments = filter_literal(layer, "treated_sends", "offer_measurement__send_segment")
    expected = offer_expected(layer, "send_segment = ? and offer_id <> ?", [all_segments, all_offers])
    assert len(expected) >= 2
    assert mismatches(rows_of(layer, "by_offer"), expected, ["offer_measurement__offer_id"]) == []


def test_assignment_metrics_join_the_customer_dimensions(layer: dict) -> None:
    """fct_offer_assignments reaches dim_customers' dimensions through the customer entity."""
    rows = layer["connection"].execute("""
        select customers.value_tier, count(*), count(case when assignments.is_holdout then 1 end),
            cast(count(case when assignments.is_holdout then 1 end) as double) / count(*),
            sum(assignments.expected_cost)
        from marts.fct_offer_assignments as assignments
        inner join marts.dim_customers as customers on assignments.customer_id = customers.customer_id
        group by all""").fetchall()
    expected = {(tier,): dict(zip(ASSIGNMENTS, values, strict=True)) for tier, *values in rows}
    assert len(expected) >= 2
    assert mismatches(rows_of(layer, "by_value_tier"), expected, ["customer__value_tier"]) == []

