"""The Kubernetes API permissions the operator needs: the contract between code and chart.

Purely data; no I/O. The Helm chart's RBAC templates (``charts/meeting-controller/templates/
rbac.yaml``) grant exactly these rules, and ``tests/manifests`` renders the chart with real Helm
and fails when the two differ. So when operator code starts calling a new verb or resource, add it
here *and* in the template; when it stops, remove it from both. Least privilege is the point: an
operator that can delete any pod in the cluster deserves a list anyone can review in one screen.

The list is exactly what the operator calls: the operator acceptance test records every API
call kopf and the operator make against the emulated API server (told apart by their
User-Agent) and fails when the set differs from these rules, in either direction.

Why each rule exists:

* ``meetingcontrollers``: kopf lists and watches the resources and patches their metadata
  (finalizers, kopf's progress annotations).
* ``meetingcontrollers/status``: the operator writes the fleet status (totals, conditions, pods).
  The ``scale`` subresource is *not* here: ``kubectl scale`` and HPAs use it, the operator reads
  the result from ``spec.replicas``.
* ``pods``: the operator owns the MC pods directly: lists them each pass, creates them, deletes
  them after their drain, and patches the drain annotation. No ``watch``: it polls.
* ``services``, ``poddisruptionbudgets``: one each per fleet, created when absent (``get``).
* ``secrets``: ``get`` reads a referenced or previously created Secret, ``create`` makes the
  session master secret and the admin token when the resource references none. No ``list``/
  ``watch``: the operator never needs to see Secrets it was not told about.
* ``events``: kopf and the operator post Events on the resource.
* ``customresourcedefinitions``: kopf's discovery of the resource it serves.

Peering (``kopf.zalando.org`` ``clusterkopfpeerings``/``kopfpeerings``) and leases are not needed:
the chart runs the operator with ``--standalone`` and exactly one replica (``Recreate``).
"""

from __future__ import annotations

from typing import Final, TypedDict


class PolicyRule(TypedDict):
    """One ``rbac.authorization.k8s.io/v1`` PolicyRule, as it appears in a (Cluster)Role."""

    apiGroups: list[str]
    resources: list[str]
    verbs: list[str]


REQUIRED_RULES: Final[list[PolicyRule]] = [
    {
        "apiGroups": ["meetingcontroller.io"],
        "resources": ["meetingcontrollers"],
        "verbs": ["list", "watch", "patch"],
    },
    {
        "apiGroups": ["meetingcontroller.io"],
        "resources": ["meetingcontrollers/status"],
        "verbs": ["patch"],
    },
    {
        "apiGroups": [""],
        "resources": ["pods"],
        "verbs": ["list", "create", "delete", "patch"],
    },
    {
        "apiGroups": [""],
        "resources": ["services"],
        "verbs": ["get", "create"],
    },
    {
        "apiGroups": ["policy"],
        "resources": ["poddisruptionbudgets"],
        "verbs": ["get", "create"],
    },
    {
        "apiGroups": [""],
        "resources": ["secrets"],
        "verbs": ["get", "create"],
    },
    {
        "apiGroups": [""],
        "resources": ["events"],
        "verbs": ["create"],
    },
    {
        "apiGroups": ["apiextensions.k8s.io"],
        "resources": ["customresourcedefinitions"],
        "verbs": ["list", "watch"],
    },
]
"""Every rule the operator needs, cluster-wide mode (the chart's default)."""

CLUSTER_SCOPED: Final[frozenset[tuple[str, str]]] = frozenset(
    {("apiextensions.k8s.io", "customresourcedefinitions")}
)
"""(apiGroup, resource) pairs that are not namespaced.

When the operator watches one namespace only, the chart grants the other rules with a Role in that
namespace and keeps only these in a ClusterRole.
"""


def is_cluster_scoped(rule: PolicyRule) -> bool:
    """Whether ``rule`` is about cluster-scoped resources (all of its group/resource pairs)."""
    return all(
        (group, resource) in CLUSTER_SCOPED
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    )
