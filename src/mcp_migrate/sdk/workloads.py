"""Where Kubernetes workloads keep their pod spec."""

from __future__ import annotations

from yaml.nodes import MappingNode

from ..lang.yaml import KubeObject, get

# kind -> path from the object to its pod spec
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def pod_spec(obj: KubeObject) -> MappingNode | None:
    """The pod spec of a workload (or Pod), None for other kinds or when it is not a mapping."""
    path = POD_SPEC_PATHS.get(obj.kind)
    if path is None:
        return None
    found = get(obj.node, *path)
    return found if isinstance(found, MappingNode) else None
