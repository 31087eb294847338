"""Proves every generic test in tests/generic/ against the fixture project in tests/generic_fixtures/.

The fixture project seeds passing and failing data and applies each generic test to it, tagged
`must_pass` or `must_fail` with the expected number of failing rows in `meta.expected_failures`.
Here it is seeded and tested into a throw-away DuckDB file, and run_results.json must show exactly
the expected outcome for every test. Bad arguments must stop parsing with the test's own message,
and a project laid out like the main one must ignore the fixture project.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERIC_DIR = REPO_ROOT / "tests" / "generic"
FIXTURE_DIR = REPO_ROOT / "tests" / "generic_fixtures"
GENERIC_TEST_NAMES = sorted(path.stem for path in GENERIC_DIR.glob("*.sql"))
DB_ENV = "GENERIC_FIXTURES_DUCKDB_PATH"
COMMON_FLAGS = ["--no-send-anonymous-usage-stats", "--no-version-check", "--no-use-colors", "--quiet"]


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for one dbt invocation, restoring the previous values after."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def invoke_dbt(command: str, project_dir: Path, work_dir: Path, *extra: str) -> dbtRunnerResult:
    """Run one dbt command on a project, with its target, logs and database under work_dir."""
    args = [
        *COMMON_FLAGS,
        command,
        "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir),
        "--target-path", str(work_dir / "target"),
        "--log-path", str(work_dir / "logs"),
        *extra,
    ]
    with environment(**{DB_ENV: str(work_dir / "fixtures.duckdb")}):
        return dbtRunner().invoke(args)


def copy_fixture_project(destination: Path) -> Path:
    """Copy the fixture project and the generic tests side by side, as in the repository."""
    shutil.copytree(GENERIC_DIR, destination / "generic")
    shutil.copytree(FIXTURE_DIR, destination / "generic_fixtures", ignore=shutil.ignore_patterns("target", "logs"))
    return destination / "generic_fixtures"


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Seed the fixture project, run all its tests and return results joined to their nodes."""
    work_dir = tmp_path_factory.mktemp("generic_fixtures")
    seeded = invoke_dbt("seed", FIXTURE_DIR, work_dir)
    assert seeded.success, f"dbt seed failed on the fixture project: {seeded.exception}"
    # The tests are expected to fail in part, so only an exception (not a failure) is fatal.
    tested = invoke_dbt("test", FIXTURE_DIR, work_dir)
    assert tested.exception is None, f"dbt test could not run: {tested.exception}"
    run_results = json.loads((work_dir / "target" / "run_results.json").read_text())
    manifest = json.loads((work_dir / "target" / "manifest.json").read_text())
    return {"results": run_results["results"], "nodes": manifest["nodes"]}


def fixture_tests_by_name(fixture_run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each fixture test by name: its tags, expected failures, generic test, status and failures."""
    tests = {}
    for result in fixture_run["results"]:
        node = fixture_run["nodes"][result["unique_id"]]
        tests[node["name"]] = {
            "tags": node["tags"],
            "expected_failures": node["config"]["meta"].get("expected_failures"),
            "generic_test": node["test_metadata"]["name"],
            "status": result["status"],
            "failures": result["failures"],
            "message": result["message"],
        }
    return tests


def test_every_fixture_test_is_tagged_with_one_expected_outcome(fixture_run: dict[str, Any]) -> None:
    for name, test in fixture_tests_by_name(fixture_run).items():
        outcomes = [tag for tag in test["tags"] if tag in ("must_pass", "must_fail")]
        assert len(outcomes) == 1, f"{name}: tag it must_pass or must_fail, got {test['tags']}"
        if outcomes == ["must_fail"]:
            assert isinstance(test["expected_failures"], int) and test["expected_failures"] > 0, (
                f"{name}: a must_fail fixture needs meta.expected_failures > 0"
            )


def test_every_generic_test_has_a_passing_and_a_failing_fixture(fixture_run: dict[str, Any]) -> None:
    assert GENERIC_TEST_NAMES, "no generic tests found in tests/generic"
    tests = fixture_tests_by_name(fixture_run).values()
    for generic_test in GENERIC_TEST_NAMES:
        tags = [tag for test in tests if test["generic_test"] == generic_test for tag in test["tags"]]
        assert "must_pass" in tags, f"{generic_test}: no fixture that must pass"
        assert "must_fail" in tags, f"{generic_test}: no fixture that must fail"


def test_exactly_the_must_fail_fixtures_fail_with_the_expected_rows(fixture_run: dict[str, Any]) -> None:
    tests = fixture_tests_by_name(fixture_run)
    assert len(tests) >= 2 * len(GENERIC_TEST_NAMES)
    for name, test in tests.items():
        if "must_pass" in test["tags"]:
            assert (test["status"], test["failures"]) == ("pass", 0), f"{name} must pass: {test['message']}"
        else:
            assert test["status"] == "fail", f"{name} must fail, got {test['status']}: {test['message']}"
            assert test["failures"] == test["expected_failures"], (
                f"{name}: {test['failures']} failing rows, expected {test['expected_failures']}"
            )


# One bad use of each argument check: (generic test, arguments in YAML, message it must raise).
BAD_ARGUMENTS = [
    ("unique_combination_of_columns", "{combination_of_columns: order_id}", "must be a non-empty list"),
    ("unique_combination_of_columns", "{combination_of_columns: []}", "must be a non-empty list"),
    ("unique_combination_of_columns", "{combination_of_columns: [order_id], new_rows_column: [loaded_at]}",
     "new_rows_column must be a column name"),
    ("accepted_range", "{column_name: value}", "give min_value, max_value or both"),
    ("accepted_range", "{column_name: value, min_value: 2, max_value: 1}", "is above max_value"),
    ("accepted_range", "{column_name: value, min_value: 0, inclusive: 'yes'}", "inclusive must be true or false"),
    ("expression_is_true", "{column_name: value}", "expression must be a non-empty SQL boolean expression"),
    ("share_at_least", "{column_name: segment, min_share: 1.5}", "min_share must be a number in (0, 1]"),
    ("share_at_least", "{column_name: segment, min_share: 0}", "min_share must be a number in (0, 1]"),
    ("share_at_least", "{column_name: segment, min_share: lots}", "min_share must be a number in (0, 1]"),
    ("share_at_least", "{column_name: segment, min_share: 0.1, exclude_values: unassigned}", "must be a list"),
    ("equal_row_count", "{}", "compare_model is required"),
    ("at_most_rows_per_key", "{key_columns: [customer_id], max_rows: 0}", "max_rows must be an integer >= 1"),
    ("at_most_rows_per_key", "{key_columns: customer_id}", "key_columns must be a non-empty list"),
    ("ranges_are_contiguous", "{lower_bound_column: min_value}", "must be column names"),
    (
        "ranges_are_contiguous",
        "{lower_bound_column: min_value, upper_bound_column: max_value, partition_by: {a: b}}",
        "partition_by must be a column name or a list",
    ),
    ("accepted_delimited_values", "{column_name: tiers, values: []}", "values must be a non-empty list"),
    ("accepted_delimited_values", "{column_name: tiers, values: ['a|b']}", "contains the delimiter"),
]


@pytest.fixture(scope="module")
def parsed_fixture_copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the fixture project, parsed once so that later parses are partial (fast)."""
    work_dir = tmp_path_factory.mktemp("bad_arguments")
    project_dir = copy_fixture_project(work_dir)
    parsed = invoke_dbt("parse", project_dir, work_dir)
    assert parsed.success, f"the fixture project does not parse: {parsed.exception}"
    return project_dir, work_dir


@pytest.mark.parametrize(("generic_test", "arguments", "message"), BAD_ARGUMENTS)
def test_bad_arguments_stop_parsing_with_the_tests_message(
    parsed_fixture_copy: tuple[Path, Path], generic_test: str, arguments: str, message: str
) -> None:
    project_dir, work_dir = parsed_fixture_copy
    bad_file = project_dir / "seeds" / "_bad_arguments.yml"
    bad_file.write_text(
        textwrap.dedent(
            f"""\
            version: 2
            sources:
              - name: bad_arguments
                tables:
                  - name: anything
                    data_tests:
                      - {generic_test}:
                          arguments: {arguments}
            """
        )
    )
    try:
        parsed = invoke_dbt("parse", project_dir, work_dir)
    finally:
        bad_file.unlink()
    assert not parsed.success, f"{generic_test} accepted bad arguments: {arguments}"
    assert f"{generic_test}: " in str(parsed.exception) and message in str(parsed.exception), (
        f"{generic_test} with {arguments} failed with an unexpected error: {parsed.exception}"
    )


def test_a_project_with_the_fixtures_under_its_test_path_ignores_them(tmp_path: Path) -> None:
    """Like the main project: tests/ as test-path with generic/ and generic_fixtures/ inside it."""
    project_dir = tmp_path / "project"
    copy_fixture_project(project_dir / "tests")
    (project_dir / "dbt_project.yml").write_text(
        'name: host_project\nversion: "1.0.0"\nconfig-version: 2\nprofile: host_project\ntest-paths: ["tests"]\n'
    )
    (project_dir / "profiles.yml").write_text(
        f"host_project:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n"
        f"      path: {tmp_path / 'host.duckdb'}\n"
    )
    # --warn-error: a warning (a patch or a test without its node, say) would fail the parse.
    parsed = invoke_dbt("parse", project_dir, tmp_path, "--warn-error")
    assert parsed.success, f"the fixture project breaks a host project's parse: {parsed.exception}"
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert manifest["nodes"] == {}, f"fixture nodes leaked into the host project: {sorted(manifest['nodes'])}"
    assert manifest["sources"] == {}, f"fixture sources leaked into the host project: {sorted(manifest['sources'])}"
    documented = {
        name.removeprefix("test_")
        for name, macro in ((m["name"], m) for m in manifest["macros"].values())
        if macro["package_name"] == "host_project" and macro["description"]
    }
    assert documented >= set(GENERIC_TEST_NAMES), (
        f"generic tests without docs in _generic_tests.yml: {set(GENERIC_TEST_NAMES) - documented}"
    )
