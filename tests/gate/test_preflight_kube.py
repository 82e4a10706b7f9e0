"""The pre-flight's kubectl scans: kubeconfig credential plugins and kustomizations (real files, no cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.gate.preflight import preflight
from infraleash.policy import Policy, parse_policy

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster: {server: "https://127.0.0.1:6443"}
contexts:
  - name: dev
    context: {cluster: c, user: u}
current-context: dev
users:
  - name: u
    user:
{user}
"""
TOKEN_USER = "      token: abc\n"
EXEC_USER = "      exec:\n        apiVersion: client.authentication.k8s.io/v1beta1\n        command: ./evil.sh\n"
AWS_EXEC_USER = "      exec:\n        apiVersion: client.authentication.k8s.io/v1beta1\n        command: aws\n"
AUTH_PROVIDER_USER = "      auth-provider:\n        name: gcp\n        config:\n          cmd-path: /tmp/evil\n"


def kube(tmp_path: Path, user: str, argv: list[str] | None = None, policy: Policy | None = None,
         files: dict[str, str] | None = None) -> list[tuple[str, str]]:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    for name, content in (files or {}).items():
        p = ws / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content, encoding="utf-8")
    cfg = tmp_path / "kubeconfig"
    cfg.write_text(KUBECONFIG.replace("{user}", user.rstrip("\n")), encoding="utf-8")
    hits = preflight(argv or ["kubectl", "get", "pods"], str(ws), policy or Policy(), kubeconfig=str(cfg),
                     workspace_dir=str(ws))
    return [(h.id, h.reason) for h in hits]


@pytest.mark.parametrize("user,line", [(EXEC_USER, 13), (AUTH_PROVIDER_USER, 16)], ids=["exec", "auth-provider"])
def test_kubeconfig_credential_plugin_is_refused_on_every_verb(tmp_path: Path, user: str, line: int) -> None:
    for argv in (["kubectl", "get", "pods"], ["kubectl", "version", "--client"], ["kubectl", "config", "view"]):
        hits = kube(tmp_path, user, argv)
        assert [r for r, _ in hits] == ["PRE-KUBE-EXEC"], hits
        assert hits[0][1].startswith(f"{tmp_path / 'kubeconfig'}:{line}: user u")


def test_kubeconfig_token_user_passes(tmp_path: Path) -> None:
    assert kube(tmp_path, TOKEN_USER) == []


def test_kubeconfig_exec_command_listed_by_policy_passes(tmp_path: Path) -> None:
    policy = parse_policy("preflight:\n  kube_exec_commands: [aws]\n")
    assert kube(tmp_path, AWS_EXEC_USER, policy=policy) == []
    assert [r for r, _ in kube(tmp_path, EXEC_USER, policy=policy)] == ["PRE-KUBE-EXEC"]


def test_kubeconfig_exec_allowed_per_environment_with_reason(tmp_path: Path) -> None:
    policy = parse_policy("preflight:\n  allow:\n    - rule: PRE-KUBE-EXEC\n      environments: [dev]\n"
                          "      match: users.u.exec\n      reason: the dev cluster's token helper\n")
    ws_hits = preflight(["kubectl", "get", "pods"], str(tmp_path), policy, environment="dev",
                        kubeconfig=str(_write_cfg(tmp_path, EXEC_USER)))
    assert ws_hits == []
    prod = preflight(["kubectl", "get", "pods"], str(tmp_path), policy, environment="prod",
                     kubeconfig=str(_write_cfg(tmp_path, EXEC_USER)))
    assert [h.id for h in prod] == ["PRE-KUBE-EXEC"]


def _write_cfg(tmp_path: Path, user: str) -> Path:
    cfg = tmp_path / "kubeconfig"
    cfg.write_text(KUBECONFIG.replace("{user}", user.rstrip("\n")), encoding="utf-8")
    return cfg


def test_malformed_kubeconfig_names_file_and_line(tmp_path: Path) -> None:
    cfg = tmp_path / "kubeconfig"
    cfg.write_text("apiVersion: v1\nusers:\n  - name: u\n    user: {exec: [\n", encoding="utf-8")
    hits = preflight(["kubectl", "get", "pods"], str(tmp_path), Policy(), kubeconfig=str(cfg))
    assert [h.id for h in hits] == ["PRE-UNPARSEABLE"]
    assert hits[0].reason.startswith(f"{cfg}:5: invalid YAML")


KUSTOMIZATIONS = {
    "helm-charts": ("PRE-KUBE-EXEC", "helmCharts:\n  - name: x\n    repo: https://charts.example.com\n", {}, 1),
    "non-builtin-transformer": ("PRE-KUBE-EXEC", "transformers:\n  - evil.yaml\n",
                                {"evil.yaml": "apiVersion: example.com/v1\nkind: Evil\nmetadata: {name: e}\n"}, 1),
    "krm-function-generator": ("PRE-KUBE-EXEC", "generators:\n  - |-\n    apiVersion: builtin\n    kind: X\n"
                               "    metadata:\n      name: x\n      annotations:\n"
                               "        config.kubernetes.io/function: 'exec: {path: ./evil.sh}'\n", {}, 1),
    "secret-generator-outside": ("PRE-KUSTOMIZE", "secretGenerator:\n  - name: s\n    files:\n"
                                 "      - key=../../secret.txt\n", {}, 4),
    "config-map-envs-outside": ("PRE-KUSTOMIZE", "configMapGenerator:\n  - name: c\n    envs:\n"
                                "      - /etc/environment\n", {}, 4),
    "remote-resource": ("PRE-KUSTOMIZE", "resources:\n  - https://github.com/x/y//base?ref=v1\n", {}, 2),
    "resource-outside": ("PRE-KUSTOMIZE", "resources:\n  - ../../../other\n", {}, 2),
    "base-with-helm": ("PRE-KUBE-EXEC", "resources:\n  - base\n",
                       {"base/kustomization.yaml": "helmGlobals:\n  chartHome: charts\n"}, 1),
}
GOOD_KUSTOMIZATION = ("resources:\n  - deploy.yaml\n  - base\nsecretGenerator:\n  - name: s\n    files:\n"
                      "      - key=secret.txt\nconfigMapGenerator:\n  - name: c\n    envs: [app.env]\n"
                      "transformers:\n  - labels.yaml\n")
GOOD_FILES = {"deploy.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "secret.txt": "s",
              "app.env": "A=1\n", "base/kustomization.yaml": "resources: []\n",
              "labels.yaml": "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: l}\nlabels: {a: b}\n"}


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_kustomization_failing_examples(tmp_path: Path, name: str) -> None:
    rule, text, files, line = KUSTOMIZATIONS[name]
    overlay = "overlays/dev"
    all_files = {f"{overlay}/kustomization.yaml": text, **{f"{overlay}/{k}": v for k, v in files.items()}}
    for argv in (["kubectl", "kustomize", overlay], ["kubectl", "apply", "-k", overlay],
                 ["kubectl", "diff", f"--kustomize={overlay}"]):
        hits = kube(tmp_path, TOKEN_USER, argv, files=all_files)
        assert [r for r, _ in hits] == [rule], (argv, hits)
        assert ":" in hits[0][1].split(" ")[0] and hits[0][1].split(":")[1] == str(line), hits


def test_kustomization_passing_example(tmp_path: Path) -> None:
    files = {"kustomization.yaml": GOOD_KUSTOMIZATION, **GOOD_FILES}
    assert kube(tmp_path, TOKEN_USER, ["kubectl", "kustomize"], files=files) == []
    assert kube(tmp_path, TOKEN_USER, ["kubectl", "apply", "-k", "."], files=files) == []


def test_kustomization_only_scanned_for_kustomize_commands(tmp_path: Path) -> None:
    files = {"kustomization.yaml": KUSTOMIZATIONS["helm-charts"][1]}
    assert kube(tmp_path, TOKEN_USER, ["kubectl", "get", "pods"], files=files) == []
    assert kube(tmp_path, TOKEN_USER, ["kubectl", "apply", "-f", "."], files=files) == []


def test_remote_kustomize_target_is_refused(tmp_path: Path) -> None:
    hits = kube(tmp_path, TOKEN_USER, ["kubectl", "kustomize", "github.com/x/y//deploy?ref=main"])
    assert [r for r, _ in hits] == ["PRE-KUSTOMIZE"]


def test_malformed_kustomization_names_file_and_line(tmp_path: Path) -> None:
    hits = kube(tmp_path, TOKEN_USER, ["kubectl", "apply", "-k", "."],
                files={"kustomization.yaml": "resources:\n  - a\n  b: [\n"})
    assert [r for r, _ in hits] == ["PRE-UNPARSEABLE"] and hits[0][1].startswith("kustomization.yaml:3: invalid YAML")
