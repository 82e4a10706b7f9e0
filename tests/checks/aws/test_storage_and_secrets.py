"""Storage rules' exceptions (account defaults, Aurora members, replicas) and secret detection."""

from __future__ import annotations

from _run import fails

from infraleash.checks.aws.secrets import ACCESS_KEY, HARDCODED_PASSWORD
from infraleash.checks.aws.storage import EBS_UNENCRYPTED, RDS_BACKUP_RETENTION, RDS_UNENCRYPTED


def test_account_default_encryption_covers_volumes() -> None:
    vol = 'resource "aws_ebs_volume" "v" {\n  availability_zone = "eu-west-1a"\n  size = 10\n}\n'
    assert fails(EBS_UNENCRYPTED, vol) == {"aws_ebs_volume.v"}
    assert fails(EBS_UNENCRYPTED, vol + 'resource "aws_ebs_encryption_by_default" "on" { enabled = true }') == set()


def test_aurora_members_and_replicas_inherit_storage_settings() -> None:
    text = '''
resource "aws_db_instance" "member" {
  cluster_identifier = "orders"
  instance_class     = "db.r6g.large"
  engine             = "aurora-postgresql"
}
resource "aws_db_instance" "replica" {
  replicate_source_db = "orders-primary"
  instance_class      = "db.t3.micro"
}
resource "aws_db_instance" "plain" {
  engine            = "mysql"
  instance_class    = "db.t3.micro"
  allocated_storage = 20
}'''
    assert fails(RDS_UNENCRYPTED, text) == {"aws_db_instance.plain"}
    assert fails(RDS_BACKUP_RETENTION, text) == {"aws_db_instance.plain"}  # unset means AWS's 1 day


def test_literal_password_and_variable_default_but_not_generated() -> None:
    text = '''
variable "pw" { default = "hunter2hunter2" }
variable "from_vault" { sensitive = true }
resource "random_password" "db" { length = 24 }
resource "aws_db_instance" "literal" { password = "Sup3rS3cret!" }
resource "aws_db_instance" "default" { password = var.pw }
resource "aws_db_instance" "no_default" { password = var.from_vault }
resource "aws_db_instance" "generated" { password = random_password.db.result }
resource "aws_rds_cluster" "interpolated" { master_password = "${var.pw}" }
'''
    assert fails(HARDCODED_PASSWORD, text) == {"aws_db_instance.literal", "aws_db_instance.default"}


def test_access_key_in_user_data_and_container_definitions() -> None:
    text = '''
resource "aws_instance" "web" {
  ami           = "ami-1"
  instance_type = "t3.micro"
  user_data     = "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"
}
resource "aws_ecs_task_definition" "t" {
  family = "t"
  container_definitions = jsonencode([{ name = "a", environment = [{ name = "K", value = "ASIAY34FZKBOKMUTVV7A" }] }])
}
resource "aws_instance" "clean" {
  ami           = "ami-1"
  instance_type = "t3.micro"
  user_data     = "echo AKIA-not-a-key"
}'''
    assert fails(ACCESS_KEY, text) == {"aws_instance.web", "aws_ecs_task_definition.t"}
