"""The benchmark's steps: generate data per size, then per run time the floor, its peers and the
dbt builds.

Per size the data is generated once (reused when the generator's ``--if-stale`` finds it up to
date); the typed variant (default) is a typed copy of it (``typed.py``, rewritten only when the
text set changed). Each run, on the same files:

1. the floor query (``floor.py``), in a Python process of its own;
2. its peers (``peers.py``): the same table with pandas, lifetimes and PySpark, each a process of
   the peers' venv (``make peers``), each table compared with the floor's (``compare.compare_rfm``);
3. ``dbt build --full-refresh`` into a fresh database (the full build, models and tests), then
   the nightly job's publish of its marts to a serving database (``nightly.py --publish-only``);
4. ``dbt build -s +dim_customers`` into another fresh database (the RFM subgraph, as a user who
   wants only the scores would run it);
5. one day of new orders and corrections appended (``daily.py``), then the nightly job
   (``nightly.py``: dbt build and publish) on the full build's database and serving database with
   as_of_date one day later (the one-day refresh), keeping the full build's saved parse;
6. ``dbt build --full-refresh`` into a second database on the same files and date, and every
   table of the ``marts`` schema compared between the two (``compare.py``).

The appended file is removed after every run, so each run starts from the same data. Steps 5 and
6 are left out with ``skip_incremental`` (the 100M-order run), step 4 with ``skip_rfm``, step 2 with
``skip_peers``. A peer that fails is recorded and the run goes on: the peers are comparisons, not
the project.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from . import compare, daily, typed
from .measure import Measurement, log_tail, run_measured

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
RFM_MART = "dim_customers"
DEFAULT_END_DATE = date(2025, 12, 31)
VARIANTS = ("typed", "text")
PEERS = ("pandas", "lifetimes", "pyspark")
DEFAULT_PEERS_PYTHON = REPO / ".venv-peers" / "bin" / "python"

Say = Callable[[str], None]


class StepFailed(Exception):
    """A step exited non-zero; the message names the step and ends with its log's tail."""

    def __init__(self, step: str, message: str, measured: Measurement | None = None) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.measured = measured


@dataclass(frozen=True)
class Settings:
    """Everything a benchmark run depends on besides the sizes and the number of runs."""

    project_dir: Path = REPO
    dbt: Path = Path(sys.executable).parent / "dbt"
    python: Path = Path(sys.executable)
    data_root: Path = REPO / "data" / "bench"
    work_root: Path = REPO / "data" / "bench" / "work"
    memory_limit: str = "2GB"
    end_date: date = DEFAULT_END_DATE
    seed: int = 42
    with_lines_events: bool = False
    skip_rfm: bool = False
    skip_incremental: bool = False
    keep_work: bool = False
    variant: str = "typed"
    peers_python: Path = DEFAULT_PEERS_PYTHON
    skip_peers: bool = False


@dataclass(frozen=True)
class DataSet:
    """A generated input folder (text, or its typed copy) and what its _generator.json says."""

    orders_requested: int
    path: Path
    end_date: date
    order_rows: int
    customers: int
    variant: str = "text"

    @property
    def as_of(self) -> date:
        """The scoring date of the full builds: the day after the history ends."""
        return self.end_date + timedelta(days=1)


@dataclass(frozen=True)
class Step:
    """The figures of one step. For the floor, ``seconds`` is the query's own time and
    ``process_seconds`` includes starting Python; for a peer ``seconds`` is its whole work after
    the interpreter started (``peers.py``: library import, Spark session, reading, writing); for
    dbt and the nightly job both are the command's wall time, ``dbt_seconds`` is dbt's own
    elapsed time after parsing (run_results.json) and ``breakdown`` where that time went
    (``dbt_breakdown``); ``publish_seconds`` is the nightly job's publish. A peer's
    ``peak_rss_mb`` is the larger of its largest process and its process tree's sampled sum
    (``peak_tree_mb``: PySpark's driver and JVM together); ``agreement`` compares its table with
    the floor's."""

    seconds: float
    peak_rss_mb: float | None
    process_seconds: float
    dbt_seconds: float | None = None
    breakdown: dict[str, Any] | None = None
    publish_seconds: float | None = None
    customers: int | None = None
    peak_tree_mb: float | None = None
    agreement: dict[str, Any] | None = None
    details: dict[str, Any] | None = None


def load_average() -> float | None:
    """The machine's 1-minute load average: other work running during a step inflates its time."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def size_label(orders: int) -> str:
    """1000000 -> '1M', 20000 -> '20k', 1500 -> '1500'."""
    for factor, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if orders >= factor and orders % (factor // 10) == 0:
            value = orders / factor
            return f"{value:g}{suffix}"
    return str(orders)


def recorded_path(path: Path, base: Path = REPO) -> str:
    """A path as docs/benchmarks.json keeps it: relative to ``base`` (the repository, or the data
    folder for its files), or only its name when outside it, so that no machine's paths are kept."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(base.resolve()).as_posix()
    except ValueError:
        return resolved.name


def data_dir_for(settings: Settings, orders: int) -> Path:
    """The generated (text) data set of one size."""
    suffix = "-lines-events" if settings.with_lines_events else ""
    return settings.data_root / f"orders-{orders}{suffix}"


def entry_key(variant: str, orders: int) -> str:
    """Key of a size's results in docs/benchmarks.json: 'typed-10000000', 'text-1000000'."""
    return f"{variant}-{orders}"


def generator_command(settings: Settings, orders: int) -> list[str]:
    command = [
        str(settings.python),
        str(SCRIPTS / "generate_data.py"),
        "--out", str(data_dir_for(settings, orders)),
        "--orders", str(orders),
        "--seed", str(settings.seed),
        "--end-date", settings.end_date.isoformat(),
        "--format", "parquet",
        "--if-stale",
        "--quiet",
    ]
    if not settings.with_lines_events:
        command += ["--no-lines", "--no-events"]
    return command


def prepare_data(settings: Settings, orders: int, say: Say) -> DataSet:
    """Generate (or reuse) the data set of one size, and its typed copy for the typed variant;
    clear any appended day left behind."""
    path = data_dir_for(settings, orders)
    log = settings.work_root / f"generate-{orders}.log"
    say(f"{size_label(orders)} orders: data in {path} (generated when missing or stale)")
    result = run_measured(generator_command(settings, orders), log_path=log, cwd=settings.project_dir)
    if not result.ok:
        raise StepFailed("generate", f"generator exited {result.returncode}\n{log_tail(log)}")
    daily.remove_appended(path)
    if settings.variant == "typed":
        target = typed.typed_dir_for(path)
        if not typed.is_current(path, target):
            say(f"{size_label(orders)} orders: writing the typed copy {target}")
        path = typed.make_typed(path, target)
        daily.remove_appended(path)
    manifest = json.loads((path / "_generator.json").read_text(encoding="utf-8"))
    return DataSet(
        orders_requested=orders,
        path=path.resolve(),
        end_date=date.fromisoformat(manifest["history"]["end_date"]),
        order_rows=int(manifest["counts"]["order_rows"]),
        customers=int(manifest["parameters"]["customers"]),
        variant=settings.variant,
    )


def dbt_env(settings: Settings, data_dir: Path, database: Path, as_of: date) -> dict[str, str]:
    """The environment of a dbt step. The scoring date is LOYALTY_AS_OF_DATE, as a scheduled job
    sets it: a date in --vars would make dbt parse the whole project again on a new date."""
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(settings.project_dir / "profiles"),
        DBT_TARGET="duckdb",
        DBT_DUCKDB_PATH=str(database.resolve()),
        LOYALTY_DATA_DIR=str(data_dir.resolve()),
        LOYALTY_AS_OF_DATE=as_of.isoformat(),
        DBT_DUCKDB_MEMORY_LIMIT=settings.memory_limit,
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    return env


def dbt_command(settings: Settings, args: list[str], step_dir: Path) -> list[str]:
    return [
        str(settings.dbt),
        *args,
        "--target-path", str(step_dir / "target"),
        "--log-path", str(step_dir / "logs"),
        "--no-use-colors",
    ]


SLOWEST_MODELS = 5


def _run_results(step_dir: Path) -> dict[str, Any] | None:
    try:
        results = json.loads((step_dir / "target" / "run_results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return results if isinstance(results, dict) else None


def _dbt_elapsed(results: dict[str, Any] | None) -> float | None:
    try:
        return float(results["elapsed_time"]) if results else None
    except (KeyError, TypeError, ValueError):
        return None


def dbt_breakdown(results: dict[str, Any] | None) -> dict[str, Any] | None:
    """Where a dbt command's time went, from its run_results.json: count and summed execution
    seconds of models, data tests, unit tests and the rest (hooks, seeds), and the slowest models.
    With one dbt thread the sums add up to dbt's elapsed time."""
    if not results or not isinstance(results.get("results"), list):
        return None
    kinds = {"model": "models", "test": "data_tests", "unit_test": "unit_tests"}
    totals = {name: {"count": 0, "seconds": 0.0} for name in (*kinds.values(), "other")}
    models: list[tuple[float, str]] = []
    for node in results["results"]:
        unique_id = str(node.get("unique_id", ""))
        seconds = float(node.get("execution_time") or 0.0)
        kind = kinds.get(unique_id.split(".", 1)[0], "other")
        totals[kind]["count"] += 1
        totals[kind]["seconds"] += seconds
        if kind == "models":
            models.append((seconds, unique_id.rsplit(".", 1)[-1]))
    slowest = sorted(models, key=lambda item: (-item[0], item[1]))[:SLOWEST_MODELS]
    return {**totals, "slowest_models": [[name, round(seconds, 2)] for seconds, name in slowest]}


def run_dbt(
    settings: Settings,
    step: str,
    args: list[str],
    data: DataSet,
    database: Path,
    as_of: date,
    run_dir: Path,
) -> Step:
    """One dbt command, timed; each command parses the project afresh in its own target path."""
    step_dir = run_dir / step
    log = step_dir / "dbt-output.log"
    measured: Measurement = run_measured(
        dbt_command(settings, args, step_dir),
        log_path=log,
        env=dbt_env(settings, data.path, database, as_of),
        cwd=settings.project_dir,
    )
    if not measured.ok:
        raise StepFailed(step, f"dbt exited {measured.returncode}; log {log}\n{log_tail(log)}",
                         measured)
    return dbt_step(measured, step_dir)


def dbt_step(measured: Measurement, step_dir: Path, **extra: Any) -> Step:
    """A step that ran dbt: its wall time and memory, and dbt's own figures from run_results."""
    results = _run_results(step_dir)
    return Step(
        seconds=measured.seconds,
        peak_rss_mb=measured.peak_rss_mb,
        process_seconds=measured.seconds,
        dbt_seconds=_dbt_elapsed(results),
        breakdown=dbt_breakdown(results),
        **extra,
    )


def _scripts_env() -> dict[str, str]:
    """The environment with ``scripts/`` on PYTHONPATH, for ``python -m loyalty_bench.<module>``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SCRIPTS), env.get("PYTHONPATH")]))
    return env


def run_floor(settings: Settings, data: DataSet, run_dir: Path) -> Step:
    """The floor query in a Python process of its own, so that its RSS is measured like dbt's."""
    step_dir = run_dir / "floor"
    step_dir.mkdir(parents=True, exist_ok=True)
    result_file = step_dir / "result.json"
    log = step_dir / "floor-output.log"
    env = _scripts_env()
    command = [
        str(settings.python), "-m", "loyalty_bench.floor",
        "--data-dir", str(data.path),
        "--database", str(step_dir / "floor.duckdb"),
        "--as-of", data.as_of.isoformat(),
        "--memory-limit", settings.memory_limit,
        "--result", str(result_file),
    ]
    measured = run_measured(command, log_path=log, env=env, cwd=settings.project_dir)
    if not measured.ok:
        raise StepFailed("floor", f"exited {measured.returncode}; log {log}\n{log_tail(log)}",
                         measured)
    query = json.loads(result_file.read_text(encoding="utf-8"))
    return Step(
        seconds=float(query["seconds"]),
        peak_rss_mb=measured.peak_rss_mb,
        process_seconds=measured.seconds,
        customers=query.get("customers"),
        details={"column_types": query.get("column_types")},
    )


def floor_database(run_dir: Path) -> Path:
    return run_dir / "floor" / "floor.duckdb"


def run_peer(settings: Settings, peer: str, data: DataSet, run_dir: Path) -> Step:
    """One peer (``peers.py``) with the peers' Python, in a process of its own (its process tree's
    memory sampled: PySpark's JVM is a child of it), then its table compared with the floor's."""
    step_dir = run_dir / peer
    shutil.rmtree(step_dir, ignore_errors=True)
    step_dir.mkdir(parents=True)
    result_file = step_dir / "result.json"
    table = step_dir / "table"
    log = step_dir / f"{peer}-output.log"
    command = [
        str(settings.peers_python), "-m", "loyalty_bench.peers",
        "--peer", peer,
        "--data-dir", str(data.path),
        "--as-of", data.as_of.isoformat(),
        "--result", str(result_file),
        "--table", str(table),
    ]
    measured = run_measured(command, log_path=log, env=_scripts_env(), cwd=step_dir,
                            sample_tree=True)
    if not measured.ok:
        raise StepFailed(peer, f"exited {measured.returncode}; log {log}\n{log_tail(log)}", measured)
    figures = json.loads(result_file.read_text(encoding="utf-8"))
    agreement = compare.compare_rfm(floor_database(run_dir), table).as_dict()
    peaks = [p for p in (measured.peak_rss_mb, measured.peak_tree_mb) if p is not None]
    details = {key: figures[key] for key in ("includes", "versions", "rows_read", "rows_valid",
                                              "lifetimes") if key in figures}
    if not settings.keep_work:
        shutil.rmtree(table, ignore_errors=True)
    return Step(
        seconds=float(figures["seconds"]),
        peak_rss_mb=max(peaks) if peaks else None,
        process_seconds=measured.seconds,
        customers=figures.get("customers"),
        peak_tree_mb=measured.peak_tree_mb,
        agreement=agreement,
        details=details,
    )


def run_publish(settings: Settings, database: Path, run_dir: Path) -> Step:
    """The nightly job's publish of the full build's marts (``nightly.py --publish-only``) to a
    serving database of the run's own."""
    step_dir = run_dir / "publish"
    step_dir.mkdir(parents=True, exist_ok=True)
    log = step_dir / "publish-output.log"
    command = [str(settings.python), str(SCRIPTS / "nightly.py"), "--publish-only",
               "--working", str(database.resolve()), "--serving", str((step_dir / "serving.duckdb").resolve())]
    measured = run_measured(command, log_path=log, cwd=settings.project_dir)
    if not measured.ok:
        raise StepFailed("publish", f"exited {measured.returncode}; log {log}\n{log_tail(log)}", measured)
    return Step(seconds=measured.seconds, peak_rss_mb=measured.peak_rss_mb, process_seconds=measured.seconds)


_PUBLISHED = re.compile(r"nightly: published .* rows in ([0-9.]+) s to ")


def publish_seconds(log: Path) -> float | None:
    """The publish's own seconds from the nightly job's output ('... rows in 8.6 s to ...')."""
    try:
        match = _PUBLISHED.search(log.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    return float(match.group(1)) if match else None


PARSE_STATE = "partial_parse.msgpack"


def run_nightly(settings: Settings, data: DataSet, database: Path, serving: Path, as_of: date,
                run_dir: Path) -> Step:
    """The nightly job (``nightly.py``: dbt build, audit, publish) on the full build's database
    and serving database, timed whole, as a scheduler would run it. Its target folder starts with
    the full build's saved parse, as a job that keeps ``target/`` finds the last night's: dbt
    parses only what changed since (nothing, on the same project)."""
    step_dir = run_dir / "nightly"
    log = step_dir / "nightly-output.log"
    (step_dir / "target").mkdir(parents=True, exist_ok=True)
    previous = run_dir / "full_build" / "target" / PARSE_STATE
    if previous.exists():
        shutil.copy2(previous, step_dir / "target" / PARSE_STATE)
    command = [
        str(settings.python), str(settings.project_dir / "scripts" / "nightly.py"),
        "--working", str(database.resolve()),
        "--serving", str(serving.resolve()),
        "--dbt", str(settings.dbt),
        "--",
        *dbt_command(settings, [], step_dir)[1:],
    ]
    env = dbt_env(settings, data.path, database, as_of)
    env["LOYALTY_SERVING_PATH"] = str(serving.resolve())
    measured = run_measured(command, log_path=log, env=env, cwd=settings.project_dir)
    if not measured.ok:
        raise StepFailed("nightly", f"exited {measured.returncode}; log {log}\n{log_tail(log)}",
                         measured)
    return dbt_step(measured, step_dir, publish_seconds=publish_seconds(log))


def _describe(name: str, step: Step) -> str:
    rss = f", peak {step.peak_rss_mb:.0f} MB" if step.peak_rss_mb is not None else ""
    agreement = ""
    if step.agreement is not None:
        agreement = ", same RFM as the floor" if step.agreement["identical"] else (
            f", RFM differs from the floor: scores {step.agreement['scores_differ']}, "
            f"{step.agreement['only_floor']} customers only in the floor, "
            f"{step.agreement['only_peer']} only in the peer")
    return f"{name} {step.seconds:.1f} s{rss}{agreement}"


def run_once(settings: Settings, data: DataSet, run_dir: Path, say: Say) -> dict[str, Any]:
    """One run of every step on ``data``; returns the figures (and the error, if a step failed).

    A failed peer is recorded in ``peer_errors`` and the run goes on; any other failed step ends
    the run with ``error``."""
    run: dict[str, Any] = {"steps": {}, "marts_identical": None, "mart_differences": [],
                           "appended": None, "error": None, "peer_errors": {},
                           "load_average": [load_average()]}
    steps: dict[str, Any] = run["steps"]

    def record(name: str, step: Step) -> None:
        steps[name] = asdict(step)
        say(f"  {_describe(name.replace('_', ' '), step)}")

    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    database = run_dir / "working.duckdb"  # the full build, then the nightly refresh
    rebuild = run_dir / "full_rebuild.duckdb"
    rfm_database = run_dir / "rfm_subgraph.duckdb"
    serving = run_dir / "publish" / "serving.duckdb"
    next_day = data.as_of + timedelta(days=1)
    try:
        record("floor", run_floor(settings, data, run_dir))
        if not settings.skip_peers:
            for peer in PEERS:
                try:
                    record(peer, run_peer(settings, peer, data, run_dir))
                except StepFailed as exc:
                    run["peer_errors"][peer] = str(exc)
                    say(f"  FAILED {exc}")
        record("full_build", run_dbt(settings, "full_build", ["build", "--full-refresh"], data,
                                     database, data.as_of, run_dir))
        record("publish", run_publish(settings, database, run_dir))
        if not settings.skip_rfm:
            record("rfm_subgraph", run_dbt(settings, "rfm_subgraph", ["build", "-s", f"+{RFM_MART}"],
                                           data, rfm_database, data.as_of, run_dir))
            if not settings.keep_work:
                rfm_database.unlink(missing_ok=True)
        if not settings.skip_incremental:
            appended = daily.append_day(data.path, data.as_of, seed=settings.seed)
            if data.variant == "typed":
                typed.type_appended_file(appended.path)
            run["appended"] = {"file": recorded_path(appended.path, data.path), "day": appended.day.isoformat(),
                               "new_orders": appended.new_orders,
                               "corrections": appended.corrections}
            record("nightly", run_nightly(settings, data, database, serving, next_day, run_dir))
            record("full_rebuild", run_dbt(settings, "full_rebuild", ["build", "--full-refresh"],
                                           data, rebuild, next_day, run_dir))
            result = compare.compare_marts(database, rebuild, memory_limit=settings.memory_limit)
            run["marts_identical"] = result.identical
            run["mart_differences"] = result.differences()
            run["mart_tables"] = len(result.tables)
            say(f"  marts identical: {'yes' if result.identical else 'no'}"
                + "".join(f"\n    {line}" for line in result.differences()))
    except StepFailed as exc:
        run["error"] = str(exc)
        if exc.measured is not None:
            run["failed_step"] = {"step": exc.step, "seconds": exc.measured.seconds,
                                  "peak_rss_mb": exc.measured.peak_rss_mb}
        say(f"  FAILED {exc}")
    finally:
        daily.remove_appended(data.path)
        run["load_average"].append(load_average())
    if run["error"] is None and not run["peer_errors"] and not settings.keep_work:
        shutil.rmtree(run_dir, ignore_errors=True)
    return run


def run_size(settings: Settings, orders: int, runs: int, say: Say) -> dict[str, Any]:
    """Every run of one size; stops at the first failed run (its error is kept)."""
    entry: dict[str, Any] = {"orders_requested": orders, "variant": settings.variant, "runs": []}
    try:
        data = prepare_data(settings, orders, say)
    except StepFailed as exc:
        entry["error"] = str(exc)
        say(f"FAILED {exc}")
        return entry
    entry.update(
        order_rows=data.order_rows,
        customers=data.customers,
        data_dir=recorded_path(data.path),
        end_date=data.end_date.isoformat(),
        as_of_date=data.as_of.isoformat(),
        skipped=[name for name, skip in (("peers", settings.skip_peers),
                                         ("rfm_subgraph", settings.skip_rfm),
                                         ("nightly", settings.skip_incremental)) if skip],
    )
    for index in range(1, runs + 1):
        say(f"{size_label(orders)} orders, {settings.variant} Parquet ({data.order_rows} rows, "
            f"{data.customers} customers), run {index}/{runs}")
        run = run_once(settings, data, settings.work_root / f"{settings.variant}-orders-{orders}"
                       / f"run-{index}", say)
        entry["runs"].append(run)
        if run["error"]:
            entry["error"] = run["error"]
            break
    return entry


def project_revision(project_dir: Path) -> str:
    """Commit of the dbt project, with '+changes' when tracked files differ from it."""
    try:
        head = subprocess.run(["git", "-C", str(project_dir), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(project_dir), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+changes" if dirty else head
