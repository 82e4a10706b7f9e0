"""`explain` facts for attributes across RDS, EBS, S3, IAM, security groups and DynamoDB."""

from __future__ import annotations

import pytest

from infraleash.errors import UsageError
from infraleash.paperwork.explain import explain

# (target, replaces, interrupts service, online-degraded); replace facts from terraform/replacement.py (sandbox-
# verified against real plans for the non-RDS types), reboot facts from terraform/stateful.py
CASES = [
    ("aws_db_instance.instance_class", False, True, False),
    ("aws_db_instance.engine_version", False, True, False),
    ("aws_db_instance.parameter_group_name", False, True, False),
    ("aws_db_instance.ca_cert_identifier", None, True, False),
    ("aws_db_instance.engine", True, False, False),
    ("aws_db_instance.storage_encrypted", True, False, False),
    ("aws_db_instance.kms_key_id", True, False, False),
    ("aws_db_instance.availability_zone", True, False, False),
    ("aws_db_instance.username", True, False, False),
    ("aws_db_instance.backup_retention_period", False, False, False),
    ("aws_ebs_volume.size", False, False, True),
    ("aws_ebs_volume.type", False, False, True),
    ("aws_ebs_volume.iops", False, False, True),
    ("aws_ebs_volume.availability_zone", True, False, False),
    ("aws_ebs_volume.encrypted", True, False, False),
    ("aws_ebs_volume.snapshot_id", True, False, False),
    ("aws_s3_bucket.bucket", True, False, False),
    ("aws_s3_bucket.object_lock_enabled", True, False, False),
    ("aws_s3_bucket.force_destroy", False, False, False),
    ("aws_iam_role.name", True, False, False),
    ("aws_iam_role.path", True, False, False),
    ("aws_iam_role.assume_role_policy", False, False, False),
    ("aws_iam_policy.description", True, False, False),
    ("aws_iam_policy.policy", False, False, False),
    ("aws_security_group.name", True, False, False),
    ("aws_security_group.description", True, False, False),
    ("aws_security_group.vpc_id", True, False, False),
    ("aws_security_group.ingress", False, False, False),
    ("aws_dynamodb_table.hash_key", True, False, False),
    ("aws_dynamodb_table.range_key", True, False, False),
    ("aws_dynamodb_table.local_secondary_index", True, False, False),
    ("aws_dynamodb_table.billing_mode", False, True, False),
    ("aws_dynamodb_table.stream_enabled", False, False, False),
]


@pytest.mark.parametrize(("target", "replaces", "interrupts", "degrades"), CASES, ids=[c[0] for c in CASES])
def test_replace_and_reboot_facts(target: str, replaces: bool | None, interrupts: bool, degrades: bool) -> None:
    result = explain(target)
    assert result.facts["replaces"] is replaces
    assert bool(result.facts["reboots"]) is interrupts
    assert bool(result.facts["degrades"]) is degrades
    said = {True: "REPLACES the resource", False: "updates the resource in place", None: "not known here"}
    assert said[replaces] in result.text
    assert result.facts["docs"].startswith("https://registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/")


def test_schema_facts() -> None:
    f = explain("aws_db_instance.password").facts
    assert (f["kind"], f["sensitive"], f["optional"], f["value_type"]) == ("argument", True, True, "string")
    f = explain("aws_db_instance.instance_class").facts
    assert f["required"] is True and f["waits_for_maintenance_window"] is True
    assert "restarts the database" in f["reboots"]
    f = explain("aws_s3_bucket.arn").facts
    assert f["kind"] == "read-only attribute" and f["computed"] is True
    f = explain("aws_dynamodb_table.local_secondary_index").facts
    assert f["kind"] == "nested block" and "projection_type" in f["arguments"]
    assert "deletion_protection_enabled = true" in explain("aws_dynamodb_table.deletion_protection_enabled") \
        .facts["protects_data"][0]
    assert "AWS-SG-OPEN-SSH" in explain("aws_security_group.ingress").facts["rules"]


def test_deprecated_argument() -> None:
    f = explain("aws_s3_bucket.acl").facts
    assert f["deprecated"] is True
    assert "Deprecated" in explain("aws_s3_bucket.acl").text


def test_type_and_rule() -> None:
    t = explain("aws_db_instance")
    assert t.facts["holds_data"] is True and "instance_class" in t.facts["disruptive"]
    assert "engine" in t.facts["forces_replacement"] and "AWS-RDS-UNENCRYPTED" in t.facts["rules"]
    r = explain("AWS-S3-NO-VERSIONING")
    assert r.facts["resource_types"] == ["aws_s3_bucket"] and "Fails:" in r.text


@pytest.mark.parametrize(("target", "message"), [
    ("aws_s3_buckt", "did you mean 'aws_s3_bucket'?"),
    ("aws_s3_bucket.buckt", "did you mean 'bucket'?"),
    ("AWS-S3-VERSIONING", "did you mean 'AWS-S3-NO-VERSIONING'?"),
])
def test_unknown_names_get_a_hint(target: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        explain(target)
