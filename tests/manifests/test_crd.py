"""The MeetingController CRD: structure, validation of good and bad specs, defaults, columns."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]  # stubs: types-jsonschema
import kubernetes_validate  # type: ignore[import-untyped,unused-ignore]  # no py.typed
import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]  # stubs: types-PyYAML

from tests.manifests import crd_schema

EXAMPLE_PATH = crd_schema.REPO / "examples" / "meetingcontroller.yaml"

MINIMAL_SPEC: dict[str, Any] = {
    "image": "ghcr.io/meeting-controller/meeting-controller:0.1.0",
    "region": "eu-west",
    "globalController": {"endpoint": "global-controller.meetings.svc:50051"},
    "redis": {"url": "redis://redis:6379/0"},
    "joinTokenPublicKeySecretRef": {"name": "gc-key", "key": "public.pem"},
}


def resource(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "meetingcontroller.io/v1alpha1",
        "kind": "MeetingController",
        "metadata": {"name": "eu-west", "namespace": "meetings"},
        "spec": spec,
    }


@pytest.fixture(scope="module")
def crd() -> dict[str, Any]:
    return crd_schema.load_crd()


@pytest.fixture(scope="module")
def validator(crd: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return crd_schema.validator(crd)


def errors_of(validator: jsonschema.Draft202012Validator, document: Any) -> list[str]:
    return crd_schema.describe_errors(list(validator.iter_errors(document)))


# -- identity and structure ---------------------------------------------------------------------


def test_the_chart_ships_an_identical_copy_of_the_crd() -> None:
    assert crd_schema.CHART_CRD_PATH.read_bytes() == crd_schema.CRD_PATH.read_bytes(), (
        "charts/meeting-controller/crds/ differs from crds/ (the source of truth): copy it over"
    )


def test_the_crd_names_are_the_stable_ones(crd: dict[str, Any]) -> None:
    spec = crd["spec"]
    assert crd["metadata"]["name"] == "meetingcontrollers.meetingcontroller.io"
    assert spec["group"] == "meetingcontroller.io"
    assert spec["scope"] == "Namespaced"
    assert spec["names"]["kind"] == "MeetingController"
    assert spec["names"]["plural"] == "meetingcontrollers"
    assert spec["names"]["singular"] == "meetingcontroller"
    assert spec["names"]["shortNames"] == ["mc"]
    assert [(v["name"], v["served"], v["storage"]) for v in spec["versions"]] == [
        ("v1alpha1", True, True)
    ]


@pytest.mark.parametrize("kube_version", ["1.27", "1.37"])
def test_the_crd_is_a_valid_customresourcedefinition(
    crd: dict[str, Any], kube_version: str
) -> None:
    kubernetes_validate.validate(crd, kube_version, strict=True)


def test_the_scale_and_status_subresources_are_enabled(crd: dict[str, Any]) -> None:
    (version,) = crd["spec"]["versions"]
    assert version["subresources"] == {
        "status": {},
        "scale": {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        },
    }
    status = crd_schema.openapi_schema(crd)["properties"]["status"]["properties"]
    assert status["selector"]["type"] == "string"
    assert status["replicas"]["type"] == "integer"


def test_kubectl_get_shows_the_agreed_columns(crd: dict[str, Any]) -> None:
    (version,) = crd["spec"]["versions"]
    columns = [(c["name"], c["type"], c["jsonPath"]) for c in version["additionalPrinterColumns"]]
    assert columns == [
        ("Region", "string", ".spec.region"),
        ("Desired", "integer", ".spec.replicas"),
        ("Ready", "integer", ".status.readyReplicas"),
        ("Draining", "integer", ".status.drainingReplicas"),
        ("Meetings", "integer", ".status.currentMeetings"),
        ("Participants", "integer", ".status.currentParticipants"),
        ("Age", "date", ".metadata.creationTimestamp"),
    ]


def _walk(node: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    found = [(path, node)]
    for name, child in node.get("properties", {}).items():
        found += _walk(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        found += _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        found += _walk(node["additionalProperties"], f"{path}{{}}")
    return found


def test_the_schema_is_structural(crd: dict[str, Any]) -> None:
    """Every node has a type; oneOf branches only say what is required (Kubernetes' rules)."""
    for path, node in _walk(crd_schema.openapi_schema(crd), ""):
        assert "type" in node, f"{path or '<root>'} has no type"
        for keyword in ("oneOf", "anyOf", "allOf"):
            for branch in node.get(keyword, []):
                assert set(branch) <= {"required"}, f"{path}.{keyword} branch {branch}"
        if node["type"] == "object" and "properties" in node:
            assert "additionalProperties" not in node, path


def test_every_spec_and_status_field_has_a_description_for_kubectl_explain(
    crd: dict[str, Any],
) -> None:
    root = crd_schema.openapi_schema(crd)["properties"]
    missing = [
        path
        for top in ("spec", "status")
        for path, node in _walk(root[top], f".{top}")
        if not path.endswith(("[]", "{}")) and not node.get("description")
    ]
    assert missing == []


def test_the_spec_has_the_agreed_fields(crd: dict[str, Any]) -> None:
    spec = crd_schema.openapi_schema(crd)["properties"]["spec"]
    assert set(spec["properties"]) == {
        "replicas", "image", "imagePullPolicy", "region", "capacity", "heartbeat",
        "globalController", "redis", "sessionSecretRef", "joinTokenPublicKeySecretRef",
        "adminTokenSecretRef", "drain", "rollout", "resources", "nodeSelector", "tolerations",
        "affinity", "podLabels", "podAnnotations", "ports", "tls",
    }  # fmt: skip
    assert set(spec["required"]) == {
        "image", "region", "globalController", "redis", "joinTokenPublicKeySecretRef",
    }  # fmt: skip
    for free_form in ("resources", "affinity"):
        assert spec["properties"][free_form]["x-kubernetes-preserve-unknown-fields"] is True


def test_the_status_has_the_agreed_fields(crd: dict[str, Any]) -> None:
    status = crd_schema.openapi_schema(crd)["properties"]["status"]
    assert set(status["properties"]) == {
        "replicas", "readyReplicas", "updatedReplicas", "drainingReplicas", "currentMeetings",
        "currentParticipants", "selector", "observedGeneration", "conditions", "pods",
        "migrationsPending",
    }  # fmt: skip
    assert "required" not in status
    condition = status["properties"]["conditions"]["items"]["properties"]
    assert set(condition) == {
        "type", "status", "reason", "message", "lastTransitionTime", "observedGeneration",
    }  # fmt: skip
    pod = status["properties"]["pods"]["items"]["properties"]
    assert set(pod) == {
        "name", "ready", "registered", "draining", "meetings", "participants", "revision",
    }  # fmt: skip


# -- valid and invalid resources ----------------------------------------------------------------


def test_a_minimal_spec_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    assert errors_of(validator, resource(MINIMAL_SPEC)) == []


def test_a_full_status_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    document = resource(MINIMAL_SPEC) | {
        "status": {
            "replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "drainingReplicas": 1,
            "currentMeetings": 7, "currentParticipants": 42, "migrationsPending": 0,
            "selector": "app.kubernetes.io/instance=eu-west", "observedGeneration": 4,
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "AllReplicasReady",
                "message": "3/3 ready", "lastTransitionTime": "2025-01-01T00:00:00Z",
                "observedGeneration": 4,
            }],
            "pods": [{
                "name": "eu-west-abc12", "ready": True, "registered": True, "draining": False,
                "meetings": 7, "participants": 42, "revision": "5d8f7c",
            }],
        }
    }  # fmt: skip
    assert errors_of(validator, document) == []


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(spec: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node = spec
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = value

    return mutate


def _drop(path: str) -> Mutation:
    def mutate(spec: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node = spec
        for name in parents:
            node = node[name]
        del node[leaf]

    return mutate


VALID: list[tuple[str, Mutation]] = [
    ("zero replicas (paused fleet)", _set("replicas", 0)),
    ("redis url from a Secret", _set("redis", {"urlSecretRef": {"name": "r", "key": "url"}})),
    ("rediss url", _set("redis.url", "rediss://redis:6380/1")),
    ("IPv6 GC endpoint", _set("globalController.endpoint", "[fd00::1]:50051")),
    ("heartbeats at the minimum", _set("heartbeat", {"fastIntervalMs": 100})),
    ("all pull policies", _set("imagePullPolicy", "Never")),
    ("free-form resources", _set("resources", {"requests": {"cpu": "1", "memory": "1Gi"}})),
    ("tolerations", _set("tolerations", [{"operator": "Exists"}])),
    ("port overrides", _set("ports", {"webtransport": 443, "grpc": 9000, "http": 8000})),
    ("explicit secrets", _set("sessionSecretRef", {"name": "s", "key": "k"})),
]


@pytest.mark.parametrize(("case", "mutate"), VALID, ids=[case for case, _ in VALID])
def test_valid_variations_are_accepted(
    validator: jsonschema.Draft202012Validator, case: str, mutate: Mutation
) -> None:
    spec = copy.deepcopy(MINIMAL_SPEC)
    mutate(spec)
    assert errors_of(validator, resource(spec)) == []


# (case, mutation, text the errors must contain: the field that is wrong)
INVALID: list[tuple[str, Mutation, str]] = [
    ("negative replicas", _set("replicas", -1), "$.spec.replicas: -1 is less than the minimum"),
    ("replicas as a string", _set("replicas", "3"), "$.spec.replicas: '3' is not of type"),
    ("replicas as a float", _set("replicas", 1.5), "$.spec.replicas: 1.5 is not of type"),
    ("missing region", _drop("region"), "'region' is a required property"),
    ("missing image", _drop("image"), "'image' is a required property"),
    ("empty image", _set("image", ""), "$.spec.image"),
    ("missing globalController", _drop("globalController"), "'globalController' is a required"),
    ("missing GC endpoint", _set("globalController", {}), "'endpoint' is a required property"),
    ("GC endpoint without port", _set("globalController.endpoint", "gc"), "$.spec.globalCon"),
    ("GC endpoint port 0", _set("globalController.endpoint", "gc:0"), "$.spec.globalControl"),
    ("upper-case region", _set("region", "EU-West"), "$.spec.region: 'EU-West' does not match"),
    ("region with a dot", _set("region", "eu.west"), "$.spec.region"),
    ("region ending in -", _set("region", "eu-"), "$.spec.region"),
    ("region too long", _set("region", "a" * 64), "$.spec.region"),
    ("maxMeetings 0", _set("capacity.maxMeetings", 0), "$.spec.capacity.maxMeetings: 0 is less"),
    ("maxParticipants 0", _set("capacity.maxParticipants", 0), "$.spec.capacity.maxPartici"),
    ("fast heartbeat 50 ms", _set("heartbeat.fastIntervalMs", 50), "$.spec.heartbeat.fastInt"),
    ("comprehensive 99 ms", _set("heartbeat.comprehensiveIntervalMs", 99), "comprehensiveIn"),
    ("drain timeout 0", _set("drain.timeoutSeconds", 0), "$.spec.drain.timeoutSeconds"),
    ("maxSurge 0", _set("rollout.maxSurge", 0), "$.spec.rollout.maxSurge: 0 is less"),
    ("bad pull policy", _set("imagePullPolicy", "Sometimes"), "$.spec.imagePullPolicy"),
    ("neither redis url nor ref", _set("redis", {}), "$.spec.redis: {} is not valid under any"),
    (
        "both redis url and ref",
        _set("redis.urlSecretRef", {"name": "r", "key": "url"}),
        "$.spec.redis: {'url'",
    ),
    ("redis url scheme", _set("redis.url", "http://redis:6379"), "$.spec.redis.url"),
    ("missing redis", _drop("redis"), "'redis' is a required property"),
    ("missing join key ref", _drop("joinTokenPublicKeySecretRef"), "'joinTokenPublicKeySecre"),
    ("secret ref without key", _set("sessionSecretRef", {"name": "s"}), "'key' is a required"),
    ("unknown (typo) field", _set("replica", 3), "'replica' was unexpected"),
    ("nodeSelector value not a string", _set("nodeSelector", {"a": 1}), "$.spec.nodeSelector.a"),
    ("podLabels as a list", _set("podLabels", ["a"]), "$.spec.podLabels"),
    ("port 70000", _set("ports.grpc", 70000), "$.spec.ports.grpc: 70000 is greater"),
    ("capacity as a number", _set("capacity", 5), "$.spec.capacity: 5 is not of type"),
]


@pytest.mark.parametrize(("case", "mutate", "expected"), INVALID, ids=[c for c, _, _ in INVALID])
def test_invalid_specs_are_rejected_naming_the_field(
    validator: jsonschema.Draft202012Validator, case: str, mutate: Mutation, expected: str
) -> None:
    spec = copy.deepcopy(MINIMAL_SPEC)
    mutate(spec)
    errors = errors_of(validator, resource(spec))
    assert errors, f"{case}: accepted"
    assert any(expected in error for error in errors), errors


def test_a_resource_without_spec_is_rejected(validator: jsonschema.Draft202012Validator) -> None:
    document = resource(MINIMAL_SPEC)
    del document["spec"]
    assert errors_of(validator, document) == ["$: 'spec' is a required property"]


def test_the_redis_rule_is_also_a_cel_rule_for_a_clear_kubectl_message(
    crd: dict[str, Any],
) -> None:
    redis = crd_schema.openapi_schema(crd)["properties"]["spec"]["properties"]["redis"]
    assert redis["x-kubernetes-validations"] == [
        {
            "rule": "has(self.url) != has(self.urlSecretRef)",
            "message": "exactly one of redis.url and redis.urlSecretRef must be set",
        }
    ]


# -- defaults -----------------------------------------------------------------------------------


def test_defaults_fill_in_a_minimal_spec(crd: dict[str, Any]) -> None:
    schema = crd_schema.openapi_schema(crd)
    stored = crd_schema.apply_defaults(schema, resource(MINIMAL_SPEC))["spec"]
    assert stored["replicas"] == 1
    assert stored["capacity"] == {"maxMeetings": 100, "maxParticipants": 1000}
    assert stored["drain"] == {"timeoutSeconds": 300}
    assert stored["rollout"] == {"maxSurge": 1}
    assert "heartbeat" not in stored  # unset = the MC's built-in defaults
    assert "ports" not in stored
    ports = crd_schema.apply_defaults(schema, resource(MINIMAL_SPEC | {"ports": {"grpc": 9000}}))
    assert ports["spec"]["ports"] == {"webtransport": 4433, "grpc": 9000, "http": 8081}


def test_every_default_is_valid_under_its_own_schema(crd: dict[str, Any]) -> None:
    for path, node in _walk(crd_schema.openapi_schema(crd), ""):
        if "default" in node:
            schema = crd_schema.to_json_schema(node)
            defaulted = crd_schema.apply_defaults(node, node["default"])
            errors = crd_schema.describe_errors(
                list(jsonschema.Draft202012Validator(schema).iter_errors(defaulted))
            )
            assert errors == [], path


# -- the example --------------------------------------------------------------------------------


def test_the_example_resource_is_valid_and_complete(
    crd: dict[str, Any], validator: jsonschema.Draft202012Validator
) -> None:
    example = yaml.safe_load(EXAMPLE_PATH.read_text())
    assert errors_of(validator, example) == []
    spec_fields = set(crd_schema.openapi_schema(crd)["properties"]["spec"]["properties"])
    # Complete: every field is shown, the optional Secret references as comments.
    commented = {"sessionSecretRef", "adminTokenSecretRef", "tls"}
    assert set(example["spec"]) == spec_fields - commented
    text = EXAMPLE_PATH.read_text()
    assert all(f"# {field}:" in text for field in commented)
