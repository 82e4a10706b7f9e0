"""`kubectl auth can-i --list` parsing and judging, on output in kubectl's own table format.

The recorded tables (tests/gate/data/kube-can-i-*.txt) are laid out as kubectl 1.32 prints them
(tabwriter, three spaces of padding, bracketed lists); there is no cluster on the CI machine to
record from, so the command's "cannot reach the cluster" path is tested against the real kubectl.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.gate.kube_identity import CanIParseError, parse_can_i_list, risky_rules

DATA = Path(__file__).parent / "data"


def test_a_read_only_identity_has_no_risky_rules() -> None:
    rules = parse_can_i_list((DATA / "kube-can-i-readonly.txt").read_text())
    assert len(rules) == 14
    pods = next(r for r in rules if r.resource == "pods")
    assert pods.verbs == ("get", "list", "watch") and pods.non_resource_urls == () and pods.line == 7
    api = next(r for r in rules if r.non_resource_urls == ("/api/*",))
    assert api.resource == "" and api.verbs == ("get",)
    assert risky_rules(rules) == []


def test_secrets_wildcards_and_write_verbs_are_flagged() -> None:
    risky = risky_rules(parse_can_i_list((DATA / "kube-can-i-admin.txt").read_text()))
    shown = [r.render() for r in risky]
    assert shown == [
        "line 2: [*] on *.*: can read Secret data (a read-only agent identity must not see Secrets)",
        "line 3: [*] on *: grants *: more than get/list/watch",
        "line 6: [get list watch] on secrets: can read Secret data (a read-only agent identity must not see Secrets)",
        "line 7: [get patch update] on deployments.apps named payments: grants patch, update: more than "
        "get/list/watch",
        "line 8: [create] on pods/exec: grants create: more than get/list/watch",
    ]


@pytest.mark.parametrize("resource, verbs, flagged", [
    ("secrets", "[get]", True), ("secrets", "[watch]", True), ("secrets", "[*]", True),
    ("secrets", "[delete]", True), ("*", "[list]", True), ("configmaps", "[get list watch]", False),
    ("selfsubjectaccessreviews.authorization.k8s.io", "[create]", False),
    ("selfsubjectaccessreviews.authorization.k8s.io", "[create delete]", True),
])
def test_one_rule(resource: str, verbs: str, flagged: bool) -> None:
    text = ("Resources                                       Non-Resource URLs   Resource Names   Verbs\n"
            f"{resource:<48}[]                  []               {verbs}\n")
    assert bool(risky_rules(parse_can_i_list(text))) is flagged


def test_text_that_is_not_the_table_is_an_error() -> None:
    with pytest.raises(CanIParseError, match="no `Resources"):
        parse_can_i_list("The connection to the server localhost:8080 was refused\n")
    with pytest.raises(CanIParseError, match="line 2"):
        parse_can_i_list("Resources   Non-Resource URLs   Resource Names   Verbs\nsecrets get\n")
