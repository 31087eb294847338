"""Gets the input folder into an engine that cannot read it the way DuckDB does.

    python scripts/load_raw.py --target postgres   # before dbt build --target postgres
    python scripts/load_raw.py --target spark      # before dbt build --target spark

The files are read once, by this project's own reader (macros/raw/read_input_file.sql, through
``dbt run-operation export_raw_inputs`` on a scratch DuckDB database): the same input format, row
numbers, read errors and stops as a DuckDB build, so the quality gate quarantines the same rows with
the same reasons on every engine. What the raw views would hold is written as Parquet to the export
folder ($LOYALTY_RAW_EXPORT_DIR, default data/work/raw_export), replaced in one rename. Then:

- postgres: the tables raw.<entity> (every column text, plus source_file, source_row_number and
  read_error) and raw.input_files (each file's size, modification time and md5, from which the
  input-state check rebuilds what changed) are replaced in one transaction with COPY. Connection
  from PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE, as the profile's postgres target.
- spark: nothing more; the on-run-start hook of the spark target makes raw.<entity> views over the
  export folder, which must be readable by the cluster (a shared path, or a local session).

Exit codes: 0 loaded; 1 the reader stopped (its message says what, where, and the setting that
fixes it) or the load failed (the engine's tables are untouched); 2 bad arguments.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import publish_postgres

REPO = Path(__file__).resolve().parents[1]
ENTITIES = ("orders", "order_lines", "products", "customers", "events", "offer_sends")
DEFAULT_EXPORT = REPO / "data" / "work" / "raw_export"


def export_dir() -> Path:
    return Path(os.environ.get("LOYALTY_RAW_EXPORT_DIR") or DEFAULT_EXPORT).resolve()


def read_inputs(out_dir: Path, dbt_args: list[str]) -> None:
    """The raw views of a DuckDB build, as Parquet files in ``out_dir``."""
    scratch = out_dir / "reader.duckdb"
    env = dict(os.environ)
    env.setdefault("DBT_PROFILES_DIR", str(REPO / "profiles"))
    env.update(DBT_TARGET="duckdb", DBT_DUCKDB_PATH=str(scratch), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    dbt = Path(sys.executable).parent / "dbt"
    command = [str(dbt), "run-operation", "export_raw_inputs", "--args", f"{{out_dir: '{out_dir}'}}",
               "--target-path", str(out_dir / "target"), "--log-path", str(out_dir / "logs"),
               "--no-use-colors", *dbt_args]
    result = subprocess.run(command, cwd=REPO, env=env, check=False)
    for leftover in (scratch, scratch.with_suffix(".duckdb.wal"), out_dir / "target", out_dir / "logs",
                     out_dir / ".transcoded"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        elif leftover.exists():
            leftover.unlink()
    if result.returncode != 0:
        raise LoadError("reading the input folder stopped (the message above says why); nothing was loaded")


class LoadError(Exception):
    pass


def replace_dir(new: Path, final: Path) -> None:
    """``new`` takes ``final``'s place: one rename, the old folder removed after."""
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def load_postgres(folder: Path, raw_schema: str) -> dict[str, int]:
    """raw.<entity> and raw.input_files replaced from the Parquet files, in one transaction."""
    connection = publish_postgres.connect()
    counts = {}
    reader = duckdb.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'create schema if not exists "{raw_schema}"')
            for name in (*ENTITIES, "input_files"):
                path = folder / f"{name}.parquet"
                columns = reader.sql(f"describe select * from read_parquet('{path}')").fetchall()
                definitions = ", ".join(f'"{column}" {postgres_type(kind)}' for column, kind, *_ in columns)
                cursor.execute(f'drop table if exists "{raw_schema}"."{name}"')
                cursor.execute(f'create table "{raw_schema}"."{name}" ({definitions})')
                csv_path = folder / f"{name}.csv"
                reader.sql(f"copy (select * from read_parquet('{path}')) to '{csv_path}' (format csv, header false)")
                with csv_path.open("r", encoding="utf-8") as handle:
                    cursor.copy_expert(f'copy "{raw_schema}"."{name}" from stdin with (format csv)', handle)
                csv_path.unlink()
                counts[name] = cursor.rowcount
        connection.commit()
    except Exception:
        connection.rollback()
        raise
    finally:
        connection.close()
        reader.close()
    return counts


def postgres_type(duckdb_type: str) -> str:
    return {"VARCHAR": "text", "BIGINT": "bigint", "INTEGER": "integer",
            "TIMESTAMP WITH TIME ZONE": "timestamptz"}.get(duckdb_type, "text")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=["postgres", "spark"], required=True)
    parser.add_argument("--raw-schema", default="raw", help="schema of the raw tables (var raw_schema)")
    parser.add_argument("dbt_args", nargs="*", help="after --: more dbt arguments for the reader, e.g. --vars")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    final = export_dir()
    final.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=final.name + ".new-", dir=final.parent))
    try:
        read_inputs(new, args.dbt_args)
        replace_dir(new, final)
        if args.target == "postgres":
            counts = load_postgres(final, args.raw_schema)
            print("Loaded into PostgreSQL: " + ", ".join(f"{args.raw_schema}.{name} {rows:,}" for name, rows in counts.items()))
        else:
            print(f"Raw inputs for Spark written to {final}")
    except LoadError as error:
        print(f"load_raw: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(new, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
