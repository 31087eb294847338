"""Run the generator: simulate chunk by chunk and stream every table to its file(s)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import assemble as A
from . import config as C
from .simulate import Catalogue, calibrate_scale, offer_waves, simulate_chunk
from .timeline import Timeline

MANIFEST = "_generator.json"
ENTITY_FILES = ("order_lines", "products", "customers", "events", "offer_sends")
DATA_SUFFIXES = (".parquet", ".csv", ".csv.gz")
# Share of order rows that are returns (observed with the default shares); used to turn the
# wanted number of order rows into the wanted number of purchases per customer.
RETURN_ROW_SHARE = 0.072


class Sink:
    """One output file written in pieces: Parquet row groups or CSV blocks."""

    def __init__(self, path: Path, schema: pa.Schema, file_format: str) -> None:
        self.path = path
        self.rows = 0
        if file_format == "parquet":
            self._writer: Any = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            options = pacsv.WriteOptions(quoting_style="needed")
            self._writer = pacsv.CSVWriter(path, schema, write_options=options)

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def close(self) -> int:
        self._writer.close()
        return self.rows


def _months(cfg: C.GeneratorConfig) -> list[int]:
    """Month numbers (year * 12 + month - 1) covered by the history."""
    first = cfg.start_date.year * 12 + cfg.start_date.month - 1
    last = cfg.end_date.year * 12 + cfg.end_date.month - 1
    return list(range(first, last + 1))


def month_name(month_number: int) -> str:
    return f"{month_number // 12:04d}-{month_number % 12 + 1:02d}"


def remove_previous_output(out: Path) -> None:
    """Delete what an earlier run may have written (only the generator's own file names)."""
    (out / MANIFEST).unlink(missing_ok=True)
    for name in ENTITY_FILES:
        for suffix in DATA_SUFFIXES:
            (out / f"{name}{suffix}").unlink(missing_ok=True)
    orders = out / "orders"
    if orders.is_dir():
        for child in orders.iterdir():
            if child.is_file() and child.name.endswith(DATA_SUFFIXES):
                child.unlink()


def read_manifest(out: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_fresh(out: Path, cfg: C.GeneratorConfig) -> bool:
    """True when `out` holds a complete run with exactly these parameters."""
    manifest = read_manifest(out)
    if not manifest or manifest.get("parameters") != cfg.parameters():
        return False
    return all((out / name).is_file() for name in manifest.get("files", {}))


def generate(
    cfg: C.GeneratorConfig,
    out: Path,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write the demo data set to `out` and return the manifest (also written as _generator.json).

    `progress` is called with the number of customers finished after every chunk.
    """
    ext = ".parquet" if cfg.file_format == "parquet" else ".csv"
    tl = Timeline.build(cfg.start_date, cfg.end_date)
    cat = Catalogue.build(np.random.default_rng(np.random.SeedSequence([cfg.seed, 0])))
    purchases_per_customer = (
        cfg.orders
        * (1.0 - C.SHARES["guest_orders"])
        * (1.0 - RETURN_ROW_SHARE)
        / cfg.customers
    )
    scale = calibrate_scale(cfg.seed, tl, cat, purchases_per_customer)
    waves = offer_waves(cfg.seed, tl)
    cust_width = A.customer_width(cfg.customers)

    out.mkdir(parents=True, exist_ok=True)
    remove_previous_output(out)
    (out / "orders").mkdir(exist_ok=True)

    order_sinks = {
        m: Sink(
            out / "orders" / f"{month_name(m)}{ext}",
            A.schema(A.ORDER_COLUMNS),
            cfg.file_format,
        )
        for m in _months(cfg)
    }
    line_sink = (
        Sink(out / f"order_lines{ext}", A.schema(A.LINE_COLUMNS), cfg.file_format)
        if cfg.lines
        else None
    )
    event_sink = (
        Sink(out / f"events{ext}", A.schema(A.EVENT_COLUMNS), cfg.file_format)
        if cfg.events
        else None
    )
    customer_sink = Sink(out / "customers.csv", A.schema(A.CUSTOMER_COLUMNS), "csv")
    send_sink = Sink(out / "offer_sends.csv", A.schema(A.SEND_COLUMNS), "csv")
    product_sink = Sink(out / "products.csv", A.schema(A.PRODUCT_COLUMNS), "csv")
    product_sink.write(A.product_table(cat))

    totals: dict[str, int] = {}
    bad = dict.fromkeys(C.BAD_KINDS, 0)
    conv = dict.fromkeys(
        ("holdout_sends", "holdout_converted", "treated_sends", "treated_converted"), 0
    )
    event_counts = dict.fromkeys(C.EVENT_TYPES, 0)
    whitespace = 0
    next_order = next_send = 1
    months = np.array(sorted(order_sinks))

    def add(target: dict[str, int], values: dict[str, int]) -> None:
        for key, value in values.items():
            target[key] = target.get(key, 0) + value

    for chunk, first in enumerate(range(0, cfg.customers, cfg.chunk_customers)):
        n = min(cfg.chunk_customers, cfg.customers - first)
        rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 1, chunk]))
        event_rng = (
            np.random.default_rng(np.random.SeedSequence([cfg.seed, 4, chunk]))
            if cfg.events
            else None
        )
        res = simulate_chunk(
            rng, n, first + 1, tl, cat, scale, cfg.uplift, waves, event_rng
        )
        rows = A.order_rows(rng, res, next_order, cust_width)
        bounds = np.searchsorted(rows.month, months, side="left").tolist() + [
            len(rows.month)
        ]
        for i, m in enumerate(months):
            order_sinks[m].write(rows.table.slice(bounds[i], bounds[i + 1] - bounds[i]))
        if line_sink:
            line_sink.write(A.line_table(res, next_order))
        if event_sink:
            event_sink.write(A.event_table(res, cust_width))
            add(
                event_counts,
                {
                    C.EVENT_TYPES[i]: int((res.events["type"] == i).sum())
                    for i in range(3)
                },
            )
        customer_sink.write(A.customer_table(res.customers, cust_width))
        send_sink.write(A.send_table(res, next_send, cust_width))
        add(conv, A.conversions(res, rows.clean_valid))
        add(bad, rows.bad_counts)
        add(totals, res.stats)
        whitespace += rows.whitespace_rows
        next_order += len(res.orders["t"])
        next_send += len(res.sends["owner"])
        if progress:
            progress(n)

    files: dict[str, int] = {}
    for sink in [
        *order_sinks.values(),
        line_sink,
        event_sink,
        customer_sink,
        send_sink,
        product_sink,
    ]:
        if sink is not None:
            files[sink.path.relative_to(out).as_posix()] = sink.close()

    order_rows = sum(v for k, v in files.items() if k.startswith("orders/"))
    bad_total = sum(bad.values())
    manifest: dict[str, Any] = {
        "parameters": cfg.parameters(),
        "history": {
            "start_date": cfg.start_date.isoformat(),
            "end_date": cfg.end_date.isoformat(),
            "note": "no valid order is after end_date 23:59:59; only future_ordered_at rows are",
        },
        "truth": {
            "uplift": cfg.uplift,
            "uplift_meaning": (
                "a treated (not held-out) send leads to one extra order with this probability, "
                f"placed within {C.UPLIFT_WINDOW_DAYS} days after sent_at"
            ),
            "uplift_window_days": C.UPLIFT_WINDOW_DAYS,
            "holdout_share": C.SHARES["send_holdout"],
            "incremental_orders": totals["incremental_orders_from_offers"],
            "conversion_definition": C.CONVERSION_DEFINITION,
            "conversion": {
                group: {
                    "sends": conv[f"{group}_sends"],
                    "converted": conv[f"{group}_converted"],
                    "rate": round(
                        conv[f"{group}_converted"] / max(conv[f"{group}_sends"], 1), 6
                    ),
                }
                for group in ("holdout", "treated")
            },
            "conversion_difference": round(
                conv["treated_converted"] / max(conv["treated_sends"], 1)
                - conv["holdout_converted"] / max(conv["holdout_sends"], 1),
                6,
            ),
            "conversion_difference_note": (
                "expected difference is about uplift x (1 - holdout rate): an extra order only "
                "changes the outcome of a send whose customer would not have ordered anyway"
            ),
            "mean_gap_scale": round(scale, 6),
        },
        "shares": C.SHARES,
        "counts": {
            **totals,
            "orders_target": cfg.orders,
            "order_rows": order_rows,
            "clean_orders": next_order - 1,
            "order_lines": files.get(f"order_lines{ext}", 0),
            "events": sum(event_counts.values()),
            "events_by_type": event_counts,
            "offer_sends": next_send - 1,
            "products": len(cat.product_number),
            "categories": len(cat.category_names),
        },
        "bad_rows": bad,
        "bad_rows_total": bad_total,
        "bad_rows_note": (
            "each bad row has exactly one defect; exact_duplicate and conflicting_duplicate count "
            "the extra copy written next to the original row in the same file; a conflicting pair "
            "makes both rows unusable, so quarantined_rows_expected counts it twice"
        ),
        "quarantined_rows_expected": bad_total + bad["conflicting_duplicate"],
        "whitespace_id_rows": whitespace,
        "whitespace_id_note": "ids with surrounding spaces; valid after trimming, not bad rows",
        "files": files,
    }
    tmp = out / f"{MANIFEST}.tmp"
    tmp.write_text(
        json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    os.replace(tmp, out / MANIFEST)
    return manifest
