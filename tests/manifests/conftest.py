"""Fixtures of the manifest tests: one real Helm render per scenario, shared by the session."""

from __future__ import annotations

from typing import Any

import pytest

from tests.manifests import helm

WATCH_NAMESPACE = "meetings"
RELEASE_NAMESPACE = "mc-system"

#: Every optional feature on, every free-form value exercised.
ALL_FEATURES: dict[str, Any] = {
    "imagePullSecrets": [{"name": "regcred"}],
    "serviceAccount": {"create": True, "annotations": {"example.com/role": "operator"}},
    "operator": {
        "healthPort": 8080,
        "metricsPort": 9090,
        "logFormat": "text",
        "logLevel": "debug",
        "extraArgs": ["--verbose"],
        "extraEnv": [{"name": "EXTRA", "value": "1"}],
    },
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [
        {"key": "dedicated", "operator": "Equal", "value": "ops", "effect": "NoSchedule"}
    ],
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["ops"]}]}
                ]
            }
        }
    },
    "priorityClassName": "system-cluster-critical",
    "podLabels": {"team": "realtime"},
    "podAnnotations": {"example.com/scrape": "false"},
    "metrics": {
        "serviceMonitor": {"enabled": True, "interval": "15s", "labels": {"release": "prom"}},
        "podMonitor": {"enabled": True, "interval": "15s", "labels": {"release": "prom"}},
    },
    "example": {"enabled": True},
}

#: Values values.schema.json must reject, with the text Helm's error must contain.
BAD_VALUES: dict[str, tuple[dict[str, Any], str]] = {
    "replicaCount-as-string": ({"replicaCount": "1"}, "/replicaCount"),
    "two-operators": ({"replicaCount": 2}, "/replicaCount"),
    "unknown-key": ({"replicas": 1}, "replicas"),
    "bad-pull-policy": ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
    "bad-watch-namespace": ({"watchNamespace": "Not_A_Namespace"}, "/watchNamespace"),
    "monitor-enabled-as-string": (
        {"metrics": {"podMonitor": {"enabled": "yes"}}},
        "/metrics/podMonitor/enabled",
    ),
    "bad-log-level": ({"operator": {"logLevel": "loud"}}, "/operator/logLevel"),
    "port-out-of-range": ({"operator": {"healthPort": 0}}, "/operator/healthPort"),
}

GOOD_CASES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "all-features": ALL_FEATURES,
    "watch-namespace": {"watchNamespace": WATCH_NAMESPACE, "example": {"enabled": True}},
    "all-features-watch-namespace": ALL_FEATURES | {"watchNamespace": WATCH_NAMESPACE},
}


@pytest.fixture(scope="session")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, helm.Render]:
    """Every scenario rendered by real Helm, by name (good ones and BAD_VALUES ones)."""
    cases = [
        {"name": name, "namespace": RELEASE_NAMESPACE, "values": values}
        for name, values in GOOD_CASES.items()
    ] + [
        {"name": name, "namespace": RELEASE_NAMESPACE, "values": values}
        for name, (values, _) in BAD_VALUES.items()
    ]
    return helm.render_all(cases, scratch=tmp_path_factory.mktemp("helm"))


@pytest.fixture(params=sorted(GOOD_CASES))
def good_render(request: pytest.FixtureRequest, renders: dict[str, helm.Render]) -> helm.Render:
    """Each successful scenario in turn."""
    render = renders[request.param]
    assert render.ok, render.error
    return render
