"""Command line of the benchmark (scripts/benchmark.py)."""

from __future__ import annotations

import argparse
import re
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from . import report
from .runner import (
    DEFAULT_END_DATE,
    DEFAULT_PEERS_PYTHON,
    REPO,
    VARIANTS,
    Say,
    Settings,
    entry_key,
    project_revision,
    run_size,
    size_label,
)

EXIT_OK = 0
EXIT_STEP_FAILED = 1
EXIT_USAGE = 2  # argparse's own code for bad arguments
EXIT_MARTS_DIFFER = 3
EXIT_INTERRUPTED = 130

DESCRIPTION = """\
Time the Loyalty Segments project against a hand-written DuckDB query (the floor) and the same
computation with pandas, lifetimes and PySpark (its peers) on generated data of one or more sizes,
and write the medians to docs/benchmarks.md and docs/benchmarks.json.

Per size the demo data is generated once (reused while up to date), all columns text; the typed
variant (default) reads a typed copy of it (orders-N-typed/: timestamps and decimals, text that
does not parse null), rewritten only when the text set changed. Each run, on the same files:
  floor          one DuckDB query over the raw order files: per-customer recency, frequency,
                 monetary and 1..5 quantile scores (CREATE TABLE AS), in its own process
  peers          the same table with pandas, lifetimes and PySpark (local[2]), each in its own
                 process of the peers' venv (make peers), each checked against the floor's table
  full build     dbt build --full-refresh into a fresh database
  publish        the nightly job's publish of that database's marts to a serving database
                 (scripts/nightly.py --publish-only)
  RFM subgraph   dbt build -s +dim_customers into another fresh database
  nightly        append one day of orders and corrections (orders/daily/<day>.parquet), then the
                 nightly job (scripts/nightly.py: dbt build and publish) on the full build's
                 database and serving database as of one day later, with the full build's
                 saved parse (dbt's partial parsing, as a job that keeps target/ has it)
  full rebuild   dbt build --full-refresh into a second database; the marts after the nightly job
                 and of the rebuild are compared (identical yes/no). The appended file is removed.
Each step's wall time and peak RSS (the process's maximum resident set size) are recorded;
the tables show medians over the runs with ratios to the floor and to the fastest peer."""

EPILOG = """\
exit codes: 0 done, 1 a step failed (generator, floor, a peer or dbt; the report is still written
with what was measured; a failed peer does not stop the run), 2 bad arguments, 3 the marts after
the nightly refresh differ from a full rebuild, 130 interrupted (Ctrl-C or SIGTERM: the running
command is stopped, the appended day removed and nothing written).

Results are kept per data variant and size: those not measured in this invocation are kept from
the existing JSON file, so the text variant, or the 100M-order run, can be added to an earlier
report (--fresh discards them).

examples:
  %(prog)s --sizes 1000000 --runs 3
  %(prog)s --sizes 1M,10M --runs 3 && %(prog)s --sizes 1M,10M --runs 3 --variant text
  %(prog)s --sizes 100M --runs 1 --skip-incremental --skip-rfm --skip-peers --memory-limit 4GB
  %(prog)s --sizes 20000 --runs 1 --output /tmp/bench.md   # a quick smoke run"""

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*$")
_MEMORY = re.compile(r"^\s*\d+(?:\.\d+)?\s*(?:[KMGT]i?B|B)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'1000000', '1M', '10m', '20k', '1_000_000' -> number of orders."""
    match = _SIZE.match(text.replace("_", "").replace(",", ""))
    if not match:
        raise argparse.ArgumentTypeError(f"not a number of orders: {text!r}")
    factor = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}[match.group(2).lower()]
    value = int(float(match.group(1)) * factor)
    if value < 1_000:
        raise argparse.ArgumentTypeError(f"at least 1000 orders per size: {text!r}")
    return value


def parse_sizes(text: str) -> list[int]:
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("no sizes given")
    return sorted({parse_size(p) for p in parts})


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _memory(text: str) -> str:
    if not _MEMORY.match(text):
        raise argparse.ArgumentTypeError(f"not a DuckDB memory size like 2GB or 1500MB: {text!r}")
    return text.strip()


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchmark.py",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", type=parse_sizes, default=[1_000_000], metavar="N[,N...]",
                        help="orders per size, comma-separated; k/M suffixes allowed; customers "
                        "are a tenth of orders (default: 1000000)")
    parser.add_argument("--runs", type=_positive_int, default=3,
                        help="runs per size; the table shows medians (default: %(default)s)")
    parser.add_argument("--memory-limit", type=_memory, default="1400MB", metavar="SIZE",
                        help="DuckDB memory_limit for dbt (DBT_DUCKDB_MEMORY_LIMIT) and the floor "
                        "query; larger inputs spill to disk (default: %(default)s)")
    parser.add_argument("--data-root", type=Path, default=REPO / "data" / "bench", metavar="DIR",
                        help="where the generated data sets live, one folder per size "
                        "(default: data/bench)")
    parser.add_argument("--work-dir", type=Path, metavar="DIR",
                        help="databases, dbt target and log folders of the runs; a successful "
                        "run's folder is removed unless --keep-work (default: DATA_ROOT/work)")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md",
                        metavar="FILE", help="markdown report to (re)write "
                        "(default: docs/benchmarks.md)")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="results with every run (default: --output with .json)")
    parser.add_argument("--fresh", action="store_true",
                        help="drop the results of other sizes found in the JSON file")
    parser.add_argument("--with-lines-events", action="store_true",
                        help="generate order lines and events too (default: orders only, which is "
                        "all the floor reads; the models using lines and events then run on "
                        "empty inputs)")
    parser.add_argument("--variant", choices=VARIANTS, default="typed",
                        help="typed: a typed Parquet copy of the generated data (timestamps, "
                        "decimals); text: the generator's all-text files (default: %(default)s; "
                        "run twice for both)")
    parser.add_argument("--skip-incremental", "--skip-nightly", dest="skip_incremental",
                        action="store_true",
                        help="leave out the appended day, the nightly refresh, the full "
                        "rebuild and the marts comparison (for the 100M-order spill run)")
    parser.add_argument("--skip-rfm", action="store_true",
                        help="leave out the RFM subgraph build")
    parser.add_argument("--skip-peers", action="store_true",
                        help="leave out pandas, lifetimes and PySpark")
    parser.add_argument("--peers-python", type=Path, default=DEFAULT_PEERS_PYTHON, metavar="PATH",
                        help="Python of the peers' venv, with pandas, lifetimes and PySpark "
                        "(default: .venv-peers/bin/python, made by `make peers`)")
    parser.add_argument("--end-date", type=_iso_date, default=DEFAULT_END_DATE,
                        metavar="YYYY-MM-DD", help="last day of the generated history; the "
                        "builds score the day after (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42,
                        help="seed of the generator and the appended day (default: %(default)s)")
    parser.add_argument("--project-dir", type=Path, default=REPO, metavar="DIR",
                        help="dbt project to benchmark, e.g. a clean export of a commit "
                        "(default: this repository)")
    parser.add_argument("--project-revision", metavar="TEXT",
                        help="label of the project version in the report (default: git's "
                        "commit of --project-dir)")
    parser.add_argument("--dbt", type=Path, default=Path(sys.executable).parent / "dbt",
                        metavar="PATH", help="dbt executable (default: the one next to this "
                        "Python)")
    parser.add_argument("--keep-work", action="store_true",
                        help="keep every run's databases and logs")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: rewrite --output from the results in --json")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    data_root = args.data_root.resolve()
    return Settings(
        project_dir=args.project_dir.resolve(),
        dbt=args.dbt,
        python=Path(sys.executable),
        data_root=data_root,
        work_root=(args.work_dir or data_root / "work").resolve(),
        memory_limit=args.memory_limit,
        end_date=args.end_date,
        seed=args.seed,
        with_lines_events=args.with_lines_events,
        skip_rfm=args.skip_rfm,
        skip_incremental=args.skip_incremental,
        keep_work=args.keep_work,
        variant=args.variant,
        peers_python=args.peers_python.absolute(),
        skip_peers=args.skip_peers,
    )


PATH_OPTIONS = ("--data-root", "--work-dir", "--output", "--json", "--project-dir", "--dbt",
                "--peers-python")


def _portable(option: str, value: str) -> str:
    """A path argument as the report shows it: relative to the repository when inside it, else
    a placeholder (the report names no folder of the machine it ran on)."""
    path = Path(value)
    if not path.is_absolute():
        return value
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return "<a copy of the project>" if option == "--project-dir" else f"<{option[2:]}>"


def command_line(argv: Sequence[str]) -> str:
    """The command as the report shows it (``_portable`` paths)."""
    shown: list[str] = []
    arguments = list(argv)
    for index, argument in enumerate(arguments):
        option, equals, value = argument.partition("=")
        if equals and option in PATH_OPTIONS:
            shown.append(f"{option}={_portable(option, value)}")
        elif index > 0 and arguments[index - 1] in PATH_OPTIONS:
            shown.append(_portable(arguments[index - 1], argument))
        else:
            shown.append(argument)
    return shlex.join(["scripts/benchmark.py", *shown])


def run_benchmark(
    sizes: Sequence[int],
    runs: int,
    settings: Settings,
    *,
    command: str,
    revision: str | None = None,
    say: Say | None = None,
) -> dict[str, dict[str, Any]]:
    """Measure every size; returns the entries keyed by variant and size (``entry_key``), each
    with its summary."""
    def noop(_: str) -> None:
        pass

    tell = say or noop
    settings.work_root.mkdir(parents=True, exist_ok=True)
    label = revision or project_revision(settings.project_dir)
    measured: dict[str, dict[str, Any]] = {}
    for orders in sizes:
        started = time.monotonic()
        entry = run_size(settings, orders, runs, tell)
        entry.update(
            measured_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            command=command,
            memory_limit=settings.memory_limit,
            project_revision=label,
            data_variant="orders, lines, events" if settings.with_lines_events else "orders only",
            variant=settings.variant,
            wall_seconds=round(time.monotonic() - started, 1),
            machine=report.machine_info(settings.memory_limit),
        )
        entry["summary"] = report.summarise(entry)
        measured[entry_key(settings.variant, orders)] = entry
        tell(f"{size_label(orders)} orders ({settings.variant}) done in "
             f"{entry['wall_seconds']:.0f} s")
    return measured


def _interrupt(signum: int, _frame: object) -> None:
    """SIGTERM ends a run like Ctrl-C: the running command is stopped, the appended day removed."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(arguments)
    output: Path = args.output
    json_path: Path = args.json or output.with_suffix(".json")
    if args.render_only:
        saved = report.load_results(json_path)
        if not saved or "sizes" not in saved:
            print(f"error: no benchmark results in {json_path}", file=sys.stderr)
            return EXIT_STEP_FAILED
        report.write_documents(saved, output, json_path)
        print(report.console_table(saved["sizes"]))
        print(f"\nwritten: {output} (from {json_path})")
        return EXIT_OK
    settings = settings_from_args(args)
    if not settings.dbt.is_file():
        parser.error(f"no dbt executable at {settings.dbt} (run `make setup` or pass --dbt)")
    if not (settings.project_dir / "dbt_project.yml").is_file():
        parser.error(f"no dbt_project.yml in {settings.project_dir}")
    if not settings.skip_peers and not settings.peers_python.is_file():
        parser.error(f"no Python for the peers at {settings.peers_python} (run `make peers`, pass "
                     "--peers-python, or leave the peers out with --skip-peers)")

    def say(message: str) -> None:
        if not args.quiet:
            stamp = datetime.now().strftime("%H:%M:%S")
            print(f"[{stamp}] {message}", file=sys.stderr, flush=True)

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        measured = run_benchmark(args.sizes, args.runs, settings, command=command_line(arguments),
                                 revision=args.project_revision, say=say)
    except KeyboardInterrupt:
        print("interrupted; nothing written (appended order files were removed)", file=sys.stderr)
        return EXIT_INTERRUPTED
    previous = None if args.fresh else report.load_results(json_path)
    document = {
        "written_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line(arguments),
        "machine": report.machine_info(settings.memory_limit),
        "sizes": report.merge_results(previous, measured),
    }
    report.write_documents(document, output, json_path)
    print(report.console_table(measured))
    print(f"\nwritten: {output} and {json_path}")
    if any(entry.get("error") or any(run.get("peer_errors") for run in entry.get("runs", []))
           for entry in measured.values()):
        return EXIT_STEP_FAILED
    if any(entry["summary"].get("marts_identical") is False for entry in measured.values()):
        return EXIT_MARTS_DIFFER
    return EXIT_OK
