"""Real plans: apply one "production" state to moto, plan an agent's change per scenario, analyse.

One apply (the RDS instance alone takes ~80 s against moto) is shared by the module;
every scenario copies its state into its own working directory and plans from there.
Scenarios plan with ``-refresh=false`` (the state was just applied, so refreshing reads
back what is already in it and costs most of a plan's time); the drift scenario, which
is about what refresh finds, plans with refresh.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from infraleash.findings import Kind, Severity, Verdict
from infraleash.policy import Policy, ProtectedResources, ReviewPolicy, load_policy
from infraleash.review import ReviewReport, review, review_plan
from infraleash.review.sandbox_plan import Production
from infraleash.terraform.plan import Action, Plan, ReplaceOrder, ResourceChange, parse_plan

pytestmark = pytest.mark.sandbox

PRODUCTION = """\
resource "aws_vpc" "main" {
  cidr_block = "10.40.0.0/16"
}

resource "aws_security_group" "legacy" {
  name        = "legacy-app"
  description = "hard-coded by ID in the legacy app"
  vpc_id      = aws_vpc.main.id
}

resource "aws_security_group" "app" {
  name   = "app"
  vpc_id = aws_vpc.main.id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.40.0.0/16"]
  }
}

resource "aws_db_instance" "main" {
  identifier             = "prod-db"
  engine                 = "postgres"
  engine_version         = "16.3"
  instance_class         = "db.t3.micro"
  allocated_storage      = 20
  username               = "app"
  password               = "not-a-real-secret-1"
  skip_final_snapshot    = true
  apply_immediately      = true
  vpc_security_group_ids = [aws_security_group.legacy.id]
}

resource "aws_s3_bucket" "data" {
  bucket = "prod-data-bucket"
  tags   = { Owner = "platform" }
}

resource "aws_ebs_volume" "vol" {
  availability_zone = "us-east-1a"
  size              = 10
  type              = "gp2"
}

resource "aws_dynamodb_table" "orders" {
  name         = "orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "order_id"
  attribute {
    name = "order_id"
    type = "S"
  }
}
"""

IMPORTED_BUCKET = "imported-logs"  # created out of band by the `plans` fixture, then imported

# an `import` block for a bucket made outside Terraform, and a data source that reads a queue this plan
# creates (so Terraform defers the read to apply)
IMPORT_AND_READ = f"""
import {{
  to = aws_s3_bucket.logs
  id = "{IMPORTED_BUCKET}"
}}
resource "aws_s3_bucket" "logs" {{
  bucket = "{IMPORTED_BUCKET}"
}}
resource "aws_sqs_queue" "events" {{
  name = "events"
}}
data "aws_sqs_queue" "events" {{
  name = aws_sqs_queue.events.name
}}
"""

PROTECTED = Policy(protected=ProtectedResources(addresses=["aws_security_group.legacy"]))


@pytest.fixture(scope="module")
def production(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    base = tmp_path_factory.mktemp("production")
    yield Production.apply(base / "prod", {"main.tf": PRODUCTION}, endpoint=sandbox.endpoint, env=sandbox.env())


# scenario -> (text replaced in PRODUCTION, its replacement, text appended)
SCENARIOS: dict[str, tuple[str, str, str]] = {
    "rds_class": ('"db.t3.micro"', '"db.t3.small"', ""),
    "rds_rename": ('"prod-db"', '"prod-db-v2"', ""),
    "rds_encrypt": ("skip_final_snapshot    = true", "skip_final_snapshot    = true\n  storage_encrypted      = true", ""),
    "s3_rename": ('"prod-data-bucket"', '"prod-data-bucket-2"', ""),
    "sg_rename": ('"legacy-app"', '"legacy-app-v2"', ""),
    "ebs_type": ('"gp2"', '"gp3"', ""),
    "ebs_az": ('"us-east-1a"', '"us-east-1b"', ""),
    "dynamodb_key": ('"order_id"', '"id"', ""),  # the hash key and its attribute definition
    "tags_only": ('Owner = "platform"', 'Owner = "data-team"', ""),
    "addition": ("", "", '\nresource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n}\n'),
    "import_read": ("", "", IMPORT_AND_READ),
    "ebs_shrink": ("size              = 10", "size              = 5", ""),
    "rds_shrink": ("allocated_storage      = 20", "allocated_storage      = 10", ""),
}


@pytest.fixture(scope="module")
def plans(production: Production, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Plan]:
    """Every scenario planned from the same production state, two plans at a time (they are independent)."""
    base = tmp_path_factory.mktemp("scenarios")
    boto3.client("s3", endpoint_url=production.endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=IMPORTED_BUCKET)  # noqa: S106

    def one(name: str) -> Plan:
        old, new, extra = SCENARIOS[name]
        return plan_of(production, base / name, old, new, extra)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(SCENARIOS, pool.map(one, SCENARIOS), strict=True))


def plan_of(production: Production, tmp_path: Path, old: str, new: str, extra: str = "", *,
            refresh: bool = False) -> Plan:
    assert old in PRODUCTION, old
    text = PRODUCTION.replace(old, new) + extra
    scenario = production.derive(tmp_path / "scenario", {"main.tf": text})
    return parse_plan(scenario.plan_json(*([] if refresh else ["-refresh=false"])), "plan.json")


def change(plan: Plan, address: str) -> ResourceChange:
    return next(rc for rc in plan.resource_changes if rc.address == address)


def rules(report: ReviewReport, address: str) -> set[str]:
    return {f.rule for f in report.active() if f.address == address}


def test_rds_instance_class_change_is_an_in_place_reboot(plans: dict[str, Plan]) -> None:
    plan = plans["rds_class"]
    rc = change(plan, "aws_db_instance.main")
    assert rc.action is Action.UPDATE
    report = review_plan(plan, PROTECTED)
    (f,) = [f for f in report.active() if f.kind is Kind.DISRUPTION]
    assert "instance_class" in f.message and "restarts the database" in f.details["why"]
    assert report.verdict is Verdict.NEEDS_APPROVAL
    # the password is in the state and in the plan JSON, never in what we print
    assert "not-a-real-secret-1" not in json.dumps(report.to_json())


def test_rds_identifier_change_renames_in_place_and_encryption_change_replaces(plans: dict[str, Plan]) -> None:
    # provider 5.x renames an instance in place (ModifyDBInstance); the endpoint hostname changes
    renamed = plans["rds_rename"]
    assert change(renamed, "aws_db_instance.main").action is Action.UPDATE
    (f,) = [f for f in review_plan(renamed, PROTECTED).active() if f.kind is Kind.DISRUPTION]
    assert "identifier" in f.message and "endpoint" in f.details["why"]
    # turning on storage encryption forces a new instance: delete first, nothing protects the data
    plan = plans["rds_encrypt"]
    rc = change(plan, "aws_db_instance.main")
    assert rc.action is Action.REPLACE and rc.replace_order is ReplaceOrder.DELETE_BEFORE_CREATE
    assert [(a.name, a.render()) for a in rc.forcing_attributes()] == [("storage_encrypted", "false -> true")]
    report = review_plan(plan, PROTECTED)
    loss = [f for f in report.active() if f.kind is Kind.DATA_LOSS]
    assert loss and loss[0].severity is Severity.CRITICAL  # skip_final_snapshot = true: nothing protects it
    assert report.verdict is Verdict.BLOCK


def test_s3_bucket_rename_replaces_the_bucket(plans: dict[str, Plan]) -> None:
    plan = plans["s3_rename"]
    rc = change(plan, "aws_s3_bucket.data")
    assert rc.action is Action.REPLACE and [a.name for a in rc.forcing_attributes()] == ["bucket"]
    report = review_plan(plan, PROTECTED)
    assert {"PLAN-REPLACE", "PLAN-DATA-LOSS"} <= rules(report, "aws_s3_bucket.data")
    assert report.verdict is Verdict.NEEDS_APPROVAL  # force_destroy is false: a non-empty bucket survives


def test_protected_security_group_rename_is_blocked_with_its_blast_radius(plans: dict[str, Plan]) -> None:
    plan = plans["sg_rename"]
    report = review_plan(plan, PROTECTED)
    (f,) = [f for f in report.active() if f.kind is Kind.PROTECTED]
    assert f.severity is Severity.CRITICAL and f.address == "aws_security_group.legacy"
    assert "aws_db_instance.main" in f.details["also_touches"]
    assert report.verdict is Verdict.BLOCK and report.headline.startswith("BLOCK")


def test_ebs_type_change_is_in_place_and_az_change_is_a_replace(plans: dict[str, Plan]) -> None:
    in_place = plans["ebs_type"]
    assert change(in_place, "aws_ebs_volume.vol").action is Action.UPDATE
    assert review_plan(in_place, PROTECTED).verdict is Verdict.ALLOW  # an online modification: low
    moved = plans["ebs_az"]
    rc = change(moved, "aws_ebs_volume.vol")
    assert rc.action is Action.REPLACE and [a.name for a in rc.forcing_attributes()] == ["availability_zone"]
    assert review_plan(moved, PROTECTED).verdict is Verdict.BLOCK  # no final_snapshot: data loss


@pytest.mark.parametrize(("scenario", "address", "attribute"), [
    ("ebs_shrink", "aws_ebs_volume.vol", "size"),
    ("rds_shrink", "aws_db_instance.main", "allocated_storage"),
])
def test_a_change_the_provider_rejects_at_apply_is_a_warning(plans: dict[str, Plan], scenario: str, address: str,
                                                             attribute: str) -> None:
    plan = plans[scenario]
    assert change(plan, address).action in (Action.UPDATE, Action.CREATE)  # terraform plans it without complaint
    report = review_plan(plan, PROTECTED)
    (warning,) = [f for f in report.active() if f.rule == "PLAN-APPLY-FAILS"]
    assert warning.address == address and warning.details["attributes"] == [attribute]
    assert "apply will fail" in warning.message and warning.severity is Severity.LOW  # a warning, not a hold
    assert not [f for f in report.active() if f.rule == "PLAN-APPLY-FAILS" and f.address != address]


def test_dynamodb_key_change_replaces_the_table(plans: dict[str, Plan]) -> None:
    plan = plans["dynamodb_key"]
    rc = change(plan, "aws_dynamodb_table.orders")
    assert rc.action is Action.REPLACE
    assert "hash_key" in [a.name for a in rc.forcing_attributes()]
    assert Kind.DATA_LOSS in {f.kind for f in review_plan(plan, PROTECTED).active()}


def test_tags_only_change_is_allowed(plans: dict[str, Plan]) -> None:
    plan = plans["tags_only"]
    rc = change(plan, "aws_s3_bucket.data")
    assert rc.tags_only
    report = review_plan(plan, PROTECTED)
    assert report.verdict is Verdict.ALLOW and report.summary and report.summary.update[0].detail == "tags only"


def test_pure_addition_is_allowed(plans: dict[str, Plan]) -> None:
    plan = plans["addition"]
    assert [rc.address for rc in plan.changes()] == ["aws_sqs_queue.jobs"]
    report = review_plan(plan, PROTECTED)
    assert report.verdict is Verdict.ALLOW and report.summary
    assert [i.address for i in report.summary.create] == ["aws_sqs_queue.jobs"]


def test_out_of_band_change_that_the_plan_reverts_is_drift(production: Production, tmp_path: Path) -> None:
    """A rule added to a security group and a tag put on the database by hand: both found by attribute."""
    keys = {"region_name": "us-east-1", "aws_access_key_id": "test", "aws_secret_access_key": "test"}  # noqa: S106
    ec2 = boto3.client("ec2", endpoint_url=production.endpoint, **keys)
    rds = boto3.client("rds", endpoint_url=production.endpoint, **keys)
    (sg,) = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["app"]}])["SecurityGroups"]
    rule = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    db_arn = rds.describe_db_instances(DBInstanceIdentifier="prod-db")["DBInstances"][0]["DBInstanceArn"]
    ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[rule])
    rds.add_tags_to_resource(ResourceName=db_arn, Tags=[{"Key": "Owner", "Value": "dba-on-call"}])
    try:
        plan = plan_of(production, tmp_path, "", "", refresh=True)
    finally:
        ec2.revoke_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[rule])
        rds.remove_tags_from_resource(ResourceName=db_arn, TagKeys=["Owner"])
    (drift,) = [d for d in plan.drift if d.address == "aws_security_group.app"]
    assert [a.name for a in drift.attributes] == ["ingress"] and drift.reverts
    report = review_plan(plan, PROTECTED)
    (f,) = [f for f in report.active() if f.kind is Kind.DRIFT and f.address == "aws_security_group.app"]
    assert "reverts" in f.message and report.verdict is Verdict.NEEDS_APPROVAL
    (db,) = [f for f in report.active() if f.kind is Kind.DRIFT and f.address == "aws_db_instance.main"]
    assert [a["path"] for a in db.details["reverted"]] == ["tags"] and "dba-on-call" in db.message
    assert {f.address for f in report.active() if f.kind is Kind.DRIFT} == {"aws_security_group.app",
                                                                             "aws_db_instance.main"}


def test_review_runs_the_plan_through_the_gate_and_reads_binary_plans(production: Production, sandbox: Any,
                                                                     tmp_path: Path) -> None:
    policy_file = tmp_path / "infraleash.yaml"  # the audit log goes beside it
    policy_file.write_text("version: 1\nprotected:\n  addresses: [aws_security_group.legacy]\n", encoding="utf-8")
    policy = load_policy(policy_file)
    text = PRODUCTION.replace('Owner = "platform"', 'Owner = "data-team"')
    scenario = production.derive(tmp_path / "scenario", {"main.tf": text})
    # the gate runs the plan in the sandbox with the runner configuration's environment (CLI config, plugin cache)
    runner = sandbox.runner()
    report = review(scenario.workdir, policy, env=production.env, runner=runner)
    assert report.plan_source == f"terraform plan of {scenario.workdir}"
    assert report.summary and [(i.address, i.detail) for i in report.summary.update] == [
        ("aws_s3_bucket.data", "tags only")]
    assert [f for f in report.active() if f.rule.startswith("PLAN-")] == []
    audit = [json.loads(line) for line in (tmp_path / ".infraleash" / "audit.jsonl").read_text().splitlines()]
    planned = [r for r in audit if r["event"] == "decision" and r["data"]["argv"][:2] == ["terraform", "plan"]]
    assert planned and planned[0]["data"]["verdict"] == "allow"
    # a binary plan file (`terraform plan -out`) is read through `terraform show -json`
    scenario.plan_json("-refresh=false")
    binary = review(scenario.workdir, policy, plan_file=scenario.workdir / "review.tfplan", env=production.env,
                    runner=runner)
    assert binary.summary and [i.detail for i in binary.summary.update] == ["tags only"]


def test_import_block_and_a_data_source_read_during_apply(plans: dict[str, Plan]) -> None:
    plan = plans["import_read"]
    imported = change(plan, "aws_s3_bucket.logs")
    assert imported.is_import and imported.import_id == IMPORTED_BUCKET and "import" in imported.labels
    read = change(plan, "data.aws_sqs_queue.events")
    assert read.action is Action.READ and read.action_reason == "read_because_dependency_pending"
    assert not read.does_something
    report = review_plan(plan, PROTECTED)
    assert report.summary is not None
    assert [(i.address, i.detail) for i in report.summary.import_] == [("aws_s3_bucket.logs", f"id {IMPORTED_BUCKET}")]
    assert [i.address for i in report.summary.create] == ["aws_sqs_queue.events"]
    assert "1 to import" in report.headline and "data.aws_sqs_queue" not in report.headline
    # the import block is `terraform import`: at the default trust level (plan) the gate refuses it
    (f,) = report.active()
    assert (f.rule, f.kind, f.details["gate"]["verdict"]) == ("PLAN-IMPORT", Kind.STATE_OPERATION, "deny")
    assert report.verdict is Verdict.BLOCK
    held = review_plan(plan, PROTECTED.model_copy(update={"review": ReviewPolicy(state_operations_follow_gate=False)}))
    assert held.verdict is Verdict.NEEDS_APPROVAL


def test_a_refreshed_plan_of_the_freshly_applied_production_has_no_drift_findings(
        production: Production, tmp_path: Path) -> None:
    """RDS, S3, security groups with rules, DynamoDB and EBS as moto and the provider read them back:
    whatever refresh normalises (null <-> false/""/{}/[], provider defaults) is a debug note, never a finding."""
    plan = plan_of(production, tmp_path, "", "", refresh=True)
    report = review_plan(plan, PROTECTED)
    assert [f.message for f in report.findings if f.kind is Kind.DRIFT] == []
    assert report.summary is not None and report.summary.drift == []
    noisy = {d.address for d in plan.drift if d.noise}
    assert all(any(a in note for a in noisy) for note in report.debug) and len(report.debug) == len(noisy)
