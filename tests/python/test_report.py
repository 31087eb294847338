"""scripts/report.py on a generated demo built and published by the nightly job: the numbers each
section shows against queries of the marts, charts that render in headless Chromium (Debian's
chromium) without console errors, notes instead of charts for empty marts, and the exit code for a
database without the marts."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dbt_project_runner import REPO

sys.path.insert(0, str(REPO / "scripts"))
import nightly
import report

AS_OF_DATE = "2025-07-01"
CHARTS = ["rfm_segments", "smartrfm_groups", "rfm_heatmap", "segment_migrations", "lifecycle", "kpi_trends",
          "revenue_by_segment", "offer_assignments", "offer_uplift"]
SEGMENT_ROWS = "rfm_segment in (select rfm_segment from marts.dim_customers)"  # fct_kpis_monthly without totals


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated demo built (the marts the report and the publish need, without data tests) and
    published once by scripts/nightly.py."""
    root = tmp_path_factory.mktemp("report")
    subprocess.run([sys.executable, str(REPO / "scripts" / "generate_data.py"), "--out", str(root / "data"),
                    "--customers", "1000", "--seed", "11", "--quiet", "--no-events", "--no-lines",
                    "--end-date", "2025-06-30"], check=True)
    env = dict(os.environ, LOYALTY_DATA_DIR=str(root / "data"), DBT_PROFILES_DIR=str(REPO / "profiles"),
               DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    env.pop("DBT_DUCKDB_PATH", None)
    marts = sorted(set(report.REQUIRED_MARTS) | set(nightly.REQUIRED_MARTS))
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "nightly.py"), "--working", str(root / "working.duckdb"),
         "--serving", str(root / "serving.duckdb"), "--", "--vars", json.dumps({"as_of_date": AS_OF_DATE}),
         "--target-path", str(root / "target"), "--log-path", str(root / "logs"), "--quiet",
         "--select", *(f"+{name}" for name in marts), "--exclude-resource-type", "test"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return root / "serving.duckdb"


@pytest.fixture(scope="module")
def page(serving: Path) -> tuple[Path, str]:
    out = serving.with_name("report") / "loyalty_report.html"
    assert report.main(["--database", str(serving), "--out", str(out)]) == 0
    return out, out.read_text(encoding="utf-8")


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.sql(sql).fetchall()


def figures(html: str) -> dict[str, dict]:
    """Each chart's data and layout, parsed from its Plotly.newPlot call."""
    decoder = json.JSONDecoder()
    found = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"figure-(\w+)",\s*', html):
        data, end = decoder.raw_decode(html, match.end())
        layout, _ = decoder.raw_decode(html, re.compile(r"\s*,\s*").match(html, end).end())
        found[match.group(1)] = {"data": data, "layout": layout}
    return found


def bars(trace: dict, category: str = "x", value: str = "y") -> dict:
    return dict(zip(trace[category], trace[value], strict=True))


def chromium_binary() -> str:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is not installed: `make system-packages` installs it (Debian's chromium package)")
    return binary


def render(path: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM headless Chromium ends with after running the page's scripts, and the page's console lines."""
    result = subprocess.run(
        [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
         f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", path.resolve().as_uri()],
        capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout, [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def rendered_charts(dom: str) -> list[str]:
    """The charts whose div holds a drawn plot (plotly's .plot-container with its svg)."""
    parts = re.split(r'<div class="figure" data-figure="(\w+)">', dom)
    return [name for name, body in zip(parts[1::2], parts[2::2], strict=True)
            if 'class="plot-container' in body and 'class="main-svg"' in body]


def test_header_shows_as_of_date_and_publish_time(serving: Path, page: tuple[Path, str]) -> None:
    [(as_of, published_at)] = query(serving, "select as_of_date, published_at from meta.publish_log")
    assert str(as_of) == AS_OF_DATE
    assert f'data-as-of="{as_of}"' in page[1]
    assert f'data-published="{published_at}"' in page[1]
    assert f"{published_at:%Y-%m-%d %H:%M} UTC" in page[1]


def test_kpi_cards_show_the_summary(serving: Path, page: tuple[Path, str]) -> None:
    shown = dict(re.findall(r'data-kpi="(\w+)" data-value="([^"]*)"', page[1]))
    assert len(shown) == 10
    columns = ", ".join(shown)
    [row] = query(serving, f"select {columns} from marts.fct_kpi_summary")
    expected = dict(zip(shown, row, strict=True))
    [(customers, active)] = query(serving, "select count(*), count(*) filter (where lifecycle_status = 'active') "
                                           "from marts.dim_customers where orders_count > 0")
    assert (int(shown["customers_count"]), int(shown["active_customers_count"])) == (customers, active)
    for key, value in shown.items():
        assert float(value) == pytest.approx(float(expected[key]), rel=1e-9), key


def test_segment_and_lifecycle_charts_count_dim_customers(serving: Path, page: tuple[Path, str]) -> None:
    charts = figures(page[1])
    shown = {(trace["name"], segment): count for trace in charts["rfm_segments"]["data"]
             for segment, count in bars(trace).items()}
    expected = {(group, segment): count for group, segment, count in query(
        serving, "select rfm_group, rfm_segment, count(*) from marts.dim_customers "
                 "where rfm_segment is not null group by all")}
    assert shown == expected and len(expected) > 5
    assert bars(charts["smartrfm_groups"]["data"][0]) == dict(query(
        serving, "select smartrfm_group, count(*) from marts.dim_customers where smartrfm_group is not null "
                 "group by all"))
    assert bars(charts["lifecycle"]["data"][0]) == dict(query(
        serving, "select coalesce(lifecycle_status, '(none)'), count(*) from marts.dim_customers group by all"))


def test_rfm_heatmap_counts_and_mean_monetary(serving: Path, page: tuple[Path, str]) -> None:
    [trace] = figures(page[1])["rfm_heatmap"]["data"]
    shown = {(int(r), int(f)): (trace["z"][i][j], trace["customdata"][i][j])
             for i, r in enumerate(trace["y"]) for j, f in enumerate(trace["x"]) if trace["z"][i][j] is not None}
    expected = query(serving, "select r_score, f_score, count(*), avg(net_revenue) from marts.dim_customers "
                              "where r_score is not null group by all")
    assert len(shown) == len(expected) > 10
    for r_score, f_score, count, mean in expected:
        assert shown[(r_score, f_score)][0] == count
        assert shown[(r_score, f_score)][1] == pytest.approx(float(mean), rel=1e-9)
    assert trace["y"] == sorted(trace["y"])  # the highest recency score drawn on top


def test_migration_matrix_shows_shares_of_the_starting_segment(serving: Path, page: tuple[Path, str]) -> None:
    [trace] = figures(page[1])["segment_migrations"]["data"]
    shown = {(source, target): (trace["z"][i][j], trace["customdata"][i][j])
             for i, source in enumerate(trace["y"]) for j, target in enumerate(trace["x"])
             if trace["z"][i][j] is not None}
    expected = query(serving, "select from_segment, to_segment, customers_count, customers_count / "
                              "sum(customers_count) over (partition by from_segment) from marts.fct_segment_migrations")
    assert len(shown) == len(expected) > 10
    for source, target, count, share in expected:
        assert shown[(source, target)][1] == count
        assert shown[(source, target)][0] == pytest.approx(share, rel=1e-9)


def test_trends_use_the_monthly_totals_once(serving: Path, page: tuple[Path, str]) -> None:
    charts = figures(page[1])
    traces = {trace["name"]: trace for trace in charts["kpi_trends"]["data"]}
    expected = query(serving, f"""
        select cast(month_start_date as varchar), sum(net_revenue), sum(repeat_buyers_count) / sum(buyers_count),
               sum(repeat_net_revenue) / sum(net_revenue),
               sum(sum(net_revenue)) over months / sum(sum(new_customers_count)) over months
        from marts.fct_kpis_monthly where {SEGMENT_ROWS}
        group by month_start_date window months as (order by month_start_date) order by month_start_date""")
    assert traces["net revenue"]["x"] == [row[0] for row in expected] and len(expected) > 12
    for name, column in (("net revenue", 1), ("repeat rate", 2), ("repeat revenue share", 3), ("average LTV", 4)):
        assert traces[name]["y"] == pytest.approx([float(row[column]) for row in expected], rel=1e-9), name
    stacked = {(trace["name"], month): value for trace in charts["revenue_by_segment"]["data"]
               for month, value in bars(trace).items()}
    segment_rows = query(serving, "select rfm_segment, cast(month_start_date as varchar), net_revenue "
                                  f"from marts.fct_kpis_monthly where {SEGMENT_ROWS}")
    assert stacked == pytest.approx({(segment, month): float(value) for segment, month, value in segment_rows})


def test_offer_charts(serving: Path, page: tuple[Path, str]) -> None:
    charts = figures(page[1])
    sent, held_out = charts["offer_assignments"]["data"]
    expected = query(serving, "select offer_name, count(*) filter (where not is_holdout), "
                              "count(*) filter (where is_holdout) from marts.fct_offer_assignments group by 1")
    assert bars(sent, "y", "x") == {name: count for name, count, _ in expected}
    assert bars(held_out, "y", "x") == {name: count for name, _, count in expected}
    [uplift] = charts["offer_uplift"]["data"]
    measured = query(serving, """
        select conversion_uplift, conversion_uplift_ci_low, conversion_uplift_ci_high
        from marts.fct_offer_incrementality where send_segment = '(all segments)' and is_measurable""")
    [(unmeasured,)] = query(serving, "select count(*) from marts.fct_offer_incrementality where not is_measurable")
    assert unmeasured > 0 and len(measured) >= 1  # the filter is exercised
    lows = [x - minus for x, minus in zip(uplift["x"], uplift["error_x"]["arrayminus"], strict=True)]
    highs = [x + plus for x, plus in zip(uplift["x"], uplift["error_x"]["array"], strict=True)]
    shown = sorted(zip(uplift["x"], lows, highs, strict=True))
    assert len(shown) == len(measured)
    for point, row in zip(shown, sorted(measured), strict=True):
        assert point == pytest.approx(row, rel=1e-9)


def test_every_chart_renders_in_chromium_without_console_errors(page: tuple[Path, str], tmp_path: Path) -> None:
    path, html = page
    assert re.findall(r'data-figure="(\w+)"', html) == CHARTS
    dom, console = render(path, tmp_path / "profile")
    assert console == []
    assert rendered_charts(dom) == CHARTS
    assert dom.count('class="plot-container') == len(CHARTS)


def test_the_render_check_catches_a_broken_chart(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"  # a chart whose script fails: plotly.js is missing
    broken.write_text('<div class="figure" data-figure="lifecycle"><div id="figure-lifecycle"></div>'
                      '<script>Plotly.newPlot("figure-lifecycle", [{"type": "bar", "y": [1]}], {})</script></div>',
                      encoding="utf-8")
    dom, console = render(broken, tmp_path / "profile")
    assert any("Uncaught ReferenceError: Plotly is not defined" in line for line in console), console
    assert rendered_charts(dom) == []


def test_empty_marts_show_notes(serving: Path, tmp_path: Path) -> None:
    database = tmp_path / "serving.duckdb"
    shutil.copy(serving, database)
    with duckdb.connect(str(database)) as connection:
        connection.execute("update marts.fct_offer_incrementality set is_measurable = false")
        connection.execute("delete from marts.fct_segment_migrations")
    charts = report.write_report(database, tmp_path / "partial.html")
    html = (tmp_path / "partial.html").read_text(encoding="utf-8")
    assert charts == [name for name in CHARTS if name not in ("segment_migrations", "offer_uplift")]
    assert 'data-empty="marts.fct_segment_migrations"' in html
    assert 'data-empty="marts.fct_offer_incrementality"' in html
    with duckdb.connect(str(database)) as connection:
        for table in report.REQUIRED_MARTS:
            connection.execute(f"delete from marts.{table}")
    assert report.write_report(database, tmp_path / "empty.html") == []
    html = (tmp_path / "empty.html").read_text(encoding="utf-8")
    assert html.count(report.NO_DATA) == 8 and 'data-empty="marts.fct_kpi_summary"' in html
    assert "Plotly.newPlot" not in html


def test_a_database_without_the_marts_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "working.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema marts")
        connection.execute("create table marts.dim_customers (customer_id varchar)")
    assert report.main(["--database", str(database), "--out", str(tmp_path / "out.html")]) == 1
    assert "missing marts.fct_kpi_summary" in capsys.readouterr().err
    assert not (tmp_path / "out.html").exists()
    assert report.main(["--database", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "out.html")]) == 1
