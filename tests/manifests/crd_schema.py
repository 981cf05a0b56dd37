"""The MeetingController CRD as a JSON Schema, so tests can validate specs without a cluster.

Kubernetes validates custom resources with an OpenAPI v3 dialect. The conversion here is minimal
and deliberate:

* ``x-kubernetes-*`` keywords are dropped (the CEL rules among them are mirrored by plain JSON
  Schema: ``redis`` carries both a CEL rule, for a clear ``kubectl`` message, and a ``oneOf``);
* objects that declare ``properties`` and neither ``additionalProperties`` nor
  ``x-kubernetes-preserve-unknown-fields`` get ``additionalProperties: false``: that is what
  ``kubectl apply`` (strict server-side field validation, the default since 1.27) does with an
  unknown field, e.g. a typo.

Defaults are applied the way the API server does: a missing field with a ``default`` gets it, and
defaulting continues inside it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]  # stubs: types-jsonschema
import yaml  # type: ignore[import-untyped,unused-ignore]  # stubs: types-PyYAML

REPO = Path(__file__).resolve().parents[2]
CRD_PATH = REPO / "crds" / "meetingcontroller.io_meetingcontrollers.yaml"
CHART_CRD_PATH = (
    REPO / "charts" / "meeting-controller" / "crds" / "meetingcontroller.io_meetingcontrollers.yaml"
)


def load_crd() -> dict[str, Any]:
    """The CRD document (crds/ is the source of truth)."""
    document = yaml.safe_load(CRD_PATH.read_text())
    assert isinstance(document, dict)
    return document


def openapi_schema(crd: dict[str, Any]) -> dict[str, Any]:
    """The ``openAPIV3Schema`` of the one served version."""
    (version,) = crd["spec"]["versions"]
    schema = version["schema"]["openAPIV3Schema"]
    assert isinstance(schema, dict)
    return schema


def to_json_schema(node: Any) -> Any:
    """The Kubernetes schema ``node`` converted to plain JSON Schema (see the module docstring)."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: to_json_schema(value)
        for key, value in node.items()
        if not key.startswith("x-kubernetes-")
    }
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields", False)
    ):
        converted["additionalProperties"] = False
    return converted


def validator(crd: dict[str, Any] | None = None) -> jsonschema.Draft202012Validator:
    """A Draft 2020-12 validator of whole MeetingController objects."""
    schema = to_json_schema(openapi_schema(crd or load_crd()))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """``value`` with the schema's defaults filled in, as the API server stores it."""
    result = copy.deepcopy(value)
    if isinstance(result, dict):
        for name, child in schema.get("properties", {}).items():
            if name not in result and "default" in child:
                result[name] = copy.deepcopy(child["default"])
            if name in result:
                result[name] = apply_defaults(child, result[name])
    elif isinstance(result, list) and isinstance(schema.get("items"), dict):
        result = [apply_defaults(schema["items"], item) for item in result]
    return result


def describe_errors(errors: list[jsonschema.ValidationError]) -> list[str]:
    """One ``<JSON path>: <message>`` line per error, for assertions and failure output."""
    return [f"{error.json_path}: {error.message}" for error in errors]
