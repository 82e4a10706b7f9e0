from pathlib import Path

import pytest

from infraleash.errors import PolicyError
from infraleash.policy import STARTER_POLICY, TrustLevel, load_policy, parse_policy


def test_starter_policy_is_valid_and_matches_environments() -> None:
    policy = parse_policy(STARTER_POLICY, "infraleash.yaml")
    prod = policy.environment_for(workspace="prod-eu")
    assert prod is not None and prod.name == "production"
    assert policy.environment_for(directory="envs/staging/app").name == "staging"  # type: ignore[union-attr]
    assert policy.environment_for(kube_context="dev-1") is None
    assert policy.trust_for(prod) is TrustLevel.PLAN
    assert policy.protected_for(prod).matches(tags={"Protected": "true"})
    assert policy.protected.matches(address="aws_security_group.legacy_app")


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("trust_level: yolo\n", 1, "trust_level"),
        ("environments:\n  - name: prod\n    trust_level: admin\n", 3, "environments[0].trust_level"),
        ("overrides:\n  - rule: X\n    decision: allow\n    reason: '  '\n", 4, "overrides[0].reason"),
        ("checks:\n  failing_severity: high\n  unknown_key: 1\n", 3, "checks.unknown_key"),
    ],
)
def test_invalid_policy_names_file_line_and_key(text: str, line: int, key: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(text, "org/infraleash.yaml")
    assert str(err.value).startswith(f"org/infraleash.yaml:{line}: {key}")


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "infraleash.yaml"
    bad.write_text("trust_level: plan\nenvironments: [\n  - x\n")
    with pytest.raises(PolicyError, match=r"infraleash.yaml:\d+: invalid YAML"):
        load_policy(bad)


def test_missing_policy_file_gives_default_policy(tmp_path: Path) -> None:
    assert load_policy(search_from=tmp_path).trust_level is TrustLevel.PLAN


# --- bounded reading: alias bombs, deep nesting, huge integers, size ---

BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))


@pytest.mark.parametrize(("text", "says"), [
    (BILLION_LAUGHS, "alias bomb"),
    ("environments: " + "[" * 3000 + "]" * 3000 + "\n", "nested deeper than"),
    ("environments: " + "[" * 300 + "]" * 300 + "\n", "nested deeper than 200 levels"),
    ("trust_level: " + "9" * 5000 + "\n", "refused"),
    ("x: " + "y" * (1024 * 1024 + 1), "refused"),
])
def test_policy_bombs_are_refused_naming_the_file(text: str, says: str) -> None:
    with pytest.raises(PolicyError) as e:
        parse_policy(text, "bomb.yaml")
    assert str(e.value).startswith("bomb.yaml") and says in str(e.value)


@pytest.mark.parametrize(("text", "hint"), [
    ("version: 1\nchekcs:\n  failing_severity: high\n", "chekcs: Extra inputs are not permitted; did you mean 'checks'?"),
    ("version: 1\nchecks:\n  failing_severty: high\n", "did you mean 'failing_severity'?"),
    ("version: 1\nchecks:\n  naming:\n    resource_name_patern: x\n", "did you mean 'resource_name_pattern'?"),
    ("version: 1\nchecks:\n  zzzzqqq: 1\n", "(known keys: disabled_rules, failing_severity, naming,"),
])
def test_a_misspelled_key_gets_a_did_you_mean(text: str, hint: str) -> None:
    with pytest.raises(PolicyError) as e:
        parse_policy(text, "infraleash.yaml")
    assert hint in str(e.value) and str(e.value).startswith("infraleash.yaml:")


def test_protected_entries_take_a_reason_and_a_malformed_entry_names_its_line() -> None:
    from infraleash.errors import PolicyError
    from infraleash.policy import parse_policy

    p = parse_policy('protected:\n  addresses:\n    - aws_db_instance.main\n'
                     '    - {address: "aws_security_group.legacy_*", reason: "hard-coded by the billing app"}\n'
                     '  ids: [{id: sg-0123, reason: allow-listed by the payment provider}]\n'
                     '  tags: {Protected: "true", Billing: {value: "yes", reason: finance owns it}}\n')
    assert p.protected.addresses == ["aws_db_instance.main", "aws_security_group.legacy_*"]
    assert p.protected.tags == {"Protected": "true", "Billing": "yes"}
    assert p.protected.matches(address="aws_security_group.legacy_app") == \
        "address matches protected pattern 'aws_security_group.legacy_*': hard-coded by the billing app"
    assert p.protected.matches(ids=["sg-0123"]) == "id sg-0123 is protected: allow-listed by the payment provider"
    assert p.protected.matches(tags={"Billing": "yes"}) == "tag Billing=yes marks it protected: finance owns it"
    assert p.protected.matches(address="aws_db_instance.main") == \
        "address matches protected pattern 'aws_db_instance.main'"  # no reason given: none shown
    with pytest.raises(PolicyError) as e:
        parse_policy("protected:\n  addresses:\n    - {address: x, reson: typo}\n", "p.yaml")
    assert str(e.value).startswith("p.yaml:3: protected.addresses[0]")
