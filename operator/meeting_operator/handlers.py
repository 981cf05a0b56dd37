"""The operator's kopf handlers: decorators only, each delegating to a domain module.

* create / update (spec) / resume of a ``MeetingController`` and a timer every
  ``MC_OPERATOR_RECONCILE_INTERVAL_SECONDS`` (MC status changes produce no Kubernetes event)
  -> :func:`reconciler.reconcile`;
* delete -> :func:`reconciler.teardown` behind kopf's finalizer, retried until every pod has
  drained and gone;
* login -> :func:`kube.login` (one set of credentials for kopf and for our own API calls);
* startup -> kopf settings: no peering (one operator replica, ``Recreate``), kopf's bookkeeping
  in annotations (the CRD's status schema has no room for it), only warnings posted as Events
  (the reconciler posts its own, meaningful ones).
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from meeting_operator import kube, reconciler, resources

_CR = (resources.GROUP, resources.VERSION, resources.PLURAL)


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.peering.standalone = True
    settings.peering.mandatory = False
    settings.posting.level = logging.WARNING
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=resources.GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=resources.GROUP, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{resources.GROUP}/drain-pods"
    settings.watching.server_timeout = 300


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    return kube.login(**kwargs)


@kopf.on.cleanup()
async def cleanup(**_: Any) -> None:
    await kube.close()


@kopf.on.create(*_CR)
@kopf.on.update(*_CR, field="spec")
@kopf.on.resume(*_CR)
async def apply(body: kopf.Body, **_: Any) -> None:
    await reconciler.reconcile(body, force_ensure=True)


@kopf.timer(*_CR, interval=reconciler.SETTINGS.reconcile_interval_s, initial_delay=1.0)
async def poll(body: kopf.Body, **_: Any) -> None:
    await reconciler.reconcile(body)


@kopf.on.delete(*_CR)
async def delete(body: kopf.Body, **_: Any) -> None:
    left = await reconciler.teardown(body)
    if left:
        raise kopf.TemporaryError(f"waiting for {left} MC pods to drain", delay=1.0)
