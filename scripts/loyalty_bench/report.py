"""Medians, tables and the written report (docs/benchmarks.md and docs/benchmarks.json).

Results are kept per data variant (typed or text Parquet) and size. Entries written before the
variants, the peers and the nightly step (no ``variant``: text Parquet; an ``incremental`` step,
``dbt build`` alone) are still read and rendered.
"""

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

from .runner import PEERS, VARIANTS, entry_key, size_label

STEPS = ("floor", "pandas", "lifetimes", "pyspark", "full_build", "publish", "rfm_subgraph",
         "nightly", "incremental", "full_rebuild")
PEER_STEPS = PEERS
# The project's own commands: every one must stay under the peak memory target.
PROJECT_STEPS = ("full_build", "publish", "rfm_subgraph", "nightly", "incremental", "full_rebuild")
STEP_TITLES = {
    "floor": "floor",
    "pandas": "pandas",
    "lifetimes": "lifetimes",
    "pyspark": "PySpark",
    "peers": "peers",
    "full_build": "full build",
    "publish": "publish",
    "rfm_subgraph": "RFM subgraph",
    "nightly": "nightly",
    "incremental": "incremental (dbt only)",
    "full_rebuild": "full rebuild",
}
VARIANT_TITLES = {"typed": "typed Parquet", "text": "text Parquet"}
RESULT_COLUMNS = (
    "data",
    "orders",
    "customers",
    "runs",
    "floor s",
    "full build s (× floor)",
    "RFM subgraph s (× floor)",
    "nightly s (× floor)",
    "floor MB",
    "full build MB",
    "RFM subgraph MB",
    "nightly MB",
    "identical marts",
)
SCALING_COLUMNS = ("data", "sizes", "orders ×", "floor ×", "full build ×", "RFM subgraph ×",
                   "nightly ×")
PEER_COLUMNS = ("contender", "wall s median", "min–max", "peak MB", "× floor", "× fastest peer",
                "same RFM as the floor")
PEER_ROWS = (
    ("floor", "floor (one DuckDB query)"),
    ("pandas", "pandas"),
    ("lifetimes", "lifetimes"),
    ("pyspark", "PySpark (local[2])"),
    ("rfm_subgraph", "project: RFM subgraph (dbt)"),
    ("full_build", "project: full build (dbt)"),
    ("nightly", "project: nightly refresh incl. publish"),
)
TARGET_SIZE = 10_000_000
SCALING_FROM = 1_000_000
SPILL_SIZE = 100_000_000
TARGET_RFM_VS_PANDAS_X = 2.0
TARGET_FULL_BUILD_X = 15.0
TARGET_NIGHTLY_X = 8.0
TARGET_PEAK_MB = 2048.0
TARGET_SPILL_X = 15.0
TARGET_SPILL_MEMORY = "4GB"
MISSING = "–"
NOT_MEASURED = "not measured"


_FAILED_MODEL = re.compile(r"(?:Error|Failure) in (?:model|test|seed) (\w+)|compiled code at \S*/(\w+)\.sql")
_ERROR_MESSAGE = re.compile(r"^\s*([A-Za-z][\w ]*Error: .+?)\s*$", re.MULTILINE)
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)B\s*$", re.IGNORECASE)


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


def memory_bytes(text: str | None) -> float | None:
    """A DuckDB memory size in bytes: '4GB' (powers of 1000), '4GiB' (powers of 1024)."""
    match = _MEMORY.match(text or "")
    if not match:
        return None
    power = "BKMGT".index(match.group(2).upper() or "B") if match.group(2) else 0
    return float(match.group(1)) * (1024 if match.group(3) else 1000) ** power


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


# --- entries --------------------------------------------------------------------------------

def variant_of(entry: dict[str, Any]) -> str:
    """An entry's data variant; entries from before the variants were text Parquet."""
    return str(entry.get("variant") or "text")


def normalise_results(sizes: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """The entries keyed by ``entry_key`` (older files keyed them by size alone)."""
    return {entry_key(variant_of(entry), int(entry["orders_requested"])): entry
            for entry in (sizes or {}).values()}


def find_entry(results: dict[str, dict[str, Any]], variant: str, orders: int
               ) -> dict[str, Any] | None:
    for entry in results.values():
        if variant_of(entry) == variant and int(entry["orders_requested"]) == orders:
            return entry
    return None


def _variant_rank(variant: str) -> int:
    return VARIANTS.index(variant) if variant in VARIANTS else len(VARIANTS)


def _sorted_entries(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(results.values(),
                  key=lambda e: (_variant_rank(variant_of(e)), e["orders_requested"]))


def _variants(results: dict[str, dict[str, Any]]) -> list[str]:
    return sorted({variant_of(e) for e in results.values()}, key=_variant_rank)


def entry_title(entry: dict[str, Any]) -> str:
    variant = variant_of(entry)
    return f"{size_label(entry['orders_requested'])} orders, {VARIANT_TITLES.get(variant, variant)}"


def is_legacy(entry: dict[str, Any]) -> bool:
    """Measured before the peers and the nightly step (its refresh was ``dbt build`` alone)."""
    return "variant" not in entry


# --- medians --------------------------------------------------------------------------------

def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(present) if present else None


def summarise(entry: dict[str, Any]) -> dict[str, Any]:
    """Medians (and the range) per step over the runs in which the step finished, whether each
    peer's table was the floor's in every run, and the marts verdict."""
    runs = entry.get("runs", [])
    medians: dict[str, dict[str, float | None]] = {}
    for step in STEPS:
        figures = [run["steps"][step] for run in runs if step in run.get("steps", {})]
        if figures:
            seconds = [f["seconds"] for f in figures if f.get("seconds") is not None]
            medians[step] = {
                "seconds": _median(seconds),
                "min_seconds": min(seconds) if seconds else None,
                "max_seconds": max(seconds) if seconds else None,
                "peak_rss_mb": _median(f.get("peak_rss_mb") for f in figures),
                "runs": len(figures),
            }
    agreement: dict[str, bool] = {}
    for peer in PEER_STEPS:
        verdicts = [run["steps"][peer]["agreement"]["identical"] for run in runs
                    if (run.get("steps", {}).get(peer) or {}).get("agreement")]
        if verdicts:
            agreement[peer] = all(verdicts)
    verdicts = [run.get("marts_identical") for run in runs if run.get("marts_identical") is not None]
    identical = None if not verdicts else all(verdicts)
    return {"medians": medians, "marts_identical": identical, "peers_agree": agreement,
            "complete_runs": sum(1 for run in runs if not run.get("error")),
            "peer_errors": sum(len(run.get("peer_errors") or {}) for run in runs)}


def _summary(entry: dict[str, Any] | None) -> dict[str, Any]:
    return (entry or {}).get("summary", {})


def _seconds(entry: dict[str, Any] | None, step: str) -> float | None:
    return _summary(entry).get("medians", {}).get(step, {}).get("seconds")


def _rss(entry: dict[str, Any] | None, step: str) -> float | None:
    return _summary(entry).get("medians", {}).get(step, {}).get("peak_rss_mb")


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def fastest_peer(entry: dict[str, Any]) -> tuple[str, float] | None:
    """(peer, median seconds) of the fastest peer measured."""
    measured = [(seconds, peer) for peer in PEER_STEPS
                if (seconds := _seconds(entry, peer)) is not None]
    if not measured:
        return None
    seconds, peer = min(measured)
    return peer, seconds


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


def _with(value: str, note: str) -> str:
    return value if value == MISSING or note == MISSING else f"{value} ({note})"


# --- tables ---------------------------------------------------------------------------------

def result_rows(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    """One row per variant and size, in RESULT_COLUMNS order."""
    rows = []
    for entry in _sorted_entries(results):
        floor = _seconds(entry, "floor")
        full = _seconds(entry, "full_build")
        rfm = _seconds(entry, "rfm_subgraph")
        nightly = _seconds(entry, "nightly")
        orders = entry.get("order_rows", entry["orders_requested"])
        runs = _summary(entry).get("complete_runs", 0)
        variant = variant_of(entry)
        rows.append([
            VARIANT_TITLES.get(variant, variant),
            f"{size_label(entry['orders_requested'])} ({orders:,})",
            f"{entry['customers']:,}" if entry.get("customers") else MISSING,
            str(runs) + ("" if not entry.get("error") else " (failed)"),
            fmt_seconds(floor),
            _with(fmt_seconds(full), fmt_times(ratio(full, floor))),
            _with(fmt_seconds(rfm), fmt_times(ratio(rfm, floor))),
            _with(fmt_seconds(nightly), fmt_times(ratio(nightly, floor))),
            fmt_mb(_rss(entry, "floor")),
            fmt_mb(_rss(entry, "full_build")),
            fmt_mb(_rss(entry, "rfm_subgraph")),
            fmt_mb(_rss(entry, "nightly")),
            fmt_yes_no(_summary(entry).get("marts_identical")),
        ])
    return rows


def scaling_rows(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Time ratios between consecutive sizes of the same variant (e.g. 10M / 1M)."""
    rows = []
    for variant in _variants(results):
        entries = [e for e in _sorted_entries(results)
                   if e.get("summary") and variant_of(e) == variant]
        for small, large in itertools.pairwise(entries):
            rows.append([
                VARIANT_TITLES.get(variant, variant),
                f"{size_label(large['orders_requested'])} / {size_label(small['orders_requested'])}",
                fmt_times(ratio(large.get("order_rows"), small.get("order_rows"))),
                *(fmt_times(ratio(_seconds(large, s), _seconds(small, s)))
                  for s in ("floor", "full_build", "rfm_subgraph", "nightly")),
            ])
    return rows


def _agreement_text(entry: dict[str, Any], step: str) -> str:
    """'yes', or what differed in the last run that differed (a peer's table vs the floor's)."""
    if step not in PEER_STEPS:
        return MISSING
    verdict = _summary(entry).get("peers_agree", {}).get(step)
    if verdict is None:
        return MISSING
    if verdict:
        return "yes"
    for run in reversed(entry.get("runs", [])):
        agreement = (run.get("steps", {}).get(step) or {}).get("agreement")
        if agreement and not agreement["identical"]:
            differ = agreement.get("scores_differ", {})
            parts = [f"{name[0]} {differ.get(f'{name[0]}_score', 0):,}"
                     for name in ("r", "f", "m") if differ.get(f"{name[0]}_score")]
            if agreement.get("only_floor") or agreement.get("only_peer"):
                parts.append(f"customers {agreement.get('only_floor', 0):,} / "
                             f"{agreement.get('only_peer', 0):,} on one side")
            note = " (its own definitions)" if step == "lifetimes" else ""
            return f"no{note}: " + ", ".join(parts) + " differ"
    return "no"


def peer_rows(entry: dict[str, Any]) -> list[list[str]]:
    """The floor, the peers and the project's RFM-producing steps, in PEER_COLUMNS order."""
    floor = _seconds(entry, "floor")
    fastest = fastest_peer(entry)
    rows = []
    for step, title in PEER_ROWS:
        medians = _summary(entry).get("medians", {}).get(step)
        if not medians:
            continue
        seconds = medians.get("seconds")
        low, high = medians.get("min_seconds"), medians.get("max_seconds")
        rows.append([
            title,
            fmt_seconds(seconds),
            MISSING if low is None else f"{fmt_seconds(low)}–{fmt_seconds(high)}",
            fmt_mb(medians.get("peak_rss_mb")),
            fmt_times(ratio(seconds, floor)),
            fmt_times(ratio(seconds, fastest[1] if fastest else None)),
            _agreement_text(entry, step),
        ])
    return rows


def _target(rows: list[list[str]], target: str, text: str | None, met: bool | None) -> None:
    rows.append([target, text or NOT_MEASURED,
                 MISSING if met is None else ("yes" if met else "**no**")])


def target_rows(results: dict[str, dict[str, Any]], variant: str = "typed") -> list[list[str]]:
    """The performance targets for one data variant, each with the figure measured and whether
    it is met; a target whose figures are missing is 'not measured'."""
    at = find_entry(results, variant, TARGET_SIZE)
    spill = find_entry(results, variant, SPILL_SIZE)
    label = size_label(TARGET_SIZE)
    rows: list[list[str]] = []

    rfm, lifetimes, pandas = (_seconds(at, s) for s in ("rfm_subgraph", "lifetimes", "pandas"))
    _target(rows, f"{label}: RFM subgraph faster than lifetimes",
            None if rfm is None or lifetimes is None else
            f"RFM {fmt_seconds(rfm)} s, lifetimes {fmt_seconds(lifetimes)} s "
            f"({fmt_times(ratio(rfm, lifetimes))})",
            None if rfm is None or lifetimes is None else rfm < lifetimes)
    rfm_x = ratio(rfm, pandas)
    _target(rows, f"{label}: RFM subgraph ≤ {TARGET_RFM_VS_PANDAS_X:g}× pandas",
            None if rfm_x is None else fmt_times(rfm_x),
            None if rfm_x is None else rfm_x <= TARGET_RFM_VS_PANDAS_X)
    full_x = ratio(_seconds(at, "full_build"), _seconds(at, "floor"))
    _target(rows, f"{label}: full `dbt build` ≤ {TARGET_FULL_BUILD_X:g}× the floor",
            None if full_x is None else fmt_times(full_x),
            None if full_x is None else full_x <= TARGET_FULL_BUILD_X)
    nightly_x = ratio(_seconds(at, "nightly"), _seconds(at, "floor"))
    _target(rows, f"{label}: nightly one-day refresh incl. publish ≤ {TARGET_NIGHTLY_X:g}× the floor",
            None if nightly_x is None else fmt_times(nightly_x),
            None if nightly_x is None else nightly_x <= TARGET_NIGHTLY_X)
    peaks = [(peak, step) for step in PROJECT_STEPS if (peak := _rss(at, step)) is not None]
    peak = max(peaks, key=lambda item: item[0]) if peaks else None
    limit = at.get("memory_limit", "") if at else ""
    _target(rows, f"{label}: peak RSS of every project step < {TARGET_PEAK_MB / 1024:g} GB "
            f"(memory_limit {limit or 'as set'})",
            None if peak is None else f"{peak[0]:,.0f} MB ({STEP_TITLES[peak[1]]})",
            None if peak is None else peak[0] < TARGET_PEAK_MB)
    _target(rows, f"{size_label(SPILL_SIZE)}: full build ≤ {TARGET_SPILL_X:g}× the floor within "
            f"memory_limit {TARGET_SPILL_MEMORY}", *_spill_target(spill))
    identical = _summary(at).get("marts_identical") if at else None
    how = " (after `dbt build` alone, before the nightly step)" if at and is_legacy(at) else ""
    _target(rows, f"{label}: marts after the nightly refresh identical to a full rebuild",
            None if identical is None else fmt_yes_no(identical) + how, identical)
    return rows


def _spill_target(spill: dict[str, Any] | None) -> tuple[str | None, bool | None]:
    if spill is None:
        return None, None
    limit = spill.get("memory_limit", "?")
    limit_bytes, allowed = memory_bytes(limit), memory_bytes(TARGET_SPILL_MEMORY)
    within = limit_bytes is not None and allowed is not None and limit_bytes <= allowed
    full, floor = _seconds(spill, "full_build"), _seconds(spill, "floor")
    if full is not None:
        full_x = ratio(full, floor)
        text = (f"{fmt_times(full_x)} (full build {fmt_seconds(full)} s, floor "
                f"{fmt_seconds(floor)} s, peak {fmt_mb(_rss(spill, 'full_build'))} MB, "
                f"memory_limit {limit})")
        return text, full_x is not None and full_x <= TARGET_SPILL_X and within
    if spill.get("error"):
        failed = next((_failed_step(run) for run in spill.get("runs", []) if run.get("error")), "")
        text = (f"{failed}: " if failed else "failed: ") + error_summary(spill["error"])
        return text + f" (memory_limit {limit})", False
    return None, None


def _present_steps(entry: dict[str, Any]) -> list[str]:
    found = {step for run in entry.get("runs", []) for step in run.get("steps", {})}
    return [step for step in STEPS if step in found]


def run_rows(entry: dict[str, Any]) -> list[list[str]]:
    rows = []
    for index, run in enumerate(entry.get("runs", []), start=1):
        steps = run.get("steps", {})
        cells = [str(index)]
        for step in _present_steps(entry):
            figure = steps.get(step)
            cells.append(MISSING if figure is None else
                         f"{fmt_seconds(figure['seconds'])} s / {fmt_mb(figure.get('peak_rss_mb'))} MB")
        cells.append(fmt_yes_no(run.get("marts_identical")))
        load = run.get("load_average")
        cells.append(MISSING if not load else " / ".join(
            MISSING if v is None else f"{v:.1f}" for v in load))
        errors = [error_summary(message) for message in (run.get("peer_errors") or {}).values()]
        if run.get("error"):
            errors.append(" ".join(filter(None, [_failed_step(run), error_summary(run["error"])])))
        cells.append("; ".join(errors))
        rows.append(cells)
    return rows


def run_columns(entry: dict[str, Any]) -> list[str]:
    return ["run", *(STEP_TITLES[s] for s in _present_steps(entry)), "identical marts",
            "load avg start / end", "error"]


BREAKDOWN_STEPS = ("full_build", "rfm_subgraph", "nightly", "incremental")
BREAKDOWN_COLUMNS = ("step", "wall s", "start and parse s", "models s (n)", "data tests s (n)",
                     "unit tests s (n)", "hooks s", "publish s", "slowest models s")


def _breakdowns(entry: dict[str, Any], step: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(step figures, breakdown) of every run in which the step finished with a breakdown."""
    pairs = []
    for run in entry.get("runs", []):
        figure = run.get("steps", {}).get(step)
        if figure and figure.get("breakdown"):
            pairs.append((figure, figure["breakdown"]))
    return pairs


def breakdown_medians(entry: dict[str, Any], step: str) -> dict[str, Any] | None:
    """Medians over the runs of a dbt step's parts; the slowest models by their median seconds.
    ``startup`` is the wall time outside dbt's own elapsed time and the publish: starting Python
    and dbt, parsing the project (and for the nightly job its checks and audit)."""
    pairs = _breakdowns(entry, step)
    if not pairs:
        return None

    def startup(figure: dict[str, Any]) -> float | None:
        if figure.get("dbt_seconds") is None:
            return None
        return figure["seconds"] - figure["dbt_seconds"] - (figure.get("publish_seconds") or 0.0)

    medians: dict[str, Any] = {
        "wall": _median(figure["seconds"] for figure, _ in pairs),
        "startup": _median(startup(figure) for figure, _ in pairs),
        "publish": _median(figure.get("publish_seconds") for figure, _ in pairs),
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
            fmt_seconds(m["publish"]),
            ", ".join(f"{name} {fmt_seconds(seconds)}" for seconds, name in m["slowest_models"]),
        ])
    return rows


def refresh_fixed_cost(entry: dict[str, Any]) -> str | None:
    """The part of the one-day refresh that does not depend on how much data changed (starting
    and parsing, the tests, which run over whole tables, and the publish, which copies whole
    marts) against the full build and the floor."""
    step = "nightly" if breakdown_medians(entry, "nightly") else "incremental"
    m = breakdown_medians(entry, step)
    full = _seconds(entry, "full_build")
    if m is None or m["startup"] is None or full is None:
        return None
    tests = (m["data_tests"]["seconds"] or 0.0) + (m["unit_tests"]["seconds"] or 0.0)
    publish = m["publish"] or 0.0
    fixed = m["startup"] + tests + publish
    name = "Nightly refresh" if step == "nightly" else "Incremental refresh"
    parts = f"start and parse {fmt_seconds(m['startup'])} s and the tests {fmt_seconds(tests)} s"
    if step == "nightly":
        parts = (f"start and parse {fmt_seconds(m['startup'])} s, the tests {fmt_seconds(tests)} s "
                 f"and the publish {fmt_seconds(publish)} s")
    floor = _seconds(entry, "floor")
    versus_floor = f", {fmt_times(ratio(fixed, floor))} the floor" if floor else ""
    return (f"{name}: {parts} come to {fmt_seconds(fixed)} s, {fmt_share(ratio(fixed, full))} "
            f"of the full build ({fmt_seconds(full)} s){versus_floor}, whatever changed; models "
            f"took {fmt_seconds(m['models']['seconds'])} s.")


# --- documents ------------------------------------------------------------------------------

def merge_results(previous: dict[str, Any] | None, new_sizes: dict[str, dict[str, Any]]
                  ) -> dict[str, dict[str, Any]]:
    """Variants and sizes measured now replace the same of an earlier results file; the others
    are kept (keyed by ``entry_key``, also those of older files keyed by size alone)."""
    merged = normalise_results((previous or {}).get("sizes"))
    merged.update(normalise_results(new_sizes))
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
    for entry in _sorted_entries(results):
        rows = peer_rows(entry)
        if any(_seconds(entry, peer) is not None for peer in PEER_STEPS):
            lines += ["", entry_title(entry), *markdown_table(PEER_COLUMNS, rows)]
    return "\n".join(lines)


def peer_versions(sizes: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Library versions the peers reported (the newest entry's)."""
    versions: dict[str, str] = {}
    for entry in sorted(sizes.values(), key=lambda e: e.get("measured_at", "")):
        for run in entry.get("runs", []):
            for peer in PEER_STEPS:
                details = (run.get("steps", {}).get(peer) or {}).get("details") or {}
                versions.update(details.get("versions") or {})
    return versions


def _measured_line(entry: dict[str, Any]) -> str:
    skipped = entry.get("skipped") or []
    line = (f"- {entry_title(entry)}: {entry.get('measured_at', '?')}, project "
            f"{entry.get('project_revision', '?')}, memory_limit {entry.get('memory_limit', '?')}, "
            f"data {entry.get('data_variant', '?')}, `{entry.get('command', '?')}`")
    if skipped:
        line += f"; skipped: {', '.join(STEP_TITLES.get(s, s) for s in skipped)}"
    if is_legacy(entry):
        line += ("; measured before the peers and the nightly step: its RFM subgraph rebuilt the "
                 "full build's database (`--full-refresh`), its one-day refresh was `dbt build` "
                 "alone (incremental)")
    if entry.get("error"):
        line += f"; **failed**: {error_summary(entry['error'])}"
    return line


def render_markdown(document: dict[str, Any]) -> str:
    """docs/benchmarks.md from the results document (the same data as docs/benchmarks.json)."""
    sizes = normalise_results(document["sizes"])
    machine = document["machine"]
    versions = peer_versions(sizes)
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
    ]
    if versions:
        out.append("- Peers (`requirements-peers.lock`, `make peers`): "
                   + ", ".join(f"{name} {version}" for name, version in sorted(versions.items())))
    out += [
        "",
        "## Results",
        "",
        "Medians over the runs; seconds are wall time of the whole command (the floor: its",
        "query), MB the peak resident memory of the process. Ratios are to the floor. Typed",
        "Parquet has timestamp and decimal columns, as a shop's typed export; text Parquet is the",
        "generator's all-text files.",
        "",
        *markdown_table(RESULT_COLUMNS, result_rows(sizes)),
        "",
    ]
    scaling = scaling_rows(sizes)
    if scaling:
        out += ["Growth of the median times between sizes:", "",
                *markdown_table(SCALING_COLUMNS, scaling), ""]
    out += ["Measured:", "", *(_measured_line(entry) for entry in _sorted_entries(sizes)), ""]
    with_peers = [e for e in _sorted_entries(sizes)
                  if any(_seconds(e, peer) is not None for peer in PEER_STEPS)]
    if with_peers:
        out += [
            "## Peers",
            "",
            "The floor's table computed by hand with pandas, lifetimes and PySpark, next to the",
            "project's commands that produce RFM scores. Wall seconds include importing the",
            "library, reading the files and writing the result, for PySpark also starting and",
            "stopping its local session (the JVM); not starting the Python interpreter. Peak MB of",
            "a peer is its process tree's (PySpark's driver and JVM together). × fastest peer is to",
            "the fastest of pandas, lifetimes and PySpark. \"Same RFM as the floor\": the same",
            "customers with the same r, f and m scores; lifetimes counts repeat purchase days and",
            "averages them (its own definitions), so only its recency score can match.",
            "",
        ]
        for entry in with_peers:
            out += [f"### {entry_title(entry)}", "", *markdown_table(PEER_COLUMNS, peer_rows(entry)),
                    ""]
    out += [
        "## Targets",
        "",
        ("From the project's performance issue (for a 2-core machine), on medians of the runs "
         f"at {size_label(TARGET_SIZE)} orders (3 runs)."),
        "",
    ]
    for variant in _variants(sizes) or ["typed"]:
        out += [f"### {VARIANT_TITLES.get(variant, variant)}", "",
                *markdown_table(("target", "measured", "met"), target_rows(sizes, variant)), ""]
    out += [f"`{MISSING}` and \"{NOT_MEASURED}\" mean not measured yet.", ""]
    explained = [e for e in _sorted_entries(sizes) if breakdown_rows(e)]
    if explained:
        out += [
            "## Where the time goes",
            "",
            "Medians over the runs, from each dbt command's `run_results.json` (one dbt thread, so",
            "the parts add up): start and parse (wall time minus dbt's elapsed time and the",
            "publish: starting Python and dbt and parsing the project, for the nightly job also its",
            "checks and audit), the summed execution time of models, data tests and unit tests",
            "(count in brackets), hooks, the nightly job's publish, and the three slowest models.",
            "",
        ]
    for entry in explained:
        fixed = refresh_fixed_cost(entry)
        out += [f"### {entry_title(entry)}", "",
                *markdown_table(BREAKDOWN_COLUMNS, breakdown_rows(entry)), "",
                *([fixed, ""] if fixed else [])]
    out += [
        "## What is measured",
        "",
        "For each size the demo-data generator writes the data once (`orders/YYYY-MM.parquet`,",
        "all columns text; reused while its parameters are unchanged). By default without order",
        "lines and events (`--no-lines --no-events`): the floor reads only orders, and the",
        "models that use lines and events then run on empty inputs. `--with-lines-events`",
        "includes them. The typed variant (`--variant typed`, the default) reads a typed copy",
        "(`orders-N-typed/`): order_id, customer_id, currency, status and channel text, ordered_at",
        "a timestamp, amount and discount_amount decimal(18, 4), each DuckDB's `try_cast` of the",
        "trimmed text, so text that does not parse is null as in a shop's typed export; the other",
        "files are copied. It is rewritten only when the text set changes. Each run, on the same",
        "files:",
        "",
        "1. **floor**: one hand-written DuckDB query over the raw order files (text columns cast,",
        "   typed ones used as they are, unparseable rows and guests skipped) computing",
        "   per-customer recency, frequency, monetary and tie-safe 1..5 quantile scores into a",
        "   table (`CREATE TABLE AS`), in a Python process of its own with the same",
        "   `memory_limit`. Its seconds are the query's own (without starting Python); it does",
        "   none of the project's validation, de-duplication, corrections or currency conversion,",
        "   so it is a lower bound.",
        "2. **peers**: the floor's table with pandas (`read_parquet`, `groupby`, `rank`), lifetimes",
        "   (`summary_data_from_transaction_data`, freq `D`, then the same scoring) and PySpark (a",
        "   `local[2]` session, driver memory 2g, `groupBy` and `rank()` windows), each a process",
        "   of the peers' venv; the pandas and PySpark tables are checked against the floor's.",
        "3. **full build**: `dbt build --full-refresh` (models and tests) into a fresh database,",
        "   as of the day after the history ends; then **publish**, the nightly job's copy of its",
        "   marts to a serving database (`scripts/nightly.py --publish-only`).",
        "4. **RFM subgraph**: `dbt build -s +dim_customers` into another fresh database, as a user",
        "   who wants only the scores would run it.",
        "5. **nightly**: one day of new orders (about a day's share of the history's volume,",
        "   by existing customers) plus corrections of recent orders (same order_id, new amount)",
        "   is written to `orders/daily/<day>.parquet` (typed for the typed variant), then the",
        "   nightly job (`scripts/nightly.py`: `dbt build` without unit tests, audit, publish) runs",
        "   on the full build's database and serving database as of one day later, timed whole.",
        "   It starts with the full build's saved parse (`target/partial_parse.msgpack`), as a",
        "   job that keeps `target/` from the night before does, so dbt parses nothing again.",
        "6. **full rebuild**: `dbt build --full-refresh` into a second database on the same files",
        "   and date; every table of the `marts` schema is compared with the nightly job's",
        "   database (row counts and `EXCEPT ALL` both ways; doubles at 12 significant digits).",
        "   The appended file is then removed, so every run starts from the same data.",
        "",
        "Every dbt command is a separate process that parses the project (a few seconds, included",
        "in its time; the nightly job's only what changed); `docs/benchmarks.json` also has dbt's",
        "own elapsed time after parsing. The scoring date is `LOYALTY_AS_OF_DATE`, not `--vars`.",
        "Peak RSS is the kernel's maximum resident set size of the process (`/usr/bin/time -v`);",
        "for the peers also the sampled sum over the process tree, whichever is larger.",
        "",
        "## Other engines",
        "",
        "The same build on DuckDB, PostgreSQL and Spark at 1M orders, with the load each engine needs:",
        "[benchmarks_engines.md](benchmarks_engines.md) (`scripts/benchmark_engines.py`).",
        "",
        "## How to reproduce",
        "",
        "```bash",
        "make setup peers",
        ".venv/bin/python scripts/benchmark.py --sizes 1000000,10000000 --runs 3",
        ".venv/bin/python scripts/benchmark.py --sizes 1000000,10000000 --runs 3 --variant text",
        "# the spill run, recorded next to the others:",
        (".venv/bin/python scripts/benchmark.py --sizes 100000000 --runs 1 --skip-incremental "
         "--skip-rfm --skip-peers --memory-limit 4GB   # needs about 50 GB of free disk"),
        "```",
        "",
        "Data and databases go to `data/bench/` (`--data-root`, `--work-dir`); a run of a variant",
        "and size replaces its figures here and keeps the others (`--fresh` starts over).",
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
        out += [f"### {entry_title(entry)}", "",
                *markdown_table(run_columns(entry), run_rows(entry)), ""]
    return "\n".join(out).rstrip() + "\n"


def write_documents(document: dict[str, Any], markdown_path: Path, json_path: Path) -> None:
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    markdown_path.write_text(render_markdown(document), encoding="utf-8")
