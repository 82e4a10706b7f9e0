"""Storage: EBS and instance block devices, RDS, DynamoDB and EFS."""

from __future__ import annotations

from collections.abc import Iterator

from infraleash.checks.aws._common import as_int, nested, require, require_true, truth, unknown
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Severity
from infraleash.terraform.config import Block, Unknown

MIN_BACKUP_RETENTION_DAYS = 7


def _account_ebs_default(ctx: CheckContext) -> bool:
    return any(truth(b.get("enabled"), True) for b in ctx.config.of_type("aws_ebs_encryption_by_default"))


# --------------------------------------------------------------------------- EBS


def _check_ebs(block: Block, ctx: CheckContext) -> Iterator[Result]:
    if _account_ebs_default(ctx) or block.get("snapshot_id") is not None and block.get("encrypted") is None:
        return  # account default encryption on; a snapshot's volume inherits the snapshot's encryption
    yield from require_true(block, "encrypted", "EBS volume is not encrypted")


EBS_UNENCRYPTED = Rule(
    id="AWS-EBS-UNENCRYPTED",
    title="EBS volume is not encrypted",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=("aws_ebs_volume",),
    why="An unencrypted volume's snapshots can be shared or copied in the clear, and it cannot be attached "
        "in accounts that enforce encryption. Encryption is free and cannot be added to a volume later "
        "without copying it.",
    fail_example='''resource "aws_ebs_volume" "fail" {
  availability_zone = "eu-west-1a"
  size              = 100
}''',
    pass_example='''resource "aws_ebs_volume" "pass" {
  availability_zone = "eu-west-1a"
  size              = 100
  encrypted         = true
}''',
    unknown_example='''variable "encrypt" { type = bool }
resource "aws_ebs_volume" "unknown" {
  availability_zone = "eu-west-1a"
  size              = 100
  encrypted         = var.encrypt
}''',
    check=_check_ebs,
    checkov_ids=("CKV_AWS_3",),
    references=("https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",),
)


def _check_ebs_default(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from require_true(block, "enabled", "EBS encryption by default is turned off for the region", default=True)


EBS_DEFAULT_OFF = Rule(
    id="AWS-EBS-DEFAULT-ENCRYPTION-OFF",
    title="EBS encryption by default is turned off for the region",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_ebs_encryption_by_default",),
    why="Encryption by default is the account-wide safety net that encrypts every new volume and snapshot copy, "
        "whatever the template says. Turning it off re-opens the gap for every team.",
    fail_example='''resource "aws_ebs_encryption_by_default" "fail" {
  enabled = false
}''',
    pass_example='''resource "aws_ebs_encryption_by_default" "pass" {
  enabled = true
}''',
    check=_check_ebs_default,
    checkov_ids=("CKV_AWS_106",),
    references=("https://docs.aws.amazon.com/ebs/latest/userguide/encryption-by-default.html",),
)


def _check_instance_devices(block: Block, ctx: CheckContext) -> Iterator[Result]:
    if _account_ebs_default(ctx):
        return
    if block.type == "aws_launch_template":
        devices = list(nested(block, "block_device_mappings", "ebs"))
    else:
        devices = [*block.blocks("root_block_device"), *block.blocks("ebs_block_device")]
    for dev in devices:
        ok = truth(dev.get("encrypted"))
        if ok is False:
            yield Result("instance block device is not encrypted", attribute=dev.type)
            return
        if ok is None and dev.get("snapshot_id") is None:
            yield unknown("instance block device is not encrypted", dev.get("encrypted"), attribute=dev.type)
            return


INSTANCE_DEVICE_UNENCRYPTED = Rule(
    id="AWS-EC2-BLOCK-DEVICE-UNENCRYPTED",
    title="instance block device is not encrypted",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=("aws_instance", "aws_launch_template", "aws_launch_configuration"),
    why="Root and data volumes hold application secrets, caches and logs; unencrypted, their snapshots and "
        "AMIs leak all of it when shared or copied.",
    fail_example='''resource "aws_instance" "fail" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  root_block_device {
    volume_size = 20
  }
}''',
    pass_example='''resource "aws_instance" "pass" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  root_block_device {
    volume_size = 20
    encrypted   = true
  }
}''',
    check=_check_instance_devices,
    checkov_ids=("CKV_AWS_8",),
    references=("https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",),
)


# --------------------------------------------------------------------------- RDS


def _inherits_storage(block: Block) -> bool:
    """Aurora members get storage settings from the cluster; replicas from their source."""
    return block.type == "aws_db_instance" and (block.get("cluster_identifier") is not None
                                                or block.get("replicate_source_db") is not None)


def _check_rds_encryption(block: Block, ctx: CheckContext) -> Iterator[Result]:
    if _inherits_storage(block):
        return
    if block.type == "aws_rds_cluster" and block.get("engine_mode") == "serverless":
        return  # Aurora Serverless v1 is always encrypted
    yield from require_true(block, "storage_encrypted", "RDS storage is not encrypted")


RDS_UNENCRYPTED = Rule(
    id="AWS-RDS-UNENCRYPTED",
    title="RDS storage is not encrypted",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=("aws_db_instance", "aws_rds_cluster"),
    why="Database storage, automated backups, replicas and snapshots inherit this setting; it cannot be turned "
        "on later without a snapshot-copy-restore migration and downtime.",
    fail_example='''resource "aws_db_instance" "fail" {
  identifier          = "orders"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "app"
  manage_master_user_password = true
}''',
    pass_example='''resource "aws_db_instance" "pass" {
  identifier          = "orders"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "app"
  manage_master_user_password = true
  storage_encrypted   = true
}''',
    unknown_example='''variable "encrypted" { type = bool }
resource "aws_rds_cluster" "unknown" {
  cluster_identifier = "orders"
  engine             = "aurora-postgresql"
  storage_encrypted  = var.encrypted
}''',
    check=_check_rds_encryption,
    checkov_ids=("CKV_AWS_16", "CKV_AWS_96"),
    references=("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html",),
)


def _check_rds_public(block: Block, ctx: CheckContext) -> Iterator[Result]:
    ok = truth(block.get("publicly_accessible"))
    yield from require(block, "publicly_accessible", None if ok is None else not ok,
                       "RDS instance is publicly accessible")


RDS_PUBLIC = Rule(
    id="AWS-RDS-PUBLIC",
    title="RDS instance is publicly accessible",
    severity=Severity.CRITICAL,
    kind=Kind.SECURITY,
    resource_types=("aws_db_instance",),
    why="A publicly accessible instance gets a public DNS name and IP; one permissive security group rule away "
        "from the database listening on the internet. Keep databases in private subnets.",
    fail_example='''resource "aws_db_instance" "fail" {
  identifier          = "orders"
  engine              = "mysql"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  publicly_accessible = true
}''',
    pass_example='''resource "aws_db_instance" "pass" {
  identifier          = "orders"
  engine              = "mysql"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  publicly_accessible = false
}''',
    unknown_example='''variable "public" { type = bool }
resource "aws_db_instance" "unknown" {
  identifier          = "orders"
  engine              = "mysql"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  publicly_accessible = var.public
}''',
    check=_check_rds_public,
    checkov_ids=("CKV_AWS_17",),
    references=("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html",),
)


def _check_rds_deletion(block: Block, ctx: CheckContext) -> Iterator[Result]:
    if block.type == "aws_db_instance" and block.get("cluster_identifier") is not None:
        return  # protected (or not) at the cluster
    yield from require_true(block, "deletion_protection", "RDS database has deletion protection disabled")


RDS_DELETION_PROTECTION = Rule(
    id="AWS-RDS-NO-DELETION-PROTECTION",
    title="RDS database has deletion protection disabled",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_db_instance", "aws_rds_cluster"),
    why="Deletion protection is what stops a `terraform destroy`, a renamed resource that forces replacement, "
        "or an agent's cleanup from dropping the production database in one API call.",
    fail_example='''resource "aws_rds_cluster" "fail" {
  cluster_identifier  = "orders"
  engine              = "aurora-postgresql"
  storage_encrypted   = true
  deletion_protection = false
}''',
    pass_example='''resource "aws_rds_cluster" "pass" {
  cluster_identifier  = "orders"
  engine              = "aurora-postgresql"
  storage_encrypted   = true
  deletion_protection = true
}''',
    unknown_example='''variable "protect" { type = bool }
resource "aws_db_instance" "unknown" {
  identifier          = "orders"
  engine              = "mysql"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  deletion_protection = var.protect
}''',
    check=_check_rds_deletion,
    checkov_ids=("CKV_AWS_293", "CKV_AWS_139"),
    references=("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html",),
)


def _check_rds_backups(block: Block, ctx: CheckContext) -> Iterator[Result]:
    if _inherits_storage(block):
        return
    value = block.get("backup_retention_period")
    if isinstance(value, Unknown):
        yield unknown("RDS backup retention", value, attribute="backup_retention_period")
        return
    days = 1 if value is None else as_int(value)
    if days is not None and days < MIN_BACKUP_RETENTION_DAYS:
        shown = "unset (AWS default 1 day)" if value is None else f"{days} day(s)"
        yield Result(f"RDS automated backups are kept less than {MIN_BACKUP_RETENTION_DAYS} days: {shown}",
                     attribute="backup_retention_period" if value is not None else None, details={"days": days})


RDS_BACKUP_RETENTION = Rule(
    id="AWS-RDS-SHORT-BACKUP-RETENTION",
    title=f"RDS automated backups are kept less than {MIN_BACKUP_RETENTION_DAYS} days",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_db_instance", "aws_rds_cluster"),
    why="Point-in-time restore only reaches back as far as the retention period; 0 disables automated backups "
        "entirely. Corruption found on Monday from a Friday deploy needs at least a week.",
    fail_example='''resource "aws_db_instance" "fail" {
  identifier              = "orders"
  engine                  = "postgres"
  instance_class          = "db.t3.micro"
  allocated_storage       = 20
  backup_retention_period = 0
}''',
    pass_example='''resource "aws_db_instance" "pass" {
  identifier              = "orders"
  engine                  = "postgres"
  instance_class          = "db.t3.micro"
  allocated_storage       = 20
  backup_retention_period = 14
}''',
    unknown_example='''variable "retention" { type = number }
resource "aws_db_instance" "unknown" {
  identifier              = "orders"
  engine                  = "postgres"
  instance_class          = "db.t3.micro"
  allocated_storage       = 20
  backup_retention_period = var.retention
}''',
    check=_check_rds_backups,
    checkov_ids=("CKV_AWS_133",),
    references=("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html",),
)


# --------------------------------------------------------------------------- DynamoDB, EFS


def _check_pitr(block: Block, ctx: CheckContext) -> Iterator[Result]:
    pitr = block.blocks("point_in_time_recovery")
    ok = truth(pitr[0].get("enabled")) if pitr else False
    yield from require(block, "point_in_time_recovery", ok,
                       "DynamoDB table has point-in-time recovery disabled",
                       value=pitr[0].get("enabled") if pitr else None)


DYNAMODB_PITR = Rule(
    id="AWS-DYNAMODB-NO-PITR",
    title="DynamoDB table has point-in-time recovery disabled",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_dynamodb_table",),
    why="Without point-in-time recovery a bad batch write or delete cannot be rolled back; on-demand backups "
        "only help if someone took one just before.",
    fail_example='''resource "aws_dynamodb_table" "fail" {
  name         = "sessions"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}''',
    pass_example='''resource "aws_dynamodb_table" "pass" {
  name         = "sessions"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  point_in_time_recovery { enabled = true }
}''',
    unknown_example='''variable "pitr" { type = bool }
resource "aws_dynamodb_table" "unknown" {
  name         = "sessions"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  point_in_time_recovery { enabled = var.pitr }
}''',
    check=_check_pitr,
    checkov_ids=("CKV_AWS_28",),
    references=("https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html",),
)


def _check_efs(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from require_true(block, "encrypted", "EFS file system is not encrypted at rest")


EFS_UNENCRYPTED = Rule(
    id="AWS-EFS-UNENCRYPTED",
    title="EFS file system is not encrypted at rest",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=("aws_efs_file_system",),
    why="Encryption at rest can only be chosen when the file system is created; fixing it later means a new "
        "file system and a data migration.",
    fail_example='''resource "aws_efs_file_system" "fail" {
  creation_token = "shared-home"
}''',
    pass_example='''resource "aws_efs_file_system" "pass" {
  creation_token = "shared-home"
  encrypted      = true
}''',
    unknown_example='''variable "encrypted" { type = bool }
resource "aws_efs_file_system" "unknown" {
  creation_token = "shared-home"
  encrypted      = var.encrypted
}''',
    check=_check_efs,
    checkov_ids=("CKV_AWS_42",),
    references=("https://docs.aws.amazon.com/efs/latest/ug/encryption.html",),
)


RULES: list[Rule] = [EBS_UNENCRYPTED, EBS_DEFAULT_OFF, INSTANCE_DEVICE_UNENCRYPTED, RDS_UNENCRYPTED, RDS_PUBLIC,
                     RDS_DELETION_PROTECTION, RDS_BACKUP_RETENTION, DYNAMODB_PITR, EFS_UNENCRYPTED]
