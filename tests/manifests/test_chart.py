"""The Helm chart, rendered by real Helm: valid manifests, the operator Deployment, the options."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]  # stubs: types-jsonschema
import kubernetes_validate  # type: ignore[import-untyped,unused-ignore]  # no py.typed
import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]  # stubs: types-PyYAML

from tests.manifests import conftest, crd_schema, helm

#: The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schema shipped
#: by kubernetes-validate.
KUBE_VERSIONS = ("1.27", "1.37")


def _validate_monitor(doc: dict[str, Any]) -> None:
    """prometheus-operator kinds: kubernetes-validate has no schema for them; check the shape."""
    spec = doc["spec"]
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
    assert doc["apiVersion"] == "monitoring.coreos.com/v1"
    assert spec["selector"]["matchLabels"]
    endpoints = (
        spec["endpoints"] if doc["kind"] == "ServiceMonitor" else spec["podMetricsEndpoints"]
    )
    assert [set(e) for e in endpoints] == [{"port", "path", "interval"}]
    assert endpoints[0]["path"] == "/metrics"


def test_every_rendered_manifest_is_valid_kubernetes(good_render: helm.Render) -> None:
    mc_validator = crd_schema.validator()
    assert good_render.documents
    for doc in good_render.documents:
        where = f"{good_render.name}: {doc['kind']}/{doc['metadata']['name']}"
        assert doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm", where
        if doc["apiVersion"] == "meetingcontroller.io/v1alpha1":
            errors = crd_schema.describe_errors(list(mc_validator.iter_errors(doc)))
            assert errors == [], where
        elif doc["apiVersion"] == "monitoring.coreos.com/v1":
            _validate_monitor(doc)
        else:
            for version in KUBE_VERSIONS:
                try:
                    kubernetes_validate.validate(doc, version, strict=True)
                except kubernetes_validate.ValidationError as error:
                    pytest.fail(f"{where} (Kubernetes {version}): {error.message}")


def test_helm_sends_exactly_the_crd_and_the_rendered_manifests(good_render: helm.Render) -> None:
    sent = [(o["kind"], o["metadata"]["name"]) for o in good_render.created]
    rendered = [(d["kind"], d["metadata"]["name"]) for d in good_render.documents]
    assert sent[0] == ("CustomResourceDefinition", "meetingcontrollers.meetingcontroller.io")
    assert sorted(sent[1:]) == sorted(rendered)
    crd_sent = good_render.created[0]
    for key in ("uid", "resourceVersion", "creationTimestamp"):  # added by the fake API server
        crd_sent["metadata"].pop(key)
    assert crd_sent == crd_schema.load_crd()


def test_the_defaults_render_only_the_operator_and_its_permissions(
    renders: dict[str, helm.Render],
) -> None:
    kinds = sorted(d["kind"] for d in renders["defaults"].documents)
    assert kinds == ["ClusterRole", "ClusterRoleBinding", "Deployment", "ServiceAccount"]


def test_optional_features_render_only_when_enabled(renders: dict[str, helm.Render]) -> None:
    everything = renders["all-features"]
    assert everything.ok, everything.error
    kinds = sorted(d["kind"] for d in everything.documents)
    assert kinds == [
        "ClusterRole", "ClusterRoleBinding", "Deployment", "MeetingController", "PodMonitor",
        "Service", "ServiceAccount", "ServiceMonitor",
    ]  # fmt: skip
    service_monitor = everything.one("ServiceMonitor")
    assert service_monitor["metadata"]["labels"]["release"] == "prom"
    assert service_monitor["spec"]["endpoints"][0] == {
        "port": "metrics", "path": "/metrics", "interval": "15s",
    }  # fmt: skip
    service = everything.one("Service")
    deployment = everything.one("Deployment")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert (
        service_monitor["spec"]["selector"]["matchLabels"].items()
        <= service["metadata"]["labels"].items()
    )
    pod_monitor = everything.one("PodMonitor")
    assert pod_monitor["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "meeting-controller",
        "app.kubernetes.io/component": "mc",
    }
    assert pod_monitor["spec"]["namespaceSelector"] == {"any": True}
    assert pod_monitor["spec"]["podMetricsEndpoints"][0]["port"] == "http"


def test_the_example_resource_uses_the_chart_image_and_the_watched_namespace(
    renders: dict[str, helm.Render],
) -> None:
    example = renders["all-features"].one("MeetingController")
    deployment = renders["all-features"].one("Deployment")
    assert example["metadata"]["namespace"] == conftest.RELEASE_NAMESPACE
    assert (
        example["spec"]["image"] == deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    )
    scoped = renders["watch-namespace"].one("MeetingController")
    assert scoped["metadata"]["namespace"] == conftest.WATCH_NAMESPACE


def _operator_container(render: helm.Render) -> dict[str, Any]:
    (container,) = render.one("Deployment")["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def test_the_operator_runs_once_standalone_with_kopf_liveness(
    renders: dict[str, helm.Render],
) -> None:
    deployment = renders["defaults"].one("Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    container = _operator_container(renders["defaults"])
    # The contract with `meeting-controller operator` (kopf's own flag names where kopf has one).
    assert container["args"] == [
        "operator",
        "--standalone",
        "--liveness=http://0.0.0.0:8080/healthz",
        "--metrics-listen=0.0.0.0:9090",
        "--log-format=json",
        "--log-level=info",
        "--all-namespaces",
    ]
    assert "command" not in container  # the image's ENTRYPOINT is meeting-controller
    assert container["image"] == "ghcr.io/meeting-controller/meeting-controller:0.1.0"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"health": 8080, "metrics": 9090}
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}


def test_the_operator_namespace_flag_follows_watch_namespace(
    renders: dict[str, helm.Render],
) -> None:
    args = _operator_container(renders["watch-namespace"])["args"]
    assert args[-1] == f"--namespace={conftest.WATCH_NAMESPACE}"
    assert "--all-namespaces" not in args
    assert _operator_container(renders["all-features"])["args"][-1] == "--verbose"


def test_the_operator_is_locked_down(good_render: helm.Render) -> None:
    pod = good_render.one("Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = _operator_container(good_render)
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["serviceAccountName"] == good_render.one("ServiceAccount")["metadata"]["name"]


def test_values_reach_the_operator_pod(renders: dict[str, helm.Render]) -> None:
    values = conftest.ALL_FEATURES
    deployment = renders["all-features"].one("Deployment")
    pod = deployment["spec"]["template"]
    assert (
        _operator_container(renders["defaults"])["resources"]
        == yaml.safe_load((helm.CHART / "values.yaml").read_text())["resources"]
    )
    assert pod["metadata"]["labels"]["team"] == "realtime"
    assert pod["metadata"]["annotations"] == values["podAnnotations"]
    for key in ("nodeSelector", "tolerations", "affinity", "priorityClassName", "imagePullSecrets"):
        assert pod["spec"][key] == values[key], key
    env = {e["name"] for e in _operator_container(renders["all-features"])["env"]}
    assert env == {"POD_NAMESPACE", "POD_NAME", "EXTRA"}
    service_account = renders["all-features"].one("ServiceAccount")
    assert service_account["metadata"]["annotations"] == {"example.com/role": "operator"}


def test_the_notes_tell_how_to_check_and_use_the_operator(renders: dict[str, helm.Render]) -> None:
    notes = renders["defaults"].notes
    assert "kubectl -n mc-system rollout status deployment/meeting-controller" in notes
    assert "kubectl scale mc/<name>" in notes
    assert "all namespaces" in notes
    assert f"namespace {conftest.WATCH_NAMESPACE}" in renders["watch-namespace"].notes


@pytest.mark.parametrize("case", sorted(conftest.BAD_VALUES))
def test_the_values_schema_rejects_bad_values(case: str, renders: dict[str, helm.Render]) -> None:
    _, expected = conftest.BAD_VALUES[case]
    render = renders[case]
    assert not render.ok
    assert render.error is not None
    assert "values don't meet the specifications of the schema" in render.error
    assert expected in render.error, render.error


def test_values_yaml_satisfies_its_own_schema() -> None:
    schema = json.loads((helm.CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    values = yaml.safe_load((helm.CHART / "values.yaml").read_text())
    assert list(jsonschema.Draft7Validator(schema).iter_errors(values)) == []


def test_the_chart_metadata() -> None:
    chart = yaml.safe_load((helm.CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "meeting-controller"
    assert chart["appVersion"]
    assert (helm.CHART / ".helmignore").exists()
    assert (helm.CHART / "templates" / "NOTES.txt").exists()
