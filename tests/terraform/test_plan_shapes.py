"""Real plans of every shape a reviewer meets, from the terraform CLI with the built-in ``terraform_data``.

No provider and no moto: one local apply (well under a second), then one plan per shape: modules
(nested), ``count`` and ``for_each`` instances, ``moved`` and ``removed`` blocks, a sensitive
password changing, an output turning sensitive, ``-replace``, ``-target``, ``-refresh-only``,
``-destroy``, a no-op plan and an outputs-only plan.  The same sensitive password is planted in
every plan and must not come out of any report format.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infraleash.findings import Kind, Severity, Verdict
from infraleash.policy import Policy, ProtectedResources, ReplacementHold, ReviewPolicy
from infraleash.review import review_plan
from infraleash.review.render import FORMATS, render
from infraleash.terraform.blast_radius import ReferenceGraph
from infraleash.terraform.plan import Action, Plan, ReplaceOrder, ResourceChange, parse_plan, plan_from_dict

pytestmark = pytest.mark.sandbox

SECRET = "hunter2-PLANTED-SECRET"
NEW_SECRET = "hunter3-PLANTED-SECRET-NEW"

ROOT = f"""\
variable "db_password" {{
  type      = string
  sensitive = true
  default   = "{SECRET}"
}}
resource "terraform_data" "sg" {{
  input = "sg-1"
}}
resource "terraform_data" "db" {{
  input = {{ pw = var.db_password, sg = terraform_data.sg.output }}
}}
resource "terraform_data" "rotating" {{
  triggers_replace = [var.db_password]
  lifecycle {{
    create_before_destroy = true
  }}
}}
resource "terraform_data" "web" {{
  count = 2
  input = terraform_data.sg.output
}}
resource "terraform_data" "svc" {{
  for_each = toset(["a", "b"])
  input    = "svc-${{each.key}}"
}}
module "net" {{
  source = "./modules/net"
  sg     = terraform_data.sg.output
}}
resource "terraform_data" "uses_mod" {{
  input = module.net.out
}}
output "pw" {{
  value = "plain"
}}
output "dbout" {{
  value     = terraform_data.db.output
  sensitive = true
}}
"""

NET = """\
variable "sg" {}
resource "terraform_data" "x" {
  input = var.sg
}
module "inner" {
  source = "./inner"
  v      = terraform_data.x.output
}
output "out" { value = module.inner.o }
"""

INNER = """\
variable "v" {}
resource "terraform_data" "y" {
  for_each = toset(["k1"])
  input    = var.v
}
output "o" { value = terraform_data.y["k1"].output }
"""

# the agent's change: new password, a new sg value flowing into the nested modules, web renamed with a
# `moved` block, svc dropped from management with a `removed` block, the pw output made sensitive
CHANGED = (ROOT.replace(SECRET, NEW_SECRET).replace('"sg-1"', '"sg-2"')
           .replace('output "pw" {\n  value = "plain"\n}',
                    'output "pw" {\n  value     = var.db_password\n  sensitive = true\n}')
           .replace('resource "terraform_data" "web" {',
                    'moved {\n  from = terraform_data.web\n  to   = terraform_data.webs\n}\n'
                    'resource "terraform_data" "webs" {')
           .replace('resource "terraform_data" "svc" {\n  for_each = toset(["a", "b"])',
                    'removed {\n  from = terraform_data.svc\n  lifecycle {\n    destroy = false\n  }\n}\n'
                    'resource "terraform_data" "svc2" {\n  for_each = toset(["a", "b"])'))
OUTPUT_ONLY = ROOT.replace('value = "plain"', 'value = "plain-v2"')


def _terraform(workdir: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(["terraform", *args, "-no-color"], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"terraform {' '.join(args)} failed:\n{proc.stderr[-2000:]}"
    return proc.stdout


def _write(workdir: Path, root_tf: str) -> None:
    (workdir / "modules" / "net" / "inner").mkdir(parents=True, exist_ok=True)
    (workdir / "main.tf").write_text(root_tf, encoding="utf-8")
    (workdir / "modules" / "net" / "main.tf").write_text(NET, encoding="utf-8")
    (workdir / "modules" / "net" / "inner" / "main.tf").write_text(INNER, encoding="utf-8")


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Plan JSON text per shape, all planned from one applied state."""
    if shutil.which("terraform") is None:
        pytest.skip("no terraform binary on PATH: these tests plan real configurations")
    base = tmp_path_factory.mktemp("shapes")
    (base / "empty.tfrc").write_text("", encoding="utf-8")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(base / "empty.tfrc"), "CHECKPOINT_DISABLE": "1",
           "TF_IN_AUTOMATION": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("TF_CLI_ARGS") and k != "TF_WORKSPACE"}
    prod = base / "prod"
    _write(prod, ROOT)
    _terraform(prod, env, "init", "-input=false")
    _terraform(prod, env, "apply", "-auto-approve", "-input=false")

    def plan(name: str, root_tf: str, *args: str) -> str:
        work = base / name
        _write(work, root_tf)
        shutil.copyfile(prod / "terraform.tfstate", work / "terraform.tfstate")
        if not (work / ".terraform").exists():
            (work / ".terraform").symlink_to(prod / ".terraform", target_is_directory=True)
        _terraform(work, env, "plan", "-input=false", "-lock=false", "-out=p.tfplan", *args)
        return _terraform(work, env, "show", "-json", "p.tfplan")

    return {
        "changed": plan("changed", CHANGED),
        "replace": plan("replace", ROOT, '-replace=terraform_data.svc["a"]'),
        "target": plan("target", ROOT.replace('"sg-1"', '"sg-2"'), "-target=terraform_data.sg"),
        "refresh_only": plan("refresh_only", ROOT, "-refresh-only"),
        "destroy": plan("destroy", ROOT, "-destroy"),
        "noop": plan("noop", ROOT),
        "output_only": plan("output_only", OUTPUT_ONLY),
    }


def change(plan: Plan, address: str) -> ResourceChange:
    return next(rc for rc in plan.resource_changes if rc.address == address)


def test_modules_instances_moves_and_removed_blocks(plans: dict[str, str]) -> None:
    plan = parse_plan(plans["changed"], "changed.json")
    nested = change(plan, 'module.net.module.inner.terraform_data.y["k1"]')
    assert nested.action is Action.UPDATE and nested.module_address == "module.net.module.inner"
    moved = change(plan, "terraform_data.webs[1]")
    assert moved.is_move and moved.moved_from == "terraform_data.web[1]" and "move" in moved.labels
    forgotten = change(plan, 'terraform_data.svc["a"]')
    assert forgotten.action is Action.FORGET
    report = review_plan(plan, Policy())
    assert report.summary is not None
    assert [i.address for i in report.summary.forget] == ['terraform_data.svc["a"]', 'terraform_data.svc["b"]']
    assert {i.detail for i in report.summary.move} == {"from terraform_data.web[0]", "from terraform_data.web[1]"}
    assert "2 to move" in report.headline and "2 to stop managing" in report.headline
    assert {f.rule for f in report.active()} == {"PLAN-FORGET", "PLAN-MOVE", "PLAN-REPLACE"}
    assert {f.kind for f in report.active() if f.rule != "PLAN-REPLACE"} == {Kind.STATE_OPERATION}
    # at the default trust level (plan) the gate refuses `terraform state rm|mv`: so does the review
    assert report.verdict is Verdict.BLOCK


def test_blast_radius_follows_module_outputs_and_for_each_keys(plans: dict[str, str]) -> None:
    plan = parse_plan(plans["destroy"], "destroy.json")
    graph = ReferenceGraph.from_configuration(plan.configuration)
    # into the module through its input, then into the nested module, then out through two outputs
    assert "module.net.terraform_data.x" in graph.dependents("terraform_data.sg")
    assert graph.dependents("module.net.terraform_data.x") == ["module.net.module.inner.terraform_data.y"]
    assert graph.dependents('module.net.module.inner.terraform_data.y["k1"]') == ["terraform_data.uses_mod"]
    report = review_plan(plan, Policy())
    (f,) = [f for f in report.active() if f.address == 'module.net.module.inner.terraform_data.y["k1"]']
    assert f.rule == "PLAN-DESTROY" and f.details["also_touches"] == ["terraform_data.uses_mod"]


def test_create_before_destroy_replace_of_a_stateless_resource_is_allowed_unless_the_policy_holds_it(
        plans: dict[str, str]) -> None:
    plan = parse_plan(plans["changed"], "changed.json")
    rc = change(plan, "terraform_data.rotating")
    assert rc.action is Action.REPLACE and rc.replace_order is ReplaceOrder.CREATE_BEFORE_DESTROY
    assert [a.name for a in rc.forcing_attributes()] == ["triggers_replace"]
    report = review_plan(plan, Policy())
    (f,) = [f for f in report.active() if f.address == rc.address]
    assert f.rule == "PLAN-REPLACE" and f.severity is Severity.LOW and "created before" in f.message
    assert report.summary is not None and "no approval needed" in f.message
    assert "terraform_data.rotating" in [i.address for i in report.summary.replace]
    held = Policy(review=ReviewPolicy(hold_replacements=[ReplacementHold(resource_types=["terraform_data"],
                                                                         reason="rotations are announced")]))
    (f,) = [f for f in review_plan(plan, held).active() if f.address == rc.address]
    assert f.severity is Severity.MEDIUM and "the policy holds this replacement" in f.message
    assert "rotations are announced" in f.message


def test_no_sensitive_value_reaches_any_report_format(plans: dict[str, str]) -> None:
    doc = json.loads(plans["changed"])
    assert SECRET in plans["changed"] and NEW_SECRET in plans["changed"]  # the plan itself carries both
    # a drift entry made of the real change of the password-bearing resource (state -> cloud, both sensitive)
    db = next(rc for rc in doc["resource_changes"] if rc["address"] == "terraform_data.db")
    doc["resource_drift"] = [{**db, "change": {**db["change"], "actions": ["update"]}}]
    doc["relevant_attributes"] = [{"resource": "terraform_data.db", "attribute": ["input"]}]
    plan = plan_from_dict(doc, "changed.json")
    assert plan.drift and plan.drift[0].attributes
    rotating = change(plan, "terraform_data.rotating")  # replace_paths point at the sensitive trigger
    assert rotating.forcing_attributes()[0].render() == '["(sensitive)"] -> ["(sensitive)"]'
    report = review_plan(plan, Policy(protected=ProtectedResources(addresses=["terraform_data.*"])))
    assert report.summary and report.summary.outputs and report.summary.drift
    for fmt in FORMATS:
        text = render(report, fmt)
        assert "(sensitive)" in text or fmt in ("json", "sarif")
        for planted in (SECRET, NEW_SECRET, "PLANTED"):
            assert planted not in text, f"{fmt} leaks {planted}"
    assert "(sensitive)" in json.dumps(report.to_json())


def test_replace_by_request_and_destroy_plans(plans: dict[str, str]) -> None:
    replaced = parse_plan(plans["replace"], "replace.json")
    rc = change(replaced, 'terraform_data.svc["a"]')
    assert rc.action is Action.REPLACE and rc.action_reason == "replace_by_request"
    (f,) = review_plan(replaced, Policy()).active()
    assert "replace by request" in f.message
    destroyed = review_plan(parse_plan(plans["destroy"], "destroy.json"), Policy())
    assert destroyed.summary and len(destroyed.summary.destroy) == 10
    assert destroyed.verdict is Verdict.NEEDS_APPROVAL and "10 to destroy" in destroyed.headline
    protected = review_plan(parse_plan(plans["destroy"], "destroy.json"),
                            Policy(protected=ProtectedResources(addresses=["module.net.*"])))
    assert protected.verdict is Verdict.BLOCK


def test_targeted_plan_is_partial_and_needs_approval(plans: dict[str, str]) -> None:
    plan = parse_plan(plans["target"], "target.json")
    assert not plan.complete and [rc.address for rc in plan.changes()] == ["terraform_data.sg"]
    report = review_plan(plan, Policy())
    assert [f.rule for f in report.active()] == ["PLAN-INCOMPLETE"]
    assert report.verdict is Verdict.NEEDS_APPROVAL
    assert parse_plan(plans["changed"], "changed.json").complete


def test_refresh_only_noop_and_outputs_only_plans_are_allowed(plans: dict[str, str]) -> None:
    for name in ("refresh_only", "noop"):
        plan = parse_plan(plans[name], f"{name}.json")
        report = review_plan(plan, Policy())
        assert plan.empty and report.verdict is Verdict.ALLOW and report.active() == [], name
    noop = parse_plan(plans["noop"], "noop.json")
    assert {rc.action for rc in noop.resource_changes} == {Action.NO_OP}
    outputs = review_plan(parse_plan(plans["output_only"], "output_only.json"), Policy())
    assert outputs.verdict is Verdict.ALLOW
    assert outputs.headline == "ALLOW: no resource changes; 1 output(s) change; no findings"
    assert outputs.summary and [(i.address, i.detail) for i in outputs.summary.outputs] == [
        ("pw", 'update: "plain" -> "plain-v2"')]


def test_opentofu_shaped_plan_reads_the_same(plans: dict[str, str]) -> None:
    """OpenTofu writes format 1.x too; it has no `applyable`/`complete`, and names its own registry."""
    doc = json.loads(plans["changed"])
    for key in ("applyable", "complete"):
        doc.pop(key, None)
    doc["terraform_version"] = "1.8.5"
    for rc in doc["resource_changes"]:
        rc["provider_name"] = "registry.opentofu.org/hashicorp/aws"
    tofu = plan_from_dict(doc, "tofu.json")
    assert tofu.tool == "opentofu" and tofu.complete
    ours = parse_plan(plans["changed"], "changed.json")
    assert [(f.rule, f.address) for f in review_plan(tofu, Policy()).findings] == [
        (f.rule, f.address) for f in review_plan(ours, Policy()).findings]
    assert Kind.STATE_OPERATION in {f.kind for f in review_plan(tofu, Policy()).findings}  # the removed block
