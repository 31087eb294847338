"""Medians, tables and the written report (docs/benchmarks.md and docs/benchmarks.json)."""

from __future__ import annotations

import itertools
import json
import math
import os
import platform
import re
import statistics
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from .runner import size_label

STEPS = ("floor", "full_build", "publish", "rfm_subgraph", "incremental", "full_rebuild")
STEP_TITLES = {
    "floor": "floor",
    "full_build": "full build",
    "publish": "publish",
    "rfm_subgraph": "RFM subgraph",
    "incremental": "incremental",
    "full_rebuild": "full rebuild",
}
RESULT_COLUMNS = (
    "orders",
    "customers",
    "runs",
    "floor s",
    "full build s (× floor)",
    "RFM subgraph s (× floor)",
    "incremental s (% of full build)",
    "floor MB",
    "full build MB",
    "RFM subgraph MB",
    "incremental MB",
    "identical marts",
)
SCALING_COLUMNS = ("sizes", "orders ×", "floor ×", "full build ×", "RFM subgraph ×", "incremental ×")
TARGET_SIZE = 10_000_000
SCALING_FROM = 1_000_000
SPILL_SIZE = 100_000_000
TARGET_FULL_BUILD_X = 10.0
TARGET_RFM_X = 2.0
TARGET_INCREMENTAL_SHARE = 0.10
TARGET_PUBLISH_SHARE = 0.05
TARGET_PEAK_MB = 2048.0
TARGET_SCALING_X = 10.0
MISSING = "–"


_FAILED_MODEL = re.compile(r"(?:Error|Failure) in (?:model|test|seed) (\w+)|compiled code at \S*/(\w+)\.sql")
_ERROR_MESSAGE = re.compile(r"^\s*([A-Za-z][\w ]*Error: .+?)\s*$", re.MULTILINE)


def error_summary(error: str) -> str:
    """One line from a step's error and log tail: the step, the first error message, the models.

    'full_build: Out of Memory Error: ... (in int_customer_preferences, ...)'.
    """
    lines = error.splitlines()
    if not lines:
        return ""
    step = lines[0].split(":", 1)[0]
    message = _ERROR_MESSAGE.search(error)
    models = list(dict.fromkeys(a or b for a, b in _FAILED_MODEL.findall(error)))
    text = f"{step}: {message.group(1)}" if message else lines[0]
    return text + (f" (in {', '.join(models)})" if models else "")


def _failed_step(run: dict[str, Any]) -> str:
    failed = run.get("failed_step")
    if not failed:
        return ""
    return (f"{STEP_TITLES.get(failed['step'], failed['step'])} failed after "
            f"{fmt_seconds(failed.get('seconds'))} s, peak {fmt_mb(failed.get('peak_rss_mb'))} MB")


# --- machine --------------------------------------------------------------------------------

def memory_total_gb() -> float | None:
    """MemTotal of /proc/meminfo in GiB."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def machine_info(memory_limit: str) -> dict[str, Any]:
    memory = memory_total_gb()
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(memory, 1) if memory is not None else None,
        "cpu": cpu_model(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": _version("dbt-core"),
        "dbt_duckdb": _version("dbt-duckdb"),
        "memory_limit": memory_limit,
    }


# --- medians --------------------------------------------------------------------------------

def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(present) if present else None


def summarise(entry: dict[str, Any]) -> dict[str, Any]:
    """Medians per step over the runs in which the step finished, and the marts verdict."""
    runs = entry.get("runs", [])
    medians: dict[str, dict[str, float | None]] = {}
    for step in STEPS:
        figures = [run["steps"][step] for run in runs if step in run.get("steps", {})]
        if figures:
            medians[step] = {
                "seconds": _median(f["seconds"] for f in figures),
                "peak_rss_mb": _median(f.get("peak_rss_mb") for f in figures),
                "runs": len(figures),
            }
    verdicts = [run.get("marts_identical") for run in runs if run.get("marts_identical") is not None]
    identical = None if not verdicts else all(verdicts)
    return {"medians": medians, "marts_identical": identical,
            "complete_runs": sum(1 for run in runs if not run.get("error"))}


def _seconds(entry: dict[str, Any], step: str) -> float | None:
    return entry.get("summary", {}).get("medians", {}).get(step, {}).get("seconds")


def _rss(entry: dict[str, Any], step: str) -> float | None:
    return entry.get("summary", {}).get("medians", {}).get(step, {}).get("peak_rss_mb")


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


# --- formatting -----------------------------------------------------------------------------

def fmt_seconds(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 1000 else f"{value:.0f}"


def fmt_times(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.1f}×" if value < 100 else f"{value:.0f}×"


def fmt_mb(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.0f}"


def fmt_share(value: float | None) -> str:
    return MISSING if value is None else f"{100 * value:.0f}%"


def fmt_yes_no(value: bool | None) -> str:
    return MISSING if value is None else ("yes" if value else "no")


def markdown_table(columns: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(columns)
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i < 1 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _sorted_entries(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(results.values(), key=lambda e: e["orders_requested"])


def result_rows(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    """One row per size, in RESULT_COLUMNS order."""
    rows = []
    for entry in _sorted_entries(results):
        floor = _seconds(entry, "floor")
        full = _seconds(entry, "full_build")
        rfm = _seconds(entry, "rfm_subgraph")
        incremental = _seconds(entry, "incremental")
        orders = entry.get("order_rows", entry["orders_requested"])
        runs = entry.get("summary", {}).get("complete_runs", 0)
        rows.append([
            f"{size_label(entry['orders_requested'])} ({orders:,})",
            f"{entry['customers']:,}" if entry.get("customers") else MISSING,
            str(runs) + ("" if not entry.get("error") else " (failed)"),
            fmt_seconds(floor),
            _with(fmt_seconds(full), fmt_times(ratio(full, floor))),
            _with(fmt_seconds(rfm), fmt_times(ratio(rfm, floor))),
            _with(fmt_seconds(incremental), fmt_share(ratio(incremental, full))),
            fmt_mb(_rss(entry, "floor")),
            fmt_mb(_rss(entry, "full_build")),
            fmt_mb(_rss(entry, "rfm_subgraph")),
            fmt_mb(_rss(entry, "incremental")),
            fmt_yes_no(entry.get("summary", {}).get("marts_identical")),
        ])
    return rows


def _with(value: str, note: str) -> str:
    return value if value == MISSING or note == MISSING else f"{value} ({note})"


def scaling_rows(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Time ratios between consecutive sizes (e.g. 10M / 1M)."""
    entries = [e for e in _sorted_entries(results) if e.get("summary")]
    rows = []
    for small, large in itertools.pairwise(entries):
        rows.append([
            f"{size_label(large['orders_requested'])} / {size_label(small['orders_requested'])}",
            fmt_times(ratio(large.get("order_rows"), small.get("order_rows"))),
            *(fmt_times(ratio(_seconds(large, s), _seconds(small, s)))
              for s in ("floor", "full_build", "rfm_subgraph", "incremental")),
        ])
    return rows


def target_rows(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    """The issue's targets, each with the figure measured and whether it is met."""
    at = results.get(str(TARGET_SIZE))
    base = results.get(str(SCALING_FROM))
    spill = results.get(str(SPILL_SIZE))
    label = size_label(TARGET_SIZE)
    rows: list[list[str]] = []

    def add(target: str, value: float | None, text: str, met: bool | None) -> None:
        rows.append([target, text if value is not None or text != "" else MISSING,
                     MISSING if met is None else ("yes" if met else "**no**")])

    def seconds(entry: dict[str, Any] | None, step: str) -> float | None:
        return _seconds(entry, step) if entry else None

    full_x = ratio(seconds(at, "full_build"), seconds(at, "floor"))
    add(f"{label}: full `dbt build` ≤ {TARGET_FULL_BUILD_X:g}× the floor", full_x,
        fmt_times(full_x), None if full_x is None else full_x <= TARGET_FULL_BUILD_X)
    rfm_x = ratio(seconds(at, "rfm_subgraph"), seconds(at, "floor"))
    add(f"{label}: RFM subgraph ≤ {TARGET_RFM_X:g}× the floor", rfm_x, fmt_times(rfm_x),
        None if rfm_x is None else rfm_x <= TARGET_RFM_X)
    share = ratio(seconds(at, "incremental"), seconds(at, "full_build"))
    add(f"{label}: one-day incremental refresh ≤ {TARGET_INCREMENTAL_SHARE:.0%} of the full build",
        share, fmt_share(share), None if share is None else share <= TARGET_INCREMENTAL_SHARE)
    publish = ratio(seconds(at, "publish"), seconds(at, "full_build"))
    add(f"{label}: publishing the marts ≤ {TARGET_PUBLISH_SHARE:.0%} of the full build", publish,
        fmt_share(publish), None if publish is None else publish <= TARGET_PUBLISH_SHARE)
    identical = at.get("summary", {}).get("marts_identical") if at else None
    add(f"{label}: marts after the incremental refresh identical to a full rebuild",
        None if identical is None else 1.0, fmt_yes_no(identical), identical)
    peaks = [_rss(at, s) for s in ("full_build", "rfm_subgraph", "incremental")] if at else []
    peak = max((p for p in peaks if p is not None), default=None)
    limit = at.get("memory_limit", "") if at else ""
    add(f"{label}: peak RSS of the dbt builds < {TARGET_PEAK_MB / 1024:g} GB "
        f"(memory_limit {limit or 'as set'})",
        peak, MISSING if peak is None else f"{peak:,.0f} MB",
        None if peak is None else peak < TARGET_PEAK_MB)
    scale = [ratio(seconds(at, s), seconds(base, s)) for s in ("full_build", "rfm_subgraph")]
    known = [s for s in scale if s is not None]
    add(f"{label} / {size_label(SCALING_FROM)} orders: time grows ≤ {TARGET_SCALING_X:g}×",
        known[0] if known else None,
        ", ".join(f"{name} {fmt_times(s)}" for name, s in zip(("full build", "RFM"), scale,
                                                                strict=True) if s is not None),
        None if not known else all(s <= TARGET_SCALING_X for s in known))
    spill_full = seconds(spill, "full_build")
    spill_text = MISSING
    if spill is not None and spill_full is not None:
        spill_text = (f"full build {fmt_seconds(spill_full)} s, peak "
                      f"{fmt_mb(_rss(spill, 'full_build'))} MB with memory_limit "
                      f"{spill.get('memory_limit', '?')}")
    elif spill is not None and spill.get("error"):
        failed = next((_failed_step(run) for run in spill.get("runs", []) if run.get("error")), "")
        spill_text = (f"{failed}: " if failed else "failed: ") + error_summary(spill["error"])
        spill_text += f" (memory_limit {spill.get('memory_limit', '?')})"
    add(f"{size_label(SPILL_SIZE)} orders build to the end within the memory limit",
        spill_full, spill_text, None if spill is None else spill_full is not None)
    return rows


def run_rows(entry: dict[str, Any]) -> list[list[str]]:
    rows = []
    for index, run in enumerate(entry.get("runs", []), start=1):
        steps = run.get("steps", {})
        cells = [str(index)]
        for step in STEPS:
            figure = steps.get(step)
            cells.append(MISSING if figure is None else
                         f"{fmt_seconds(figure['seconds'])} s / {fmt_mb(figure.get('peak_rss_mb'))} MB")
        cells.append(fmt_yes_no(run.get("marts_identical")))
        load = run.get("load_average")
        cells.append(MISSING if not load else " / ".join(
            MISSING if v is None else f"{v:.1f}" for v in load))
        cells.append(" ".join(filter(None, [_failed_step(run), error_summary(run["error"])]))
                     if run.get("error") else "")
        rows.append(cells)
    return rows


BREAKDOWN_STEPS = ("full_build", "rfm_subgraph", "incremental")
BREAKDOWN_COLUMNS = ("step", "wall s", "dbt start and parse s", "models s (n)", "data tests s (n)",
                     "unit tests s (n)", "hooks s", "slowest models s")


def _breakdowns(entry: dict[str, Any], step: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(step figures, breakdown) of every run in which the step finished with a breakdown."""
    pairs = []
    for run in entry.get("runs", []):
        figure = run.get("steps", {}).get(step)
        if figure and figure.get("breakdown"):
            pairs.append((figure, figure["breakdown"]))
    return pairs


def breakdown_medians(entry: dict[str, Any], step: str) -> dict[str, Any] | None:
    """Medians over the runs of a dbt step's parts; the slowest models by their median seconds."""
    pairs = _breakdowns(entry, step)
    if not pairs:
        return None
    medians: dict[str, Any] = {
        "wall": _median(figure["seconds"] for figure, _ in pairs),
        "startup": _median(
            figure["seconds"] - figure["dbt_seconds"] if figure.get("dbt_seconds") is not None else None
            for figure, _ in pairs),
    }
    for part in ("models", "data_tests", "unit_tests", "other"):
        medians[part] = {
            "seconds": _median(b.get(part, {}).get("seconds") for _, b in pairs),
            "count": _median(b.get(part, {}).get("count") for _, b in pairs),
        }
    per_model: dict[str, list[float]] = {}
    for _, b in pairs:
        for name, seconds in b.get("slowest_models", []):
            per_model.setdefault(name, []).append(seconds)
    ranked = sorted(((_median(v) or 0.0, name) for name, v in per_model.items()),
                    key=lambda item: (-item[0], item[1]))
    medians["slowest_models"] = ranked[:3]
    return medians


def _part(part: dict[str, Any]) -> str:
    if part.get("seconds") is None:
        return MISSING
    return f"{fmt_seconds(part['seconds'])} ({part['count']:.0f})"


def breakdown_rows(entry: dict[str, Any]) -> list[list[str]]:
    rows = []
    for step in BREAKDOWN_STEPS:
        m = breakdown_medians(entry, step)
        if m is None:
            continue
        rows.append([
            STEP_TITLES[step], fmt_seconds(m["wall"]), fmt_seconds(m["startup"]), _part(m["models"]),
            _part(m["data_tests"]), _part(m["unit_tests"]), fmt_seconds(m["other"]["seconds"]),
            ", ".join(f"{name} {fmt_seconds(seconds)}" for seconds, name in m["slowest_models"]),
        ])
    return rows


def refresh_fixed_cost(entry: dict[str, Any]) -> str | None:
    """The part of the incremental refresh that does not depend on how much data changed (dbt's
    start and parse, and the tests, which run over whole tables) against the full build."""
    m = breakdown_medians(entry, "incremental")
    full = _seconds(entry, "full_build")
    if m is None or m["startup"] is None or full is None:
        return None
    tests = (m["data_tests"]["seconds"] or 0.0) + (m["unit_tests"]["seconds"] or 0.0)
    fixed = m["startup"] + tests
    return (f"Incremental refresh: dbt start and parse {fmt_seconds(m['startup'])} s and the tests "
            f"{fmt_seconds(tests)} s come to {fmt_seconds(fixed)} s, {fmt_share(ratio(fixed, full))} of the "
            f"full build ({fmt_seconds(full)} s) before any model runs; models took "
            f"{fmt_seconds(m['models']['seconds'])} s.")


# --- documents ------------------------------------------------------------------------------

def merge_results(previous: dict[str, Any] | None, new_sizes: dict[str, dict[str, Any]]
                  ) -> dict[str, dict[str, Any]]:
    """Sizes measured now replace the same sizes of an earlier results file; others are kept."""
    merged = dict((previous or {}).get("sizes", {}))
    merged.update(new_sizes)
    return merged


def load_results(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def console_table(results: dict[str, dict[str, Any]]) -> str:
    lines = markdown_table(RESULT_COLUMNS, result_rows(results))
    scaling = scaling_rows(results)
    if scaling:
        lines += ["", *markdown_table(SCALING_COLUMNS, scaling)]
    return "\n".join(lines)


def render_markdown(document: dict[str, Any]) -> str:
    """docs/benchmarks.md from the results document (the same data as docs/benchmarks.json)."""
    sizes: dict[str, dict[str, Any]] = document["sizes"]
    machine = document["machine"]
    out = [
        "# Benchmarks",
        "",
        "Written by `scripts/benchmark.py`; edit the script, not this file. The figures are in",
        "`docs/benchmarks.json` as well, with every run.",
        "",
        f"Last written {document['written_at']} by `{document['command']}`.",
        "",
        "## Machine",
        "",
        (f"- {machine.get('cores')} cores ({machine.get('cpu')}), "
         f"{machine.get('memory_gb')} GB memory (/proc/meminfo), {machine.get('system')}"),
        (f"- DuckDB {machine.get('duckdb')}, dbt-core {machine.get('dbt_core')}, "
         f"dbt-duckdb {machine.get('dbt_duckdb')}, Python {machine.get('python')}"),
        (f"- DuckDB `memory_limit` {machine.get('memory_limit')} (profile setting "
         "`DBT_DUCKDB_MEMORY_LIMIT`, and the same for the floor query)"),
        "",
        "## Results",
        "",
        "Medians over the runs; seconds are wall time of the whole command, MB the peak resident",
        "memory of the process. Ratios: full build and RFM subgraph to the floor, the incremental",
        "refresh to the full build.",
        "",
        *markdown_table(RESULT_COLUMNS, result_rows(sizes)),
        "",
    ]
    scaling = scaling_rows(sizes)
    if scaling:
        out += ["Growth of the median times between sizes:", "",
                *markdown_table(SCALING_COLUMNS, scaling), ""]
    out += ["Measured:", ""]
    for entry in _sorted_entries(sizes):
        skipped = entry.get("skipped") or []
        out.append(
            f"- {size_label(entry['orders_requested'])} orders: {entry.get('measured_at', '?')}, "
            f"project {entry.get('project_revision', '?')}, memory_limit "
            f"{entry.get('memory_limit', '?')}, data {entry.get('data_variant', '?')}, "
            f"`{entry.get('command', '?')}`"
            + (f"; skipped: {', '.join(STEP_TITLES[s] for s in skipped)}" if skipped else "")
            + (f"; **failed**: {error_summary(entry['error'])}" if entry.get("error") else "")
        )
    out += [
        "",
        "## Targets",
        "",
        "From the project's performance issue (for a 2-core machine):",
        "",
        *markdown_table(("target", "measured", "met"), target_rows(sizes)),
        "",
        f"`{MISSING}` means not measured yet.",
        "",
    ]
    explained = [e for e in _sorted_entries(sizes) if breakdown_rows(e)]
    if explained:
        out += [
            "## Where the time goes",
            "",
            "Medians over the runs, from each command's `run_results.json` (one dbt thread, so the",
            "parts add up): dbt's start and project parse (wall time minus dbt's elapsed time), the",
            "summed execution time of models, data tests and unit tests (count in brackets), hooks,",
            "and the three slowest models.",
            "",
        ]
    for entry in explained:
        fixed = refresh_fixed_cost(entry)
        out += [f"### {size_label(entry['orders_requested'])} orders", "",
                *markdown_table(BREAKDOWN_COLUMNS, breakdown_rows(entry)), "",
                *([fixed, ""] if fixed else [])]
    out += [
        "## What is measured",
        "",
        "For each size the demo-data generator writes the data once (`orders/YYYY-MM.parquet`,",
        "all columns text; reused while its parameters are unchanged). By default without order",
        "lines and events (`--no-lines --no-events`): the floor reads only orders, and the",
        "models that use lines and events then run on empty inputs. `--with-lines-events`",
        "includes them. Each run, on the same files:",
        "",
        "1. **floor**: one hand-written DuckDB query over the raw order files (text columns cast,",
        "   unparseable rows and guests skipped) computing per-customer recency, frequency,",
        "   monetary and tie-safe 1..5 quantile scores into a table (`CREATE TABLE AS`), in a",
        "   Python process of its own with the same `memory_limit`. Its seconds are the query's own",
        "   (without starting Python); it does none of the project's validation, de-duplication,",
        "   corrections or currency conversion, so it is a lower bound.",
        "2. **full build**: `dbt build --full-refresh` (models and tests) into a fresh database,",
        "   as of the day after the history ends.",
        "3. **RFM subgraph**: `dbt build -s +dim_customers --full-refresh` on that database, so",
        "   that incremental models are rebuilt from the raw files like the floor reads them.",
        "4. **incremental**: one day of new orders (about a day's share of the history's volume,",
        "   by existing customers) plus corrections of recent orders (same order_id, new amount)",
        "   is written to `orders/daily/<day>.parquet`, then `dbt build` runs on the same database",
        "   as of one day later.",
        "5. **full rebuild**: `dbt build --full-refresh` into a second database on the same files",
        "   and date; every table of the `marts` schema is compared with the incremental",
        "   database (row counts and `EXCEPT ALL` both ways; doubles at 12 significant digits).",
        "   The appended file is then removed, so every run starts from the same data.",
        "",
        "Every dbt command is a separate process that parses the project (a few seconds, included",
        "in its time); `docs/benchmarks.json` also has dbt's own elapsed time after parsing.",
        "Peak RSS is the kernel's maximum resident set size of the process (`/usr/bin/time -v`).",
        "",
        "## Other engines",
        "",
        "The same build on DuckDB, PostgreSQL and Spark at 1M orders, with the load each engine needs:",
        "[benchmarks_engines.md](benchmarks_engines.md) (`scripts/benchmark_engines.py`).",
        "",
        "## How to reproduce",
        "",
        "```bash",
        "make setup",
        ".venv/bin/python scripts/benchmark.py --sizes 1000000,10000000 --runs 3",
        "# the spill run, recorded next to the others:",
        (".venv/bin/python scripts/benchmark.py --sizes 100000000 --runs 1 --skip-incremental "
         "--skip-rfm --memory-limit 4GB   # needs about 50 GB of free disk"),
        "```",
        "",
        "Data and databases go to `data/bench/` (`--data-root`, `--work-dir`); a run of a size",
        "replaces that size's figures here and keeps the others (`--fresh` starts over).",
        "`--help` lists every option.",
        "",
    ]
    measured = [e for e in _sorted_entries(sizes) if e.get("runs")]
    if measured:
        out += [
            "## Every run",
            "",
            "Seconds / peak MB per step. The load average (1 minute) is the machine's at the start",
            "and the end of the run: well above the number of cores means that other work shared",
            "the machine and the times are inflated.",
            "",
        ]
    for entry in measured:
        out += [f"### {size_label(entry['orders_requested'])} orders", "",
                *markdown_table(("run", *(STEP_TITLES[s] for s in STEPS), "identical marts",
                                 "load avg start / end", "error"), run_rows(entry)), ""]
    return "\n".join(out).rstrip() + "\n"


def write_documents(document: dict[str, Any], markdown_path: Path, json_path: Path) -> None:
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    markdown_path.write_text(render_markdown(document), encoding="utf-8")
