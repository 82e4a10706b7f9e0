"""Structured fields: dotted paths through nested objects and dotted keys; objects are never a name."""

from __future__ import annotations

from infraleash.logs.fields import HOST, POD, SERVICE, extras, lookup


def test_lookup_walks_nested_objects_and_dotted_keys() -> None:
    assert lookup({"host": {"name": "api-2"}}, HOST) == "api-2"
    assert lookup({"host": {"os": "linux"}, "hostname": "api-3"}, HOST) == "api-3"  # an object is no host
    assert lookup({"resource": {"service.name": "billing"}}, SERVICE) == "billing"
    assert lookup({"resource": {"attributes": {"k8s.pod.name": "b-0"}}}, POD) == "b-0"
    assert lookup({"kubernetes": {"pod_name": "w-1", "host": "node-7"}}, HOST) == "node-7"
    assert lookup({"host": ""}, HOST) is None


def test_extras_flatten_nested_scalars_and_leave_out_header_fields() -> None:
    obj = {"msg": "x", "level": "info", "host": {"name": "h"}, "jvm": {"heap_used_mb": 812, "gc": {"count": 3}},
           "tags": ["a"], "log.level": "info", "attempt": 2}
    assert extras(obj) == ["jvm.heap_used_mb=812", "jvm.gc.count=3", "attempt=2"]
