"""Check the dbt project's structure against its house rules, from the manifest.

The rules follow dbt-labs/dbt-project-evaluator, adapted to this project's layout:

  naming            staging/<source>/stg_<source>__<entity>, staging/<source>/base/
                    base_<source>__<entity>_checked, intermediate/<area>/int_*,
                    marts/<area>/dim_* or fct_*; no other model folders
  source_reads      only staging models read sources, and only their own source
  layering          stg_ models read only sources, seeds and base_ models of their source;
                    base_ models read only sources, seeds and base_ models of their source;
                    no model reads a later layer (staging < intermediate < marts)
  primary_key_test  every model has unique + not_null on one column, or
                    unique_combination_of_columns
  documentation     models, seeds and source tables have descriptions; every column is
                    documented (columns of the built relations when --catalog is given)
  marts_contract    marts enforce their contract and give every column a data_type
  hard_coded_today  no model uses current_date, current_timestamp, now() and the like
                    ("today" is var('as_of_date'))
  macro_docs        every macro in macros/ and every generic test in tests/generic/ has a
                    description; adapter implementations of a dispatched macro
                    (default__x, postgres__x) are covered by the dispatcher's description

Only nodes of the project's own package are checked. Usage:

    dbt parse --target-path target/check
    python scripts/check_project.py --manifest target/check/manifest.json \
        [--catalog target/catalog.json]

Prints one line per violation, `RULE  node  message`, and exits 1 when there is any; otherwise
prints a one-line summary and exits 0. Exits 2 when the manifest or catalog cannot be read.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = "loyalty_segments"

Manifest = dict[str, Any]
Catalog = dict[str, Any]
Node = dict[str, Any]

RULES = (
    "naming",
    "source_reads",
    "layering",
    "primary_key_test",
    "documentation",
    "marts_contract",
    "hard_coded_today",
    "macro_docs",
)

_WORD = r"[a-z0-9]+(?:_[a-z0-9]+)*"
STG_NAME = re.compile(rf"^stg_(?P<source>{_WORD})__(?P<entity>{_WORD})$")
BASE_NAME = re.compile(rf"^base_(?P<source>{_WORD})__(?P<entity>{_WORD})_checked$")
INT_NAME = re.compile(rf"^int_{_WORD}$")
MART_NAME = re.compile(rf"^(?:dim|fct)_{_WORD}$")

LAYER_RANK = {"staging": 0, "intermediate": 1, "marts": 2}

# Functions that read the clock. `now()` and `today()` only with their parentheses, so a column
# called `now_playing` or `today_flag` is not taken for one.
TODAY_PATTERN = re.compile(
    r"\b(?:current_date|current_timestamp|localtimestamp|getdate|sysdate)\b"
    r"|\b(?:now|today)\s*\(",
    re.IGNORECASE,
)
# Comments are removed before looking for the clock: explaining why current_date is not used is
# fine. Jinja comments first, since they may contain SQL comment markers.
COMMENT_PATTERN = re.compile(r"\{#.*?#\}|/\*.*?\*/|--[^\n]*", re.DOTALL)
DISPATCH_IMPLEMENTATION = re.compile(r"^(?P<adapter>[a-z0-9]+)__(?P<macro>[a-z0-9_]+)$")


@dataclass(frozen=True, order=True)
class Violation:
    """One broken rule: which rule, on which node (its unique_id) and what is wrong."""

    rule: str
    node: str
    message: str

    def format(self) -> str:
        return f"{self.rule}  {self.node}  {self.message}"


@dataclass(frozen=True)
class Summary:
    """What was checked, for the closing line."""

    models: int
    columns: int
    seeds: int
    sources: int
    macros: int

    def format(self) -> str:
        return (
            f"{self.models} models, {self.columns} model columns, {self.seeds} seeds, "
            f"{self.sources} source tables, {self.macros} macros checked"
        )


# --- reading the manifest ------------------------------------------------------------------


def load_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; ValueError with the path when it is missing or not JSON."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ValueError(f"{path}: file not found") from error
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(data, dict) or "nodes" not in data:
        raise ValueError(f"{path}: not a dbt manifest or catalog (no 'nodes')")
    return data


def project_nodes(manifest: Manifest, resource_type: str, package: str = PACKAGE) -> dict[str, Node]:
    """The project's own nodes of one resource type, by unique_id."""
    return {
        unique_id: node
        for unique_id, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") == resource_type and node.get("package_name") == package
    }


def project_sources(manifest: Manifest, package: str = PACKAGE) -> dict[str, Node]:
    return {
        unique_id: source
        for unique_id, source in manifest.get("sources", {}).items()
        if source.get("package_name") == package
    }


def project_macros(manifest: Manifest, package: str = PACKAGE) -> dict[str, Node]:
    return {
        unique_id: macro
        for unique_id, macro in manifest.get("macros", {}).items()
        if macro.get("package_name") == package
    }


def model_path(node: Node) -> tuple[str, ...]:
    """Folders and file of a model relative to its model path: ('marts', 'kpis', 'fct_x.sql')."""
    return tuple(part for part in str(node.get("path", "")).replace("\\", "/").split("/") if part)


def model_layer(node: Node) -> str | None:
    """staging, intermediate or marts from the model's top folder; None for any other folder."""
    parts = model_path(node)
    if len(parts) > 1 and parts[0] in LAYER_RANK:
        return parts[0]
    return None


def source_system(node: Node) -> str | None:
    """The <source> a staging model's name declares (stg_<source>__x, base_<source>__x_checked)."""
    name = node.get("name", "")
    match = STG_NAME.match(name) or BASE_NAME.match(name)
    return match.group("source") if match else None


def staging_source(node: Node) -> str | None:
    """The source a staging model belongs to: from its name, else from its staging/<source>/ folder."""
    declared = source_system(node)
    if declared is not None:
        return declared
    parts = model_path(node)
    return parts[1] if len(parts) > 2 and parts[0] == "staging" else None


def parents(node: Node) -> list[str]:
    return list((node.get("depends_on") or {}).get("nodes") or [])


def is_blank(text: object) -> bool:
    return not isinstance(text, str) or not text.strip()


def strip_comments(code: str) -> str:
    return COMMENT_PATTERN.sub(" ", code)


# --- the rules -----------------------------------------------------------------------------


def check_naming(manifest: Manifest, package: str = PACKAGE) -> Iterator[Violation]:
    """Rule 1: names and folders of models."""
    for unique_id, node in project_nodes(manifest, "model", package).items():
        name = node.get("name", "")
        parts = model_path(node)
        folders = parts[:-1]
        layer = model_layer(node)
        where = "/".join(parts)
        if layer is None:
            yield Violation(
                "naming", unique_id,
                f"{where} is outside models/staging, models/intermediate and models/marts",
            )
        elif layer == "staging":
            stg, base = STG_NAME.match(name), BASE_NAME.match(name)
            if not (stg or base):
                yield Violation(
                    "naming", unique_id,
                    f"staging model {name} is not stg_<source>__<entity> or "
                    "base_<source>__<entity>_checked",
                )
                continue
            match = stg or base
            assert match is not None
            expected = ("staging", match.group("source")) + (("base",) if base else ())
            if folders != expected:
                yield Violation(
                    "naming", unique_id,
                    f"{name} is in {'/'.join(folders)}/, expected {'/'.join(expected)}/",
                )
        else:
            pattern, expected_name = (
                (INT_NAME, "int_*") if layer == "intermediate" else (MART_NAME, "dim_* or fct_*")
            )
            if not pattern.match(name):
                yield Violation("naming", unique_id, f"{layer} model {name} is not named {expected_name}")
            if len(folders) != 2:
                yield Violation(
                    "naming", unique_id,
                    f"{where} should sit in exactly one area folder: {layer}/<area>/{name}.sql",
                )


def check_source_reads(manifest: Manifest, package: str = PACKAGE) -> Iterator[Violation]:
    """Rule 2: only staging models read sources, each only the source named in it."""
    sources = manifest.get("sources", {})
    for unique_id, node in project_nodes(manifest, "model", package).items():
        read = [parent for parent in parents(node) if parent.startswith("source.")]
        if not read:
            continue
        if model_layer(node) != "staging":
            for source_id in read:
                yield Violation(
                    "source_reads", unique_id,
                    f"reads source {source_id.split('.', 2)[-1]} directly; only staging models read "
                    "sources",
                )
            continue
        declared = source_system(node)
        for source_id in read:
            source_name = sources.get(source_id, {}).get("source_name")
            if declared is not None and source_name is not None and source_name != declared:
                yield Violation(
                    "source_reads", unique_id,
                    f"reads source {source_id.split('.', 2)[-1]}, not of the '{declared}' source "
                    "its name declares",
                )


def check_layering(manifest: Manifest, package: str = PACKAGE) -> Iterator[Violation]:
    """Rule 3: what each layer may read."""
    models = project_nodes(manifest, "model", package)
    for unique_id, node in models.items():
        layer = model_layer(node)
        name = node.get("name", "")
        for parent_id in parents(node):
            parent = models.get(parent_id)
            if parent is None:
                # Seeds may feed any layer; sources are rule 2's business; other packages'
                # nodes are not checked.
                continue
            parent_layer = model_layer(parent)
            parent_name = parent.get("name", "")
            if (
                layer is not None
                and parent_layer is not None
                and LAYER_RANK[parent_layer] > LAYER_RANK[layer]
            ):
                yield Violation(
                    "layering", unique_id,
                    f"{layer} model reads {parent_layer} model {parent_name} (a later layer)",
                )
                continue
            if layer != "staging":
                continue
            is_base = name.startswith("base_")
            parent_is_base = parent_name.startswith("base_") and parent_layer == "staging"
            if not parent_is_base:
                kind = "base" if is_base else "staging"
                yield Violation(
                    "layering", unique_id,
                    f"{kind} model reads model {parent_name}; staging reads only sources, seeds and "
                    "base_ models of its own source",
                )
            elif staging_source(node) != staging_source(parent):
                yield Violation(
                    "layering", unique_id,
                    f"reads {parent_name}, a base model of another source",
                )


def _attached_tests(manifest: Manifest) -> dict[str, list[Node]]:
    """Generic tests by the node they are attached to."""
    attached: dict[str, list[Node]] = defaultdict(list)
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "test" or not node.get("test_metadata"):
            continue
        target = node.get("attached_node")
        if not target:
            tested = [parent for parent in parents(node) if not parent.startswith("macro.")]
            target = tested[0] if len(tested) == 1 else None
        if target:
            attached[target].append(node)
    return attached


def has_primary_key_test(tests: Iterable[Node]) -> bool:
    """unique and not_null on the same column, or a non-empty unique_combination_of_columns."""
    columns_by_test: dict[str, set[str]] = defaultdict(set)
    for test in tests:
        metadata = test.get("test_metadata") or {}
        name = metadata.get("name")
        kwargs = metadata.get("kwargs") or {}
        if name == "unique_combination_of_columns" and kwargs.get("combination_of_columns"):
            return True
        if name in ("unique", "not_null"):
            column = test.get("column_name") or kwargs.get("column_name")
            if column:
                columns_by_test[name].add(str(column).strip('"`[]').lower())
    return bool(columns_by_test["unique"] & columns_by_test["not_null"])


def check_primary_key_tests(manifest: Manifest, package: str = PACKAGE) -> Iterator[Violation]:
    """Rule 4: every model has a primary-key test."""
    tests = _attached_tests(manifest)
    for unique_id in project_nodes(manifest, "model", package):
        if not has_primary_key_test(tests.get(unique_id, [])):
            yield Violation(
                "primary_key_test", unique_id,
                "no unique + not_null test on one column and no unique_combination_of_columns test",
            )


def _catalog_columns(catalog: Catalog | None, unique_id: str) -> list[str] | None:
    """Column names of the built relation, in order; None without a catalog entry."""
    if catalog is None:
        return None
    entry = catalog.get("nodes", {}).get(unique_id)
    if entry is None:
        return None
    columns = entry.get("columns") or {}
    ordered = sorted(columns.values(), key=lambda column: column.get("index", 0))
    return [str(column.get("name", "")) for column in ordered]


def _column_violations(
    unique_id: str, kind: str, node: Node, catalog: Catalog | None,
) -> Iterator[Violation]:
    documented = {name.lower(): column for name, column in (node.get("columns") or {}).items()}
    actual = _catalog_columns(catalog, unique_id)
    if actual is None:
        for name, column in documented.items():
            if is_blank(column.get("description")):
                yield Violation("documentation", unique_id, f"{kind} column {name} has no description")
        return
    actual_lower = [name.lower() for name in actual]
    for name in actual_lower:
        column = documented.get(name)
        if column is None:
            yield Violation("documentation", unique_id, f"{kind} column {name} is not documented")
        elif is_blank(column.get("description")):
            yield Violation("documentation", unique_id, f"{kind} column {name} has no description")
    for name in documented:
        if name not in actual_lower:
            yield Violation(
                "documentation", unique_id,
                f"{kind} column {name} is documented but not in the built relation",
            )


def check_documentation(
    manifest: Manifest, catalog: Catalog | None = None, package: str = PACKAGE,
) -> Iterator[Violation]:
    """Rule 5: descriptions of models, seeds, source tables and their columns."""
    for kind in ("model", "seed"):
        for unique_id, node in project_nodes(manifest, kind, package).items():
            if is_blank(node.get("description")):
                yield Violation("documentation", unique_id, f"{kind} has no description")
            yield from _column_violations(unique_id, kind, node, catalog)
    for unique_id, source in project_sources(manifest, package).items():
        if is_blank(source.get("description")):
            yield Violation("documentation", unique_id, "source table has no description")


def check_marts_contract(manifest: Manifest, package: str = PACKAGE) -> Iterator[Violation]:
    """Rule 6: marts enforce a contract with a data_type on every column."""
    for unique_id, node in project_nodes(manifest, "model", package).items():
        if model_layer(node) != "marts":
            continue
        contract = (node.get("config") or {}).get("contract") or {}
        if contract.get("enforced") is not True:
            yield Violation("marts_contract", unique_id, "contract is not enforced")
        columns = node.get("columns") or {}
        if not columns:
            yield Violation("marts_contract", unique_id, "declares no columns")
        for name, column in columns.items():
            if is_blank(column.get("data_type")):
                yield Violation("marts_contract", unique_id, f"column {name} has no data_type")


def check_hard_coded_today(manifest: Manifest, package: str = PACKAGE) -> Iterator[Violation]:
    """Rule 7: no model reads the clock; "today" is var('as_of_date')."""
    for unique_id, node in project_nodes(manifest, "model", package).items():
        code = strip_comments(str(node.get("raw_code") or ""))
        found = sorted({match.group(0).lower().replace(" ", "") for match in TODAY_PATTERN.finditer(code)})
        if found:
            yield Violation(
                "hard_coded_today", unique_id,
                f"uses {', '.join(found)}; use var('as_of_date') for today",
            )


def check_macro_docs(manifest: Manifest, package: str = PACKAGE) -> Iterator[Violation]:
    """Rule 8: macros in macros/ and generic tests in tests/generic/ are described."""
    macros = project_macros(manifest, package)
    names = {macro.get("name") for macro in macros.values()}
    for unique_id, macro in macros.items():
        path = str(macro.get("original_file_path", "")).replace("\\", "/")
        if path.startswith("macros/"):
            kind = "macro"
        elif path.startswith("tests/generic/") and "description" in macro:
            kind = "generic test"
        else:
            continue
        dispatch = DISPATCH_IMPLEMENTATION.match(str(macro.get("name", "")))
        if dispatch and dispatch.group("macro") in names:
            continue
        if is_blank(macro.get("description")):
            yield Violation("macro_docs", unique_id, f"{kind} in {path} has no description")


def check_project(
    manifest: Manifest, catalog: Catalog | None = None, package: str = PACKAGE,
) -> list[Violation]:
    """Every violation of every rule, sorted by rule, node and message."""
    checks: list[Callable[[], Iterable[Violation]]] = [
        lambda: check_naming(manifest, package),
        lambda: check_source_reads(manifest, package),
        lambda: check_layering(manifest, package),
        lambda: check_primary_key_tests(manifest, package),
        lambda: check_documentation(manifest, catalog, package),
        lambda: check_marts_contract(manifest, package),
        lambda: check_hard_coded_today(manifest, package),
        lambda: check_macro_docs(manifest, package),
    ]
    violations = {violation for check in checks for violation in check()}
    return sorted(violations, key=lambda v: (RULES.index(v.rule), v.node, v.message))


def summarize(manifest: Manifest, catalog: Catalog | None = None, package: str = PACKAGE) -> Summary:
    """Counts of what check_project looked at."""
    models = project_nodes(manifest, "model", package)
    columns = 0
    for unique_id, node in models.items():
        actual = _catalog_columns(catalog, unique_id)
        columns += len(actual) if actual is not None else len(node.get("columns") or {})
    macros = [
        macro for macro in project_macros(manifest, package).values()
        if str(macro.get("original_file_path", "")).startswith(("macros/", "tests/generic/"))
    ]
    return Summary(
        models=len(models),
        columns=columns,
        seeds=len(project_nodes(manifest, "seed", package)),
        sources=len(project_sources(manifest, package)),
        macros=len(macros),
    )


def models_missing_from_catalog(manifest: Manifest, catalog: Catalog, package: str = PACKAGE) -> list[str]:
    """Models and seeds the catalog does not know (not built yet, or ephemeral)."""
    known = catalog.get("nodes", {})
    return sorted(
        unique_id
        for kind in ("model", "seed")
        for unique_id, node in project_nodes(manifest, kind, package).items()
        if unique_id not in known and (node.get("config") or {}).get("materialized") != "ephemeral"
    )


# --- command line --------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Check the project against its structure rules (naming, source reads, layering, "
            "primary-key tests, documentation, mart contracts, no hard-coded today, macro docs), "
            "reading the manifest written by `dbt parse`. Prints `RULE  node  message` per "
            "violation and exits 1 when there is any, 0 otherwise, 2 on unreadable input."
        ),
        epilog="Example: dbt parse --target-path target/check && "
        "python scripts/check_project.py --manifest target/check/manifest.json",
    )
    parser.add_argument(
        "--manifest", type=Path, default=Path("target/manifest.json"),
        help="manifest.json from `dbt parse` (default: %(default)s)",
    )
    parser.add_argument(
        "--catalog", type=Path, default=None,
        help="catalog.json from `dbt docs generate`: columns of the built relations are then "
        "checked against the documented ones; without it only the YAML columns are checked",
    )
    parser.add_argument(
        "--package", default=PACKAGE,
        help="dbt package whose nodes are checked; other packages are ignored (default: %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        manifest = load_json(args.manifest)
        catalog = load_json(args.catalog) if args.catalog else None
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if catalog is not None:
        missing = models_missing_from_catalog(manifest, catalog, args.package)
        if missing:
            print(
                f"note: {len(missing)} models or seeds are not in the catalog; their columns are "
                "checked against the YAML only: " + ", ".join(missing),
                file=sys.stderr,
            )
    violations = check_project(manifest, catalog, args.package)
    summary = summarize(manifest, catalog, args.package)
    for violation in violations:
        print(violation.format())
    if violations:
        nodes = len({violation.node for violation in violations})
        print(f"{len(violations)} violations on {nodes} nodes ({summary.format()})", file=sys.stderr)
        return 1
    print(f"OK: {summary.format()}; no violations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
