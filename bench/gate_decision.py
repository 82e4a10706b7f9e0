"""What one gate decision costs, side by side with the cheapest command it guards.

Same run, same machine:

  decide()    infraleash.gate.decide over a realistic mix of >= 100 actions (terraform and
              kubectl argv across environments, TF_CLI_ARGS/TF_WORKSPACE/KUBECONFIG in the
              environment, incidents, overrides, tool calls), each decided --rounds times;
              mean and p99 per decision in microseconds
  subprocess  `terraform version` (and `kubectl version --client` when present) run bare,
              --n times; the cheapest real command an agent would run through the gate

and the ratio: how many decisions fit in one `terraform version`.

    .venv/bin/python bench/gate_decision.py [--rounds 200] [--n 10]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time

from infraleash.gate import Action, Effect, GateContext, decide
from infraleash.policy import STARTER_POLICY, parse_policy

POLICY = STARTER_POLICY.replace("overrides: []", """overrides:
  - rule: TF-WORKSPACE-SELECT
    decision: allow
    reason: CI selects workspaces itself
  - rule: K8S-MUTATE
    decision: deny
    environments: [production]
    reason: production rollouts go through the pipeline""").replace("allow: []", "allow: [[make, lint], [tflint]]")

TERRAFORM = [
    "terraform plan", "terraform plan -out=p.tfplan", "terraform plan -destroy -out p.tfplan",
    "terraform plan -target=aws_instance.web -out p.tfplan", "terraform plan -replace=aws_instance.web",
    "terraform plan -refresh-only -out p.tfplan", "terraform plan -var-file=prod.tfvars -lock-timeout=60s",
    "terraform validate -json", "terraform show -json p.tfplan", "terraform show", "terraform output -json",
    "terraform providers schema -json", "terraform providers", "terraform version", "terraform -version",
    "terraform fmt -check -recursive", "terraform fmt -recursive", "terraform init", "terraform init -upgrade",
    "terraform init -reconfigure -backend-config=prod.hcl", "terraform init -migrate-state",
    "terraform apply", "terraform apply -auto-approve", "terraform apply -target=aws_instance.web -auto-approve",
    "terraform apply p.tfplan", "terraform apply -auto-approve p.tfplan", "terraform apply -var x=1 p.tfplan",
    "terraform apply -lock=false p.tfplan", "terraform destroy", "terraform destroy -auto-approve",
    "terraform refresh", "terraform import aws_instance.web i-0abc", "terraform state list",
    "terraform state show aws_instance.web", "terraform state rm aws_instance.web",
    "terraform state rm -dry-run aws_instance.web", "terraform state mv aws_instance.a aws_instance.b",
    "terraform state push terraform.tfstate", "terraform state pull",
    "terraform state replace-provider hashicorp/aws acme/aws", "terraform force-unlock 1a2b",
    "terraform taint aws_instance.web", "terraform untaint aws_instance.web", "terraform workspace list",
    "terraform workspace show", "terraform workspace select staging", "terraform workspace new feature-1",
    "terraform workspace delete feature-1", "terraform console", "terraform graph", "terraform test",
    "terraform login", "terraform frobnicate", "terraform -chdir=envs/prod plan -out=p.tfplan",
    "terraform -chdir=envs/staging apply p.tfplan", "terraform -chdir=envs/prod apply p.tfplan",
    "tofu plan", "tofu apply p.tfplan", "/usr/local/bin/terraform validate",
    "terraform plan | tee plan.txt", "terraform plan -var 'x=$(whoami)'",
]
KUBECTL = [
    "kubectl get pods", "kubectl get pods -n kube-system -o wide", "kubectl -n app get deploy",
    "kubectl describe pod web-0", "kubectl logs -f web-0 -c app --since=1h", "kubectl events -A",
    "kubectl top pods", "kubectl explain pod.spec.containers", "kubectl api-resources",
    "kubectl auth can-i delete pods", "kubectl rollout status deploy/web", "kubectl rollout history deploy/web",
    "kubectl config current-context", "kubectl config view", "kubectl config view --raw",
    "kubectl get secret", "kubectl get secret db -o yaml", "kubectl get secrets -ojsonpath={.items}",
    "kubectl describe secret db", "kubectl get --raw /api/v1/namespaces/app/secrets/db",
    "kubectl apply -f deploy.yaml", "kubectl apply -f deploy.yaml --dry-run=server",
    "kubectl apply -f deploy.yaml --server-side --force-conflicts", "kubectl diff -f deploy.yaml",
    "kubectl delete pod web-0", "kubectl delete pod web-0 --dry-run=client", "kubectl delete ns app --wait",
    "kubectl scale deploy web --replicas=3", "kubectl rollout restart deploy/web", "kubectl rollout undo deploy/web",
    "kubectl drain node-1 --ignore-daemonsets --delete-emptydir-data", "kubectl cordon node-1",
    "kubectl uncordon node-1", "kubectl label pod web-0 tier=web", "kubectl annotate deploy web a=b",
    "kubectl patch deploy web -p '{\"spec\":{\"replicas\":2}}'", "kubectl edit deploy web",
    "kubectl exec -it web-0 -- sh -c 'ps aux | grep java'", "kubectl cp web-0:/etc/hosts hosts",
    "kubectl port-forward svc/web 8080:80", "kubectl debug node/node-1 -it --image=busybox",
    "kubectl create token deployer", "kubectl certificate approve csr-1", "kubectl config use-context prod-1",
    "kubectl get pods --as=system:admin", "kubectl --kubeconfig /tmp/k delete pod web-0", "kubectl krew list",
]
OTHER = ["bash -c 'terraform apply'", "env TF_LOG=trace terraform plan", "make lint", "make deploy", "tflint"]
CONTEXTS = [
    GateContext(), GateContext(workspace="prod-eu"), GateContext(workspace="staging"),
    GateContext(kube_context="prod-1"), GateContext(kube_context="staging-1", incident_severity=2),
    GateContext(workspace="staging", incident_severity=3),
]
ENVS = [
    {}, {"TF_CLI_ARGS": "-input=false -no-color"}, {"TF_CLI_ARGS_apply": "-auto-approve", "TF_WORKSPACE": "prod-eu"},
    {"TF_LOG": "trace", "KUBECONFIG": "/home/ops/.kube/config", "AWS_PROFILE": "ops"},
]


def actions() -> list[tuple[Action, GateContext]]:
    out: list[tuple[Action, GateContext]] = []
    for i, cmd in enumerate(TERRAFORM + KUBECTL + OTHER):
        ctx = CONTEXTS[i % len(CONTEXTS)]
        env = ENVS[i % len(ENVS)]
        out.append((Action(argv=shlex.split(cmd), env=env, cwd="."), ctx))
    for i, effect in enumerate(Effect):
        out.append((Action(tool=f"tool_{effect.value}", effect=effect, arguments={"n": i}), CONTEXTS[i]))
    return out


def time_decisions(policy_text: str, rounds: int) -> tuple[list[float], list[float], int]:
    """(wall-clock us per decision, CPU us per decision, number of distinct actions)."""
    policy = parse_policy(policy_text, "infraleash.yaml")
    work = actions()
    for action, ctx in work:  # warm-up
        decide(action, policy, ctx)
    wall: list[float] = []
    cpu: list[float] = []
    clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
    for _ in range(rounds):
        for action, ctx in work:
            c0, t0 = cpu_clock(), clock()
            decide(action, policy, ctx)
            t1, c1 = clock(), cpu_clock()
            wall.append((t1 - t0) / 1000)
            cpu.append((c1 - c0) / 1000)
    return wall, cpu, len(work)


def _stats(samples: list[float]) -> tuple[float, float, float, float]:
    samples = sorted(samples)
    return (statistics.fmean(samples), samples[len(samples) // 2], samples[int(len(samples) * 0.99)], samples[-1])


def time_command(argv: list[str], n: int) -> float | None:
    if shutil.which(argv[0]) is None:
        return None
    subprocess.run(argv, capture_output=True, check=False)  # warm the page cache
    runs = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs) * 1_000_000


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--n", type=int, default=10)
    args = ap.parse_args()
    wall, cpu, count = time_decisions(POLICY, args.rounds)
    mean, p50, p99, worst = _stats(wall)
    cpu_mean, cpu_p50, cpu_p99, cpu_worst = _stats(cpu)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"decide(): {count} actions x {args.rounds} rounds = {len(wall)} decisions "
          f"({os.cpu_count()} cores, load average {load:.1f})")
    print(f"  wall  mean {mean:.1f} us   p50 {p50:.1f} us   p99 {p99:.1f} us   max {worst:.1f} us")
    print(f"  CPU   mean {cpu_mean:.1f} us   p50 {cpu_p50:.1f} us   p99 {cpu_p99:.1f} us   max {cpu_worst:.1f} us"
          "   (wall minus time the OS ran other processes)")
    baseline = time_command(["terraform", "version"], args.n)
    if baseline is None:
        print("terraform not on PATH: no subprocess baseline", file=sys.stderr)
        return 2
    print(f"`terraform version` via subprocess (median of {args.n}): {baseline / 1000:.1f} ms")
    print(f"  ratio: one `terraform version` = {baseline / mean:,.0f} mean decisions "
          f"(decision mean is {100 * mean / baseline:.3f}% of it; p99 {100 * p99 / baseline:.3f}%)")
    kubectl = time_command(["kubectl", "version", "--client"], args.n)
    if kubectl is not None:
        print(f"`kubectl version --client` via subprocess (median of {args.n}): {kubectl / 1000:.1f} ms"
              f" = {kubectl / mean:,.0f} mean decisions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
