"""Who said it: host, pod, container and service from a structured record's own fields.

Field names come from the common shippers and formats, each tried in order:

- Elastic Common Schema / Filebeat: ``host.name``, ``host.hostname``, ``service.name``, ``container.name``;
- Fluent Bit / Fluentd Kubernetes metadata: ``kubernetes.host``, ``kubernetes.pod_name``,
  ``kubernetes.container_name``, ``kubernetes.labels.app``;
- OpenTelemetry log records: ``resource.host.name``, ``resource.service.name``, ``resource.k8s.pod.name``
  (also under ``resource.attributes``), with keys that themselves contain dots (``{"service.name": ...}``);
- journald: ``_HOSTNAME``, ``SYSLOG_IDENTIFIER``, ``_SYSTEMD_UNIT``; plain ``host``, ``pod``, ``service``.

``lookup`` walks a dotted path through nested objects and dotted keys alike and skips values that are
objects (``"host": {"name": "api-2"}`` is no host name, ``host.name`` is), so a missing or nested field
never makes the file name stand in for the host.
"""

from __future__ import annotations

from typing import Any

TIME = ("__REALTIME_TIMESTAMP", "time", "ts", "@timestamp", "timestamp", "t", "date", "datetime", "eventTime",
        "asctime", "lastTimestamp", "firstTimestamp")
LEVEL = ("level", "severity", "lvl", "levelname", "log.level", "loglevel", "level_name", "severity_text",
         "severityText")
MESSAGE = ("MESSAGE", "msg", "message", "log", "event", "text", "@message", "body")
HOST = ("_HOSTNAME", "host.name", "host.hostname", "hostname", "host", "kubernetes.host", "kubernetes.node_name",
        "kubernetes.node.name", "k8s.node.name", "resource.host.name", "resource.attributes.host.name",
        "resource.k8s.node.name", "resource.attributes.k8s.node.name", "node", "nodeName", "node_name")
POD = ("kubernetes.pod_name", "kubernetes.pod.name", "k8s.pod.name", "resource.k8s.pod.name",
       "resource.attributes.k8s.pod.name", "pod", "pod_name")
CONTAINER = ("kubernetes.container_name", "kubernetes.container.name", "container.name", "k8s.container.name",
             "resource.k8s.container.name", "resource.attributes.k8s.container.name", "container_name", "container")
SERVICE = ("service.name", "resource.service.name", "resource.attributes.service.name", "SYSLOG_IDENTIFIER",
           "_SYSTEMD_UNIT", "service", "app", "kubernetes.labels.app", "kubernetes.labels.app.kubernetes.io/name",
           "kubernetes.container_name")
# top-level keys that hold header fields, not message: left out of the message text
CONSUMED = {k.split(".")[0] for k in (*TIME, *LEVEL, *MESSAGE, *HOST, *POD, *CONTAINER, *SERVICE)} | {
    "kubernetes", "stream", "logger", "caller", "resource", "attributes", "k8s"}
_NAMED = frozenset((*TIME, *LEVEL, *MESSAGE, *HOST, *POD, *CONTAINER, *SERVICE))
MAX_EXTRAS = 24  # key=value pairs of a record added to its message (numbers, ids)


def _walk(node: Any, parts: list[str]) -> Any:
    if not parts:
        return node
    if not isinstance(node, dict):
        return None
    for i in range(len(parts), 0, -1):  # the longest dotted key first: {"service.name": x}
        key = ".".join(parts[:i])
        if key in node:
            found = _walk(node[key], parts[i:])
            if found is not None:
                return found
    return None


def lookup(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The first of ``keys`` (dotted paths) that holds a scalar value; None when none does."""
    for key in keys:
        value = _walk(obj, key.split("."))
        if value is not None and not isinstance(value, dict | list) and value != "":
            return value
    return None


def scalar(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def extras(obj: dict[str, Any], prefix: str = "", out: list[str] | None = None) -> list[str]:
    """``key=value`` for the record's other scalar fields, nested ones with dotted keys
    (``{"jvm": {"heap_used_mb": 812}}`` -> ``jvm.heap_used_mb=812``), at most ``MAX_EXTRAS``."""
    out = [] if out is None else out
    for key, value in obj.items():
        if len(out) >= MAX_EXTRAS:
            break
        if not prefix and (key in CONSUMED or key in _NAMED):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            extras(value, name + ".", out)
        elif not isinstance(value, list) and value is not None:
            out.append(f"{name}={value}")
    return out
