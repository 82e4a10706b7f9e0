"""What a change costs for resource types that hold data or serve traffic.

A maintained table (:data:`STATEFUL`), one entry per resource type, each citing
the AWS provider documentation its facts come from.  :func:`assess` turns one
planned :class:`~infraleash.terraform.plan.ResourceChange` into zero or more
:class:`Cost` items:

* destroy or replace of a data-holding type -> ``data_loss``, unless protection
  is visible in the plan (``deletion_protection``, a final snapshot, a recovery
  window, ``force_destroy = false`` on a bucket that may hold objects...), in
  which case the cost is stated with the protection and a lower severity;
  ``lifecycle { prevent_destroy = true }`` never shows here: it is not in the plan JSON, and
  Terraform refuses to plan such a destroy at all, so a plan that destroys a resource proves
  the configuration no longer prevents it;
* destroy or replace of a traffic-serving type -> ``disruption``;
* an in-place update of an attribute known to reboot, fail over or roll
  instances -> ``disruption``, with a sentence saying why.

To add a type: add a :class:`Stateful` entry with the documentation URL, its
protections (attribute + the value that protects + what it means) and its
disruptive attributes; add a case to ``tests/terraform/test_stateful.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infraleash.findings import Kind, Severity
from infraleash.terraform.plan import Action, ReplaceOrder, ResourceChange

DOCS = "https://registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/"

Predicate = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class Protection:
    """Something visible in the plan that keeps data when the resource is destroyed."""

    attribute: str
    holds: Predicate  # on the resource's ``before`` values
    means: str  # what it does, e.g. "a final snapshot is taken"
    blocks_apply: bool = False  # the delete itself fails (deletion protection), vs. data is kept elsewhere


@dataclass(frozen=True)
class Stateful:
    type: str
    what: str  # "an RDS database instance"
    holds_data: bool  # destroy -> data loss; else destroy -> disruption (traffic)
    loss: str  # what is lost on destroy
    docs: str
    protections: tuple[Protection, ...] = ()
    disruptive: dict[str, str] = field(default_factory=dict)  # attribute -> why an in-place change interrupts
    # an attribute whose disruptive change waits for the maintenance window unless it is true
    apply_immediately: str | None = None
    # disruptive attributes whose change is online: performance degrades, service continues
    degrades: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Cost:
    kind: Kind  # DATA_LOSS or DISRUPTION
    severity: Severity
    message: str
    why: str
    docs: str
    protections: tuple[str, ...] = ()  # visible protections, in words
    attributes: tuple[str, ...] = ()


def _true(attr: str) -> Predicate:
    return lambda v: v.get(attr) is True


def _final_snapshot(skip: str = "skip_final_snapshot", ident: str = "final_snapshot_identifier") -> Predicate:
    return lambda v: v.get(skip) is False and bool(v.get(ident))


def _positive(attr: str) -> Predicate:
    return lambda v: isinstance(v.get(attr), int | float) and v[attr] > 0


def _set(attr: str) -> Predicate:
    return lambda v: bool(v.get(attr))


_RDS_DISRUPTIVE = {
    "instance_class": "changing the instance class restarts the database: minutes of downtime (a Multi-AZ "
                      "instance fails over instead)",
    "engine_version": "an engine version upgrade restarts the database and a major upgrade can take many minutes",
    "parameter_group_name": "a new parameter group takes effect only after a reboot of the database",
    "allocated_storage": "a storage change runs a storage optimization that degrades I/O for hours and blocks "
                         "further storage changes for 6 hours",
    "iops": "changing provisioned IOPS runs a storage optimization that degrades performance",
    "storage_type": "changing the storage type migrates the volume; performance is degraded and it may restart",
    "multi_az": "converting to or from Multi-AZ takes a snapshot and creates a standby; I/O is degraded",
    "ca_cert_identifier": "rotating the CA certificate restarts the database",
    "identifier": "renaming the instance (an in-place rename in provider 5.x) changes its endpoint hostname: "
                  "clients that use the old name lose the database",
}

_RDS_PROTECTIONS = (
    Protection("deletion_protection", _true("deletion_protection"),
               "deletion_protection = true: AWS refuses the delete, so apply would fail", blocks_apply=True),
    Protection("final_snapshot_identifier", _final_snapshot(),
               "skip_final_snapshot = false with a final_snapshot_identifier: a final snapshot is taken"),
)

_ENTRIES = [
    Stateful("aws_db_instance", "an RDS database instance", True, "the database and its automated backups",
             DOCS + "db_instance", _RDS_PROTECTIONS, _RDS_DISRUPTIVE, apply_immediately="apply_immediately"),
    Stateful("aws_rds_cluster", "an Aurora/RDS cluster", True, "the cluster volume and its automated backups",
             DOCS + "rds_cluster", _RDS_PROTECTIONS,
             {"engine_version": _RDS_DISRUPTIVE["engine_version"],
              "db_cluster_parameter_group_name": _RDS_DISRUPTIVE["parameter_group_name"],
              "db_cluster_instance_class": _RDS_DISRUPTIVE["instance_class"],
              "allocated_storage": _RDS_DISRUPTIVE["allocated_storage"]},
             apply_immediately="apply_immediately"),
    Stateful("aws_rds_cluster_instance", "an Aurora cluster instance", False, "a reader/writer of the cluster",
             DOCS + "rds_cluster_instance", (),
             {"instance_class": _RDS_DISRUPTIVE["instance_class"],
              "db_parameter_group_name": _RDS_DISRUPTIVE["parameter_group_name"]},
             apply_immediately="apply_immediately"),
    Stateful("aws_docdb_cluster", "a DocumentDB cluster", True, "the cluster's data", DOCS + "docdb_cluster",
             _RDS_PROTECTIONS, {"engine_version": _RDS_DISRUPTIVE["engine_version"]}),
    Stateful("aws_neptune_cluster", "a Neptune cluster", True, "the graph data", DOCS + "neptune_cluster",
             _RDS_PROTECTIONS, {"engine_version": _RDS_DISRUPTIVE["engine_version"]}),
    Stateful("aws_dynamodb_table", "a DynamoDB table", True, "every item in the table",
             DOCS + "dynamodb_table",
             (Protection("deletion_protection_enabled", _true("deletion_protection_enabled"),
                         "deletion_protection_enabled = true: AWS refuses the delete, so apply would fail",
                         blocks_apply=True),),
             {"billing_mode": "switching billing mode is allowed once per 24 hours and throttles until capacity "
                              "settles"}),
    Stateful("aws_s3_bucket", "an S3 bucket", True, "every object in the bucket", DOCS + "s3_bucket",
             (Protection("force_destroy", lambda v: v.get("force_destroy") is not True,
                         "force_destroy is not true: the delete fails while the bucket holds objects",
                         blocks_apply=True),)),
    Stateful("aws_ebs_volume", "an EBS volume", True, "the volume's blocks", DOCS + "ebs_volume",
             (Protection("final_snapshot", _true("final_snapshot"),
                         "final_snapshot = true: a snapshot is taken before the volume is deleted"),),
             {"type": "changing the volume type is an online modification: performance may vary until it "
                      "completes, and another change is refused for 6 hours",
              "size": "a resize is an online modification; the file system must still be grown, and another "
                      "change is refused for 6 hours",
              "iops": "an IOPS change is an online modification; another change is refused for 6 hours"},
             degrades=frozenset({"type", "size", "iops"})),
    Stateful("aws_efs_file_system", "an EFS file system", True, "every file on it", DOCS + "efs_file_system",
             (), {"throughput_mode": "throughput mode changes are limited to once per 24 hours"}),
    Stateful("aws_elasticache_cluster", "an ElastiCache cluster", True, "the cache contents (and Redis data)",
             DOCS + "elasticache_cluster",
             (Protection("final_snapshot_identifier", _set("final_snapshot_identifier"),
                         "final_snapshot_identifier set: a final snapshot is taken (Redis only)"),),
             {"node_type": "changing the node type replaces the cache nodes; Memcached loses its data and Redis "
                           "is unavailable or read-only during the scale",
              "engine_version": "an engine upgrade restarts the nodes"},
             apply_immediately="apply_immediately"),
    Stateful("aws_elasticache_replication_group", "an ElastiCache replication group", True,
             "the Redis/Valkey data", DOCS + "elasticache_replication_group",
             (Protection("final_snapshot_identifier", _set("final_snapshot_identifier"),
                         "final_snapshot_identifier set: a final snapshot is taken"),),
             {"node_type": "changing the node type scales every node; writes are interrupted during fail-over",
              "engine_version": "an engine upgrade restarts the nodes",
              "num_cache_clusters": "removing replicas reduces read capacity and fail-over safety"},
             apply_immediately="apply_immediately"),
    Stateful("aws_opensearch_domain", "an OpenSearch domain", True, "every index in the domain",
             DOCS + "opensearch_domain", (),
             {"cluster_config": "cluster changes trigger a blue/green deployment: heavy load for hours",
              "engine_version": "an upgrade runs a blue/green deployment",
              "ebs_options": "storage changes trigger a blue/green deployment"}),
    Stateful("aws_elasticsearch_domain", "an Elasticsearch domain", True, "every index in the domain",
             DOCS + "elasticsearch_domain", (),
             {"cluster_config": "cluster changes trigger a blue/green deployment: heavy load for hours",
              "elasticsearch_version": "an upgrade runs a blue/green deployment"}),
    Stateful("aws_redshift_cluster", "a Redshift cluster", True, "the warehouse data", DOCS + "redshift_cluster",
             (Protection("final_snapshot_identifier", _final_snapshot(),
                         "skip_final_snapshot = false with a final_snapshot_identifier: a final snapshot is taken"),),
             {"node_type": "a resize puts the cluster in read-only mode for its duration",
              "number_of_nodes": "a resize puts the cluster in read-only mode for its duration"}),
    Stateful("aws_kms_key", "a KMS key", True, "every piece of data encrypted under the key becomes unreadable",
             DOCS + "kms_key",
             (Protection("deletion_window_in_days", _positive("deletion_window_in_days"),
                         "the key is only scheduled for deletion (deletion_window_in_days) and can be "
                         "cancelled within the window"),)),
    Stateful("aws_route53_zone", "a Route 53 hosted zone", True, "every DNS record; the name servers change",
             DOCS + "route53_zone",
             (Protection("force_destroy", lambda v: v.get("force_destroy") is not True,
                         "force_destroy is not true: the delete fails while the zone holds records",
                         blocks_apply=True),)),
    Stateful("aws_secretsmanager_secret", "a Secrets Manager secret", True, "the secret value and its versions",
             DOCS + "secretsmanager_secret",
             (Protection("recovery_window_in_days", lambda v: v.get("recovery_window_in_days") != 0,
                         "the secret is recoverable during its recovery window"),)),
    Stateful("aws_sqs_queue", "an SQS queue", True, "every message waiting in the queue", DOCS + "sqs_queue"),
    Stateful("aws_sns_topic", "an SNS topic", False, "every subscription to the topic", DOCS + "sns_topic"),
    Stateful("aws_ecr_repository", "an ECR repository", True, "every image in the repository",
             DOCS + "ecr_repository",
             (Protection("force_delete", lambda v: v.get("force_delete") is not True,
                         "force_delete is not true: the delete fails while the repository holds images",
                         blocks_apply=True),)),
    Stateful("aws_cloudwatch_log_group", "a CloudWatch log group", True, "every log event in the group",
             DOCS + "cloudwatch_log_group",
             (Protection("skip_destroy", _true("skip_destroy"),
                         "skip_destroy = true: the log group is kept in AWS"),)),
    Stateful("aws_backup_vault", "a Backup vault", True, "every recovery point in the vault", DOCS + "backup_vault",
             (Protection("force_destroy", lambda v: v.get("force_destroy") is not True,
                         "force_destroy is not true: the delete fails while the vault holds recovery points",
                         blocks_apply=True),)),
    Stateful("aws_instance", "an EC2 instance", False, "the instance and its instance-store data",
             DOCS + "instance",
             (Protection("disable_api_termination", _true("disable_api_termination"),
                         "disable_api_termination = true: AWS refuses the termination", blocks_apply=True),),
             {"instance_type": "changing the instance type stops and starts the instance",
              "user_data": "changing user_data stops and starts the instance",
              "ebs_optimized": "changing EBS optimization stops and starts the instance"}),
    Stateful("aws_eks_cluster", "an EKS cluster", False, "the control plane and everything scheduled on it",
             DOCS + "eks_cluster", (),
             {"version": "a Kubernetes version upgrade rolls the control plane and cannot be undone"}),
    Stateful("aws_eks_node_group", "an EKS node group", False, "the nodes and the pods on them",
             DOCS + "eks_node_group", (),
             {"version": "a version change drains and replaces every node",
              "release_version": "an AMI release change drains and replaces every node",
              "launch_template": "a launch template change drains and replaces every node",
              "instance_types": "an instance type change replaces every node"}),
    Stateful("aws_autoscaling_group", "an Auto Scaling group", False, "every instance in the group",
             DOCS + "autoscaling_group", (),
             {"launch_template": "a launch template change rolls instances when instance_refresh is configured, "
                                 "otherwise only new instances get it",
              "launch_configuration": "a launch configuration change applies to new instances only",
              "max_size": "lowering max_size terminates instances",
              "desired_capacity": "changing desired capacity launches or terminates instances"}),
    Stateful("aws_lb", "a load balancer", False, "the load balancer's DNS name and every connection through it",
             DOCS + "lb",
             (Protection("enable_deletion_protection", _true("enable_deletion_protection"),
                         "enable_deletion_protection = true: AWS refuses the delete", blocks_apply=True),)),
    Stateful("aws_security_group", "a security group", False,
             "its attachments: every instance, database and interface using it loses the rules until the "
             "replacement is attached", DOCS + "security_group"),
    Stateful("aws_nat_gateway", "a NAT gateway", False, "outbound connectivity of the private subnets",
             DOCS + "nat_gateway"),
    Stateful("aws_eip", "an Elastic IP", False, "the public address; clients and allow-lists pointing at it break",
             DOCS + "eip"),
]

STATEFUL: dict[str, Stateful] = {e.type: e for e in _ENTRIES}


def assess(rc: ResourceChange) -> list[Cost]:
    """What this change costs, by the table (empty for types the table does not know)."""
    entry = STATEFUL.get(rc.type)
    if entry is None or rc.mode != "managed":
        return []
    if rc.action is Action.REPLACE and rc.replace_order is ReplaceOrder.CREATE_THEN_FORGET:
        return []  # the old object is only dropped from the state: it keeps its data
    if rc.action in (Action.DELETE, Action.REPLACE):
        return [_destroy_cost(entry, rc)]
    if rc.action is Action.UPDATE:
        return _update_costs(entry, rc)
    return []


def _destroy_cost(entry: Stateful, rc: ResourceChange) -> Cost:
    before = rc.before if isinstance(rc.before, dict) else {}
    held = tuple(p.means for p in entry.protections if p.holds(before))
    verb = "replacing" if rc.action is Action.REPLACE else "destroying"
    if not entry.holds_data:
        return Cost(Kind.DISRUPTION, Severity.HIGH, f"{verb} {entry.what} interrupts {entry.loss}",
                    why=f"{verb} {entry.what} interrupts {entry.loss}", docs=entry.docs, protections=held)
    blocks = any(p.blocks_apply and p.holds(before) for p in entry.protections)
    if held:
        severity = Severity.MEDIUM if blocks else Severity.HIGH
        message = f"{verb} {entry.what} would lose {entry.loss}; protection visible: {'; '.join(held)}"
    else:
        severity = Severity.CRITICAL
        message = f"{verb} {entry.what} loses {entry.loss}, and no protection is visible in the plan"
    return Cost(Kind.DATA_LOSS, severity, message, why=f"{entry.what} holds data: {entry.loss}",
                docs=entry.docs, protections=held)


def _update_costs(entry: Stateful, rc: ResourceChange) -> list[Cost]:
    changed = rc.changed_names() & set(entry.disruptive)
    if not changed:
        return []
    later = ""
    if entry.apply_immediately and rc.value(entry.apply_immediately, after=True) is not True:
        later = " (applied in the next maintenance window, since apply_immediately is not true)"
    attrs = tuple(sorted(changed))
    reasons = "; ".join(f"{a}: {entry.disruptive[a]}" for a in attrs)
    online = set(attrs) <= entry.degrades
    effect = "degrades performance while it runs" if online else "interrupts service"
    severity = Severity.LOW if online else Severity.MEDIUM if later else Severity.HIGH
    return [Cost(Kind.DISRUPTION, severity, f"in-place change of {', '.join(attrs)} on {entry.what} {effect}{later}",
                 why=reasons, docs=entry.docs, attributes=attrs)]


@dataclass(frozen=True)
class ApplyFailure:
    """A change Terraform plans but the AWS API rejects at apply: known before anyone runs it."""

    attribute: str
    message: str
    docs: str


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _shrinks(rc: ResourceChange, attr: str) -> bool:
    before, after = _number(rc.value(attr)), _number(rc.value(attr, after=True))
    return before is not None and after is not None and after < before


def _gsi_names_changed(rc: ResourceChange) -> list[str]:
    def by_name(side: Any) -> dict[str, Any]:
        items = side if isinstance(side, list) else []
        return {str(g.get("name")): g for g in items if isinstance(g, dict)}
    before, after = by_name(rc.value("global_secondary_index")), by_name(rc.value("global_secondary_index", after=True))
    return sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))


def apply_failures(rc: ResourceChange) -> list[ApplyFailure]:
    """The provider truths this plan would run into at apply (empty when none is known)."""
    out: list[ApplyFailure] = []
    if rc.mode != "managed":
        return out
    if rc.action is Action.UPDATE:
        if rc.type == "aws_ebs_volume" and _shrinks(rc, "size"):
            out.append(ApplyFailure("size", f"size {rc.value('size')} -> {rc.value('size', after=True)} GiB: "
                                    "EBS volumes cannot shrink; ModifyVolume rejects a smaller size, so apply "
                                    "fails (create a smaller volume and copy the data instead)", DOCS + "ebs_volume"))
        if rc.type == "aws_db_instance" and _shrinks(rc, "allocated_storage"):
            out.append(ApplyFailure(
                "allocated_storage", f"allocated_storage {rc.value('allocated_storage')} -> "
                f"{rc.value('allocated_storage', after=True)} GiB: RDS storage cannot be decreased; "
                "ModifyDBInstance rejects it, so apply fails", DOCS + "db_instance"))
        if rc.type == "aws_dynamodb_table" and len(names := _gsi_names_changed(rc)) > 1:
            out.append(ApplyFailure(
                "global_secondary_index", f"{len(names)} global secondary indexes change at once "
                f"({', '.join(names)}): DynamoDB creates or deletes one GSI per UpdateTable call, so apply "
                "fails part-way; change one index per apply", DOCS + "dynamodb_table"))
    return out
