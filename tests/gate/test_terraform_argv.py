"""terraform/tofu argv parsing: what the real CLI would run, and what that does."""

from __future__ import annotations

import pytest

from infraleash.gate.model import Effect
from infraleash.gate.terraform_argv import classify_terraform, is_terraform


def ids(argv: list[str], env: dict[str, str] | None = None) -> list[str]:
    c = classify_terraform(argv, env or {})
    return [h.id for h in c.hits]


@pytest.mark.parametrize(("argv", "effect"), [
    (["terraform", "plan"], Effect.PLAN),
    (["terraform", "validate"], Effect.PLAN),
    (["terraform", "show"], Effect.READ),
    (["terraform", "-help"], Effect.READ),
    (["terraform", "fmt"], Effect.WRITE),
    (["terraform", "fmt", "-check"], Effect.READ),
    (["terraform", "fmt", "-write=false"], Effect.READ),
    (["terraform", "fmt", "-"], Effect.READ),
    (["terraform", "init", "-backend=false"], Effect.WRITE),
    (["terraform", "init", "-migrate-state"], Effect.DESTRUCTIVE),
    (["terraform", "get"], Effect.WRITE),
    (["terraform", "providers", "mirror", "/tmp/m"], Effect.WRITE),
    (["terraform", "state", "mv", "-dry-run", "a", "b"], Effect.PLAN),
    (["terraform", "state", "rm", "-dry-run=false", "a"], Effect.DESTRUCTIVE),
    (["terraform", "test"], Effect.DESTRUCTIVE),
    (["terraform", "metadata", "functions", "-json"], Effect.READ),
])
def test_effects(argv: list[str], effect: Effect) -> None:
    assert classify_terraform(argv, {}).effect is effect


def test_go_flag_forms_are_understood() -> None:
    # -x v, -x=v, --x=v and -x=false for booleans
    assert ids(["terraform", "apply", "-var", "a=1", "p.tfplan"]) == ["TF-APPLY-PLAN-OPTIONS"]
    assert ids(["terraform", "apply", "--target=x", "p.tfplan"]) == ["TF-APPLY-PLAN-OPTIONS"]
    assert ids(["terraform", "apply", "-destroy=false"]) == ["TF-APPLY-UNSAVED-PLAN"]
    assert ids(["terraform", "apply", "-destroy=true"]) == ["TF-DESTROY"]
    assert ids(["terraform", "apply", "-auto-approve=maybe"]) == ["CMD-UNPARSEABLE"]


def test_parsing_stops_at_the_first_positional_like_go_flag() -> None:
    # Terraform refuses the trailing word ("too many arguments"); the gate refuses it too
    assert ids(["terraform", "apply", "p.tfplan", "-auto-approve"]) == ["CMD-UNPARSEABLE"]
    c = classify_terraform(["terraform", "apply", "--", "p.tfplan"], {})
    assert c.plan_file == "p.tfplan"


def test_an_unknown_option_might_swallow_the_plan_file() -> None:
    assert ids(["terraform", "apply", "-frobnicate", "p.tfplan"]) == ["CMD-UNPARSEABLE"]
    assert ids(["terraform", "plan", "-out"]) == ["CMD-UNPARSEABLE"]


def test_chdir_is_global_and_must_use_equals() -> None:
    c = classify_terraform(["terraform", "-chdir=infra", "apply", "p.tfplan"], {}, cwd="/w")
    assert c.directory == "/w/infra" and c.plan_file == "/w/infra/p.tfplan"
    assert c.argv == ["terraform", "-chdir=infra", "apply", "p.tfplan"]
    assert ids(["terraform", "-chdir", "infra", "plan"]) == ["CMD-UNPARSEABLE"]
    assert ids(["terraform", "-chdir=a", "-chdir=b", "plan"]) == ["CMD-UNPARSEABLE"]
    # after the subcommand it is an unknown option of that subcommand
    assert ids(["terraform", "plan", "-chdir=infra"]) == ["CMD-UNPARSEABLE"]


def test_absolute_plan_file_is_kept() -> None:
    c = classify_terraform(["terraform", "-chdir=infra", "apply", "/tmp/p.tfplan"], {}, cwd="/w")
    assert c.plan_file == "/tmp/p.tfplan"


def test_nested_subcommand_must_follow_its_parent() -> None:
    assert ids(["terraform", "state", "rm", "a"]) == ["TF-STATE-MUTATE"]
    # `state -x rm` is the `state` command (prints help); -x is not a state option
    assert ids(["terraform", "state", "-x", "rm"]) == ["CMD-UNPARSEABLE"]
    assert ids(["terraform", "state", "bogus"]) == []  # `state bogus` shows the state help
    assert classify_terraform(["terraform", "state", "bogus"], {}).effect is Effect.READ


def test_tf_cli_args_folded_after_subcommand() -> None:
    env = {"TF_CLI_ARGS": "-input=false -no-color", "TF_CLI_ARGS_plan": "-destroy -out='my plan'"}
    c = classify_terraform(["terraform", "plan", "-lock=false"], env)
    assert c.argv == ["terraform", "plan", "-destroy", "-out=my plan", "-input=false", "-no-color",
                      "-lock=false"]
    assert [n.id for n in c.notes] == ["ENV-TF-CLI-ARGS"]
    assert "TF_CLI_ARGS, TF_CLI_ARGS_plan" in c.notes[0].reason


def test_tf_cli_args_for_another_subcommand_do_not_apply() -> None:
    c = classify_terraform(["terraform", "plan"], {"TF_CLI_ARGS_apply": "-auto-approve"})
    assert c.argv == ["terraform", "plan"] and not c.notes


def test_tf_cli_args_can_turn_a_plan_into_a_refused_command() -> None:
    assert ids(["terraform", "apply", "p.tfplan"], {"TF_CLI_ARGS_apply": "-destroy"}) == ["TF-DESTROY"]
    assert ids(["terraform", "force-unlock", "x"], {"TF_CLI_ARGS_force_unlock": "-force"}) == ["TF-FORCE-UNLOCK"]


def test_workspace_targets_and_tf_workspace() -> None:
    c = classify_terraform(["terraform", "workspace", "select", "-or-create", "prod"], {"TF_WORKSPACE": "dev"})
    assert (c.workspace_target, c.workspace, c.local) == ("prod", "dev", False)
    c = classify_terraform(["terraform", "workspace", "delete", "-force", "old"], {})
    assert c.workspace_target == "old" and [h.id for h in c.hits] == ["TF-WORKSPACE-DELETE"]


def test_lock_disabled_only_matters_when_state_is_written() -> None:
    assert ids(["terraform", "plan", "-lock=false"]) == []
    assert ids(["terraform", "import", "-lock=false", "a", "b"]) == ["TF-IMPORT", "TF-LOCK-DISABLED"]


@pytest.mark.parametrize("program", ["terraform", "tofu", "/usr/local/bin/terraform", "terraform.exe"])
def test_programs(program: str) -> None:
    assert is_terraform(program)


def test_not_terraform() -> None:
    assert not is_terraform("terraformer") and not is_terraform("kubectl")
