"""The marts' contracts catch a type that drifted upstream.

A contracted mart ends with an explicit select of its columns, typed where they are computed, so
that dbt's contract check compares what the SQL really produces with the YAML's data_type. (A
final cast of every column to its declared type would turn an upstream drift into a silent cast.)
Here a small demo is built, then an upstream table is changed as a model that drifted would change
it, and the mart is built again: the contract must stop it and name the column.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from dbt_project_runner import REPO, dbt, query

AS_OF = "2025-07-01"
MART = "fct_quarantined_rows"
def declared_columns(area: str) -> dict[str, list[tuple[str, str]]]:
    """(column, data_type) of each model of models/marts/<area>, in YAML order."""
    models = yaml.safe_load((REPO / "models" / "marts" / area / f"_{area}__models.yml").read_text())["models"]
    return {model["name"]: [(column["name"], str(column["data_type"])) for column in model["columns"]]
            for model in models}


def contracted_marts() -> list[tuple[str, str]]:
    """(area, model) of every mart declared in models/marts/<area>/_<area>__models.yml."""
    areas = sorted(path.parent.name for path in (REPO / "models" / "marts").glob("*/_*__models.yml"))
    return [(area, model) for area in areas for model in declared_columns(area)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A small generated demo, the quarantine mart and everything upstream of it built and passing."""
    work = tmp_path_factory.mktemp("contracts")
    data_dir = work / "data"
    subprocess.run([sys.executable, str(REPO / "scripts" / "generate_data.py"), "--out", str(data_dir),
                    "--customers", "200", "--seed", "7", "--end-date", "2025-06-30", "--quiet"], check=True)
    database = work / "contracts.duckdb"
    # cautious: only the data tests whose every parent is selected
    result = dbt(["build", "--select", f"+{MART}", "--indirect-selection", "cautious",
                  "--vars", json.dumps({"as_of_date": AS_OF})],
                 data_dir, database, work)
    statuses = {entry["unique_id"]: entry["status"]
                for entry in json.loads((work / "target" / "run_results.json").read_text())["results"]}
    return {"work": work, "data_dir": data_dir, "database": database, "statuses": statuses, "stdout": result.stdout}


def rebuild_mart(built: dict) -> subprocess.CompletedProcess:
    """``dbt run`` of the mart alone, on the built database (the same path each time: a changed
    profile would cost dbt a full parse)."""
    return dbt(["run", "--select", MART, "--vars", json.dumps({"as_of_date": AS_OF})],
               built["data_dir"], built["database"], built["work"], check=False)


def test_the_unmodified_project_passes_its_contract(built: dict) -> None:
    assert built["statuses"][f"model.loyalty_segments.{MART}"] == "success"
    assert all(status in ("success", "pass") for status in built["statuses"].values()), built["statuses"]
    # the demo plants bad order rows: the quarantine holds some (and their row numbers)
    assert query(built["database"], f"select count(source_row_number) > 0 from marts.{MART} where entity = 'orders'"
                 ) == [(True,)]
    # and the built table has the declared types (independently of dbt: DuckDB's catalog)
    actual = query(built["database"], "select column_name, data_type from duckdb_columns()"
                   f" where schema_name = 'marts' and table_name = '{MART}' order by column_index")
    declared = declared_columns("quality")[MART]
    assert [name for name, _ in actual] == [name for name, _ in declared]
    types = {"varchar": "VARCHAR", "bigint": "BIGINT", "boolean": "BOOLEAN"}
    engine_type = "{{ var('engine_types')[target.type].text }}"
    for (name, actual_type), (_, declared_type) in zip(actual, declared, strict=True):
        expected = "VARCHAR" if declared_type == engine_type else types[declared_type]
        assert actual_type == expected, name


def test_the_mart_rebuilds_on_its_unchanged_upstream(built: dict) -> None:
    """The control of the drift test below: the same rebuild, without the drift, succeeds."""
    rebuilt = rebuild_mart(built)
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]


def test_an_upstream_type_drift_fails_the_contract(built: dict, tmp_path: Path) -> None:
    # The base model of the orders file delivers source_row_number (a row count, bigint) as text,
    # as a changed model upstream would; the database is restored afterwards.
    database = built["database"]
    backup = tmp_path / "before_drift.duckdb"
    shutil.copyfile(database, backup)
    try:
        with duckdb.connect(str(database)) as connection:
            connection.execute("alter table staging.base_shop__orders_checked"
                               " alter source_row_number set data type varchar")
            assert connection.execute("select data_type from duckdb_columns() where table_name ="
                                      " 'base_shop__orders_checked' and column_name = 'source_row_number'"
                                      ).fetchone() == ("VARCHAR",)
        drifted = rebuild_mart(built)
        assert drifted.returncode != 0, drifted.stdout[-3000:]
        assert "This model has an enforced contract that failed" in drifted.stdout, drifted.stdout[-3000:]
        # dbt's table of mismatches: the drifted column, the type the SQL gives, the declared one
        mismatch = re.search(r"\|\s*source_row_number\s*\|\s*VARCHAR\s*\|\s*BIGINT\s*\|\s*data type mismatch",
                             drifted.stdout)
        assert mismatch, drifted.stdout[-3000:]
        # the mart was not replaced: the table still has the declared type
        assert query(database, "select data_type from duckdb_columns() where schema_name = 'marts' and"
                     f" table_name = '{MART}' and column_name = 'source_row_number'") == [("BIGINT",)]
    finally:
        shutil.copyfile(backup, database)


def test_every_mart_is_found() -> None:
    marts = contracted_marts()
    assert len(marts) >= 12 and ("quality", MART) in marts and ("offers", "fct_offer_assignments") in marts


@pytest.mark.parametrize("area,model", contracted_marts())
def test_the_mart_ends_with_an_explicit_select_of_its_declared_columns(area: str, model: str) -> None:
    sql = (REPO / "models" / "marts" / area / f"{model}.sql").read_text()
    assert "select_contract_columns" not in sql
    final_select = sql[sql.rindex("\nselect\n"):]
    assert re.search(r"^from \w+\s*$", final_select, flags=re.MULTILINE), final_select
    # one bare column a line: no expression, cast or `*` in the published list
    listed = re.findall(r"^    (\S+?),?$", final_select, flags=re.MULTILINE)
    assert listed == [name for name, _ in declared_columns(area)[model]]
