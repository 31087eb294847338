"""Write, audit, publish on PostgreSQL: the built marts become the serving schema in one transaction.

Used by ``scripts/nightly.py --target postgres`` after the build. The marts of schema ``marts``
(dbt's build schema) are copied into a new schema, with ``publish_log`` (one row per publish) and
``published_tables`` (row counts), and the new schema takes the serving schema's name in the same
transaction as the old one is dropped. A BI tool reads the serving schema (default ``serving``):
a query that started before the publish finishes on the old tables (the publish waits for it); one
that starts during the publish waits for the commit and reads the new tables; none sees half of
each. A failed publish rolls back and leaves the serving schema as it was. Grants are given again on
every publish to the roles named in $LOYALTY_SERVING_READERS (comma-separated), since the schema is
a new one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

# Any key: one nightly job per database at a time (pg_try_advisory_lock).
JOB_LOCK_KEY = 7_310_442_019


@dataclass(frozen=True)
class PostgresPublish:
    publish_id: str
    as_of_date: str | None
    tables: dict[str, int]
    seconds: float


def connect(env: Mapping[str, str] | None = None):
    """A connection from the PG* variables (of ``env``, by default the process's), with the defaults
    of the profile's postgres target."""
    import psycopg2  # the postgres extra (requirements-engines.lock)

    env = os.environ if env is None else env
    return psycopg2.connect(
        host=env.get("PGHOST", "localhost"), port=int(env.get("PGPORT", "5432")),
        user=env.get("PGUSER", "postgres"), password=env.get("PGPASSWORD", ""),
        dbname=env.get("PGDATABASE", "loyalty"))


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def try_job_lock(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("select pg_try_advisory_lock(%s)", (JOB_LOCK_KEY,))
        return bool(cursor.fetchone()[0])


def mart_tables(connection, schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("select table_name from information_schema.tables where table_schema = %s"
                       " and table_type = 'BASE TABLE' order by 1", (schema,))
        return [row[0] for row in cursor.fetchall()]


def publish(connection, build_schema: str, serving_schema: str, data_dir: str, dbt_invocation: str | None,
            required: tuple[str, ...], readers: list[str]) -> PostgresPublish:
    """Copy ``build_schema``'s tables into a new schema and swap it in as ``serving_schema``, in one
    transaction. Raises LookupError naming the missing marts when the build lacks a required one."""
    started = time.monotonic()
    tables = mart_tables(connection, build_schema)
    missing = sorted(set(required) - set(tables))
    if missing:
        raise LookupError(", ".join(f"{build_schema}.{name}" for name in missing))
    published_at = datetime.now(UTC).replace(tzinfo=None)
    publish_id = published_at.strftime("%Y%m%dT%H%M%S%fZ")
    serving, staged, previous = (identifier(serving_schema), identifier(serving_schema + "__publishing"),
                                 identifier(serving_schema + "__previous"))
    counts = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"drop schema if exists {staged} cascade")
            cursor.execute(f"create schema {staged}")
            for table in tables:
                cursor.execute(f"create table {staged}.{identifier(table)} as "
                               f"select * from {identifier(build_schema)}.{identifier(table)}")
                counts[table] = cursor.rowcount
            # the descriptions dbt's persist_docs wrote go with the copies, for BI tools
            cursor.execute(
                "select c.relname, a.attname, d.description from pg_description d"
                " join pg_class c on c.oid = d.objoid join pg_namespace n on n.oid = c.relnamespace"
                " left join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid and d.objsubid > 0"
                " where n.nspname = %s and c.relname = any(%s)", (build_schema, tables))
            for table, column, description in cursor.fetchall():
                target = f"{staged}.{identifier(table)}" + (f".{identifier(column)}" if column else "")
                cursor.execute(f"comment on {'column' if column else 'table'} {target} is %s", (description,))
            cursor.execute(f"select max(as_of_date) from {staged}.fct_kpi_summary")
            as_of = cursor.fetchone()[0]
            cursor.execute(f"create table {staged}.publish_log (publish_id text, published_at timestamp,"
                           " as_of_date date, input_folder text, dbt_invocation_id text, tables_count integer)")
            cursor.execute(f"create table {staged}.published_tables (publish_id text, table_name text, row_count bigint)")
            cursor.execute("select 1 from information_schema.tables where table_schema = %s and table_name = 'publish_log'",
                           (serving_schema,))
            if cursor.fetchone():
                cursor.execute(f"insert into {staged}.publish_log select * from {serving}.publish_log")
            cursor.execute(f"insert into {staged}.publish_log values (%s, %s, %s, %s, %s, %s)",
                           (publish_id, published_at, as_of, data_dir, dbt_invocation, len(tables)))
            cursor.executemany(f"insert into {staged}.published_tables values (%s, %s, %s)",
                               [(publish_id, table, count) for table, count in counts.items()])
            for role in readers:
                cursor.execute(f"grant usage on schema {staged} to {identifier(role)}")
                cursor.execute(f"grant select on all tables in schema {staged} to {identifier(role)}")
            cursor.execute(f"drop schema if exists {previous} cascade")
            cursor.execute("select 1 from information_schema.schemata where schema_name = %s", (serving_schema,))
            if cursor.fetchone():
                cursor.execute(f"alter schema {serving} rename to {previous}")
            cursor.execute(f"alter schema {staged} rename to {serving}")
            cursor.execute(f"drop schema if exists {previous} cascade")
        connection.commit()
    except Exception:
        connection.rollback()
        raise
    return PostgresPublish(publish_id, str(as_of) if as_of else None, counts, time.monotonic() - started)


def last_publish(connection, serving_schema: str) -> str:
    """One phrase naming what the serving schema holds now."""
    with connection.cursor() as cursor:
        cursor.execute("select 1 from information_schema.tables where table_schema = %s and table_name = 'publish_log'",
                       (serving_schema,))
        if not cursor.fetchone():
            return f"schema {serving_schema} holds no publish yet"
        cursor.execute(f"select publish_id, as_of_date from {identifier(serving_schema)}.publish_log"
                       " order by published_at desc limit 1")
        row = cursor.fetchone()
    return f"schema {serving_schema} still holds publish {row[0]} (as of {row[1]})"
