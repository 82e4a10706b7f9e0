"""Any command: shells, metacharacters, wrappers, environment sanitising, the allow-list."""

from __future__ import annotations

import pytest

from infraleash.gate.commands import classify_command, shell_meta
from infraleash.gate.model import Action, Effect


def classify(argv: list[str], env: dict[str, str] | None = None, allow: list[list[str]] | None = None):  # type: ignore[no-untyped-def]
    return classify_command(Action(argv=argv, env=env or {}), allow or [])


@pytest.mark.parametrize(("arg", "what"), [
    ("|", "a shell operator"), ("&&", "a shell operator"), (";", "a shell operator"), ("2>&1", "a shell operator"),
    (">out.txt", "a redirection"), ("2>/dev/null", "a redirection"), ("<input", "a redirection"),
    ("x=$(id)", "command substitution"), ("`id`", "backtick substitution"), ("<(ls)", "process substitution"),
])
def test_shell_syntax_is_found(arg: str, what: str) -> None:
    assert shell_meta(["plan", arg]) == (arg, what)


@pytest.mark.parametrize("arg", [
    "-var=tags={Name=\"a b\"}", "jsonpath={.items[*].metadata.name}", "{{range .items}}{{.x}}{{end}}",
    "-l", "env in (prod, qa)", "status.phase!=Running", '{"spec":{"replicas":3}}', "-var=x=a>b",
    "custom-columns=NAME:.metadata.name", "$HOME",
])
def test_ordinary_arguments_are_not_shell_syntax(arg: str) -> None:
    assert shell_meta([arg]) is None


def test_shells_and_wrappers() -> None:
    assert [h.id for h in classify(["/bin/bash", "-c", "ls"]).hits] == ["CMD-SHELL"]
    assert "`bash -c`" in classify(["bash", "-c", "ls"]).hits[0].reason
    assert [h.id for h in classify(["kubectl get pods"]).hits] == ["CMD-SHELL"]
    assert [h.id for h in classify(["xargs", "terraform"]).hits] == ["CMD-WRAPPER"]
    assert [h.id for h in classify(["timeout", "10", "terraform", "plan"]).hits] == ["CMD-WRAPPER"]


def test_kubectl_container_command_may_use_a_shell() -> None:
    c = classify(["kubectl", "exec", "web-0", "--", "sh", "-c", "ps aux | grep java"])
    assert [h.id for h in c.hits] == ["K8S-EXEC"]
    c = classify(["kubectl", "get", "pods", "|", "grep", "x", "--", "y"])
    assert [h.id for h in c.hits] == ["CMD-SHELL-META"]


def test_environment_is_sanitised() -> None:
    env = {"TF_CLI_ARGS_plan": "-destroy", "TF_LOG": "trace", "LD_PRELOAD": "/x.so", "DYLD_LIBRARY_PATH": "/x",
           "TF_REATTACH_PROVIDERS": "{}", "AWS_PROFILE": "ops", "TF_WORKSPACE": "prod", "TF_DATA_DIR": ".tf",
           "TF_PLUGIN_CACHE_DIR": "/c", "TF_IN_AUTOMATION": "1", "TF_VAR_region": "eu-west-1"}
    c = classify(["terraform", "plan"], env)
    assert c.env == {"AWS_PROFILE": "ops", "TF_WORKSPACE": "prod", "TF_DATA_DIR": ".tf", "TF_PLUGIN_CACHE_DIR": "/c",
                     "TF_IN_AUTOMATION": "1", "TF_VAR_region": "eu-west-1"}
    assert c.stripped_env == sorted(["TF_CLI_ARGS_plan", "TF_LOG", "LD_PRELOAD", "DYLD_LIBRARY_PATH",
                                     "TF_REATTACH_PROVIDERS"])
    assert c.argv == ["terraform", "plan", "-destroy"]
    assert {n.id for n in c.notes} == {"ENV-TF-CLI-ARGS", "ENV-STRIPPED"}


def test_tf_cli_args_are_stripped_from_other_commands_too() -> None:
    c = classify(["kubectl", "get", "pods"], {"TF_CLI_ARGS": "-auto-approve", "KUBECTL_EXTERNAL_DIFF": "evil"})
    assert c.stripped_env == ["KUBECTL_EXTERNAL_DIFF", "TF_CLI_ARGS"] and c.env == {}


def test_allow_list_matches_prefixes_exactly() -> None:
    allow = [["make", "lint"], ["/opt/bin/tflint"]]
    assert classify(["make", "lint", "-j4"], allow=allow).notes[0].id == "CMD-ALLOWED"
    assert classify(["/usr/bin/make", "lint"], allow=allow).notes[0].id == "CMD-ALLOWED"
    assert classify(["/opt/bin/tflint"], allow=allow).notes[0].id == "CMD-ALLOWED"
    for argv in (["make"], ["make", "deploy"], ["bin/make", "lint"], ["tflint"], ["/usr/bin/tflint"]):
        assert [h.id for h in classify(argv, allow=allow).hits] == ["CMD-UNKNOWN"], argv
    c = classify(["make", "lint"], allow=allow)
    assert c.effect is Effect.WRITE and not c.local


def test_allow_list_never_allows_shell_syntax_or_shells() -> None:
    allow = [["make"], ["bash"]]
    assert [h.id for h in classify(["make", "lint", "&&", "rm"], allow=allow).hits] == ["CMD-SHELL-META"]
    assert [h.id for h in classify(["bash", "x.sh"], allow=allow).hits] == ["CMD-SHELL"]


def test_empty() -> None:
    assert [h.id for h in classify([]).hits] == ["CMD-EMPTY"]
    assert [h.id for h in classify(["  "]).hits] == ["CMD-EMPTY"]
