"""Tests of scripts/check_project.py.

A small synthetic manifest that follows every rule must pass; each test breaks one rule in a
copy of it and expects exactly the violations of that rule, on the right node. The last test
parses the real project with `dbt parse` and runs the checker on its manifest.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "check_project.py"

_spec = importlib.util.spec_from_file_location("check_project", SCRIPT)
assert _spec is not None and _spec.loader is not None
check_project = importlib.util.module_from_spec(_spec)
sys.modules["check_project"] = check_project
_spec.loader.exec_module(check_project)

PKG = "loyalty_segments"
Manifest = dict[str, Any]


# --- a clean synthetic manifest ------------------------------------------------------------


def _columns(names: list[str], data_type: str | None = None) -> dict[str, Any]:
    return {
        name: {"name": name, "description": f"The {name}.", "data_type": data_type}
        for name in names
    }


def _model(path: str, parents: list[str], columns: list[str], *, package: str = PKG,
           enforced: bool = False, data_type: str | None = None, raw_code: str = "select 1") -> dict[str, Any]:
    name = path.rsplit("/", 1)[-1].removesuffix(".sql")
    return {
        "unique_id": f"model.{package}.{name}",
        "resource_type": "model",
        "package_name": package,
        "name": name,
        "path": path,
        "original_file_path": f"models/{path}",
        "description": f"The {name} model.",
        "columns": _columns(columns, data_type),
        "config": {"materialized": "table", "contract": {"enforced": enforced}},
        "depends_on": {"macros": [], "nodes": parents},
        "raw_code": raw_code,
    }


def _test(name: str, model_id: str, column: str | None = None, **kwargs: Any) -> dict[str, Any]:
    unique_id = f"test.{PKG}.{name}_{model_id.split('.')[-1]}_{column or 'x'}.abc123"
    if column:
        kwargs["column_name"] = column
    return {
        "unique_id": unique_id,
        "resource_type": "test",
        "package_name": PKG,
        "name": unique_id.split(".")[2],
        "column_name": column,
        "attached_node": model_id,
        "test_metadata": {"name": name, "kwargs": kwargs, "namespace": None},
        "depends_on": {"macros": [f"macro.dbt.test_{name}"], "nodes": [model_id]},
    }


def _macro(name: str, path: str, description: str, package: str = PKG) -> dict[str, Any]:
    return {
        "unique_id": f"macro.{package}.{name}",
        "package_name": package,
        "name": name,
        "original_file_path": path,
        "description": description,
    }


BASE = "model.loyalty_segments.base_shop__orders_checked"
STG = "model.loyalty_segments.stg_shop__orders"
STG_LINES = "model.loyalty_segments.stg_shop__order_lines"
INT = "model.loyalty_segments.int_orders_measured"
DIM = "model.loyalty_segments.dim_customers"
FCT = "model.loyalty_segments.fct_kpis_monthly"
SEED = "seed.loyalty_segments.currencies"
SOURCE = "source.loyalty_segments.shop.orders"
SOURCE_LINES = "source.loyalty_segments.shop.order_lines"
OTHER_SOURCE = "source.loyalty_segments.crm.contacts"
MACRO = "macro.loyalty_segments.as_of_date"
GENERIC_TEST = "macro.loyalty_segments.test_accepted_range"


def clean_manifest() -> Manifest:
    """A manifest of every kind of node this project has, breaking no rule."""
    base_lines = _model("staging/shop/base/base_shop__order_lines_checked.sql", [SOURCE_LINES],
                        ["order_id", "source_file", "source_row_number"])
    models = [
        _model("staging/shop/base/base_shop__orders_checked.sql", [SOURCE, SEED],
               ["order_id", "source_file", "source_row_number"]),
        base_lines,
        _model("staging/shop/stg_shop__orders.sql", [BASE, SEED], ["order_id", "amount"]),
        _model("staging/shop/stg_shop__order_lines.sql", [base_lines["unique_id"]], ["order_id"]),
        _model("intermediate/orders/int_orders_measured.sql", [STG, STG_LINES], ["order_id", "amount"],
               raw_code="-- never current_date: the scoring date is a var\n"
                        "select *, {{ var('as_of_date') }} as as_of_date from {{ ref('x') }}"),
        _model("marts/customers/dim_customers.sql", [INT, STG, SEED], ["customer_id"],
               enforced=True, data_type="varchar"),
        _model("marts/kpis/fct_kpis_monthly.sql", [DIM, INT], ["month", "customer_id"],
               enforced=True, data_type="date"),
        # Another package's model breaks every rule and must be ignored.
        _model("whatever/Bad_Name.sql", [SOURCE, DIM], [], package="other_package",
               raw_code="select current_date"),
    ]
    tests = [
        _test("unique_combination_of_columns", BASE,
              combination_of_columns=["source_file", "source_row_number"]),
        _test("unique_combination_of_columns", models[1]["unique_id"],
              combination_of_columns=["source_file", "source_row_number"]),
        _test("unique", STG, "order_id"), _test("not_null", STG, "order_id"),
        _test("unique", STG_LINES, "order_id"), _test("not_null", STG_LINES, "order_id"),
        _test("unique", INT, "order_id"), _test("not_null", INT, "order_id"),
        _test("unique", DIM, "customer_id"), _test("not_null", DIM, "customer_id"),
        _test("unique_combination_of_columns", FCT, combination_of_columns=["month", "customer_id"]),
        _test("accepted_values", FCT, "month", values=["a"]),
    ]
    seed = {
        "unique_id": SEED, "resource_type": "seed", "package_name": PKG, "name": "currencies",
        "path": "currencies.csv", "description": "Exchange rates.",
        "columns": _columns(["currency_code", "rate"]), "config": {"materialized": "seed"},
        "depends_on": {"macros": [], "nodes": []},
    }
    operation = {
        "unique_id": f"operation.{PKG}.{PKG}-on-run-start-0", "resource_type": "operation",
        "package_name": PKG, "name": "on-run-start-0", "path": "hooks/on-run-start-0.sql",
        "depends_on": {"macros": [], "nodes": []}, "raw_code": "select current_timestamp",
    }
    sources = {
        unique_id: {
            "unique_id": unique_id, "resource_type": "source", "package_name": PKG,
            "source_name": unique_id.split(".")[2], "name": unique_id.split(".")[3],
            "description": "Raw rows.", "columns": {},
        }
        for unique_id in (SOURCE, SOURCE_LINES, OTHER_SOURCE)
    }
    sources["source.other_package.raw.things"] = {
        "unique_id": "source.other_package.raw.things", "package_name": "other_package",
        "source_name": "raw", "name": "things", "description": "",
    }
    macros = [
        _macro("as_of_date", "macros/cross_db/as_of_date.sql", "The scoring date."),
        # A dispatched macro's adapter implementations are covered by its description.
        _macro("default__as_of_date", "macros/cross_db/as_of_date.sql", ""),
        _macro("duckdb__as_of_date", "macros/cross_db/as_of_date.sql", ""),
        _macro("test_accepted_range", "tests/generic/accepted_range.sql", "Values within bounds."),
        _macro("test_unique", "macros/generic_test_sql/unique.sql", "", package="dbt"),
    ]
    nodes = {node["unique_id"]: node for node in [*models, *tests, seed, operation]}
    return {
        "metadata": {"dbt_version": "1.11.0", "project_name": PKG},
        "nodes": nodes,
        "sources": sources,
        "macros": {macro["unique_id"]: macro for macro in macros},
    }


def clean_catalog(manifest: Manifest) -> dict[str, Any]:
    """A catalog whose relations have exactly the documented columns, upper-cased as some engines do."""
    nodes = {}
    for unique_id, node in manifest["nodes"].items():
        if node["package_name"] == PKG and node["resource_type"] in ("model", "seed"):
            nodes[unique_id] = {
                "unique_id": unique_id,
                "columns": {
                    name.upper(): {"name": name.upper(), "type": "VARCHAR", "index": index}
                    for index, name in enumerate(node["columns"], start=1)
                },
            }
    return {"metadata": {}, "nodes": nodes, "sources": {}}


def found(manifest: Manifest, catalog: dict[str, Any] | None = None) -> set[tuple[str, str]]:
    return {(v.rule, v.node) for v in check_project.check_project(manifest, catalog)}


def messages(manifest: Manifest, catalog: dict[str, Any] | None = None) -> list[str]:
    return [v.message for v in check_project.check_project(manifest, catalog)]


# --- the clean manifest passes -------------------------------------------------------------


def test_clean_manifest_has_no_violations() -> None:
    manifest = clean_manifest()
    assert check_project.check_project(manifest) == []
    assert check_project.check_project(manifest, clean_catalog(manifest)) == []


def test_summary_counts_only_the_project() -> None:
    manifest = clean_manifest()
    summary = check_project.summarize(manifest)
    assert (summary.models, summary.seeds, summary.sources, summary.macros) == (7, 1, 3, 4)
    assert summary.columns == 3 + 3 + 2 + 1 + 2 + 1 + 2


# --- one broken rule at a time -------------------------------------------------------------


def _move(manifest: Manifest, unique_id: str, path: str) -> None:
    node = manifest["nodes"].pop(unique_id)
    name = path.rsplit("/", 1)[-1].removesuffix(".sql")
    node.update(name=name, path=path, unique_id=f"model.{PKG}.{name}")
    manifest["nodes"][node["unique_id"]] = node
    for other in manifest["nodes"].values():
        other["depends_on"]["nodes"] = [
            node["unique_id"] if parent == unique_id else parent for parent in other["depends_on"]["nodes"]
        ]
        if other.get("attached_node") == unique_id:
            other["attached_node"] = node["unique_id"]


def _add_parent(unique_id: str, parent: str) -> Callable[[Manifest], None]:
    return lambda manifest: manifest["nodes"][unique_id]["depends_on"]["nodes"].append(parent)


def _set(unique_id: str, *keys: str, value: Any) -> Callable[[Manifest], None]:
    def mutate(manifest: Manifest) -> None:
        target = manifest["nodes"][unique_id] if unique_id in manifest["nodes"] else (
            manifest["sources"].get(unique_id) or manifest["macros"][unique_id])
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return mutate


def _drop_tests(unique_id: str, *names: str) -> Callable[[Manifest], None]:
    def mutate(manifest: Manifest) -> None:
        manifest["nodes"] = {
            key: node for key, node in manifest["nodes"].items()
            if not (node.get("attached_node") == unique_id and node["test_metadata"]["name"] in names)
        }
    return mutate


def _stg_tests_on_different_columns(manifest: Manifest) -> None:
    for node in manifest["nodes"].values():
        if node.get("attached_node") == STG and node["test_metadata"]["name"] == "not_null":
            node["column_name"] = "amount"
            node["test_metadata"]["kwargs"]["column_name"] = "amount"


BROKEN = {
    # 1. naming
    "staging model without the double underscore": (
        lambda m: _move(m, STG, "staging/shop/stg_shop_orders.sql"),
        {("naming", "model.loyalty_segments.stg_shop_orders")},
    ),
    "base model outside staging/<source>/base": (
        lambda m: _move(m, BASE, "staging/shop/base_shop__orders_checked.sql"),
        {("naming", BASE)},
    ),
    "staging model in another source's folder": (
        lambda m: _move(m, STG, "staging/crm/stg_shop__orders.sql"),
        {("naming", STG)},
    ),
    "intermediate model without int_": (
        lambda m: _move(m, INT, "intermediate/orders/orders_measured.sql"),
        {("naming", "model.loyalty_segments.orders_measured")},
    ),
    "intermediate model without an area folder": (
        lambda m: _move(m, INT, "intermediate/int_orders_measured.sql"),
        {("naming", INT)},
    ),
    "mart neither dim_ nor fct_": (
        lambda m: _move(m, FCT, "marts/kpis/agg_kpis_monthly.sql"),
        {("naming", "model.loyalty_segments.agg_kpis_monthly")},
    ),
    "model outside the three layers": (
        lambda m: _move(m, INT, "reports/int_orders_measured.sql"),
        {("naming", INT)},
    ),
    # 2. source reads
    "intermediate model reads a source": (
        _add_parent(INT, SOURCE), {("source_reads", INT)},
    ),
    "mart reads a source": (
        _add_parent(DIM, SOURCE), {("source_reads", DIM)},
    ),
    "base model reads another source system": (
        _add_parent(BASE, OTHER_SOURCE), {("source_reads", BASE)},
    ),
    # 3. layering
    "staging model reads another staging model": (
        _add_parent(STG, STG_LINES), {("layering", STG)},
    ),
    "staging model reads a base model of another source": (
        lambda m: (_move(m, STG_LINES, "staging/crm/stg_crm__contacts.sql"),
                   _add_parent("model.loyalty_segments.stg_crm__contacts", BASE)(m)),
        {("layering", "model.loyalty_segments.stg_crm__contacts")},
    ),
    "intermediate model reads a mart": (
        _add_parent(INT, DIM), {("layering", INT)},
    ),
    "staging model reads an intermediate model": (
        _add_parent(STG, INT), {("layering", STG)},
    ),
    # 4. primary-key test
    "model with unique but no not_null": (
        _drop_tests(STG, "not_null"), {("primary_key_test", STG)},
    ),
    "unique and not_null on different columns": (
        _stg_tests_on_different_columns, {("primary_key_test", STG)},
    ),
    "unique_combination_of_columns without columns": (
        lambda m: [node["test_metadata"]["kwargs"].update(combination_of_columns=[])
                   for node in m["nodes"].values() if node.get("attached_node") == FCT],
        {("primary_key_test", FCT)},
    ),
    # 5. documentation (without a catalog)
    "model without a description": (
        _set(INT, "description", value="  "), {("documentation", INT)},
    ),
    "model column without a description": (
        _set(DIM, "columns", "customer_id", "description", value=""), {("documentation", DIM)},
    ),
    "seed without a description": (
        _set(SEED, "description", value=""), {("documentation", SEED)},
    ),
    "source table without a description": (
        _set(SOURCE, "description", value=""), {("documentation", SOURCE)},
    ),
    # 6. marts
    "mart without an enforced contract": (
        _set(FCT, "config", "contract", "enforced", value=False), {("marts_contract", FCT)},
    ),
    "mart column without a data_type": (
        _set(DIM, "columns", "customer_id", "data_type", value=None), {("marts_contract", DIM)},
    ),
    # 7. today
    "model reading current_date": (
        _set(INT, "raw_code", value="select * from x where d <= current_date"), {("hard_coded_today", INT)},
    ),
    "model calling now()": (
        _set(STG, "raw_code", value="select NOW ( ) as loaded_at"), {("hard_coded_today", STG)},
    ),
    "model using dbt.current_timestamp()": (
        _set(FCT, "raw_code", value="select {{ dbt.current_timestamp() }}"), {("hard_coded_today", FCT)},
    ),
    # 8. macros
    "macro without a description": (
        _set(MACRO, "description", value=""), {("macro_docs", MACRO)},
    ),
    "generic test without a description": (
        _set(GENERIC_TEST, "description", value=""), {("macro_docs", GENERIC_TEST)},
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_each_broken_rule_fires_on_its_node(case: str) -> None:
    mutate, expected = BROKEN[case]
    manifest = clean_manifest()
    mutate(manifest)
    assert found(manifest) == expected


def test_every_rule_has_a_breaking_case() -> None:
    fired = {rule for _, expected in BROKEN.values() for rule, _ in expected}
    assert fired == set(check_project.RULES)


def test_comments_do_not_count_as_reading_the_clock() -> None:
    manifest = clean_manifest()
    manifest["nodes"][INT]["raw_code"] = (
        "{# not current_date #} /* nor now() */ select now_playing, today_flag -- current_timestamp\n"
    )
    assert found(manifest) == set()


def test_dispatch_implementation_without_its_dispatcher_needs_a_description() -> None:
    manifest = clean_manifest()
    del manifest["macros"][MACRO]
    assert found(manifest) == {
        ("macro_docs", "macro.loyalty_segments.default__as_of_date"),
        ("macro_docs", "macro.loyalty_segments.duckdb__as_of_date"),
    }


def test_test_without_attached_node_is_matched_through_depends_on() -> None:
    manifest = clean_manifest()
    for node in manifest["nodes"].values():
        node.pop("attached_node", None)
    assert found(manifest) == set()


# --- documentation against a catalog -------------------------------------------------------


def test_catalog_column_missing_from_the_yaml_is_reported() -> None:
    manifest = clean_manifest()
    catalog = clean_catalog(manifest)
    catalog["nodes"][INT]["columns"]["NET_AMOUNT"] = {"name": "NET_AMOUNT", "type": "DOUBLE", "index": 9}
    assert found(manifest, catalog) == {("documentation", INT)}
    assert messages(manifest, catalog) == ["model column net_amount is not documented"]


def test_yaml_column_missing_from_the_relation_is_reported() -> None:
    manifest = clean_manifest()
    catalog = clean_catalog(manifest)
    del catalog["nodes"][STG]["columns"]["AMOUNT"]
    assert messages(manifest, catalog) == ["model column amount is documented but not in the built relation"]


def test_seed_column_undocumented_with_catalog() -> None:
    manifest = clean_manifest()
    catalog = clean_catalog(manifest)
    del manifest["nodes"][SEED]["columns"]["rate"]
    assert found(manifest) == set()
    assert found(manifest, catalog) == {("documentation", SEED)}


def test_node_missing_from_the_catalog_falls_back_to_the_yaml() -> None:
    manifest = clean_manifest()
    catalog = clean_catalog(manifest)
    del catalog["nodes"][DIM]
    assert found(manifest, catalog) == set()
    manifest["nodes"][DIM]["columns"]["customer_id"]["description"] = ""
    assert found(manifest, catalog) == {("documentation", DIM)}
    assert check_project.models_missing_from_catalog(manifest, catalog) == [DIM]


# --- command line --------------------------------------------------------------------------


def test_cli_exit_codes_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = clean_manifest()
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    assert check_project.main(["--manifest", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 7 models, 14 model columns, 1 seeds, 3 source tables, 4 macros checked")

    manifest["nodes"][INT]["raw_code"] = "select current_date"
    manifest["nodes"][SEED]["description"] = ""
    path.write_text(json.dumps(manifest))
    assert check_project.main(["--manifest", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"documentation  {SEED}  seed has no description",
        f"hard_coded_today  {INT}  uses current_date; use var('as_of_date') for today",
    ]
    assert captured.err.startswith("2 violations on 2 nodes")

    assert check_project.main(["--manifest", str(tmp_path / "missing.json")]) == 2
    assert "file not found" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{")
    assert check_project.main(["--manifest", str(tmp_path / "bad.json")]) == 2


def test_cli_help_runs_as_a_script() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], check=False, capture_output=True, text=True)
    assert result.returncode == 0
    assert "--catalog" in result.stdout and "--manifest" in result.stdout


# --- the real project ----------------------------------------------------------------------


def test_real_project_manifest(tmp_path: Path) -> None:
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO_ROOT / "profiles"), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "parse", "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
         "--no-use-colors", "--no-partial-parse"],
        check=False, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"dbt parse failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    manifest = check_project.load_json(tmp_path / "target" / "manifest.json")
    violations = check_project.check_project(manifest)
    assert isinstance(violations, list)
    assert all(isinstance(violation, check_project.Violation) for violation in violations)
    assert check_project.summarize(manifest).models > 0
    print(f"\n{len(violations)} violations on the real project:")
    for violation in violations:
        print(violation.format())
