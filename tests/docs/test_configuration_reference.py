"""docs/configuration.md lists everything a user can configure, and nothing that does not exist.

* every ``MC_*`` variable the code reads: ``meeting_controller.config.KNOWN_VARIABLES`` and every
  ``"MC_..."`` string literal in a module of ``controller/`` or ``operator/`` that touches the
  process environment (found by parsing the source, so a new ``os.environ.get("MC_X")``
  anywhere fails this test until the reference lists ``MC_X``);
* every field of the ``MeetingController`` CRD: each ``spec`` path (``spec.capacity.maxMeetings``)
  with its type, default and meaning, the CRD's own defaults quoted; each top-level ``status``
  field.

A variable or field is *documented* when a table row names it in a cell of its own
(```MC_X``` or ```spec.a.b```) and the row's other cells (default, meaning) are not empty.
``tests/config/test_settings.py`` checks the MC table against ``KNOWN_VARIABLES`` exactly; this
test adds the operator's variables, the ones read outside ``config.py`` and the CRD.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]  # stubs: types-PyYAML

from meeting_controller import config
from tests.docs import markdown

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "docs" / "configuration.md"
CRD = REPO / "crds" / "meetingcontroller.io_meetingcontrollers.yaml"
SOURCE_ROOTS = (REPO / "controller", REPO / "operator")

_VARIABLE = re.compile(r"^MC_[A-Z0-9_]+$")
_ENVIRONMENT_NAMES = frozenset({"environ", "environb", "getenv", "getenvb"})


# -- what the code reads ----------------------------------------------------------------------


def _source_files() -> Iterator[Path]:
    for root in SOURCE_ROOTS:
        for path in sorted(root.rglob("*.py")):
            if not path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
                yield path


def _touches_environment(tree: ast.AST) -> bool:
    """``os.environ``, ``os.getenv``, or a name/parameter called ``environ``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in _ENVIRONMENT_NAMES:
            return True
        if isinstance(node, ast.Name) and node.id in _ENVIRONMENT_NAMES:
            return True
        if isinstance(node, ast.arg) and node.arg in _ENVIRONMENT_NAMES:
            return True
    return False


def variables_in_code() -> dict[str, set[str]]:
    """``MC_*`` literals of environment-reading modules -> the files they appear in."""
    found: dict[str, set[str]] = {}
    for path in _source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        if not _touches_environment(tree):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _VARIABLE.match(node.value)
            ):
                found.setdefault(node.value, set()).add(str(path.relative_to(REPO)))
    return found


def variables_read() -> dict[str, set[str]]:
    read = variables_in_code()
    for name in config.KNOWN_VARIABLES:
        read.setdefault(name, set()).add("meeting_controller.config.KNOWN_VARIABLES")
    return read


# -- what the reference says ------------------------------------------------------------------


def _rows() -> list[list[str]]:
    return markdown.table_rows(REFERENCE.read_text(encoding="utf-8"))


def documented_rows(pattern: re.Pattern[str]) -> dict[str, list[str]]:
    """Rows that name something matching ``pattern`` in a cell of its own -> the other cells."""
    rows: dict[str, list[str]] = {}
    for cells in _rows():
        for index, cell in enumerate(cells):
            match = re.fullmatch(r"`([^`]+)`", cell)
            if match is not None and pattern.fullmatch(match.group(1)):
                rows.setdefault(match.group(1), cells[:index] + cells[index + 1 :])
                break
    return rows


def _incomplete(rows: Mapping[str, list[str]], *, needed: int) -> list[str]:
    return sorted(
        name
        for name, others in rows.items()
        if len(others) < needed or any(not cell for cell in others)
    )


# -- what the CRD defines ---------------------------------------------------------------------


def _schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text(encoding="utf-8"))
    (version,) = crd["spec"]["versions"]
    schema = version["schema"]["openAPIV3Schema"]
    assert isinstance(schema, dict)
    return schema


def field_paths(schema: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(path, schema)`` of every property under ``schema``, depth first.

    Objects that keep unknown fields (``resources``, ``affinity``) and maps
    (``additionalProperties``) are one field; arrays are documented as the array.
    """
    for name, child in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}"
        yield path, child
        if child.get("type") == "object":
            yield from field_paths(child, path)


def spec_fields() -> dict[str, Mapping[str, Any]]:
    return dict(field_paths(_schema()["properties"]["spec"], "spec"))


def status_fields() -> list[str]:
    return sorted(_schema()["properties"]["status"].get("properties") or {})


def _render_default(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


# -- the tests --------------------------------------------------------------------------------


def test_the_source_scan_finds_what_it_must() -> None:
    """Guards the scanner itself: these are read outside ``config.py`` today."""
    found = variables_in_code()
    for name in (
        "MC_OPERATOR_RECONCILE_INTERVAL_SECONDS",
        "MC_OPERATOR_CLUSTER_DOMAIN",
        "MC_OPERATOR_KUBE_URL",
        "MC_REDIS_URL",
    ):
        assert name in found, f"the scan of controller/ and operator/ no longer finds {name}"


def test_every_variable_the_code_reads_is_documented() -> None:
    documented = documented_rows(_VARIABLE)
    missing = {name: files for name, files in variables_read().items() if name not in documented}
    assert not missing, (
        f"{REFERENCE.relative_to(REPO)} does not list these variables the code reads: "
        + "; ".join(
            f"{name} (in {', '.join(sorted(files))})" for name, files in sorted(missing.items())
        )
        + ". Add a table row: | `NAME` | default | meaning | (operator variables: "
        "| setting | `NAME` | default | meaning |)."
    )
    incomplete = _incomplete({n: documented[n] for n in variables_read()}, needed=2)
    assert not incomplete, f"rows without a default or a meaning: {incomplete}"


def test_every_documented_variable_exists() -> None:
    stale = sorted(set(documented_rows(_VARIABLE)) - set(variables_read()))
    assert not stale, (
        f"{REFERENCE.relative_to(REPO)} documents variables that no code reads: {stale} "
        "(renamed or removed? update the reference)"
    )


def test_every_spec_field_of_the_crd_is_documented() -> None:
    fields = spec_fields()
    documented = documented_rows(re.compile(r"spec(\.[A-Za-z0-9]+)+"))
    missing = sorted(set(fields) - set(documented))
    assert not missing, (
        f"{REFERENCE.relative_to(REPO)} does not document these MeetingController fields of "
        f"{CRD.relative_to(REPO)}: {missing}. Add a row: | `spec.a.b` | type | default | meaning |."
    )
    incomplete = _incomplete({path: documented[path] for path in fields}, needed=3)
    assert not incomplete, f"spec rows without a type, default or meaning: {incomplete}"
    stale = sorted(set(documented) - set(fields))
    assert not stale, f"documented spec fields the CRD does not have: {stale}"


@pytest.mark.parametrize(
    "path",
    [path for path, schema in spec_fields().items() if "default" in schema],
)
def test_documented_defaults_are_the_crds(path: str) -> None:
    default = _render_default(spec_fields()[path]["default"])
    documented = documented_rows(re.compile(re.escape(path)))
    assert path in documented, f"{path} is not documented"
    default_cell = documented[path][1]  # type, default, meaning
    assert f"`{default}`" in default_cell, (
        f"{path}: the CRD's default is {default}, the reference says {default_cell!r}"
    )


def test_every_status_field_is_documented() -> None:
    documented = documented_rows(re.compile(r"status\.[A-Za-z0-9]+"))
    missing = sorted(
        f"status.{name}" for name in status_fields() if f"status.{name}" not in documented
    )
    assert not missing, (
        f"{REFERENCE.relative_to(REPO)} does not describe these status fields: {missing}. "
        "Add a row: | `status.x` | meaning |."
    )
