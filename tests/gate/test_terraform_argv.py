"""terraform/tofu argv parsing: what the real CLI would run, and what that does."""

from __future__ import annotations

import pytest

from infraleash.gate.model import Effect
from infraleash.gate.paths import PathJudge
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


def test_options_are_per_subcommand() -> None:
    # -plan is a boolean of console and a path of graph; -out belongs to plan only
    assert classify_terraform(["terraform", "console", "-plan"], {}).effect is Effect.READ
    assert ids(["terraform", "graph", "-plan"]) == ["CMD-UNPARSEABLE"]
    assert ids(["terraform", "validate", "-out=x"]) == ["CMD-UNPARSEABLE"]
    assert ids(["terraform", "show", "-raw"]) == ["CMD-UNPARSEABLE"]
    assert ids(["terraform", "output", "-raw", "db"]) == []
    # Go's flag package takes no abbreviations
    assert ids(["terraform", "plan", "-destr"]) == ["CMD-UNPARSEABLE"]


@pytest.mark.parametrize(("argv", "option"), [
    (["terraform", "init", "-from-module=file:///tmp/m.zip"], "-from-module"),
    (["terraform", "init", "-plugin-dir", "plugins"], "-plugin-dir"),
    (["terraform", "init", "-backend-config=bucket=other"], "-backend-config"),
    (["terraform", "init", "-backend-config", "backend.hcl"], "-backend-config"),
    (["terraform", "init", "-get-plugins=false"], "-get-plugins"),
    (["terraform", "providers", "lock", "-fs-mirror=m"], "-fs-mirror"),
    (["terraform", "providers", "lock", "-net-mirror=https://evil.example"], "-net-mirror"),
])
def test_refused_options_are_named(argv: list[str], option: str) -> None:
    c = classify_terraform(argv, {})
    assert [h.id for h in c.hits] == ["ARG-NOT-ALLOWED"] and repr(option) in c.hits[0].reason


@pytest.mark.parametrize("argv", [
    ["terraform", "state rm", "x", "aws_instance.a"], ["terraform", "state rm"], ["terraform", "", "output", "-raw"],
    ["terraform", "-chdir=", "plan"], ["terraform", "–out=x", "plan"], ["terraform", "plan", "–out=/etc/x"],
    ["terraform", "plan -destroy"], ["terraform", "state", "rm x"], ["terraform", " "], ["terraform", "--"],
    ["terraform", "-chdir=a", "", "plan"], ["terraform", "state", ""], ["terraform", "providers schema", "-json"],
])
def test_odd_elements_are_classified_not_raised(argv: list[str]) -> None:
    c = classify_terraform(argv, {})
    assert c.effect is Effect.DESTRUCTIVE or not c.hits or all(h.reason for h in c.hits)


def test_a_subcommand_in_one_element_is_what_terraform_runs() -> None:
    # mitchellh/cli joins the words: "state rm" is `state rm`, and skips one more element (x) for its space
    c = classify_terraform(["terraform", "state rm", "x", "aws_instance.a"], {})
    assert [h.id for h in c.hits] == ["TF-STATE-MUTATE"] and c.summary == "terraform state rm"
    c = classify_terraform(["terraform", "plan -destroy"], {})  # the rest of the element is ignored
    assert c.effect is Effect.PLAN
    assert ids(["terraform", "apply -auto-approve"]) == ["TF-APPLY-UNSAVED-PLAN"]


def test_empty_words_before_the_subcommand_are_dropped() -> None:
    c = classify_terraform(["terraform", "", "output", "-raw", "db"], {})
    assert c.argv == ["terraform", "output", "-raw", "db"] and c.effect is Effect.READ


def test_look_alike_dashes_are_refused() -> None:
    assert ids(["terraform", "fmt", "–write=false"]) == ["ARG-NOT-ALLOWED"]
    assert ids(["terraform", "plan", "−out=x"]) == ["ARG-NOT-ALLOWED"]


def test_too_many_arguments() -> None:
    assert ids(["terraform", "plan", "dir"]) == ["CMD-UNPARSEABLE"]
    assert ids(["terraform", "show", "a", "b"]) == ["CMD-UNPARSEABLE"]


def test_help_anywhere_runs_nothing() -> None:
    assert classify_terraform(["terraform", "apply", "-auto-approve", "-help"], {}).effect is Effect.READ


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
    # outside the workspace (the cwd here) unless /tmp/... is one of the scratch directories
    assert "TF-PATH-OUTSIDE" in [h.id for h in c.hits]
    judge = PathJudge.for_action("/w", scratch_dirs=["/tmp"])
    c = classify_terraform(["terraform", "-chdir=infra", "apply", "/tmp/p.tfplan"], {}, cwd="/w", paths=judge)
    assert [h.id for h in c.hits] == ["TF-APPLY-SAVED-PLAN"]


@pytest.mark.parametrize(("argv", "rule"), [
    (["terraform", "plan", "-out=terraform.tfstate"], "TF-PATH-OWNED"),
    (["terraform", "plan", "-out", ".terraform/x"], "TF-PATH-OWNED"),
    (["terraform", "plan", "-out=main.tf"], "TF-PATH-OWNED"),
    (["terraform", "plan", "-out=/etc/cron.d/x"], "TF-PATH-OUTSIDE"),
    (["terraform", "plan", "-var-file=terraform.tfstate"], "TF-PATH-OWNED"),  # its errors echo lines
    (["terraform", "plan", "-generate-config-out=generated.tf"], None),  # writing .tf is its job
    (["terraform", "fmt", "/etc"], "TF-PATH-OUTSIDE"),
    (["terraform", "fmt", "-check", "../other"], "TF-PATH-OUTSIDE"),
    (["terraform", "fmt", "envs"], None),
    (["terraform", "apply", "-backup=-", "p.tfplan"], "TF-APPLY-SAVED-PLAN"),
    (["terraform", "apply", "-backup=old.tfstate.backup", "p.tfplan"], "TF-PATH-OWNED"),
    (["terraform", "providers", "mirror", ".infraleash"], "TF-PATH-OWNED"),
    (["terraform", "show", "../../prod/terraform.tfstate"], "TF-PATH-OUTSIDE"),
    (["terraform", "-chdir=/srv/other", "plan"], "TF-PATH-OUTSIDE"),
])
def test_paths_are_judged_by_what_the_file_is(argv: list[str], rule: str | None) -> None:
    found = ids(argv)
    assert (rule in found) if rule else not found, found


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


def test_option_tables_cover_what_the_real_terraform_documents(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Every option `terraform <sub> -help` lists is in the gate's table for that subcommand."""
    import re
    import shutil
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    from infraleash.gate.terraform_argv import _SPEC

    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed on this machine (the image has /usr/local/bin/terraform 1.11)")
    cli_config = tmp_path / "cli.tfrc"
    cli_config.write_text("")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TF_CLI_CONFIG_FILE": str(cli_config)}
    missing = {}

    def usage(sub: str) -> str:
        assert terraform is not None
        return subprocess.run([terraform, *sub.split(), "-help"], capture_output=True, text=True, env=env).stdout

    with ThreadPoolExecutor(4) as pool:
        texts = dict(zip(_SPEC, pool.map(usage, _SPEC), strict=True))
    for sub, spec in _SPEC.items():
        text = texts[sub]
        listed = re.findall(r"^\s{2,4}-([a-z][a-z-]*)(=| |\t|$)", text, re.MULTILINE)
        wrong = [name for name, _ in listed if name not in spec and name not in ("state", "help")]
        if wrong:
            missing[sub] = wrong
    assert not missing, missing
