"""Policy only tightens downward: each section of a working-tree infraleash.yaml can add restrictions only."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.gate.decision import decide
from infraleash.gate.model import Action, GateVerdict
from infraleash.policy import Policy, TrustLevel, load_effective_policy, load_policy

ORG = """\
version: 1
trust_level: act-with-approval
environments:
  - name: production
    match: {directories: ["*/prod*"]}
    trust_level: plan
  - name: sandbox
    match: {directories: ["*/sandbox*"]}
    trust_level: act-with-approval
incidents:
  sev3_and_below_trust_level: plan
protected:
  addresses: ["aws_db_instance.main"]
  tags: {Protected: "true"}
modules:
  allowed_sources: ["./", "git::https://git.example.com/platform/"]
providers: {aws: "~> 5.100"}
checks:
  failing_severity: high
  required_tags: [Owner]
  suppressions:
    - {rule: AWS-S3-VERSIONING, reason: org-wide scratch, address: "aws_s3_bucket.scratch"}
commands:
  allow: [[make, lint], [make, test]]
overrides:
  - {rule: TF-INIT-UPGRADE, decision: allow, reason: CI upgrades providers}
approvals:
  store: /srv/infraleash/approvals.db
  ttl_minutes: 120
  approvers: [sre-lead, sre-2]
audit:
  path: /srv/infraleash/audit.jsonl
model: {provider: openai, name: gpt-4.1}
preflight:
  assume_roles: ["arn:aws:iam::1:role/plan-ro", "arn:aws:iam::1:role/other"]
  kube_exec_commands: [aws]
"""


def merged(tmp_path: Path, local: str, *, org: str = ORG, sub: str = "repo/work") -> Policy:
    org_file = tmp_path / "org.yaml"
    org_file.write_text(org)
    work = tmp_path / sub
    work.mkdir(parents=True, exist_ok=True)
    (work / "infraleash.yaml").write_text(local)
    return load_effective_policy(org_file, work)


def notes(p: Policy, kind: str) -> list[str]:
    return [str(n) for n in p.merge_notes if n.kind == kind]


def test_trust_level_only_lowers(tmp_path: Path) -> None:
    low = merged(tmp_path, "trust_level: observe\n")
    assert low.trust_level is TrustLevel.OBSERVE
    high_local = merged(tmp_path, "version: 1\ntrust_level: act-with-approval\n",
                        org=ORG.replace("trust_level: act-with-approval\nenv", "trust_level: plan\nenv"))
    assert high_local.trust_level is TrustLevel.PLAN
    [note] = notes(high_local, "ignored")
    assert note.startswith(f"{tmp_path / 'repo/work/infraleash.yaml'}:2: trust_level: ignored")


def test_environments_lower_trust_add_protection_and_keep_the_orgs_match(tmp_path: Path) -> None:
    p = merged(tmp_path, """\
environments:
  - name: production
    match: {directories: ["nothing-matches-this"]}
    trust_level: act-with-approval
    protected: {ids: [sg-123]}
  - name: sandbox
    trust_level: observe
  - name: mine
    match: {directories: ["*/work*"]}
    trust_level: act-with-approval
""", org=ORG.replace("trust_level: act-with-approval\nenv", "trust_level: plan\nenv"))
    envs = {e.name: e for e in p.environments}
    assert envs["production"].match.directories == ["*/prod*"]
    assert p.trust_for(envs["production"]) is TrustLevel.PLAN
    assert envs["production"].protected.ids == ["sg-123"]
    assert envs["sandbox"].trust_level is TrustLevel.OBSERVE
    assert envs["mine"].trust_level is TrustLevel.PLAN  # not above the default
    assert [e.name for e in p.environments] == ["production", "sandbox", "mine"]  # org environments match first
    ignored = notes(p, "ignored")
    assert any("environments[0].match" in n for n in ignored) and any("environments[0].trust_level" in n
                                                                       for n in ignored)
    assert any("environments[2].trust_level" in n for n in ignored)


def test_incidents_cap_only_lowers(tmp_path: Path) -> None:
    assert merged(tmp_path, "incidents: {sev3_and_below_trust_level: observe}\n"
                  ).incidents.sev3_and_below_trust_level is TrustLevel.OBSERVE
    up = merged(tmp_path, "incidents: {sev3_and_below_trust_level: act-with-approval}\n")
    assert up.incidents.sev3_and_below_trust_level is TrustLevel.PLAN and notes(up, "ignored")
    lifted = merged(tmp_path, "incidents: {sev3_and_below_trust_level: null}\n")
    assert lifted.incidents.sev3_and_below_trust_level is TrustLevel.PLAN and notes(lifted, "ignored")


def test_protected_is_a_union_and_org_tags_keep_their_value(tmp_path: Path) -> None:
    p = merged(tmp_path, "protected: {addresses: [aws_s3_bucket.logs], tags: {Protected: 'no', Tier: data}}\n")
    assert p.protected.addresses == ["aws_db_instance.main", "aws_s3_bucket.logs"]
    assert p.protected.tags == {"Protected": "true", "Tier": "data"}
    assert any("protected.tags.Protected" in n for n in notes(p, "ignored"))


def test_module_sources_narrow_to_the_intersection(tmp_path: Path) -> None:
    p = merged(tmp_path, "modules:\n  allowed_sources: ['git::https://git.example.com/platform/net/', "
               "'git::https://evil.example.net/']\n  require_version_pin: false\n")
    assert p.modules.allowed_sources == ["git::https://git.example.com/platform/net/"]
    assert p.modules.require_version_pin is True
    ignored = notes(p, "ignored")
    assert any("evil.example.net" in n for n in ignored) and any("require_version_pin" in n for n in ignored)


def test_provider_pins_add_up(tmp_path: Path) -> None:
    p = merged(tmp_path, "providers: {aws: '>= 5.100.1', random: '~> 3.6'}\n")
    assert p.providers == {"aws": "~> 5.100, >= 5.100.1", "random": "~> 3.6"}


def test_checks_tighten_and_local_suppressions_are_ignored(tmp_path: Path) -> None:
    p = merged(tmp_path, """\
checks:
  failing_severity: medium
  required_tags: [CostCenter]
  naming: {resource_name_pattern: "^[a-z_]+$"}
  suppressions:
    - {rule: AWS-SG-OPEN-SSH, reason: trust me}
  disabled_rules:
    - {rule: AWS-S3-ENCRYPTION, reason: also trust me}
""")
    assert p.checks.failing_severity == "medium" and p.checks.required_tags == ["Owner", "CostCenter"]
    assert p.checks.naming.resource_name_pattern == "^[a-z_]+$"
    assert [s.rule for s in p.checks.suppressions] == ["AWS-S3-VERSIONING"] and p.checks.disabled_rules == []
    ignored = notes(p, "ignored")
    assert any(":6: checks.suppressions[0]: ignored" in n for n in ignored)
    assert any("checks.disabled_rules[0]" in n for n in ignored)
    assert merged(tmp_path, "checks: {failing_severity: critical}\n").checks.failing_severity == "high"


def test_commands_allow_is_an_intersection(tmp_path: Path) -> None:
    p = merged(tmp_path, "commands:\n  allow: [[make, lint], [git, status], [bash, -c]]\n")
    assert p.commands.allow == [["make", "lint"]]
    assert len([n for n in notes(p, "ignored") if "commands.allow" in n]) == 2


def test_only_deny_overrides_are_added(tmp_path: Path) -> None:
    p = merged(tmp_path, """\
overrides:
  - {rule: TF-APPLY-SAVED-PLAN, decision: deny, reason: not from this tree}
  - {rule: K8S-MUTATE, decision: allow, reason: yolo}
  - {rule: TF-STATE-PULL, decision: needs_approval, reason: please}
""")
    assert [(o.rule, o.decision) for o in p.overrides] == [("TF-INIT-UPGRADE", "allow"),
                                                           ("TF-APPLY-SAVED-PLAN", "deny")]
    assert len([n for n in notes(p, "ignored") if "overrides[" in n]) == 2


def test_approvals_narrow_and_the_store_stays_the_orgs(tmp_path: Path) -> None:
    p = merged(tmp_path, "approvals: {store: .infraleash/mine.db, ttl_minutes: 30, approvers: [SRE-Lead, agent-1]}\n")
    assert p.approvals.store == "/srv/infraleash/approvals.db" and p.approvals.ttl_minutes == 30
    assert p.approvals.approvers == ["sre-lead"]
    assert merged(tmp_path, "approvals: {ttl_minutes: 9999, approvers: []}\n").approvals.ttl_minutes == 120
    assert merged(tmp_path, "approvals: {approvers: []}\n").approvals.approvers == ["sre-lead", "sre-2"]
    assert merged(tmp_path, "approvals: {approvers: [agent-1]}\n").approvals.approvers == ["sre-lead", "sre-2"]


def test_audit_model_and_paths_stay_the_orgs(tmp_path: Path) -> None:
    p = merged(tmp_path, "audit: {path: /tmp/elsewhere.jsonl}\nmodel: {provider: anthropic}\n")
    assert p.audit.path == "/srv/infraleash/audit.jsonl" and p.model.provider == "openai"
    assert p.resolve_path(p.approvals.store) == Path("/srv/infraleash/approvals.db")
    assert p.source == str(tmp_path / "org.yaml")
    assert {n.section for n in p.merge_notes if n.kind == "ignored"} == {"audit", "model"}


def test_preflight_allowances_can_only_be_removed(tmp_path: Path) -> None:
    p = merged(tmp_path, """\
preflight:
  allow:
    - {rule: PRE-EXTERNAL-DATA, reason: we need it}
  assume_roles: ["arn:aws:iam::1:role/plan-ro", "arn:aws:iam::1:role/admin"]
  kube_exec_commands: []
""")
    assert p.preflight.allow == [] and p.preflight.assume_roles == ["arn:aws:iam::1:role/plan-ro"]
    assert p.preflight.kube_exec_commands == []
    ignored = notes(p, "ignored")
    assert any("preflight.allow[0]" in n for n in ignored) and any("preflight.assume_roles[1]" in n for n in ignored)


def test_without_an_org_policy_the_outermost_file_is_the_base(tmp_path: Path) -> None:
    (tmp_path / "infraleash.yaml").write_text("version: 1\ntrust_level: plan\n")
    sub = tmp_path / "modules" / "agent-wrote-this"
    sub.mkdir(parents=True)
    (sub / "infraleash.yaml").write_text("trust_level: act-with-approval\noverrides:\n"
                                         "  - {rule: TF-APPLY-UNSAVED-PLAN, decision: allow, reason: x}\n")
    p = load_policy(search_from=sub)
    assert p.trust_level is TrustLevel.PLAN and p.overrides == []
    assert p.merged_from == [str(tmp_path / "infraleash.yaml"), str(sub / "infraleash.yaml")]
    d = decide(Action(argv=["terraform", "apply", "-auto-approve"], cwd=str(sub)), p)
    assert d.verdict is GateVerdict.DENY


def test_several_levels_merge_outermost_first(tmp_path: Path) -> None:
    (tmp_path / "infraleash.yaml").write_text("trust_level: act-with-approval\napprovals: {ttl_minutes: 100}\n")
    mid = tmp_path / "a"
    mid.mkdir()
    (mid / "infraleash.yaml").write_text("trust_level: plan\napprovals: {ttl_minutes: 50}\n")
    inner = mid / "b"
    inner.mkdir()
    (inner / "infraleash.yaml").write_text("trust_level: act-with-approval\napprovals: {ttl_minutes: 80}\n")
    p = load_policy(search_from=inner)
    assert p.trust_level is TrustLevel.PLAN and p.approvals.ttl_minutes == 50
    assert len(p.merged_from) == 3


def test_an_org_file_above_the_tree_is_not_merged_twice(tmp_path: Path) -> None:
    (tmp_path / "infraleash.yaml").write_text(ORG)
    work = tmp_path / "repo"
    work.mkdir()
    p = load_effective_policy(tmp_path / "infraleash.yaml", work)
    assert p.merged_from == [str(tmp_path / "infraleash.yaml")] and p.merge_notes == []


@pytest.mark.parametrize("key", ["source", "merged_from", "merge_notes"])
def test_bookkeeping_fields_cannot_be_set_in_a_file(tmp_path: Path, key: str) -> None:
    from infraleash.errors import PolicyError

    (tmp_path / "infraleash.yaml").write_text(f"version: 1\n{key}: /etc\n")
    with pytest.raises(PolicyError, match=r"infraleash.yaml:2: " + key):
        load_policy(tmp_path / "infraleash.yaml")


def test_a_bad_local_file_names_its_file_and_line(tmp_path: Path) -> None:
    from infraleash.errors import PolicyError

    with pytest.raises(PolicyError, match=r"repo/work/infraleash.yaml:2: trust_level"):
        merged(tmp_path, "version: 1\ntrust_level: root\n")


def test_protected_reasons_are_merged_and_the_orgs_reason_stays(tmp_path: Path) -> None:
    p = merged(tmp_path, "protected:\n  addresses:\n    - {address: aws_s3_bucket.logs, reason: audit evidence}\n"
               "  reasons: {aws_db_instance.main: the team thinks it is safe}\n")
    assert p.protected.reasons == {"aws_s3_bucket.logs": "audit evidence",
                                   "aws_db_instance.main": "the team thinks it is safe"}
    assert p.protected.matches(address="aws_s3_bucket.logs") == \
        "address matches protected pattern 'aws_s3_bucket.logs': audit evidence"


def test_review_holds_are_added_and_the_state_operation_switch_stays_the_orgs(tmp_path: Path) -> None:
    p = merged(tmp_path, "review:\n  state_operations_follow_gate: false\n  hold_replacements:\n"
               "    - {resource_types: [aws_launch_template], reason: rollouts are announced}\n")
    assert [h.resource_types for h in p.review.hold_replacements] == [["aws_launch_template"]]
    assert p.review.state_operations_follow_gate is None  # the org's default: follow the gate below act-with-approval
    assert any("review.state_operations_follow_gate" in n for n in notes(p, "ignored"))
    assert any("review.hold_replacements" in n for n in notes(p, "tightened"))
