"""The Kubernetes objects of one MC fleet, built from its ``MeetingController`` resource.

Purely data-manipulative: no I/O, no clock, no randomness (random pod-name suffixes and secret
values are passed in). Every builder returns a plain manifest dict; :mod:`meeting_operator.kube`
sends them. Keeping them pure is what makes the revision hash trustworthy: the hash is taken
over exactly the dict the pod is built from, so "the revision changed" means "the pod would be
different", never "some unrelated field moved".

The CRD applies defaults on a real API server; :func:`parse_spec` applies the same defaults
again, so that the builders do the same thing against an emulator (which applies none) and so
that a field the CRD learns later cannot make an old operator crash on ``KeyError``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

GROUP: Final = "meetingcontroller.io"
VERSION: Final = "v1alpha1"
PLURAL: Final = "meetingcontrollers"
KIND: Final = "MeetingController"
API_VERSION: Final = f"{GROUP}/{VERSION}"

LABEL_NAME: Final = "app.kubernetes.io/name"
LABEL_COMPONENT: Final = "app.kubernetes.io/component"
LABEL_INSTANCE: Final = "app.kubernetes.io/instance"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
LABEL_REVISION: Final = "meetingcontroller.io/revision"
"""The pod-template revision (hash) a pod was created from; see :func:`get_revision`."""

APP_NAME: Final = "meeting-controller"
COMPONENT_MC: Final = "mc"
MANAGED_BY: Final = "meeting-controller-operator"

CONTAINER_NAME: Final = "mc"
GRACE_MARGIN_S: Final = 30
"""Seconds the pod's grace period exceeds the drain timeout: the MC needs time after its drain
deadline to close what is left and tell the GC, and the kubelet must not SIGKILL it meanwhile."""

RUN_AS_ID: Final = 10001
"""The image's non-root user and group (see the Dockerfile)."""

SECRETS_DIR: Final = "/var/run/secrets/meetingcontroller.io"
"""Where the secret volumes are mounted: the MC reads its secrets from files, never from env
vars, so that they do not show up in ``kubectl describe pod`` or a process listing."""

GENERATED_SESSION_KEY: Final = "session-master-secret"
GENERATED_ADMIN_KEY: Final = "admin-token"

_NAME_PREFIX_MAX = 57
"""Pod names are ``<prefix>-<5 chars>`` and double as the pod ``hostname`` and the MC id, both
limited to a 63-character DNS label."""


@dataclasses.dataclass(frozen=True)
class SecretKeyRef:
    """One key of a Secret in the resource's namespace."""

    name: str
    key: str


@dataclasses.dataclass(frozen=True)
class Ports:
    webtransport: int = 4433
    grpc: int = 50052
    http: int = 8081


@dataclasses.dataclass(frozen=True)
class FleetSpec:
    """A ``MeetingController`` spec with the CRD's defaults applied."""

    replicas: int
    image: str
    image_pull_policy: str | None
    region: str
    max_meetings: int
    max_participants: int
    fast_heartbeat_ms: int | None
    comprehensive_heartbeat_ms: int | None
    gc_endpoint: str
    redis_url: str | None
    redis_url_secret: SecretKeyRef | None
    session_secret: SecretKeyRef | None
    """``None``: the operator generates one (:func:`get_secret`)."""
    join_token_public_key: SecretKeyRef
    admin_token: SecretKeyRef | None
    """``None``: the operator generates one (:func:`get_secret`)."""
    drain_timeout_s: int
    max_surge: int
    resources: Mapping[str, Any]
    node_selector: Mapping[str, str]
    tolerations: tuple[Mapping[str, Any], ...]
    affinity: Mapping[str, Any]
    pod_labels: Mapping[str, str]
    pod_annotations: Mapping[str, str]
    ports: Ports
    tls_secret: str | None = None
    """A ``kubernetes.io/tls`` Secret (``tls.crt``/``tls.key``) for WebTransport; ``None``: each
    MC generates a self-signed certificate (fine for tests and pinned-hash clients only)."""


class SpecError(ValueError):
    """The spec lacks something the CRD schema requires (only possible without the schema)."""


def _ref(value: object) -> SecretKeyRef | None:
    if not isinstance(value, Mapping) or not value.get("name") or not value.get("key"):
        return None
    return SecretKeyRef(name=str(value["name"]), key=str(value["key"]))


def parse_spec(spec: Mapping[str, Any]) -> FleetSpec:
    """Read a ``MeetingController`` spec, filling in the CRD's defaults; ``SpecError`` if a
    required field is missing."""
    capacity = spec.get("capacity") or {}
    heartbeat = spec.get("heartbeat") or {}
    redis = spec.get("redis") or {}
    ports = spec.get("ports") or {}
    missing = [f for f in ("image", "region") if not spec.get(f)]
    if not (spec.get("globalController") or {}).get("endpoint"):
        missing.append("globalController.endpoint")
    join_key = _ref(spec.get("joinTokenPublicKeySecretRef"))
    if join_key is None:
        missing.append("joinTokenPublicKeySecretRef")
    if not redis.get("url") and _ref(redis.get("urlSecretRef")) is None:
        missing.append("redis.url or redis.urlSecretRef")
    if missing:
        raise SpecError(f"spec is missing {', '.join(missing)}")
    assert join_key is not None
    fast = heartbeat.get("fastIntervalMs")
    comprehensive = heartbeat.get("comprehensiveIntervalMs")
    return FleetSpec(
        replicas=int(spec.get("replicas", 1)),
        image=str(spec["image"]),
        image_pull_policy=spec.get("imagePullPolicy"),
        region=str(spec["region"]),
        max_meetings=int(capacity.get("maxMeetings", 100)),
        max_participants=int(capacity.get("maxParticipants", 1000)),
        fast_heartbeat_ms=int(fast) if fast is not None else None,
        comprehensive_heartbeat_ms=int(comprehensive) if comprehensive is not None else None,
        gc_endpoint=str(spec["globalController"]["endpoint"]),
        redis_url=str(redis["url"]) if redis.get("url") else None,
        redis_url_secret=None if redis.get("url") else _ref(redis.get("urlSecretRef")),
        session_secret=_ref(spec.get("sessionSecretRef")),
        join_token_public_key=join_key,
        admin_token=_ref(spec.get("adminTokenSecretRef")),
        drain_timeout_s=int((spec.get("drain") or {}).get("timeoutSeconds", 300)),
        max_surge=int((spec.get("rollout") or {}).get("maxSurge", 1)),
        resources=dict(spec.get("resources") or {}),
        node_selector=dict(spec.get("nodeSelector") or {}),
        tolerations=tuple(spec.get("tolerations") or ()),
        affinity=dict(spec.get("affinity") or {}),
        pod_labels=dict(spec.get("podLabels") or {}),
        pod_annotations=dict(spec.get("podAnnotations") or {}),
        tls_secret=str((spec.get("tls") or {})["secretName"])
        if (spec.get("tls") or {}).get("secretName")
        else None,
        ports=Ports(
            webtransport=int(ports.get("webtransport", 4433)),
            grpc=int(ports.get("grpc", 50052)),
            http=int(ports.get("http", 8081)),
        ),
    )


# -- names and labels -----------------------------------------------------------------------


def service_name(cr_name: str) -> str:
    """The headless Service: the ``subdomain`` of every pod, so a DNS label (<= 63)."""
    return f"{cr_name[:_NAME_PREFIX_MAX]}-mc"


def pdb_name(cr_name: str) -> str:
    return f"{cr_name}-mc"


def generated_secret_name(cr_name: str) -> str:
    """The Secret the operator creates when the resource references no session secret or no
    admin token."""
    return f"{cr_name}-mc-generated"


def pod_name(cr_name: str, *, suffix: str) -> str:
    """``<cr>-<suffix>``, the prefix cut so that the name fits a DNS label (hostname, MC id)."""
    return f"{cr_name[:_NAME_PREFIX_MAX].rstrip('-.')}-{suffix}"


def selector_labels(cr_name: str) -> dict[str, str]:
    """The labels that select a fleet's MC pods (and only them)."""
    return {LABEL_NAME: APP_NAME, LABEL_COMPONENT: COMPONENT_MC, LABEL_INSTANCE: cr_name}


def selector_string(cr_name: str) -> str:
    """:func:`selector_labels` as a label-selector string (``status.selector``, list queries)."""
    return ",".join(f"{k}={v}" for k, v in sorted(selector_labels(cr_name).items()))


def session_secret_ref(cr_name: str, fleet: FleetSpec) -> SecretKeyRef:
    return fleet.session_secret or SecretKeyRef(
        name=generated_secret_name(cr_name), key=GENERATED_SESSION_KEY
    )


def admin_token_ref(cr_name: str, fleet: FleetSpec) -> SecretKeyRef:
    return fleet.admin_token or SecretKeyRef(
        name=generated_secret_name(cr_name), key=GENERATED_ADMIN_KEY
    )


def owner_reference(cr: Mapping[str, Any]) -> dict[str, Any]:
    """Makes the resource own an object: Kubernetes' garbage collector deletes what is left
    once the resource is gone, and ``controller: true`` tells others who manages it."""
    meta = cr["metadata"]
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _metadata(cr: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": cr["metadata"]["namespace"],
        "labels": {
            LABEL_NAME: APP_NAME,
            LABEL_INSTANCE: cr["metadata"]["name"],
            LABEL_MANAGED_BY: MANAGED_BY,
        },
        "ownerReferences": [owner_reference(cr)],
    }


# -- the pod --------------------------------------------------------------------------------


def pod_dns_name(
    *, pod: str, cr_name: str, namespace: str, cluster_domain: str = "cluster.local"
) -> str:
    """The pod's stable DNS name through the headless Service (``hostname`` + ``subdomain``)."""
    return f"{pod}.{service_name(cr_name)}.{namespace}.svc.{cluster_domain}"


def _secret_volume(name: str, ref: SecretKeyRef, filename: str) -> dict[str, Any]:
    return {
        "name": name,
        "secret": {
            "secretName": ref.name,
            "items": [{"key": ref.key, "path": filename}],
            "defaultMode": 0o440,
        },
    }


#: The volume of the WebTransport certificate (``spec.tls.secretName``).
TLS_VOLUME: Final = "tls"

_SECRET_MOUNTS: Final = (
    # volume name, file name, env var
    ("session-secret", "secret", "MC_SESSION_MASTER_SECRET_FILE"),
    ("join-token-key", "public.pem", "MC_JOIN_TOKEN_PUBLIC_KEY_FILE"),
    ("admin-token", "token", "MC_ADMIN_TOKEN_FILE"),
)


def _pod_body(
    cr: Mapping[str, Any], fleet: FleetSpec, *, name: str, cluster_domain: str
) -> dict[str, Any]:
    """The pod for ``name`` without the revision label: what the revision is a hash of."""
    cr_name = cr["metadata"]["name"]
    namespace = cr["metadata"]["namespace"]
    dns = pod_dns_name(
        pod=name, cr_name=cr_name, namespace=namespace, cluster_domain=cluster_domain
    )
    ports = fleet.ports
    refs = {
        "session-secret": session_secret_ref(cr_name, fleet),
        "join-token-key": fleet.join_token_public_key,
        "admin-token": admin_token_ref(cr_name, fleet),
    }
    env: list[dict[str, Any]] = [
        {"name": "MC_ID", "value": name},
        {"name": "MC_REGION", "value": fleet.region},
        {"name": "MC_GC_ENDPOINT", "value": fleet.gc_endpoint},
    ]
    if fleet.redis_url is not None:
        env.append({"name": "MC_REDIS_URL", "value": fleet.redis_url})
    else:
        assert fleet.redis_url_secret is not None
        env.append(
            {
                "name": "MC_REDIS_URL",
                "valueFrom": {
                    "secretKeyRef": {
                        "name": fleet.redis_url_secret.name,
                        "key": fleet.redis_url_secret.key,
                    }
                },
            }
        )
    env += [
        {"name": "MC_MAX_MEETINGS", "value": str(fleet.max_meetings)},
        {"name": "MC_MAX_PARTICIPANTS", "value": str(fleet.max_participants)},
        {"name": "MC_GRPC_LISTEN", "value": f"0.0.0.0:{ports.grpc}"},
        {"name": "MC_GRPC_ADVERTISE", "value": f"{dns}:{ports.grpc}"},
        {"name": "MC_WEBTRANSPORT_LISTEN", "value": f"0.0.0.0:{ports.webtransport}"},
        {
            "name": "MC_WEBTRANSPORT_ADVERTISE",
            "value": f"https://{dns}:{ports.webtransport}/signaling",
        },
        {"name": "MC_HTTP_LISTEN", "value": f"0.0.0.0:{ports.http}"},
    ]
    if fleet.fast_heartbeat_ms is not None:
        env.append({"name": "MC_FAST_HEARTBEAT_MS", "value": str(fleet.fast_heartbeat_ms)})
    if fleet.comprehensive_heartbeat_ms is not None:
        env.append(
            {
                "name": "MC_COMPREHENSIVE_HEARTBEAT_MS",
                "value": str(fleet.comprehensive_heartbeat_ms),
            }
        )
    for volume, filename, variable in _SECRET_MOUNTS:
        env.append({"name": variable, "value": f"{SECRETS_DIR}/{volume}/{filename}"})
    if fleet.tls_secret is not None:
        env += [
            {"name": "MC_TLS_CERT_FILE", "value": f"{SECRETS_DIR}/{TLS_VOLUME}/tls.crt"},
            {"name": "MC_TLS_KEY_FILE", "value": f"{SECRETS_DIR}/{TLS_VOLUME}/tls.key"},
        ]
    env += [
        {"name": "MC_DRAIN_TIMEOUT_SECONDS", "value": str(fleet.drain_timeout_s)},
        {"name": "MC_LOG_FORMAT", "value": "json"},
    ]

    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": fleet.image,
        "args": ["run"],
        "env": env,
        "ports": [
            {"name": "webtransport", "containerPort": ports.webtransport, "protocol": "UDP"},
            {"name": "grpc", "containerPort": ports.grpc, "protocol": "TCP"},
            {"name": "http", "containerPort": ports.http, "protocol": "TCP"},
        ],
        # /healthz: the process is alive. /readyz: registered with the GC and Redis reachable,
        # i.e. the GC may place meetings here; Ready is one of the planner's "serving" inputs.
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "http"},
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": "http"},
            "periodSeconds": 2,
            "timeoutSeconds": 2,
            "failureThreshold": 1,
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            *(
                {"name": volume, "mountPath": f"{SECRETS_DIR}/{volume}", "readOnly": True}
                for volume, _, _ in _SECRET_MOUNTS
            ),
        ],
    }
    if fleet.tls_secret is not None:
        container["volumeMounts"].append(
            {"name": TLS_VOLUME, "mountPath": f"{SECRETS_DIR}/{TLS_VOLUME}", "readOnly": True}
        )
    if fleet.image_pull_policy:
        container["imagePullPolicy"] = fleet.image_pull_policy
    if fleet.resources:
        container["resources"] = dict(fleet.resources)

    spec: dict[str, Any] = {
        "hostname": name,
        "subdomain": service_name(cr_name),
        # A drained MC exits 0 and must stay down until the operator deletes the pod; a crash
        # restarts it in place (same name, same DNS, same MC id).
        "restartPolicy": "OnFailure",
        "terminationGracePeriodSeconds": fleet.drain_timeout_s + GRACE_MARGIN_S,
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_ID,
            "runAsGroup": RUN_AS_ID,
            "fsGroup": RUN_AS_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            # The root filesystem is read-only; the MC writes a generated certificate to /tmp.
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
            *(
                _secret_volume(volume, refs[volume], filename)
                for volume, filename, _ in _SECRET_MOUNTS
            ),
        ],
    }
    if fleet.tls_secret is not None:
        spec["volumes"].append(
            {
                "name": TLS_VOLUME,
                "secret": {
                    "secretName": fleet.tls_secret,
                    "items": [
                        {"key": "tls.crt", "path": "tls.crt"},
                        {"key": "tls.key", "path": "tls.key"},
                    ],
                    "defaultMode": 0o440,
                },
            }
        )
    if fleet.node_selector:
        spec["nodeSelector"] = dict(fleet.node_selector)
    if fleet.tolerations:
        spec["tolerations"] = [dict(t) for t in fleet.tolerations]
    if fleet.affinity:
        spec["affinity"] = dict(fleet.affinity)

    labels = {**fleet.pod_labels, **selector_labels(cr_name), LABEL_MANAGED_BY: MANAGED_BY}
    return {
        "metadata": {"labels": labels, "annotations": dict(fleet.pod_annotations)},
        "spec": spec,
    }


_NAME_PLACEHOLDER: Final = "$(POD_NAME)"


def get_revision(
    cr: Mapping[str, Any], *, fleet: FleetSpec | None = None, cluster_domain: str = "cluster.local"
) -> str:
    """The pod-template revision: a hash of everything that goes into a pod except its name.

    ``replicas`` and ``rollout`` do not go into a pod, so scaling does not roll the fleet;
    everything else (image, env, probes, grace period, scheduling, labels) does.
    """
    fleet = fleet or parse_spec(cr["spec"])
    body = _pod_body(cr, fleet, name=_NAME_PLACEHOLDER, cluster_domain=cluster_domain)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:10]


def get_pod(
    cr: Mapping[str, Any],
    *,
    name: str,
    revision: str,
    fleet: FleetSpec | None = None,
    cluster_domain: str = "cluster.local",
) -> dict[str, Any]:
    """One MC pod of the fleet, named ``name`` (see :func:`pod_name`), at ``revision``.

    ``revision`` is passed in rather than recomputed so that the caller labels the pod with
    the revision it planned for (:func:`get_revision` of the same ``cr``).
    """
    fleet = fleet or parse_spec(cr["spec"])
    body = _pod_body(cr, fleet, name=name, cluster_domain=cluster_domain)
    metadata = _metadata(cr, name)
    metadata["labels"] = {**body["metadata"]["labels"], LABEL_REVISION: revision}
    if body["metadata"]["annotations"]:
        metadata["annotations"] = body["metadata"]["annotations"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": body["spec"]}


# -- the fleet's other objects --------------------------------------------------------------


def get_headless_service(
    cr: Mapping[str, Any], *, fleet: FleetSpec | None = None
) -> dict[str, Any]:
    """The headless Service that gives every MC pod its DNS name.

    ``publishNotReadyAddresses``: the GC must reach a draining MC (no longer Ready) by its name,
    and an MC registers (advertising that name) before it becomes Ready.
    """
    fleet = fleet or parse_spec(cr["spec"])
    cr_name = cr["metadata"]["name"]
    metadata = _metadata(cr, service_name(cr_name))
    metadata["labels"][LABEL_COMPONENT] = COMPONENT_MC
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": selector_labels(cr_name),
            "ports": [
                {"name": "webtransport", "port": fleet.ports.webtransport, "protocol": "UDP"},
                {"name": "grpc", "port": fleet.ports.grpc, "protocol": "TCP"},
                {"name": "http", "port": fleet.ports.http, "protocol": "TCP"},
            ],
        },
    }


def get_pdb(cr: Mapping[str, Any]) -> dict[str, Any]:
    """At most one MC evicted at a time (node drains): each evicted MC drains on SIGTERM, and
    one at a time keeps the fleet's capacity for the meetings it moves."""
    cr_name = cr["metadata"]["name"]
    metadata = _metadata(cr, pdb_name(cr_name))
    metadata["labels"][LABEL_COMPONENT] = COMPONENT_MC
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata,
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector_labels(cr_name)}},
    }


def needs_generated_secret(fleet: FleetSpec) -> bool:
    """Whether the resource leaves the session secret or the admin token to the operator."""
    return fleet.session_secret is None or fleet.admin_token is None


def get_secret(
    cr: Mapping[str, Any], *, session_secret: bytes, admin_token: bytes
) -> dict[str, Any]:
    """The operator-generated Secret holding a session master secret and an admin token.

    The values are passed in (the caller draws them from ``secrets.token_*``); both keys are
    always present, whichever of them the pods use.
    """
    metadata = _metadata(cr, generated_secret_name(cr["metadata"]["name"]))
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": "Opaque",
        "data": {
            GENERATED_SESSION_KEY: base64.b64encode(session_secret).decode("ascii"),
            GENERATED_ADMIN_KEY: base64.b64encode(admin_token).decode("ascii"),
        },
    }
