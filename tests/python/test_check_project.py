"""The project rules (dbt-bouncer.yml, run by `make check-project`) hold and bite.

The project is parsed once; dbt-bouncer then runs on its manifest as it is (no failure), on a copy
broken in one way per node (exactly those failures more), and with the config's exclusions removed
(exactly the excluded models fail: an exclusion no longer needed is reported).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PKG = "loyalty_segments"
Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    work = tmp_path_factory.mktemp("parse")
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO / "profiles"), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    result = subprocess.run(
        [str(BIN / "dbt"), "parse", "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
         "--no-use-colors", "--no-partial-parse"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, f"dbt parse failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    return json.loads((work / "target" / "manifest.json").read_text())


def bounce(manifest: Manifest, work: Path, *, keep_exclusions: bool = True) -> set[tuple[str, str]]:
    """(check name, unique_id) of every failure of dbt-bouncer.yml on ``manifest``."""
    config = yaml.safe_load((REPO / "dbt-bouncer.yml").read_text())
    config["dbt_artifacts_dir"] = str(work)
    config["custom_checks_dir"] = str(REPO / config["custom_checks_dir"])
    if not keep_exclusions:
        for check in config["manifest_checks"]:
            check.pop("exclude", None)
    work.mkdir(parents=True, exist_ok=True)
    (work / "manifest.json").write_text(json.dumps(manifest))
    (work / "dbt-bouncer.yml").write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [str(BIN / "dbt-bouncer"), "run", "--config-file", str(work / "dbt-bouncer.yml"),
         "--output-file", str(work / "failures.json"), "--output-only-failures"],
        cwd=work, capture_output=True, text=True, check=False,
    )
    failures = json.loads((work / "failures.json").read_text())
    assert result.returncode == (1 if failures else 0), result.stdout[-3000:] + result.stderr[-3000:]
    return {(failure["check_run_id"].split(":")[0], failure["unique_id"]) for failure in failures}


def model(manifest: Manifest, name: str) -> dict[str, Any]:
    return manifest["nodes"][f"model.{PKG}.{name}"]


def add_parent(manifest: Manifest, name: str, parent: str) -> None:
    model(manifest, name)["depends_on"]["nodes"].append(parent)


@pytest.fixture(scope="module")
def project_failures(manifest: Manifest, tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    return bounce(manifest, tmp_path_factory.mktemp("project"))


def test_the_project_passes(project_failures: set[tuple[str, str]]) -> None:
    assert project_failures == set()


def test_each_broken_rule_fails_on_its_node(
    manifest: Manifest, project_failures: set[tuple[str, str]], tmp_path: Path,
) -> None:
    broken = copy.deepcopy(manifest)
    prefix = f"model.{PKG}."
    # names and folders
    model(broken, "stg_shop__products")["name"] = "stg_shop_products"
    model(broken, "stg_shop__events")["name"] = "stg_crm__events"
    model(broken, "fct_quarantined_rows")["original_file_path"] = "models/fct_quarantined_rows.sql"
    # lineage
    add_parent(broken, "stg_shop__customers", prefix + "int_orders_measured")
    add_parent(broken, "int_offer_sends_classified", prefix + "dim_customers")
    add_parent(broken, "fct_offer_incrementality", prefix + "fct_offer_assignments")
    add_parent(broken, "fct_revenue_reconciliation", f"source.{PKG}.shop.orders")
    model(broken, "fct_input_reconciliation")["depends_on"]["nodes"] = []
    # tests, contracts, documentation
    broken["nodes"] = {
        unique_id: node for unique_id, node in broken["nodes"].items()
        if not (node.get("attached_node") == prefix + "stg_shop__orders"
                and node["test_metadata"]["name"] == "unique_combination_of_columns")
    }
    model(broken, "fct_offer_eligibility")["contract"]["enforced"] = False
    model(broken, "dim_customers")["columns"]["customer_id"]["data_type"] = None
    model(broken, "int_customer_intent_signals")["description"] = " "
    next(iter(model(broken, "int_orders_measured")["columns"].values()))["description"] = ""
    broken["nodes"][f"seed.{PKG}.order_statuses"]["description"] = ""
    broken["nodes"][f"seed.{PKG}.currencies"]["columns"]["currency_name"]["description"] = ""
    broken["sources"][f"source.{PKG}.shop.products"]["description"] = ""
    broken["macros"][f"macro.{PKG}.money_type"]["description"] = ""
    # the clock, but not in a comment
    model(broken, "int_customer_days_aggregated")["raw_code"] += "\nselect current_date as today"
    model(broken, "dim_customers")["raw_code"] = (
        "{# no current_date #} /* nor now() */ -- nor today()\n" + model(broken, "dim_customers")["raw_code"]
    )

    assert bounce(broken, tmp_path) - project_failures == {
        ("check_model_names", prefix + "stg_shop__products"),
        ("check_staging_model_reads_its_source", prefix + "stg_shop__events"),
        ("check_model_directories", prefix + "fct_quarantined_rows"),
        ("check_lineage_permitted_upstream_models", prefix + "stg_shop__customers"),
        ("check_lineage_permitted_upstream_models", prefix + "int_offer_sends_classified"),
        ("check_lineage_permitted_upstream_models", prefix + "fct_offer_incrementality"),
        ("check_lineage_source_cannot_be_used", prefix + "fct_revenue_reconciliation"),
        ("check_model_does_not_directly_join_to_source", prefix + "fct_revenue_reconciliation"),
        ("check_source_used_by_only_one_model", f"source.{PKG}.shop.orders"),
        ("check_model_has_no_upstream_dependencies", prefix + "fct_input_reconciliation"),
        ("check_model_has_primary_key_test", prefix + "stg_shop__orders"),
        ("check_model_has_contracts_enforced", prefix + "fct_offer_eligibility"),
        ("check_model_columns_have_types", prefix + "dim_customers"),
        ("check_model_description_populated", prefix + "int_customer_intent_signals"),
        ("check_model_column_description_populated", prefix + "int_orders_measured"),
        ("check_seed_description_populated", f"seed.{PKG}.order_statuses"),
        ("check_seed_columns_described", f"seed.{PKG}.currencies"),
        ("check_source_description_populated", f"source.{PKG}.shop.products"),
        ("check_macro_or_its_dispatcher_described", f"macro.{PKG}.money_type"),
        ("check_model_code_does_not_contain_regexp_pattern", prefix + "int_customer_days_aggregated"),
    }


def test_every_exclusion_is_still_needed(manifest: Manifest, tmp_path: Path) -> None:
    config = yaml.safe_load((REPO / "dbt-bouncer.yml").read_text())
    expected = set()
    for check in config["manifest_checks"]:
        patterns = check.get("exclude") or []
        for node in manifest["nodes"].values():
            path = node.get("original_file_path", "")
            if any(re.match(pattern, path) for pattern in ([patterns] if isinstance(patterns, str) else patterns)):
                expected.add((check["name"], node["unique_id"]))
    assert bounce(manifest, tmp_path, keep_exclusions=False) == expected
