"""The project rules dbt-bouncer has no built-in check for (dbt-bouncer.yml runs them).

dbt-bouncer loads this file from `custom_checks_dir`; each `@check` function is a check named
after it, run over every resource of the kind its first argument names.
"""

import re

from dbt_bouncer.check_framework.decorator import check, fail

STAGING_NAME = re.compile(r"^(?:stg|base)_(?P<source>[a-z0-9]+(?:_[a-z0-9]+)*)__")
DISPATCH_IMPLEMENTATION = re.compile(r"^[a-z0-9]+__(?P<macro>[a-z0-9_]+)$")


@check
def check_staging_model_reads_its_source(model):
    """A staging model sits in the folder of the source its name declares and reads only that source."""
    declared = STAGING_NAME.match(model.name)
    if declared is None:
        return  # check_model_names reports the name
    source = declared.group("source")
    if model.original_file_path.split("/")[2] != source:
        fail(f"`{model.name}` declares source `{source}` but sits in {model.original_file_path}.")
    for parent in model.depends_on.nodes or []:
        kind, _, source_name, *_ = parent.split(".")
        if kind == "source" and source_name != source:
            fail(f"`{model.name}` reads {parent}, not of its source `{source}`.")


@check
def check_model_has_primary_key_test(model, ctx):
    """unique and not_null on one column, or a unique_combination_of_columns test."""
    tested: dict[str, set[str]] = {"unique": set(), "not_null": set()}
    for test in ctx.tests_by_attached_node.get(model.unique_id, []):
        name, kwargs = test.test_metadata.name, test.test_metadata.kwargs or {}
        if name == "unique_combination_of_columns" and kwargs.get("combination_of_columns"):
            return
        if name in tested and test.column_name:
            tested[name].add(test.column_name.strip('"`[]').lower())
    if not tested["unique"] & tested["not_null"]:
        fail(f"`{model.name}` has no unique + not_null test on one column and no unique_combination_of_columns test.")


@check
def check_macro_or_its_dispatcher_described(macro, ctx):
    """Macros are described; an adapter implementation (postgres__x) is covered by its dispatcher x."""
    implementation = DISPATCH_IMPLEMENTATION.match(macro.name)
    if implementation and implementation.group("macro") in {other.name for other in ctx.macros}:
        return
    if not (macro.description or "").strip():
        fail(f"`{macro.name}` ({macro.original_file_path}) has no description.")


@check
def check_seed_columns_described(seed):
    """Every column a seed's YAML declares has a description."""
    for name, column in (seed.columns or {}).items():
        if not (column.description or "").strip():
            fail(f"`{seed.name}` column `{name}` has no description.")
