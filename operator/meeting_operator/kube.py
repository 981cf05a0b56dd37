"""The operator's own calls to the Kubernetes API (pods, Service, PDB, Secrets, CR status).

I/O only; the manifests come from :mod:`meeting_operator.resources`. It speaks plain JSON over
``aiohttp`` with the very credentials kopf logged in with (:func:`login` is the operator's
``@kopf.on.login`` and keeps a copy), so there is one source of truth for "how do we reach the
API server", and it works unchanged against kmock's emulator over plain HTTP.

Every verb used here is listed in :data:`meeting_operator.rbac.REQUIRED_RULES`; the chart grants
exactly those. Label selectors are sent to the server *and* applied again here: an API emulator
(and some proxies) ignore them, and listing someone else's pods as ours would be a disaster.
"""

from __future__ import annotations

import logging
import os
import ssl
import urllib.parse
from collections.abc import Mapping
from typing import Any, Final

import aiohttp
import kopf

log = logging.getLogger(__name__)

KUBE_URL_ENV: Final = "MC_OPERATOR_KUBE_URL"
"""When set, the operator talks to this API server URL without credentials or TLS checks (a
local emulator such as kmock in the tests); otherwise in-cluster or kubeconfig login."""

REQUEST_TIMEOUT_S: Final = 10.0


class KubeError(Exception):
    """The API server answered a request with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


_connection: kopf.ConnectionInfo | None = None
_session: aiohttp.ClientSession | None = None
USER_AGENT = "meeting-operator"


def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """Resolve the API server credentials (for kopf) and remember them (for this module)."""
    global _connection, _session
    url = os.environ.get(KUBE_URL_ENV)
    if url:
        info: kopf.ConnectionInfo | None = kopf.ConnectionInfo(server=url, insecure=True)
    else:
        info = kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)
    if info is not None and info != _connection:
        _connection = info
        _session = None  # rebuilt with the new credentials on the next request
    return info


def _ssl_context(info: kopf.ConnectionInfo) -> ssl.SSLContext | bool:
    if info.insecure:
        return False
    context = ssl.create_default_context(
        cafile=os.fsdecode(info.ca_path) if info.ca_path else None,
        cadata=info.ca_data.decode() if isinstance(info.ca_data, bytes) else info.ca_data,
    )
    if info.certificate_path and info.private_key_path:
        context.load_cert_chain(
            os.fsdecode(info.certificate_path), os.fsdecode(info.private_key_path)
        )
    return context


def _get_session() -> tuple[aiohttp.ClientSession, str]:
    global _session
    if _connection is None:
        raise KubeError(0, "not logged in to the Kubernetes API yet")
    if _session is None or _session.closed:
        # Named, so audit logs (and the RBAC test) can tell the operator's own calls apart.
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if _connection.token:
            headers["Authorization"] = f"{_connection.scheme or 'Bearer'} {_connection.token}"
        auth = (
            aiohttp.BasicAuth(_connection.username, _connection.password or "")
            if _connection.username
            else None
        )
        _session = aiohttp.ClientSession(
            headers=headers,
            auth=auth,
            connector=aiohttp.TCPConnector(ssl=_ssl_context(_connection)),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        )
    return _session, _connection.server.rstrip("/")


async def close() -> None:
    """Close the HTTP session (operator clean-up)."""
    global _session
    if _session is not None:
        await _session.close()
        _session = None


async def _request(
    method: str,
    path: str,
    *,
    body: Mapping[str, Any] | None = None,
    params: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> dict[str, Any]:
    session, server = _get_session()
    headers = {"Content-Type": content_type} if body is not None else {}
    async with session.request(
        method, server + path, json=body, params=params, headers=headers
    ) as response:
        if response.status >= 400:
            raise KubeError(response.status, (await response.text())[:500])
        data: dict[str, Any] = await response.json(content_type=None)
        return data


def _core(namespace: str, plural: str, name: str | None = None) -> str:
    path = f"/api/v1/namespaces/{namespace}/{plural}"
    return f"{path}/{urllib.parse.quote(name)}" if name else path


def _matches(obj: Mapping[str, Any], selector: Mapping[str, str]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(labels.get(key) == value for key, value in selector.items())


# -- pods -----------------------------------------------------------------------------------


async def list_pods(*, namespace: str, selector: Mapping[str, str]) -> list[dict[str, Any]]:
    """The pods in ``namespace`` whose labels include ``selector`` (filtered here too)."""
    label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    data = await _request("GET", _core(namespace, "pods"), params={"labelSelector": label_selector})
    return [pod for pod in data.get("items") or [] if _matches(pod, selector)]


async def create_pod(body: Mapping[str, Any]) -> dict[str, Any]:
    return await _request("POST", _core(body["metadata"]["namespace"], "pods"), body=body)


async def delete_pod(*, namespace: str, name: str) -> None:
    """Delete a pod (its MC gets SIGTERM and the pod's grace period); gone already is fine."""
    try:
        await _request("DELETE", _core(namespace, "pods", name))
    except KubeError as error:
        if error.status != 404:
            raise


async def patch_pod(*, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
    """JSON merge patch of a pod (the drain annotation)."""
    return await _request(
        "PATCH",
        _core(namespace, "pods", name),
        body=patch,
        content_type="application/merge-patch+json",
    )


# -- the fleet's other objects --------------------------------------------------------------

_COLLECTIONS: Final[dict[str, str]] = {
    "Service": "/api/v1/namespaces/{ns}/services",
    "Secret": "/api/v1/namespaces/{ns}/secrets",
    "PodDisruptionBudget": "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
}


async def ensure(body: Mapping[str, Any]) -> bool:
    """Create ``body`` (a Service, Secret or PDB) unless it exists; ``True`` if created.

    Never updates an existing object: a generated secret must keep its value for the fleet's
    life, and the Service and PDB depend only on the resource's name and ports.
    """
    meta = body["metadata"]
    collection = _COLLECTIONS[body["kind"]].format(ns=meta["namespace"])
    try:
        await _request("GET", f"{collection}/{urllib.parse.quote(meta['name'])}")
        return False
    except KubeError as error:
        if error.status != 404:
            raise
    try:
        await _request("POST", collection, body=body)
    except KubeError as error:
        if error.status == 409:  # created concurrently: fine
            return False
        raise
    return True


async def read_secret(*, namespace: str, name: str) -> dict[str, str] | None:
    """A Secret's base64 ``data``, or ``None`` if it does not exist."""
    try:
        data = await _request("GET", _core(namespace, "secrets", name))
    except KubeError as error:
        if error.status == 404:
            return None
        raise
    return dict(data.get("data") or {})


async def patch_status(
    *, group: str, version: str, plural: str, namespace: str, name: str, status: Mapping[str, Any]
) -> None:
    """Write the resource's status through its ``status`` subresource (merge patch)."""
    path = f"/apis/{group}/{version}/namespaces/{namespace}/{plural}/{urllib.parse.quote(name)}"
    await _request(
        "PATCH",
        f"{path}/status",
        body={"status": status},
        content_type="application/merge-patch+json",
    )
