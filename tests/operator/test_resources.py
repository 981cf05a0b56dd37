"""The pure builders: what goes into an MC pod, and when its revision changes."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from meeting_operator import reconciler, resources


def _cr(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "replicas": 3,
        "image": "registry.example/mc:1",
        "region": "eu-west",
        "globalController": {"endpoint": "gc.meetings.svc:50051"},
        "redis": {"url": "redis://redis:6379/0"},
        "joinTokenPublicKeySecretRef": {"name": "gc-key", "key": "public.pem"},
        "drain": {"timeoutSeconds": 120},
    }
    base.update(spec)
    return {
        "apiVersion": resources.API_VERSION,
        "kind": resources.KIND,
        "metadata": {"name": "eu", "namespace": "meetings", "uid": "u-1", "generation": 1},
        "spec": base,
    }


def _pod(cr: dict[str, Any], name: str = "eu-abcde") -> dict[str, Any]:
    return resources.get_pod(cr, name=name, revision=resources.get_revision(cr))


def _env(pod: dict[str, Any]) -> dict[str, Any]:
    return {
        e["name"]: e.get("value", e.get("valueFrom")) for e in pod["spec"]["containers"][0]["env"]
    }


class TestPod:
    def test_is_owned_by_the_resource_and_labelled_for_the_fleet(self) -> None:
        cr = _cr(podLabels={"team": "rt", resources.LABEL_INSTANCE: "spoofed"})
        pod = _pod(cr)
        assert pod["metadata"]["ownerReferences"] == [
            {
                "apiVersion": resources.API_VERSION,
                "kind": resources.KIND,
                "name": "eu",
                "uid": "u-1",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        labels = pod["metadata"]["labels"]
        assert labels[resources.LABEL_NAME] == "meeting-controller"
        assert labels[resources.LABEL_COMPONENT] == "mc"
        assert labels[resources.LABEL_INSTANCE] == "eu"  # our labels win over podLabels
        assert labels["team"] == "rt"
        assert labels[resources.LABEL_REVISION] == resources.get_revision(cr)

    def test_has_a_stable_dns_name_used_as_id_and_advertised_endpoints(self) -> None:
        pod = _pod(_cr())
        assert pod["spec"]["hostname"] == "eu-abcde"
        assert pod["spec"]["subdomain"] == resources.service_name("eu")
        env = _env(pod)
        dns = f"eu-abcde.{resources.service_name('eu')}.meetings.svc.cluster.local"
        assert env["MC_ID"] == "eu-abcde"
        assert env["MC_GRPC_ADVERTISE"] == f"{dns}:50052"
        assert env["MC_WEBTRANSPORT_ADVERTISE"] == f"https://{dns}:4433/signaling"
        assert env["MC_REGION"] == "eu-west"
        assert env["MC_GC_ENDPOINT"] == "gc.meetings.svc:50051"
        assert env["MC_DRAIN_TIMEOUT_SECONDS"] == "120"

    def test_reads_secrets_from_mounted_files_and_redis_url_from_a_secret_key(self) -> None:
        cr = _cr(redis={"urlSecretRef": {"name": "redis", "key": "url"}})
        pod = _pod(cr)
        env = _env(pod)
        assert env["MC_REDIS_URL"] == {"secretKeyRef": {"name": "redis", "key": "url"}}
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        mounts = {m["name"]: m["mountPath"] for m in pod["spec"]["containers"][0]["volumeMounts"]}
        assert volumes["join-token-key"]["secret"]["secretName"] == "gc-key"
        assert env["MC_JOIN_TOKEN_PUBLIC_KEY_FILE"].startswith(mounts["join-token-key"] + "/")
        generated = resources.generated_secret_name("eu")
        assert volumes["session-secret"]["secret"]["secretName"] == generated
        assert volumes["admin-token"]["secret"]["secretName"] == generated
        assert env["MC_ADMIN_TOKEN_FILE"].startswith(mounts["admin-token"] + "/")
        assert volumes["tmp"] == {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}
        assert mounts["tmp"] == "/tmp"

    def test_referenced_secrets_replace_the_generated_one(self) -> None:
        cr = _cr(
            sessionSecretRef={"name": "s", "key": "k"},
            adminTokenSecretRef={"name": "a", "key": "t"},
        )
        fleet = resources.parse_spec(cr["spec"])
        assert not resources.needs_generated_secret(fleet)
        volumes = {v["name"]: v for v in _pod(cr)["spec"]["volumes"]}
        assert volumes["session-secret"]["secret"]["items"][0]["key"] == "k"
        assert volumes["admin-token"]["secret"]["secretName"] == "a"

    def test_is_locked_down(self) -> None:
        spec = _pod(_cr())["spec"]
        container = spec["containers"][0]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert spec["enableServiceLinks"] is False
        assert spec["automountServiceAccountToken"] is False

    def test_grace_period_outlasts_the_drain(self) -> None:
        spec = _pod(_cr(drain={"timeoutSeconds": 600}))["spec"]
        assert spec["terminationGracePeriodSeconds"] >= 600 + 30

    def test_probes_and_ports(self) -> None:
        container = _pod(_cr(ports={"grpc": 6000}))["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        ports = {p["name"]: (p["containerPort"], p["protocol"]) for p in container["ports"]}
        assert ports == {
            "webtransport": (4433, "UDP"),
            "grpc": (6000, "TCP"),
            "http": (8081, "TCP"),
        }
        assert _env(_pod(_cr(ports={"grpc": 6000})))["MC_GRPC_LISTEN"] == "0.0.0.0:6000"

    def test_carries_scheduling_and_resources(self) -> None:
        cr = _cr(
            resources={"requests": {"cpu": "1"}},
            nodeSelector={"kubernetes.io/os": "linux"},
            tolerations=[{"key": "k", "operator": "Exists"}],
            affinity={"podAntiAffinity": {}},
            podAnnotations={"a": "b"},
        )
        pod = _pod(cr)
        assert pod["spec"]["containers"][0]["resources"] == {"requests": {"cpu": "1"}}
        assert pod["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
        assert pod["spec"]["tolerations"] == [{"key": "k", "operator": "Exists"}]
        assert pod["spec"]["affinity"] == {"podAntiAffinity": {}}
        assert pod["metadata"]["annotations"] == {"a": "b"}

    def test_name_fits_a_dns_label(self) -> None:
        name = resources.pod_name("x" * 200, suffix="abcde")
        assert len(name) <= 63
        assert name.endswith("-abcde")


class TestRevision:
    @pytest.mark.parametrize(
        "change",
        [
            {"image": "registry.example/mc:2"},
            {"region": "us-east"},
            {"capacity": {"maxMeetings": 7}},
            {"drain": {"timeoutSeconds": 30}},
            {"resources": {"limits": {"memory": "1Gi"}}},
            {"podLabels": {"team": "x"}},
        ],
    )
    def test_changes_with_what_goes_into_the_pod(self, change: dict[str, Any]) -> None:
        before = _cr()
        after = copy.deepcopy(before)
        after["spec"].update(change)
        assert resources.get_revision(before) != resources.get_revision(after)

    @pytest.mark.parametrize("change", [{"replicas": 7}, {"rollout": {"maxSurge": 3}}])
    def test_does_not_change_when_only_scaling_or_rollout_settings_change(
        self, change: dict[str, Any]
    ) -> None:
        before = _cr()
        after = copy.deepcopy(before)
        after["spec"].update(change)
        assert resources.get_revision(before) == resources.get_revision(after)

    def test_defaults_written_out_are_the_same_revision(self) -> None:
        explicit = _cr(capacity={"maxMeetings": 100, "maxParticipants": 1000})
        assert resources.get_revision(_cr()) == resources.get_revision(explicit)


class TestFleetObjects:
    def test_headless_service_selects_the_fleet_and_publishes_unready_pods(self) -> None:
        service = resources.get_headless_service(_cr())
        assert service["spec"]["clusterIP"] == "None"
        assert service["spec"]["publishNotReadyAddresses"] is True
        assert service["spec"]["selector"] == resources.selector_labels("eu")
        assert service["metadata"]["name"] == resources.service_name("eu")

    def test_pdb_allows_one_disruption(self) -> None:
        pdb = resources.get_pdb(_cr())
        assert pdb["spec"] == {
            "maxUnavailable": 1,
            "selector": {"matchLabels": resources.selector_labels("eu")},
        }

    def test_generated_secret_holds_both_values(self) -> None:
        secret = resources.get_secret(_cr(), session_secret=b"s" * 48, admin_token=b"t" * 32)
        data = {k: base64.b64decode(v) for k, v in secret["data"].items()}
        assert data == {
            resources.GENERATED_SESSION_KEY: b"s" * 48,
            resources.GENERATED_ADMIN_KEY: b"t" * 32,
        }
        assert secret["metadata"]["ownerReferences"][0]["uid"] == "u-1"

    def test_a_spec_without_required_fields_is_refused(self) -> None:
        with pytest.raises(resources.SpecError, match="image"):
            resources.parse_spec({"region": "x"})


class TestStatus:
    def test_observed_pods_come_from_labels_annotations_and_conditions(self) -> None:
        from meeting_operator import planner

        mark = planner.DrainMark(started_at=1.0, deadline=9.0, reason="scale-down")
        pod = {
            "metadata": {
                "name": "eu-abcde",
                "labels": {resources.LABEL_REVISION: "r1"},
                "annotations": {planner.DRAIN_ANNOTATION: planner.encode_drain_mark(mark)},
                "creationTimestamp": "2025-01-01T00:00:00Z",
            },
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
        }
        observed = reconciler.observe_pod(pod, mc=None, now=5.0)
        assert observed.revision == "r1"
        assert observed.drain == mark
        assert observed.ready is True
        assert observed.phase is planner.PodPhase.RUNNING
        assert observed.created_at == 1735689600.0


class TestCertificate:
    def test_without_a_tls_secret_the_mc_generates_its_own(self) -> None:
        pod = _pod(_cr())
        env = _env(pod)
        assert "MC_TLS_CERT_FILE" not in env
        assert "MC_TLS_KEY_FILE" not in env
        assert all(v["name"] != resources.TLS_VOLUME for v in pod["spec"]["volumes"])

    def test_a_tls_secret_is_mounted_and_handed_to_the_mc(self) -> None:
        pod = _pod(_cr(tls={"secretName": "mc-cert"}))
        env = _env(pod)
        assert env["MC_TLS_CERT_FILE"].endswith("/tls/tls.crt")
        assert env["MC_TLS_KEY_FILE"].endswith("/tls/tls.key")
        [volume] = [v for v in pod["spec"]["volumes"] if v["name"] == resources.TLS_VOLUME]
        assert volume["secret"]["secretName"] == "mc-cert"
        assert {i["key"] for i in volume["secret"]["items"]} == {"tls.crt", "tls.key"}
        [mount] = [
            m
            for m in pod["spec"]["containers"][0]["volumeMounts"]
            if m["name"] == resources.TLS_VOLUME
        ]
        assert mount["readOnly"] is True
        assert env["MC_TLS_CERT_FILE"].startswith(mount["mountPath"])

    def test_changing_the_certificate_rolls_the_fleet(self) -> None:
        assert resources.get_revision(_cr()) != resources.get_revision(
            _cr(tls={"secretName": "mc-cert"})
        )
