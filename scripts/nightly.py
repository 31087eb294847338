"""The nightly job: build into the working database, audit, publish the marts to the serving one.

    python scripts/nightly.py [--working PATH] [--serving PATH] [--publish-only] [-- DBT_ARGS...]
    python scripts/nightly.py --target postgres [--serving-schema NAME] [--publish-only] [-- DBT_ARGS...]

1. Build: ``dbt build --exclude-resource-type unit_test`` (plus DBT_ARGS) on $LOYALTY_DATA_DIR
   into the working database ($DBT_DUCKDB_PATH, default data/work/loyalty.duckdb). Nobody else
   opens it: a process that holds it stops the job at once, named in one line.
2. Audit: every model and every error-severity test passed (dbt's exit code), and the marts the
   publish copies are all there.
3. Publish: the ``marts`` schema is copied into a new DuckDB file next to the serving database
   ($LOYALTY_SERVING_PATH, default data/loyalty.duckdb) with ``meta.publish_log`` (one row per
   publish: id, time, as_of_date, input folder, dbt invocation) and ``meta.published_tables`` (the
   row count of every table of the publish); the file is checkpointed, synced and renamed over the
   serving database in one atomic step. BI tools open the serving database read-only: a reader
   holds the file it opened, whole, until it closes it; the next open sees the new publish.

On PostgreSQL (``--target postgres``) the inputs are loaded first (scripts/load_raw.py), dbt
builds into the database of the PG* variables, and the marts are published as the serving schema
($LOYALTY_SERVING_SCHEMA, default ``serving``) by a schema swap in one transaction
(scripts/publish_postgres.py); one job per database runs at a time (an advisory lock).

A failed build or audit leaves the serving database untouched, and so does a job killed at any
moment. Exit codes, for schedulers: 0 built and published; 1 the build or the audit failed
(serving untouched); 2 bad arguments or setup; 3 the working database is held by another process,
or another nightly job is running; 4 the publish failed (serving untouched).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import publish_postgres

REPO = Path(__file__).resolve().parents[1]
DEFAULT_WORKING = Path("data/work/loyalty.duckdb")
DEFAULT_SERVING = Path("data/loyalty.duckdb")
# The marts a publish must hold: a build that lacks one of them is not published.
REQUIRED_MARTS = ("dim_customers", "fct_kpi_summary", "fct_kpis_monthly", "fct_input_reconciliation")

EXIT_OK, EXIT_BUILD_FAILED, EXIT_USAGE, EXIT_BUSY, EXIT_PUBLISH_FAILED = 0, 1, 2, 3, 4


class JobError(Exception):
    """A step failed; ``code`` is the exit code the job ends with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Publish:
    """What one publish wrote."""

    publish_id: str
    dbt_invocation: str | None
    as_of_date: str | None
    tables: dict[str, int]
    seconds: float


def sql_string(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def lock_holder(error: Exception) -> str:
    """The process named in DuckDB's lock error ("... is held in /usr/bin/python3 (PID 123)")."""
    match = re.search(r"held in (.+?) \(PID (\d+)\)", str(error))
    if not match:
        return "another process"
    return f"{Path(match.group(1)).name} (PID {match.group(2)})"


def check_working_database_free(working: Path, serving: Path) -> None:
    """Stop with one line when another process holds the working database."""
    if not working.exists():
        return
    try:
        duckdb.connect(str(working)).close()
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise JobError(
            f"nightly: the working database {working} is held by {lock_holder(error)}; close it and run "
            f"again (BI tools read the serving database {serving}, read-only)", EXIT_BUSY) from error


@contextmanager
def job_lock(serving: Path):
    """One nightly job per serving database at a time (a lock file next to it)."""
    serving.parent.mkdir(parents=True, exist_ok=True)
    path = serving.with_name(f".{serving.name}.lock")
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise JobError(f"nightly: another nightly job (PID {holder}) is running for {serving}", EXIT_BUSY) from error
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_dbt(working: Path, dbt_args: list[str], dbt: Path) -> int:
    """``dbt build`` into the working database; its output goes to this process's output."""
    env = dict(os.environ)
    env["DBT_DUCKDB_PATH"] = str(working)
    env.setdefault("DBT_PROFILES_DIR", str(REPO / "profiles"))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    command = [str(dbt), "build", "--exclude-resource-type", "unit_test", *dbt_args]
    return subprocess.run(command, cwd=REPO, env=env, check=False).returncode


def invocation_id(target_dir: Path) -> str | None:
    """The dbt invocation that built the working database (target/run_results.json), if known."""
    try:
        return json.loads((target_dir / "run_results.json").read_text())["metadata"]["invocation_id"]
    except (OSError, ValueError, KeyError):
        return None


def rebuilt_in_run(working: Path, dbt_invocation: str | None) -> list[tuple[str, str]]:
    """The incremental models the run rebuilt from all their files, and why (meta.input_state_log)."""
    if dbt_invocation is None:
        return []
    try:
        with duckdb.connect(str(working), read_only=True) as connection:
            return connection.execute("select model, reason from meta.input_state_log where invocation_id = ? "
                                      "order by model", [dbt_invocation]).fetchall()
    except duckdb.Error:
        return []


def target_dir(dbt_args: list[str]) -> Path:
    """dbt's target folder for these arguments (--target-path, $DBT_TARGET_PATH or target/)."""
    for index, argument in enumerate(dbt_args):
        if argument == "--target-path" and index + 1 < len(dbt_args):
            return Path(dbt_args[index + 1])
        if argument.startswith("--target-path="):
            return Path(argument.split("=", 1)[1])
    return Path(os.environ.get("DBT_TARGET_PATH") or REPO / "target")


def last_publish(serving: Path) -> dict | None:
    """The newest row of the serving database's publish log, or None when there is none."""
    if not serving.exists():
        return None
    try:
        with duckdb.connect(str(serving), read_only=True) as connection:
            row = connection.execute(
                "select publish_id, published_at, as_of_date from meta.publish_log "
                "order by published_at desc limit 1").fetchone()
    except duckdb.Error:
        return None
    if row is None:
        return None
    return {"publish_id": row[0], "published_at": row[1], "as_of_date": row[2]}


def describe_publish(serving: Path) -> str:
    """One phrase naming what the serving database holds now."""
    previous = last_publish(serving)
    if previous is None:
        return f"{serving} holds no publish yet"
    return (f"{serving} still holds publish {previous['publish_id']} "
            f"(as of {previous['as_of_date']}, published {previous['published_at']:%Y-%m-%d %H:%M UTC})")


def copy_comments(connection: duckdb.DuckDBPyConnection) -> None:
    """The marts' descriptions (dbt's persist_docs writes them as comments) go with the copies, so
    that BI tools reading the serving database show them."""
    for table, comment in connection.execute(
            "select table_name, comment from duckdb_tables() where database_name = 'working' "
            "and schema_name = 'marts' and comment is not null").fetchall():
        connection.execute(f'comment on table marts."{table}" is {sql_string(comment)}')
    for table, column, comment in connection.execute(
            "select table_name, column_name, comment from duckdb_columns() where database_name = 'working' "
            "and schema_name = 'marts' and comment is not null").fetchall():
        connection.execute(f'comment on column marts."{table}"."{column}" is {sql_string(comment)}')


def publish(working: Path, serving: Path, data_dir: str, dbt_invocation: str | None) -> Publish:
    """Copy the working database's marts into a new file and rename it over ``serving``."""
    started = time.monotonic()
    serving.parent.mkdir(parents=True, exist_ok=True)
    for leftover in serving.parent.glob(f".{serving.name}.publishing-*"):
        leftover.unlink()  # from a publish that was killed: never renamed, never read
    staging = serving.with_name(f".{serving.name}.publishing-{os.getpid()}")
    published_at = datetime.now(UTC).replace(tzinfo=None)
    publish_id = published_at.strftime("%Y%m%dT%H%M%S%fZ")
    with duckdb.connect(str(staging)) as connection:
        # Copying is re-compressing: without insertion order the copies run in parallel, and FSST
        # (the costliest string compression to choose and apply) is left out; at 10M orders this
        # took the copy from 14.8 s to 8.6 s for a serving file 12% larger.
        connection.execute("set preserve_insertion_order = false")
        connection.execute("set disabled_compression_methods = 'fsst'")
        try:
            connection.execute(f"attach {sql_string(str(working))} as working (read_only)")
        except duckdb.IOException as error:
            raise JobError(f"nightly: cannot open the working database {working}: {error}", EXIT_PUBLISH_FAILED) from error
        tables = [row[0] for row in connection.execute(
            "select table_name from duckdb_tables() where database_name = 'working' and schema_name = 'marts' "
            "order by 1").fetchall()]
        missing = sorted(set(REQUIRED_MARTS) - set(tables))
        if missing:
            raise JobError(f"nightly: audit failed: the working database has no marts.{', marts.'.join(missing)}; "
                           f"nothing was published ({describe_publish(serving)})", EXIT_BUILD_FAILED)
        connection.execute("create schema marts")
        counts = {}
        for table in tables:
            connection.execute(f'create table marts."{table}" as select * from working.marts."{table}"')
            counts[table] = connection.execute(f'select count(*) from marts."{table}"').fetchone()[0]
        copy_comments(connection)
        as_of = connection.execute("select max(as_of_date) from marts.fct_kpi_summary").fetchone()[0]
        connection.execute("create schema meta")
        connection.execute("""
            create table meta.publish_log (
                publish_id varchar, published_at timestamp, as_of_date date, input_folder varchar,
                dbt_invocation_id varchar, tables_count integer
            )""")
        connection.execute("create table meta.published_tables (publish_id varchar, table_name varchar, row_count bigint)")
        if serving.exists():
            try:
                connection.execute(f"attach {sql_string(str(serving))} as previous (read_only)")
                connection.execute("insert into meta.publish_log select * from previous.meta.publish_log")
                connection.execute("detach previous")
            except duckdb.Error:
                pass  # an older or unreadable serving database: the log starts again
        connection.execute("insert into meta.publish_log values (?, ?, ?, ?, ?, ?)",
                           [publish_id, published_at, as_of, data_dir, dbt_invocation, len(tables)])
        connection.executemany("insert into meta.published_tables values (?, ?, ?)",
                               [[publish_id, table, count] for table, count in counts.items()])
        connection.execute("detach working")
        connection.execute("checkpoint")
    with staging.open("rb") as handle:
        os.fsync(handle.fileno())
    stale_wal = serving.with_name(serving.name + ".wal")
    if stale_wal.exists():
        stale_wal.unlink()  # belonged to the file being replaced; replayed onto the new one it would corrupt it
    os.replace(staging, serving)
    directory = os.open(serving.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return Publish(publish_id, dbt_invocation, str(as_of) if as_of else None, counts, time.monotonic() - started)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--working", type=Path,
                        default=Path(os.environ.get("DBT_DUCKDB_PATH") or REPO / DEFAULT_WORKING),
                        help="working database dbt builds into (default: $DBT_DUCKDB_PATH or data/work/loyalty.duckdb)")
    parser.add_argument("--serving", type=Path,
                        default=Path(os.environ.get("LOYALTY_SERVING_PATH") or REPO / DEFAULT_SERVING),
                        help="serving database BI tools read (default: $LOYALTY_SERVING_PATH or data/loyalty.duckdb)")
    parser.add_argument("--target", choices=["duckdb", "postgres"], default=os.environ.get("DBT_TARGET") or "duckdb",
                        help="engine (default: $DBT_TARGET or duckdb); Spark builds with load_raw.py and dbt build")
    parser.add_argument("--serving-schema", default=os.environ.get("LOYALTY_SERVING_SCHEMA") or "serving",
                        help="PostgreSQL: schema BI tools read (default: $LOYALTY_SERVING_SCHEMA or serving)")
    parser.add_argument("--publish-only", action="store_true",
                        help="publish the working database as it is, without building (after a build that passed)")
    parser.add_argument("--dbt", type=Path, default=Path(sys.executable).parent / "dbt", help="dbt executable")
    parser.add_argument("dbt_args", nargs="*", help="more arguments for dbt build (after --)")
    return parser.parse_args(argv)


def run_postgres(args: argparse.Namespace) -> int:
    """Load, build, audit and publish on PostgreSQL."""
    data_dir = os.environ.get("LOYALTY_DATA_DIR", str(REPO / "data" / "demo"))
    readers = [role.strip() for role in os.environ.get("LOYALTY_SERVING_READERS", "").split(",") if role.strip()]
    try:
        connection = publish_postgres.connect()
    except Exception as error:
        raise JobError(f"nightly: cannot connect to PostgreSQL (PGHOST, PGPORT, PGUSER, PGDATABASE): {error}",
                       EXIT_USAGE) from error
    try:
        if not publish_postgres.try_job_lock(connection):
            raise JobError("nightly: another nightly job is running on this PostgreSQL database", EXIT_BUSY)
        if not args.publish_only:
            env = dict(os.environ, DBT_TARGET="postgres")
            env.setdefault("DBT_PROFILES_DIR", str(REPO / "profiles"))
            env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
            loaded = subprocess.run([sys.executable, str(REPO / "scripts" / "load_raw.py"), "--target", "postgres"],
                                    cwd=REPO, env=env, check=False).returncode
            if loaded != 0:
                raise JobError(f"nightly: loading the inputs failed (exit {loaded}); nothing was built or published: "
                               f"{publish_postgres.last_publish(connection, args.serving_schema)}", EXIT_BUILD_FAILED)
            command = [str(args.dbt), "build", "--exclude-resource-type", "unit_test", *args.dbt_args]
            code = subprocess.run(command, cwd=REPO, env=env, check=False).returncode
            if code != 0:
                raise JobError(f"nightly: dbt build failed (exit {code}), see logs/dbt.log; nothing was published: "
                               f"{publish_postgres.last_publish(connection, args.serving_schema)}", EXIT_BUILD_FAILED)
        try:
            done = publish_postgres.publish(connection, "marts", args.serving_schema, data_dir,
                                            invocation_id(target_dir(args.dbt_args)), REQUIRED_MARTS, readers)
        except LookupError as error:
            raise JobError(f"nightly: audit failed: the build has no {error}; nothing was published: "
                           f"{publish_postgres.last_publish(connection, args.serving_schema)}", EXIT_BUILD_FAILED) from error
        except Exception as error:
            raise JobError(f"nightly: publish failed: {error}; "
                           f"{publish_postgres.last_publish(connection, args.serving_schema)}", EXIT_PUBLISH_FAILED) from error
    finally:
        connection.close()
    rows = sum(done.tables.values())
    print(f"nightly: published {done.publish_id} (as of {done.as_of_date}): {len(done.tables)} marts, "
          f"{rows:,} rows in {done.seconds:.1f} s to schema {args.serving_schema}")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.target == "postgres":
        return run_postgres(args)
    working, serving = args.working.resolve(), args.serving.resolve()
    if working == serving:
        raise JobError("nightly: the working and the serving database must be different files", EXIT_USAGE)
    data_dir = os.environ.get("LOYALTY_DATA_DIR", str(REPO / "data" / "demo"))
    with job_lock(serving):
        check_working_database_free(working, serving)
        if not args.publish_only:
            working.parent.mkdir(parents=True, exist_ok=True)
            code = run_dbt(working, args.dbt_args, args.dbt)
            if code != 0:
                raise JobError(f"nightly: dbt build failed (exit {code}), see logs/dbt.log; nothing was published: "
                               f"{describe_publish(serving)}", EXIT_BUILD_FAILED)
        try:
            done = publish(working, serving, data_dir, invocation_id(target_dir(args.dbt_args)))
        except JobError:
            raise
        except (duckdb.Error, OSError) as error:
            raise JobError(f"nightly: publish failed: {error}; {describe_publish(serving)}", EXIT_PUBLISH_FAILED) from error
    for model, reason in rebuilt_in_run(working, done.dbt_invocation):
        print(f"nightly: rebuilt {model} from all its files: {reason}")
    rows = sum(done.tables.values())
    print(f"nightly: published {done.publish_id} (as of {done.as_of_date}): {len(done.tables)} marts, "
          f"{rows:,} rows in {done.seconds:.1f} s to {serving}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except JobError as error:
        print(str(error), file=sys.stderr)
        return error.code


if __name__ == "__main__":
    sys.exit(main())
