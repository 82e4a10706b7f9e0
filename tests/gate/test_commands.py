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


def test_environment_is_an_allow_list() -> None:
    env = {"TF_CLI_ARGS_plan": "-destroy", "TF_LOG": "trace", "LD_PRELOAD": "/x.so", "DYLD_LIBRARY_PATH": "/x",
           "TF_REATTACH_PROVIDERS": "{}", "AWS_PROFILE": "ops", "TF_WORKSPACE": "prod", "TF_DATA_DIR": ".tf",
           "TF_PLUGIN_CACHE_DIR": "/c", "TF_IN_AUTOMATION": "1", "TF_VAR_region": "eu-west-1", "TF_INPUT": "0",
           "NO_COLOR": "1", "CHECKPOINT_DISABLE": "1", "USER": "me", "LANG": "C.UTF-8"}
    c = classify(["terraform", "plan"], env)
    assert c.env == {"TF_WORKSPACE": "prod", "TF_IN_AUTOMATION": "1", "TF_VAR_region": "eu-west-1", "TF_INPUT": "0",
                     "NO_COLOR": "1", "CHECKPOINT_DISABLE": "1"}
    # every removed name is listed; the note names the dangerous ones and only counts the ordinary rest
    assert c.stripped_env == sorted(["TF_CLI_ARGS_plan", "TF_LOG", "LD_PRELOAD", "DYLD_LIBRARY_PATH", "AWS_PROFILE",
                                     "TF_REATTACH_PROVIDERS", "TF_DATA_DIR", "TF_PLUGIN_CACHE_DIR", "USER", "LANG"])
    assert c.argv == ["terraform", "plan", "-destroy"]
    assert {n.id for n in c.notes} == {"ENV-TF-CLI-ARGS", "ENV-STRIPPED"}
    note = next(n.reason for n in c.notes if n.id == "ENV-STRIPPED")
    assert "AWS_PROFILE" in note and "TF_DATA_DIR" in note and "TF_PLUGIN_CACHE_DIR" in note
    assert "USER" not in note and "2 other variables" in note


@pytest.mark.parametrize("name", [
    "PATH", "HOME", "TF_CLI_CONFIG_FILE", "TERRAFORM_CONFIG", "KUBECONFIG", "PYTHONPATH", "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CA_BUNDLE", "GIT_DIR", "HTTPS_PROXY",
    "SSL_CERT_FILE", "TF_TOKEN_app_terraform_io", "KUBECTL_EXTERNAL_DIFF",
])
def test_dangerous_variables_are_named_when_removed(name: str) -> None:
    c = classify(["terraform", "plan"], {name: "/tmp/evil"})
    assert c.env == {} and c.stripped_env == [name]
    assert [n.id for n in c.notes] == ["ENV-STRIPPED"] and name in c.notes[0].reason


def test_tf_cli_args_are_stripped_from_other_commands_too() -> None:
    c = classify(["kubectl", "get", "pods"], {"TF_CLI_ARGS": "-auto-approve", "KUBECTL_EXTERNAL_DIFF": "evil"})
    assert c.stripped_env == ["KUBECTL_EXTERNAL_DIFF", "TF_CLI_ARGS"] and c.env == {}


def test_allow_list_entries_match_the_whole_argv() -> None:
    allow = [["make", "lint"], ["/opt/bin/tflint"], ["make", "test", "*"]]
    assert classify(["make", "lint"], allow=allow).notes[0].id == "CMD-ALLOWED"
    assert classify(["/usr/bin/make", "lint"], allow=allow).notes[0].id == "CMD-ALLOWED"
    assert classify(["/opt/bin/tflint"], allow=allow).notes[0].id == "CMD-ALLOWED"
    assert classify(["make", "test"], allow=allow).notes[0].id == "CMD-ALLOWED"
    assert classify(["make", "test", "unit", "e2e"], allow=allow).notes[0].id == "CMD-ALLOWED"
    for argv in (["make"], ["make", "deploy"], ["bin/make", "lint"], ["tflint"], ["/usr/bin/tflint"],
                 ["make", "lint", "-j4"], ["make", "lint", "SHELL=/tmp/x"], ["make", "test", "SHELL=/tmp/x"],
                 ["make", "test", "-f", "/tmp/Makefile"], ["make", "test", "--eval=x"], ["make", "test", ""]):
        assert [h.id for h in classify(argv, allow=allow).hits] == ["CMD-UNKNOWN"], argv
    c = classify(["make", "lint"], allow=allow)
    assert c.effect is Effect.WRITE and not c.local and c.extra_env == {}


def test_an_allow_listed_git_gets_configuration_that_runs_nothing() -> None:
    c = classify(["git", "status"], allow=[["git", "status"]])
    env = c.extra_env
    pairs = {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"] for i in range(int(env["GIT_CONFIG_COUNT"]))}
    assert pairs["core.fsmonitor"] == "false" and pairs["core.hooksPath"] == "/dev/null"
    assert {"core.sshCommand", "core.pager", "diff.external", "credential.helper"} <= set(pairs)
    # the action cannot bring its own: GIT_CONFIG_* are stripped from its environment
    c = classify(["git", "status"], {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.fsmonitor",
                                     "GIT_CONFIG_VALUE_0": "/tmp/x"}, allow=[["git", "status"]])
    assert c.env == {} and "GIT_CONFIG_COUNT" in c.stripped_env


def test_git_overrides_beat_a_repository_fsmonitor(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A real git: `core.fsmonitor` in the repository's config would run a program on `git status`."""
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed on this machine")
    marker = tmp_path / "ran"
    hook = tmp_path / "monitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    repo = tmp_path / "repo"
    subprocess.run([git, "init", "-q", str(repo)], check=True)
    subprocess.run([git, "-C", str(repo), "config", "core.fsmonitor", str(hook)], check=True)
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run([git, "status"], cwd=repo, env=base, capture_output=True, check=False)
    assert marker.exists(), "the repository's fsmonitor should run without the overrides (test is void)"
    marker.unlink()
    extra = classify(["git", "status"], allow=[["git", "status"]]).extra_env
    subprocess.run([git, "status"], cwd=repo, env={**base, **extra}, capture_output=True, check=True)
    assert not marker.exists()


def test_allow_list_never_allows_shell_syntax_or_shells() -> None:
    allow = [["make"], ["bash"]]
    assert [h.id for h in classify(["make", "lint", "&&", "rm"], allow=allow).hits] == ["CMD-SHELL-META"]
    assert [h.id for h in classify(["bash", "x.sh"], allow=allow).hits] == ["CMD-SHELL"]


def test_empty() -> None:
    assert [h.id for h in classify([]).hits] == ["CMD-EMPTY"]
    assert [h.id for h in classify(["  "]).hits] == ["CMD-EMPTY"]


# --------------------------------------------------------------------------- fuzz: never raises, never allows a mutation

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from infraleash.gate import decide  # noqa: E402
from infraleash.policy import Policy  # noqa: E402

_MUTATIONS = {"apply", "destroy", "refresh", "import", "taint", "untaint", "force-unlock", "test"}
_STATE_MUTATIONS = {"rm", "mv", "push", "replace-provider"}
_WORDS = ["plan", "show", "output", "state", "list", "workspace", "select", "init", "fmt", "providers", "schema",
          *_MUTATIONS, *_STATE_MUTATIONS, "state rm", "plan -destroy", "apply -auto-approve", "", " ", "--", "-",
          "-help", "-chdir=", "-chdir=x", "-auto-approve", "-destroy", "-dry-run", "-json", "-raw", "-out=p",
          "-lock=false", "\u2013out=x", "-var=a=b", "x", "p.tfplan", "a b", "-no-color", "-input=false", "\u00a0"]
_ODD = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@settings(max_examples=250, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_WORDS), _ODD), max_size=8),
       st.dictionaries(st.sampled_from(["TF_CLI_ARGS", "TF_CLI_ARGS_plan", "TF_CLI_ARGS_apply", "PATH", "X"]),
                       st.sampled_from(["-destroy", "-auto-approve", "'x", "", "-out=/etc/x", "a b"]), max_size=2))
def test_terraform_argv_never_raises_and_never_allows_a_mutation(words: list[str], env: dict[str, str]) -> None:
    action = Action(argv=["terraform", *words], env=env)
    c = classify_command(action, [])
    d = decide(action, Policy())  # trust level plan: a mutation is at best held, never allowed
    assert all(h.reason for h in c.hits)
    sub = _subcommand_words(d.argv[1:])
    if sub and (sub[0] in _MUTATIONS or (sub[0] == "state" and len(sub) > 1 and sub[1] in _STATE_MUTATIONS
                                         and "-dry-run" not in d.argv and "-dry-run=true" not in d.argv)):
        assert not d.allowed, (words, env, d.summary)


def _subcommand_words(args: list[str]) -> list[str]:
    """The subcommand's words as mitchellh/cli would see them (words joined by spaces), independent of the gate."""
    for i, arg in enumerate(args):
        if arg == "--":
            return []
        if arg == "" or arg.startswith("-"):
            continue
        return " ".join(args[i:]).split(" ")[:2]
    return []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["get", "secret", "secrets", "-o", "yaml", "--raw", "/api/v1/secrets",
                                           "config", "view", "--", "-n", "x", "create", "token", "--dry-run",
                                           "--kubeconfig", "-v=9", "--as", "'", "", "-it", "exec", "kustomize",
                                           "--enable_helm", "--helm-command=x", "-k", "."]), _ODD), max_size=8))
def test_kubectl_argv_never_raises(words: list[str]) -> None:
    c = classify_command(Action(argv=["kubectl", *words]), [])
    assert all(h.reason for h in c.hits)


def test_extra_env_from_the_argv_alone() -> None:
    from infraleash.gate.commands import extra_env_for, git_safe_env

    assert extra_env_for(["/usr/bin/git", "status"]) == git_safe_env()
    assert extra_env_for(["make", "lint"]) == {} and extra_env_for([]) == {}


def test_the_executor_runs_git_with_the_overrides(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An allow-listed `git status` run by the executor (in the sandbox): the repository's fsmonitor never runs."""
    import shutil
    import subprocess

    from infraleash.gate.executor import run_command
    from infraleash.gate.runner_config import RunnerConfig

    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed on this machine")
    repo = tmp_path / "repo"
    subprocess.run([git, "init", "-q", str(repo)], check=True)
    hook = repo / "monitor.sh"
    hook.write_text("#!/bin/sh\necho FSMONITOR-RAN >&2\n")  # the sandbox keeps the tree read-only: say it on stderr
    hook.chmod(0o755)
    subprocess.run([git, "-C", str(repo), "config", "core.fsmonitor", str(hook)], check=True)
    runner = RunnerConfig.for_tests(env={"PATH": "/usr/bin:/bin"})
    plain = subprocess.run([git, "status"], cwd=repo, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                           capture_output=True, text=True, check=False)
    assert "FSMONITOR-RAN" in plain.stderr, "without the overrides the hook runs (else this test proves nothing)"
    result = run_command(["git", "status"], cwd=str(repo), env={}, runner=runner, workspace=str(repo))
    assert result.exit_code == 0, result.stderr
    assert "FSMONITOR-RAN" not in result.stderr
