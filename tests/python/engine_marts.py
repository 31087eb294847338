"""The marts of a build, read from DuckDB, PostgreSQL or Spark's warehouse, and compared.

Rows are compared as sets of full rows (every column), after sorting. Decimals (money, counts) and
text, dates, booleans must be equal exactly; doubles (shares, ratios, means of days) to 1e-9
relative, because a sum of doubles depends on the order the engine adds them in.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import duckdb
import publish_postgres

DOUBLE_RELATIVE_TOLERANCE = 1e-9


def duckdb_marts(database: Path, schema: str = "marts") -> dict[str, tuple[list[str], list[tuple]]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = [row[0] for row in connection.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]).fetchall()]
        return {table: read(connection.execute(f'select * from "{schema}"."{table}"')) for table in tables}


def postgres_marts(env: dict[str, str], schema: str = "marts") -> dict[str, tuple[list[str], list[tuple]]]:
    connection = publish_postgres.connect(env)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select table_name from information_schema.tables where table_schema = %s"
                           " and table_type = 'BASE TABLE' order by 1", (schema,))
            tables = [row[0] for row in cursor.fetchall()]
            marts = {}
            for table in tables:
                cursor.execute(f'select * from "{schema}"."{table}"')
                marts[table] = read(cursor)
            return marts
    finally:
        connection.close()


def spark_marts(warehouse: Path, schema: str = "marts") -> dict[str, tuple[list[str], list[tuple]]]:
    """Spark's managed Parquet tables, read from the warehouse folder (no JVM needed)."""
    folder = warehouse / f"{schema}.db"
    marts = {}
    with duckdb.connect() as connection:
        for table in sorted(path for path in folder.iterdir() if path.is_dir()):
            files = [str(path) for path in table.rglob("*.parquet")]
            if files:
                marts[table.name] = read(connection.execute("select * from read_parquet(?)", [files]))
    return marts


def read(cursor) -> tuple[list[str], list[tuple]]:
    columns = [description[0] for description in cursor.description]
    return columns, [tuple(row) for row in cursor.fetchall()]


def normalised(value):
    if isinstance(value, Decimal):
        return value if value.is_nan() else value.normalize()
    return value


def sort_key(row: tuple) -> tuple:
    return tuple((value is None, str(normalised(value)) if not isinstance(value, float) else f"{value:.6e}") for value in row)


def equal(left, right) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float) or isinstance(right, float):
        left, right = float(left), float(right)
        return math.isclose(left, right, rel_tol=DOUBLE_RELATIVE_TOLERANCE, abs_tol=1e-12)
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        return Decimal(str(left)) == Decimal(str(right))
    return left == right


def compare(expected: dict[str, tuple[list[str], list[tuple]]], actual: dict[str, tuple[list[str], list[tuple]]],
            limit: int = 5) -> list[str]:
    """Differences between two engines' marts, as readable lines (empty when they are equal)."""
    problems = []
    names = sorted(expected)
    for table in names:
        if table not in actual:
            problems.append(f"{table}: missing")
            continue
        expected_columns, expected_rows = expected[table]
        actual_columns, actual_rows = actual[table]
        if expected_columns != actual_columns:
            problems.append(f"{table}: columns {actual_columns} != {expected_columns}")
            continue
        if len(expected_rows) != len(actual_rows):
            problems.append(f"{table}: {len(actual_rows)} rows != {len(expected_rows)}")
            continue
        shown = 0
        for left, right in zip(sorted(expected_rows, key=sort_key), sorted(actual_rows, key=sort_key), strict=True):
            differing = [name for name, a, b in zip(expected_columns, left, right, strict=True) if not equal(a, b)]
            if differing and shown < limit:
                shown += 1
                problems.append(f"{table}: " + ", ".join(
                    f"{name} {right[expected_columns.index(name)]!r} != {left[expected_columns.index(name)]!r}"
                    for name in differing))
            elif differing:
                shown += 1
        if shown > limit:
            problems.append(f"{table}: {shown - limit} more differing rows")
    return problems

