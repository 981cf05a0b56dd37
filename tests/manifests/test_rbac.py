"""Least privilege: the chart grants exactly ``meeting_operator.rbac.REQUIRED_RULES``."""

from __future__ import annotations

from typing import Any

from meeting_operator import rbac
from tests.manifests import conftest, helm

#: Verbs that would widen the operator beyond what it calls.
_NEVER = {"*", "deletecollection", "escalate", "bind", "impersonate"}


def _canonical(rules: list[Any]) -> list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]:
    return sorted(
        (tuple(r["apiGroups"]), tuple(r["resources"]), tuple(sorted(r["verbs"]))) for r in rules
    )


def test_the_contract_itself_is_least_privilege() -> None:
    seen = set()
    for rule in rbac.REQUIRED_RULES:
        assert set(rule) == {"apiGroups", "resources", "verbs"}
        assert "*" not in rule["apiGroups"] + rule["resources"]
        assert not set(rule["verbs"]) & _NEVER
        assert len(set(rule["verbs"])) == len(rule["verbs"])
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                assert (group, resource) not in seen, f"{group}/{resource} granted twice"
                seen.add((group, resource))
    # Things the operator must NOT be able to do.
    assert ("meetingcontroller.io", "meetingcontrollers/scale") not in seen
    assert ("kopf.dev", "kopfpeerings") not in seen  # --standalone: no peering
    secrets = next(r for r in rbac.REQUIRED_RULES if r["resources"] == ["secrets"])
    assert set(secrets["verbs"]) == {"get", "create"}  # no list/watch of every Secret


def test_cluster_wide_the_clusterrole_grants_exactly_the_required_rules(
    renders: dict[str, helm.Render],
) -> None:
    render = renders["defaults"]
    cluster_role = render.one("ClusterRole")
    assert cluster_role["rules"] == rbac.REQUIRED_RULES  # same rules, same order
    assert render.find("Role") == []
    binding = render.one("ClusterRoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": cluster_role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": render.one("ServiceAccount")["metadata"]["name"],
            "namespace": conftest.RELEASE_NAMESPACE,
        }
    ]


def test_with_watch_namespace_a_role_holds_the_namespaced_rules(
    renders: dict[str, helm.Render],
) -> None:
    render = renders["watch-namespace"]
    role = render.one("Role")
    cluster_role = render.one("ClusterRole")
    assert role["metadata"]["namespace"] == conftest.WATCH_NAMESPACE
    assert all(not rbac.is_cluster_scoped(rule) for rule in role["rules"])
    assert all(rbac.is_cluster_scoped(rule) for rule in cluster_role["rules"])
    assert _canonical(role["rules"] + cluster_role["rules"]) == _canonical(rbac.REQUIRED_RULES)
    binding = render.one("RoleBinding")
    assert binding["metadata"]["namespace"] == conftest.WATCH_NAMESPACE
    assert binding["roleRef"]["kind"] == "Role"
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"][0]["namespace"] == conftest.RELEASE_NAMESPACE
    cluster_binding = render.one("ClusterRoleBinding")
    assert cluster_binding["roleRef"]["name"] == cluster_role["metadata"]["name"]


def test_every_render_grants_the_same_union_of_rules(good_render: helm.Render) -> None:
    granted = [
        rule for kind in ("ClusterRole", "Role") for doc in good_render.find(kind)
        for rule in doc["rules"]
    ]  # fmt: skip
    assert _canonical(granted) == _canonical(rbac.REQUIRED_RULES)
