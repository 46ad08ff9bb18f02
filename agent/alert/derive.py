"""What every source derives the same way: service, system, summary, fingerprint.

Kept in one place so that an Alertmanager label, a Datadog tag and a generic
label named `service` mean the same thing everywhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

# Most specific first: an explicit `service` label beats the Kubernetes app
# name, which beats the container; `job` comes last because it usually names
# the scrape job ("kubernetes-pods", "blackbox"), not the service.
SERVICE_LABELS = (
    "service",
    "service_name",
    "app_kubernetes_io_name",
    "app",
    "k8s_app",
    "kube_service",
    "deployment",
    "kube_deployment",
    "container",
    "container_name",
    "job",
)
# The system a service belongs to: an explicit label first, then the
# namespace (usually one application), then the cluster (usually many).
SYSTEM_LABELS = ("system", "namespace", "kube_namespace", "cluster", "kube_cluster_name")
SUMMARY_ANNOTATIONS = ("summary", "description", "message")


def pick(labels: Mapping[str, str], names: Iterable[str]) -> str | None:
    """The value of the first of `names` that `labels` has non-empty."""
    return next((labels[name] for name in names if labels.get(name)), None)


def summary_of(annotations: Mapping[str, str]) -> str:
    """The one-line description the sender gave, from its usual annotation names."""
    return pick(annotations, SUMMARY_ANNOTATIONS) or ""


def fingerprint_of(*parts: object) -> str:
    """16 hex digits naming an alerting condition, stable across runs and processes.

    Mappings are hashed with sorted keys, so label order never matters.
    """
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
