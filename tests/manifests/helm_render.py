"""Render the chart with real Helm (``helm-sdkpy``, Helm v4's Go library), out of process.

Run by ``tests/manifests/helm.py`` with the Python 3.12 of ``.venv-helm``; stdlib + helm-sdkpy
only. It is *not* part of the test suite's import graph (helm-sdkpy needs Python >= 3.12 and the
suite runs on 3.11).

Why a fake API server: helm-sdkpy exposes ``install`` but no ``template``/dry-run. So each case
runs a real ``helm install`` (chart loading, values merging, values.schema.json validation,
template rendering, CRD installation, manifest building and sorting: all Helm's own code) against
a throwaway HTTP server on 127.0.0.1 that answers discovery and accepts every create. Releases are
stored in memory (``HELM_DRIVER=memory``, set by the caller). The manifests Helm would send to a
cluster are the ones it POSTs here; the release's own ``manifest`` field is returned too.

Input (stdin, JSON): ``{"chart": path, "cases": [{"name", "namespace", "values"}]}``.
Output (stdout, JSON): one result per case: ``{"name", "ok", "error", "manifest", "notes",
"created"}``, ``created`` being the objects POSTed to the API in order.
Cases run concurrently; results come back in the order of the cases.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (group, version) -> [(plural, kind, namespaced)]: every kind the chart may render, plus what
# Helm itself touches.
_API: dict[tuple[str, str], list[tuple[str, str, bool]]] = {
    ("", "v1"): [
        ("namespaces", "Namespace", False),
        ("pods", "Pod", True),
        ("services", "Service", True),
        ("secrets", "Secret", True),
        ("configmaps", "ConfigMap", True),
        ("serviceaccounts", "ServiceAccount", True),
        ("events", "Event", True),
    ],
    ("apps", "v1"): [("deployments", "Deployment", True)],
    ("policy", "v1"): [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    ("rbac.authorization.k8s.io", "v1"): [
        ("clusterroles", "ClusterRole", False),
        ("clusterrolebindings", "ClusterRoleBinding", False),
        ("roles", "Role", True),
        ("rolebindings", "RoleBinding", True),
    ],
    ("apiextensions.k8s.io", "v1"): [
        ("customresourcedefinitions", "CustomResourceDefinition", False)
    ],
    ("meetingcontroller.io", "v1alpha1"): [("meetingcontrollers", "MeetingController", True)],
    ("monitoring.coreos.com", "v1"): [
        ("servicemonitors", "ServiceMonitor", True),
        ("podmonitors", "PodMonitor", True),
    ],
}
_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def _resource_list(group: str, version: str) -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [
            {
                "name": plural,
                "singularName": kind.lower(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": _VERBS,
            }
            for plural, kind, namespaced in _API[(group, version)]
        ],
    }


def _discovery(path: str) -> dict[str, Any] | None:
    if path == "/version":
        return {"major": "1", "minor": "33", "gitVersion": "v1.33.0", "platform": "linux/amd64"}
    if path == "/api":
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}
            ],
        }
    if path == "/apis":
        groups = [
            {
                "name": group,
                "versions": [{"groupVersion": f"{group}/{version}", "version": version}],
                "preferredVersion": {"groupVersion": f"{group}/{version}", "version": version},
            }
            for group, version in _API
            if group
        ]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    if path == "/api/v1":
        return _resource_list("", "v1")
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "apis" and (parts[1], parts[2]) in _API:
        return _resource_list(parts[1], parts[2])
    return None


class _FakeApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.created: list[dict[str, Any]] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: _FakeApi

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self) -> None:
        self._reply(
            404,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "reason": "NotFound",
                "code": 404,
                "message": f"{self.path} not found",
            },
        )

    def do_GET(self) -> None:
        body = _discovery(self.path.split("?", 1)[0])
        if body is None:
            self._not_found()  # every object Helm looks up is new
        else:
            self._reply(200, body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        obj = json.loads(self.rfile.read(length) or b"{}")
        metadata = obj.setdefault("metadata", {})
        metadata.setdefault("uid", str(uuid.uuid4()))
        metadata.setdefault("resourceVersion", "1")
        metadata.setdefault("creationTimestamp", "2025-01-01T00:00:00Z")
        with self.server.lock:
            self.server.created.append(obj)
        self._reply(201, obj)


def _kubeconfig(server: str) -> str:
    # YAML text: helm-sdkpy tells a kubeconfig's content from a file path by its YAML keys.
    return (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        f"- name: fake\n  cluster:\n    server: {server}\n"
        "users:\n"
        "- name: fake\n  user:\n    token: fake\n"
        "contexts:\n"
        "- name: fake\n  context:\n    cluster: fake\n    user: fake\n"
        "current-context: fake\n"
    )


async def _render(helm: Any, chart: str, case: dict[str, Any]) -> dict[str, Any]:
    api = _FakeApi()
    thread = threading.Thread(target=api.serve_forever, daemon=True)
    thread.start()
    result: dict[str, Any] = {"name": case["name"], "ok": False, "error": None}
    try:
        host, port = api.server_address[:2]
        config = helm.Configuration(
            namespace=case["namespace"], kubeconfig=_kubeconfig(f"http://{host!s}:{port}")
        )
        release = await helm.Install(config).run(
            case.get("release", "meeting-controller"),
            chart,
            values=case.get("values") or None,
            wait=False,
            timeout=60,
        )
        result.update(
            ok=True,
            manifest=release.get("manifest", ""),
            notes=(release.get("info") or {}).get("notes", ""),
        )
    except Exception as error:  # reported to the test, which asserts on it
        result["error"] = f"{type(error).__name__}: {error}"
    finally:
        api.shutdown()
        api.server_close()
    result["created"] = api.created
    return result


async def _main() -> int:
    request = json.load(sys.stdin)
    helm = importlib.import_module("helm_sdkpy")
    # Concurrently: each case has its own API server and Helm configuration, and most of a
    # render's time is client-go's request rate limiter waiting, not work.
    results = await asyncio.gather(*(_render(helm, request["chart"], c) for c in request["cases"]))
    json.dump({"helm": helm.get_version(), "results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
