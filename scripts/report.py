"""Write the marketer's report of the serving database: one self-contained HTML file.

    python scripts/report.py [--database data/loyalty.duckdb] [--out target/report/loyalty_report.html]

Reads the marts the nightly job published (``marts`` schema, opened read-only) and the time of the
last publish (``meta.publish_log``). Sections: headline KPIs, segment sizes (RFM segments by group,
SmartRFM groups), the RFM heatmap, the segment migration matrix, lifecycle status, monthly KPI
trends, offer assignments (sent against held out) and the measured conversion uplift of past sends.
Category values (segments, groups, statuses, offers) come from the data; a table without rows shows
a note instead of a chart. Plotly's JavaScript is written into the page once, so the file opens
without a network.

Exit codes: 0 written, 1 the database or a mart is missing or the file cannot be written.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
from plotly.subplots import make_subplots

DEFAULT_DATABASE = Path("data/loyalty.duckdb")
DEFAULT_OUT = Path("target/report/loyalty_report.html")
REQUIRED_MARTS = ("dim_customers", "fct_kpi_summary", "fct_kpis_monthly", "fct_segment_migrations",
                  "fct_offer_assignments", "fct_offer_incrementality")
# Total rows as the marts document them: fct_kpis_monthly's row per month over all segments, and
# fct_offer_incrementality's rows over all offers / all send segments. Markers, not categories.
MONTHLY_TOTAL = "All customers"
ALL_OFFERS = "(all offers)"
ALL_SEGMENTS = "(all segments)"
NO_DATA = "No data yet"
Row = dict[str, Any]


class ReportError(Exception):
    """The report cannot be written (missing database or mart, unwritable output)."""


def fetch(connection: duckdb.DuckDBPyConnection, sql: str) -> list[Row]:
    """Rows of ``sql`` as dicts; decimals as floats (chart values)."""
    relation = connection.sql(sql)
    return [{name: float(value) if isinstance(value, Decimal) else value
             for name, value in zip(relation.columns, row, strict=True)} for row in relation.fetchall()]


@dataclass
class ReportData:
    """Everything the report shows, read in one connection."""

    summary: Row | None
    publish: Row | None
    segments: list[Row]
    smartrfm: list[Row]
    heatmap: list[Row]
    migrations: list[Row]
    lifecycle: list[Row]
    monthly: list[Row]
    assignments: list[Row]
    uplift: list[Row]
    unscored_customers: int = 0


def load(database: Path) -> ReportData:
    """Read the marts and the publish log of ``database``, read-only."""
    if not database.is_file():
        raise ReportError(f"{database}: no serving database (run `make build` first)")
    try:
        connection = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as error:
        raise ReportError(f"{database}: cannot open ({error})") from error
    with connection:
        tables = {(schema, name) for schema, name in connection.sql(
            "select schema_name, table_name from duckdb_tables()").fetchall()}
        missing = [name for name in REQUIRED_MARTS if ("marts", name) not in tables]
        if missing:
            raise ReportError(f"{database}: missing marts.{', marts.'.join(missing)} (not a published build)")
        publish = fetch(connection, "select publish_id, published_at, as_of_date from meta.publish_log "
                                    "order by published_at desc limit 1") if ("meta", "publish_log") in tables else []
        summary = fetch(connection, "select * from marts.fct_kpi_summary")
        customers = "marts.dim_customers where rfm_segment is not null"
        return ReportData(
            summary=summary[0] if summary else None,
            publish=publish[0] if publish else None,
            segments=fetch(connection, f"select rfm_group, rfm_segment, count(*) as customers from {customers} "
                                       "group by all order by customers desc, rfm_segment"),
            smartrfm=fetch(connection, "select smartrfm_group, count(*) as customers from marts.dim_customers "
                                       "where smartrfm_group is not null group by all order by customers desc, 1"),
            heatmap=fetch(connection, f"select r_score, f_score, count(*) as customers, avg(net_revenue) as "
                                      f"mean_net_revenue from {customers} group by all order by 1, 2"),
            migrations=fetch(connection, "select from_segment, to_segment, customers_count, share_of_from_segment, "
                                         "period_days from marts.fct_segment_migrations"),
            lifecycle=fetch(connection, "select lifecycle_status, count(*) as customers from marts.dim_customers "
                                        "group by all order by customers desc, 1"),
            monthly=fetch(connection, "select * from marts.fct_kpis_monthly order by month_start_date, rfm_segment"),
            assignments=fetch(connection, "select offer_id, offer_name, count(*) filter (not is_holdout) as sent, "
                                          "count(*) filter (is_holdout) as held_out from marts.fct_offer_assignments "
                                          "group by all order by sent + held_out desc, offer_name"),
            uplift=fetch(connection, f"""
                select offer_id, treated_sends_count, holdout_sends_count, conversion_uplift,
                       conversion_uplift_ci_low, conversion_uplift_ci_high
                from marts.fct_offer_incrementality
                where send_segment = '{ALL_SEGMENTS}' and is_measurable
                order by offer_id = '{ALL_OFFERS}' desc, conversion_uplift desc"""),
            unscored_customers=connection.sql(
                "select count(*) from marts.dim_customers where rfm_segment is null").fetchone()[0],
        )


def number(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def kpi_cards(summary: Row | None) -> str:
    """The headline numbers, each card carrying its raw value in data-kpi / data-value."""
    if summary is None:
        return note("marts.fct_kpi_summary")
    cards = [("customers_count", "Customers", ",d"), ("net_revenue", "Net revenue", ",.2f"),
             ("repeat_customer_rate", "Repeat customers", ".1%"),
             ("repeat_revenue_share", "Revenue from repeat purchases", ".1%"),
             ("avg_days_between_purchases", "Days between purchases (mean)", ",.1f"),
             ("avg_ltv", "LTV (net revenue per customer)", ",.2f"), ("margin_amount", "Margin", ",.2f"),
             ("active_customers_count", "Active", ",d"), ("churn_risk_customers_count", "At risk", ",d"),
             ("churned_customers_count", "Churned", ",d")]
    items = "".join(
        f'<div class="kpi" data-kpi="{key}" data-value="{"" if summary[key] is None else summary[key]}">'
        f'<div class="value">{number(summary[key], spec)}</div><div class="label">{label}</div></div>'
        for key, label, spec in cards)
    return f'<div class="kpis">{items}</div>'


def note(source: str) -> str:
    return f'<p class="note" data-empty="{source}">{NO_DATA}: {html.escape(source)} has no rows.</p>'


class Charts:
    """The page's charts in order; the first one carries plotly.js inline, the others use it."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def add(self, name: str, fig: go.Figure, height: int = 420, bottom: int = 60) -> str:
        fig.update_layout(height=height, margin={"l": 60, "r": 20, "t": 50, "b": bottom}, template="plotly_white")
        chart = fig.to_html(full_html=False, include_plotlyjs=not self.names, div_id=f"figure-{name}",
                            config={"displaylogo": False, "responsive": True})
        self.names.append(name)
        return f'<div class="figure" data-figure="{name}">{chart}</div>'


def segment_sections(data: ReportData, charts: Charts) -> str:
    if not data.segments:
        return note("marts.dim_customers")
    groups = dict.fromkeys(row["rfm_group"] for row in data.segments)
    bars = go.Figure([go.Bar(name=group, x=[row["rfm_segment"] for row in data.segments if row["rfm_group"] == group],
                             y=[row["customers"] for row in data.segments if row["rfm_group"] == group])
                      for group in groups])
    bars.update_layout(title="Customers per RFM segment (coloured by group)",
                       xaxis={"categoryorder": "total descending"}, yaxis_title="customers")
    smart = go.Figure(go.Bar(x=[row["smartrfm_group"] for row in data.smartrfm],
                             y=[row["customers"] for row in data.smartrfm]))
    smart.update_layout(title="Customers per SmartRFM group", yaxis_title="customers")
    unscored = (f'<p class="note">{data.unscored_customers:,} customers with returns only have no segment.</p>'
                if data.unscored_customers else "")
    return charts.add("rfm_segments", bars) + charts.add("smartrfm_groups", smart) + unscored


def heatmap_section(data: ReportData, charts: Charts) -> str:
    if not data.heatmap:
        return note("marts.dim_customers")
    r_scores = sorted({row["r_score"] for row in data.heatmap})  # the best score on top
    f_scores = sorted({row["f_score"] for row in data.heatmap})
    cells = {(row["r_score"], row["f_score"]): row for row in data.heatmap}
    counts = [[cells[(r, f)]["customers"] if (r, f) in cells else None for f in f_scores] for r in r_scores]
    means = [[cells[(r, f)]["mean_net_revenue"] if (r, f) in cells else None for f in f_scores] for r in r_scores]
    fig = go.Figure(go.Heatmap(
        x=[str(f) for f in f_scores], y=[str(r) for r in r_scores], z=counts, customdata=means,
        colorscale="Blues", texttemplate="%{z}",
        hovertemplate="R %{y}, F %{x}: %{z} customers<br>mean net revenue %{customdata:,.2f}<extra></extra>"))
    fig.update_layout(title="Customers by recency and frequency score", xaxis_title="frequency score (F)",
                      yaxis_title="recency score (R)")
    return charts.add("rfm_heatmap", fig, height=480)


def migration_section(data: ReportData, charts: Charts) -> str:
    if not data.migrations:
        return note("marts.fct_segment_migrations")
    size = {row["rfm_segment"]: row["customers"] for row in data.segments}
    to_segments = sorted({row["to_segment"] for row in data.migrations}, key=lambda s: (-size.get(s, 0), s))
    from_segments = sorted({row["from_segment"] for row in data.migrations},
                           key=lambda s: (s not in size, -size.get(s, 0), s))
    cells = {(row["from_segment"], row["to_segment"]): row for row in data.migrations}
    share = [[cells[(f, t)]["share_of_from_segment"] if (f, t) in cells else None for t in to_segments]
             for f in from_segments]
    count = [[cells[(f, t)]["customers_count"] if (f, t) in cells else None for t in to_segments]
             for f in from_segments]
    fig = go.Figure(go.Heatmap(
        x=to_segments, y=from_segments, z=share, customdata=count, colorscale="Greens", zmin=0, zmax=1,
        texttemplate="%{z:.0%}", colorbar={"tickformat": ".0%"},
        hovertemplate="%{y} → %{x}<br>%{customdata} customers, %{z:.1%} of %{y}<extra></extra>"))
    days = data.migrations[0]["period_days"]
    fig.update_layout(title=f"Where each segment went in the last {days} days (share of the starting segment)",
                      xaxis={"title": "segment now", "tickangle": -30}, yaxis_title=f"segment {days} days ago",
                      yaxis_autorange="reversed")
    return charts.add("segment_migrations", fig, height=600, bottom=120)


def lifecycle_section(data: ReportData, charts: Charts) -> str:
    if not data.lifecycle:
        return note("marts.dim_customers")
    fig = go.Figure(go.Bar(x=[row["lifecycle_status"] or "(none)" for row in data.lifecycle],
                           y=[row["customers"] for row in data.lifecycle]))
    fig.update_layout(title="Customers per lifecycle status", yaxis_title="customers")
    return charts.add("lifecycle", fig, height=380)


def trend_sections(data: ReportData, charts: Charts) -> str:
    """The month's total row for the KPIs (rates do not add up); segment rows stacked for revenue."""
    if not data.monthly:
        return note("marts.fct_kpis_monthly")
    totals = [row for row in data.monthly if row["rfm_segment"] == MONTHLY_TOTAL]
    if not totals:
        raise ReportError(f"marts.fct_kpis_monthly has no '{MONTHLY_TOTAL}' rows (the monthly totals)")
    months = [row["month_start_date"] for row in totals]
    kpis = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                         subplot_titles=("Net revenue", "Repeat rate and repeat revenue share", "Average LTV"))
    kpis.add_trace(go.Bar(name="net revenue", x=months, y=[row["net_revenue"] for row in totals]), row=1, col=1)
    for key, label in (("repeat_rate", "repeat rate"), ("repeat_revenue_share", "repeat revenue share")):
        kpis.add_trace(go.Scatter(name=label, x=months, y=[row[key] for row in totals], mode="lines+markers"),
                       row=2, col=1)
    kpis.add_trace(go.Scatter(name="average LTV", x=months, y=[row["avg_ltv"] for row in totals],
                              mode="lines+markers"), row=3, col=1)
    kpis.update_yaxes(tickformat=".0%", row=2, col=1)
    kpis.update_layout(title="KPIs by month, all customers (the last month runs to the as-of date)")
    by_segment = [row for row in data.monthly if row["rfm_segment"] != MONTHLY_TOTAL]
    stacked = go.Figure([go.Bar(name=segment, x=[row["month_start_date"] for row in by_segment
                                                 if row["rfm_segment"] == segment],
                                y=[row["net_revenue"] for row in by_segment if row["rfm_segment"] == segment])
                         for segment in dict.fromkeys(row["rfm_segment"] for row in by_segment)])
    stacked.update_layout(barmode="stack", title="Net revenue by month and today's RFM segment",
                          yaxis_title="net revenue")
    return charts.add("kpi_trends", kpis, height=720) + charts.add("revenue_by_segment", stacked)


def offer_sections(data: ReportData, charts: Charts) -> str:
    if data.assignments:
        offers = [row["offer_name"] for row in data.assignments]
        fig = go.Figure([go.Bar(name="sent", y=offers, x=[row["sent"] for row in data.assignments], orientation="h"),
                         go.Bar(name="held out", y=offers, x=[row["held_out"] for row in data.assignments],
                                orientation="h")])
        fig.update_layout(barmode="stack", title="Offers assigned in this run", xaxis_title="customers",
                          yaxis_autorange="reversed")
        assigned = charts.add("offer_assignments", fig, height=max(320, 60 + 28 * len(offers)))
    else:
        assigned = note("marts.fct_offer_assignments")
    if not data.uplift:
        return assigned + ('<p class="note" data-empty="marts.fct_offer_incrementality">'
                           f"{NO_DATA}: no offer has enough measured sends on both sides (treated and held out).</p>")
    names = {row["offer_id"]: row["offer_name"] for row in data.assignments} | {ALL_OFFERS: "All offers"}
    labels = [names.get(row["offer_id"], row["offer_id"]) for row in data.uplift]
    uplift = [row["conversion_uplift"] for row in data.uplift]
    fig = go.Figure(go.Scatter(
        x=uplift, y=labels, mode="markers", marker={"size": 10},
        error_x={"type": "data", "array": [row["conversion_uplift_ci_high"] - row["conversion_uplift"]
                                           for row in data.uplift],
                 "arrayminus": [row["conversion_uplift"] - row["conversion_uplift_ci_low"] for row in data.uplift]},
        customdata=[[row["treated_sends_count"], row["holdout_sends_count"]] for row in data.uplift],
        hovertemplate="%{y}: %{x:+.1%}<br>%{customdata[0]} sent, %{customdata[1]} held out<extra></extra>"))
    fig.add_vline(x=0, line_dash="dot")
    fig.update_layout(title="Conversion uplift of past sends (treated minus held out, 95% interval)",
                      xaxis={"tickformat": "+.0%", "title": "conversion uplift"}, yaxis_autorange="reversed")
    return assigned + charts.add("offer_uplift", fig, height=max(300, 80 + 32 * len(labels)))


STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1200px; color: #222; }
header p { color: #555; margin: 4px 0; } h2 { margin-top: 36px; border-bottom: 1px solid #ddd; }
.kpis { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; }
.kpi { background: #f4f6fa; border-radius: 6px; padding: 12px; }
.kpi .value { font-size: 22px; font-weight: 600; } .kpi .label { color: #555; font-size: 13px; }
.note { color: #666; font-style: italic; }
"""


def render(data: ReportData, database: Path) -> tuple[str, list[str]]:
    """The whole page, and the names of its charts in order."""
    as_of = (data.summary or data.publish or {}).get("as_of_date")
    published: datetime | None = (data.publish or {}).get("published_at")
    published_text = f"{published:%Y-%m-%d %H:%M} UTC" if published else "unknown (no meta.publish_log)"
    charts = Charts()
    sections = [("Headline KPIs", kpi_cards(data.summary)), ("Segment sizes", segment_sections(data, charts)),
                ("RFM heatmap", heatmap_section(data, charts)),
                ("Segment migration", migration_section(data, charts)),
                ("Lifecycle", lifecycle_section(data, charts)), ("KPI trends", trend_sections(data, charts)),
                ("Offers", offer_sections(data, charts))]
    body = "".join(f"<section><h2>{title}</h2>{content}</section>" for title, content in sections)
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Loyalty report as of {as_of}</title>'
            f"<style>{STYLE}</style></head><body><header><h1>Loyalty report</h1>"
            f'<p>As of <strong data-as-of="{as_of or ""}">{as_of or "n/a"}</strong>; published '
            f'<span data-published="{published or ""}">{published_text}</span> '
            f"from {html.escape(database.name)}</p></header>{body}</body></html>")
    return page, charts.names


def write_report(database: Path, out: Path) -> list[str]:
    """Read ``database`` and write the report to ``out``; returns the names of its charts."""
    page, charts = render(load(database), database)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as error:
        raise ReportError(f"{out}: cannot write ({error})") from error
    return charts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path,
                        default=Path(os.environ.get("LOYALTY_SERVING_PATH") or DEFAULT_DATABASE),
                        help="serving database (default: $LOYALTY_SERVING_PATH or data/loyalty.duckdb)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"HTML file to write (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        charts = write_report(args.database, args.out)
    except ReportError as error:
        print(f"report: {error}", file=sys.stderr)
        return 1
    print(f"report: wrote {args.out} ({len(charts)} charts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
