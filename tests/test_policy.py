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
