"""Which arguments force Terraform to replace a resource (ForceNew in the AWS provider 5.100.0).

``terraform providers schema -json`` does not say whether changing an argument replaces
the resource: that is the provider's ``ForceNew``, visible only in a plan's
``replace_paths``.  This table holds it for the types juniors touch most (RDS, EBS, S3,
IAM, security groups, DynamoDB); the sandbox test ``tests/terraform/test_replacement.py``
plans a change of each non-RDS entry against moto and asserts Terraform's own
``replace_paths`` agree, and that the in-place arguments listed do not force replacement.

    forces_replacement("aws_s3_bucket", "bucket")   -> True
    forces_replacement("aws_s3_bucket", "tags")     -> False
    forces_replacement("aws_lambda_function", "x")  -> None (not known here: look at a plan)

To add a type: list its ForceNew arguments and a few in-place ones, add them to the
sandbox test's configuration, run it.
"""

from __future__ import annotations

FORCE_NEW: dict[str, frozenset[str]] = {
    "aws_db_instance": frozenset({
        "engine", "availability_zone", "db_name", "username", "kms_key_id", "storage_encrypted",
        "snapshot_identifier", "character_set_name", "nchar_character_set_name", "timezone",
        "custom_iam_instance_profile", "restore_to_point_in_time", "s3_import",
    }),
    "aws_ebs_volume": frozenset({"availability_zone", "encrypted", "kms_key_id", "snapshot_id", "outpost_arn"}),
    "aws_s3_bucket": frozenset({"bucket", "bucket_prefix", "object_lock_enabled"}),
    "aws_iam_role": frozenset({"name", "name_prefix", "path"}),
    "aws_iam_policy": frozenset({"name", "name_prefix", "path", "description"}),
    "aws_security_group": frozenset({"name", "name_prefix", "description", "vpc_id"}),
    "aws_dynamodb_table": frozenset({"name", "hash_key", "range_key", "local_secondary_index"}),
}

# arguments of the same types known to change in place (asserted by the same sandbox test where moto allows)
IN_PLACE: dict[str, frozenset[str]] = {
    "aws_db_instance": frozenset({
        "instance_class", "engine_version", "allocated_storage", "parameter_group_name", "multi_az",
        "backup_retention_period", "deletion_protection", "tags", "identifier", "storage_type", "iops",
    }),
    "aws_ebs_volume": frozenset({"size", "type", "iops", "throughput", "tags", "final_snapshot"}),
    "aws_s3_bucket": frozenset({"tags", "force_destroy"}),
    "aws_iam_role": frozenset({"assume_role_policy", "description", "max_session_duration", "tags"}),
    "aws_iam_policy": frozenset({"policy", "tags"}),
    "aws_security_group": frozenset({"ingress", "egress", "tags", "revoke_rules_on_delete"}),
    "aws_dynamodb_table": frozenset({
        "billing_mode", "read_capacity", "write_capacity", "stream_enabled", "tags",
        "deletion_protection_enabled", "global_secondary_index", "point_in_time_recovery", "ttl",
    }),
}


def forces_replacement(resource_type: str, attribute: str) -> bool | None:
    """True when changing ``attribute`` replaces the resource, False when it changes in place, None unknown."""
    if attribute in FORCE_NEW.get(resource_type, frozenset()):
        return True
    if attribute in IN_PLACE.get(resource_type, frozenset()):
        return False
    return None
