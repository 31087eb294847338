#!/usr/bin/env python3
"""Build time and peak memory of the full build on each engine, on the same generated orders.

    python scripts/benchmark_engines.py [--orders 1000000] [--engines duckdb,postgres,spark] [--runs 1]

Per engine: the load (scripts/load_raw.py; DuckDB reads the folder itself) and `dbt build
--exclude-resource-type unit_test` as the nightly job runs it, on a fresh database, timed with their
peak resident memory (the largest process of the command's tree: dbt, or Spark's JVM inside it). The
PostgreSQL server is a local throw-away one (scripts/local_postgres.py) with Debian's default
settings (shared_buffers 128 MB); its own memory is not in the peak. The tree's peak is also
sampled (the sum over dbt and every descendant, twice a second): Spark's JVM is a child that the
kernel's figure misses, since nobody waits for it. Prints a Markdown table (medians
when --runs > 1) for docs/benchmarks.md. Needs `make engines` (and Debian's postgresql package).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import local_postgres
from loyalty_bench.measure import run_measured

REPO = Path(__file__).resolve().parents[1]
END_DATE = date(2025, 6, 30)


def generate(orders: int, out: Path) -> Path:
    command = [sys.executable, str(REPO / "scripts" / "generate_data.py"), "--out", str(out), "--orders", str(orders),
               "--seed", "42", "--end-date", END_DATE.isoformat(), "--format", "parquet", "--if-stale", "--quiet",
               "--no-lines", "--no-events"]
    result = run_measured(command, log_path=out.parent / "generate.log", cwd=REPO)
    if not result.ok:
        raise SystemExit(f"generator exited {result.returncode}: {out.parent / 'generate.log'}")
    return out


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, in MB (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / 2**20


class TreeSampler:
    """Peak of tree_rss_mb over this process's children while it runs."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(os.getpid()) - tree_rss_mb_self())
            time.sleep(0.5)

    def __enter__(self) -> TreeSampler:  # noqa: PYI034 - a plain context manager, never subclassed
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def tree_rss_mb_self() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def one_run(engine: str, data_dir: Path, work: Path, server: local_postgres.Server | None) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO / "profiles"), DBT_SEND_ANONYMOUS_USAGE_STATS="False",
               DBT_TARGET=engine, LOYALTY_DATA_DIR=str(data_dir), LOYALTY_RAW_EXPORT_DIR=str(work / "raw_export"),
               DBT_DUCKDB_PATH=str(work / "loyalty.duckdb"), LOYALTY_SPARK_DIR=str(work / "spark"))
    if server is not None:
        local_postgres.create_database(server, replace=True)
        env.update(server.env)
    result = {"engine": engine, "load_s": 0.0, "load_peak_mb": None}
    if engine != "duckdb":
        load = run_measured([sys.executable, str(REPO / "scripts" / "load_raw.py"), "--target", engine],
                            log_path=work / "load.log", env=env, cwd=REPO)
        if not load.ok:
            raise SystemExit(f"{engine}: load failed, see {work / 'load.log'}")
        result.update(load_s=load.seconds, load_peak_mb=load.peak_rss_mb)
    as_of = (END_DATE + timedelta(days=1)).isoformat()
    with TreeSampler() as sampler:
        build = run_measured([str(Path(sys.executable).parent / "dbt"), "build", "--exclude-resource-type",
                              "unit_test", "--vars", json.dumps({"as_of_date": as_of}), "--target-path",
                              str(work / "target"), "--log-path", str(work / "logs"), "--quiet"],
                             log_path=work / "build.log", env=env, cwd=REPO)
    if not build.ok:
        raise SystemExit(f"{engine}: dbt build failed, see {work / 'build.log'}")
    result.update(build_s=build.seconds, build_peak_mb=max(build.peak_rss_mb or 0, sampler.peak))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--engines", default="duckdb,postgres,spark")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--work", type=Path, default=REPO / "target" / "benchmark-engines")
    parser.add_argument("--output", type=Path, help="also write the table as this Markdown file "
                        "(docs/benchmarks_engines.md)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    data_dir = generate(args.orders, args.work / f"orders-{args.orders}")
    engines = [engine.strip() for engine in args.engines.split(",") if engine.strip()]
    server_dir = Path(tempfile.mkdtemp(prefix="loyalty-postgres-")) if "postgres" in engines else None
    server = None
    rows = []
    try:
        if server_dir is not None:
            server_dir.chmod(0o755)
            server = local_postgres.start(server_dir / "server")
        for engine in engines:
            runs = [one_run(engine, data_dir, args.work / engine, server if engine == "postgres" else None)
                    for _ in range(args.runs)]
            summary = {"engine": engine}
            for key in ("load_s", "load_peak_mb", "build_s", "build_peak_mb"):
                values = [run[key] for run in runs if run[key] is not None]
                summary[key] = statistics.median(values) if values else None
            rows.append(summary)
            print(json.dumps(summary), flush=True)
    finally:
        if server_dir is not None:
            local_postgres.stop(server_dir / "server")
            shutil.rmtree(server_dir, ignore_errors=True)
    command = " ".join(["scripts/benchmark_engines.py", *(argv or sys.argv[1:])])
    title = f"{args.orders:,} orders, {args.runs} run(s) each (median), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `{command}`"
    lines = [title, "", "| engine | load s | load peak MB | dbt build s | build peak MB | total s |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        load_peak = f"{row['load_peak_mb']:,.0f}" if row["load_peak_mb"] else "-"
        lines.append(f"| {row['engine']} | {row['load_s']:.1f} | {load_peak} | {row['build_s']:.1f} | "
                     f"{row['build_peak_mb']:,.0f} | {row['load_s'] + row['build_s']:.1f} |")
    print("\n" + "\n".join(lines))
    if args.output:
        args.output.write_text(OUTPUT_HEAD + "\n".join(lines) + "\n", encoding="utf-8")
    return 0


OUTPUT_HEAD = """# Benchmarks: DuckDB, PostgreSQL and Spark

Written by `scripts/benchmark_engines.py`. One full build (`dbt build --exclude-resource-type
unit_test`, as the nightly job runs it) on a fresh database per engine, on the same generated
orders (typed Parquet, no lines or events) as of the day after the data ends; for PostgreSQL and
Spark the load (`scripts/load_raw.py`: the project's reader on DuckDB, then COPY or Parquet) is timed
apart. Peak MB is the resident memory of the command's process tree (Spark's JVM included); the
PostgreSQL server's own memory is not in it (a local server with Debian's defaults, shared_buffers
128 MB). 2 cores, 24 GB. Spark rebuilds every model every night (no delete+insert without Delta or
Iceberg), so its build time is also its nightly time; DuckDB and PostgreSQL refresh incrementally.

"""


if __name__ == "__main__":
    sys.exit(main())
