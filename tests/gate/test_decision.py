"""decide(): the table of argv cases (terraform, kubectl, other) and the rules around it.

Each row: the command as a shell-quoted string (split with shlex, nothing runs),
where it happens (workspace, kube context, incident severity, env, policy),
the expected verdict and the rule id expected first in ``Decision.rules``
(for allow: a rule id expected anywhere among them, or None).
"""

from __future__ import annotations

import shlex
import subprocess
from typing import Any

import pytest

from infraleash.gate import Action, Decision, Effect, GateContext, GateVerdict, decide
from infraleash.policy import Policy, parse_policy

BASE = """
trust_level: plan
environments:
  - name: production
    match: {workspaces: ["prod*"], directories: ["envs/prod/**"], kube_contexts: ["prod-*"]}
    trust_level: plan
  - name: staging
    match: {workspaces: ["staging"], directories: ["envs/staging/**"], kube_contexts: ["staging-*"]}
    trust_level: act-with-approval
  - name: lab
    match: {workspaces: ["lab"], kube_contexts: ["kind-*"]}
    trust_level: observe
incidents: {sev3_and_below_trust_level: plan}
commands:
  allow: [[make, lint], [tflint], [tflint, --recursive], [make, test, "*"]]
"""
OVERRIDES = BASE + """
overrides:
  - rule: TF-WORKSPACE-SELECT
    decision: allow
    reason: CI selects workspaces itself
  - rule: K8S-MUTATE
    decision: allow
    environments: [staging]
    reason: staging restarts are routine
  - rule: TF-INIT-UPGRADE
    decision: deny
    environments: [production]
    reason: provider upgrades go through a pull request
  - rule: TF-DESTROY
    decision: needs_approval
    reason: an attempt to loosen a hard rule
  - rule: TF-STATE-MUTATE
    decision: deny
    reason: state surgery is done by the platform team by hand
  - rule: TRUST-LEVEL
    decision: allow
    reason: an attempt to switch trust levels off
"""
POLICIES = {"base": parse_policy(BASE, "infraleash.yaml"), "ovr": parse_policy(OVERRIDES, "infraleash.yaml")}
VERDICTS = {"allow": GateVerdict.ALLOW, "deny": GateVerdict.DENY, "hold": GateVerdict.NEEDS_APPROVAL}

STG = {"ws": "staging"}
K_STG = {"kctx": "staging-1"}


def case(cmd: str, verdict: str, rule: str | None, **where: Any) -> Any:
    return pytest.param(cmd, verdict, rule, where, id=f"{cmd[:60]}|{where}" if where else cmd[:70])


CASES = [
    # ------------------------------------------------------------ terraform: read, plan, local writes
    case("terraform plan", "allow", None),
    case("terraform plan -out=p.tfplan", "allow", None),
    case("terraform plan -destroy -out p.tfplan", "allow", None),
    case("terraform plan -target=aws_instance.a -out p.tfplan", "allow", None),
    case("terraform plan -replace=aws_instance.a", "allow", None),
    case("terraform plan -refresh-only -out p.tfplan", "allow", None),
    case("terraform plan -lock=false", "allow", None),
    case("terraform validate -json", "allow", None),
    case("terraform show -json p.tfplan", "allow", None),
    case("terraform output -json", "allow", None),
    case("terraform providers schema -json", "allow", None),
    case("terraform version", "allow", None),
    case("terraform -version", "allow", None),
    case("terraform -chdir=envs/prod plan -out=p.tfplan", "allow", None),
    case("terraform fmt -recursive", "allow", None),
    case("terraform fmt -check -recursive", "allow", None, ws="lab"),
    case("terraform fmt", "deny", "TRUST-LEVEL", ws="lab"),
    case("terraform plan", "deny", "TRUST-LEVEL", ws="lab"),
    case("terraform init", "allow", None),
    case("terraform init -upgrade", "allow", "TF-INIT-UPGRADE"),
    case("terraform init -migrate-state", "hold", "TF-INIT-MIGRATE", **STG),
    case("terraform console", "allow", None),
    case("terraform graph", "allow", None),
    case("terraform providers lock -platform=linux_amd64", "allow", None),
    case("terraform state list", "allow", None),
    case("terraform state show aws_instance.a", "allow", None, ws="lab"),
    case("terraform state rm -dry-run aws_instance.a", "allow", None),
    case("terraform workspace list", "allow", None),
    case("terraform workspace show", "allow", None, ws="lab"),
    case("/usr/local/bin/terraform plan", "allow", None),
    # ------------------------------------------------------------ terraform: apply and friends
    case("terraform apply", "deny", "TF-APPLY-UNSAVED-PLAN"),
    case("terraform apply -auto-approve", "deny", "TF-APPLY-UNSAVED-PLAN"),
    case("terraform apply -auto-approve", "deny", "TF-APPLY-UNSAVED-PLAN", **STG),
    case("terraform apply -target=aws_instance.a -auto-approve", "deny", "TF-APPLY-UNSAVED-PLAN", **STG),
    case("terraform apply -replace=aws_instance.a", "deny", "TF-APPLY-UNSAVED-PLAN", **STG),
    case("terraform apply -refresh-only -auto-approve", "deny", "TF-APPLY-UNSAVED-PLAN", **STG),
    case("terraform apply p.tfplan", "deny", "TRUST-LEVEL"),
    case("terraform apply p.tfplan", "hold", "TF-APPLY-SAVED-PLAN", **STG),
    case("terraform apply -auto-approve p.tfplan", "hold", "TF-APPLY-SAVED-PLAN", **STG),
    case("terraform -chdir=envs/staging apply p.tfplan", "hold", "TF-APPLY-SAVED-PLAN"),
    case("terraform apply -var x=1 p.tfplan", "deny", "TF-APPLY-PLAN-OPTIONS", **STG),
    case("terraform apply -target=aws_instance.a p.tfplan", "deny", "TF-APPLY-PLAN-OPTIONS", **STG),
    case("terraform apply -lock=false p.tfplan", "deny", "TF-LOCK-DISABLED", **STG),
    case("terraform apply -destroy -auto-approve", "deny", "TF-DESTROY", **STG),
    case("terraform destroy", "deny", "TF-DESTROY"),
    case("terraform destroy -auto-approve", "deny", "TF-DESTROY", **STG),
    case("terraform refresh", "deny", "TF-REFRESH", **STG),
    case("terraform import aws_instance.a i-0123", "hold", "TF-IMPORT", **STG),
    case("terraform import aws_instance.a i-0123", "deny", "TRUST-LEVEL"),
    case("terraform state rm aws_instance.a", "hold", "TF-STATE-MUTATE", **STG),
    case("terraform state rm aws_instance.a", "deny", "TRUST-LEVEL", ws="prod-eu"),
    case("terraform state mv aws_instance.a aws_instance.b", "hold", "TF-STATE-MUTATE", **STG),
    case("terraform state push terraform.tfstate", "hold", "TF-STATE-MUTATE", **STG),
    case("terraform state replace-provider hashicorp/aws acme/aws", "hold", "TF-STATE-MUTATE", **STG),
    case("terraform state pull", "deny", "TF-STATE-PULL", **STG),
    case("terraform force-unlock 1234-abcd", "hold", "TF-FORCE-UNLOCK", **STG),
    case("terraform taint aws_instance.a", "hold", "TF-TAINT", **STG),
    case("terraform untaint aws_instance.a", "deny", "TRUST-LEVEL"),
    case("terraform workspace select prod", "deny", "TRUST-LEVEL"),
    case("terraform workspace select feature-x", "allow", "TF-WORKSPACE-SELECT", **STG),
    case("terraform workspace select prod", "deny", "TRUST-LEVEL", **STG),
    case("terraform workspace new feature-x", "allow", "TF-WORKSPACE-SELECT", **STG),
    case("terraform workspace delete feature-x", "hold", "TF-WORKSPACE-DELETE", **STG),
    case("terraform test", "hold", "TF-TEST", **STG),
    case("terraform login", "deny", "TF-LOGIN", **STG),
    case("tofu apply p.tfplan", "hold", "TF-APPLY-SAVED-PLAN", **STG),
    case("tofu destroy", "deny", "TF-DESTROY"),
    # ------------------------------------------------------------ terraform: unknown, unparseable
    case("terraform frobnicate", "deny", "CMD-UNKNOWN", **STG),
    case("terraform", "deny", "CMD-UNPARSEABLE"),
    case("terraform -chdir envs plan", "deny", "CMD-UNPARSEABLE"),
    case("terraform -foo plan", "deny", "CMD-UNPARSEABLE"),
    case("terraform apply -foo p.tfplan", "deny", "CMD-UNPARSEABLE", **STG),
    case("terraform apply p.tfplan other", "deny", "CMD-UNPARSEABLE", **STG),
    case("./terraform plan", "deny", "CMD-UNKNOWN"),
    # ------------------------------------------------------------ terraform: environment variables
    case("terraform apply", "hold", "TF-APPLY-SAVED-PLAN", env={"TF_CLI_ARGS_apply": "p.tfplan"}, **STG),
    case("terraform apply p.tfplan", "hold", "TF-APPLY-SAVED-PLAN", env={"TF_CLI_ARGS": "-auto-approve"}, **STG),
    case("terraform apply p.tfplan", "deny", "TF-APPLY-PLAN-OPTIONS", env={"TF_CLI_ARGS_apply": "-var=x=1"}, **STG),
    case("terraform plan -out p.tfplan", "allow", "ENV-TF-CLI-ARGS", env={"TF_CLI_ARGS_plan": "-destroy"}),
    case("terraform apply p.tfplan", "deny", "TF-LOCK-DISABLED", env={"TF_CLI_ARGS": "-lock=false"}, **STG),
    case("terraform plan", "deny", "CMD-UNPARSEABLE", env={"TF_CLI_ARGS": "-var 'x=1"}),
    case("terraform apply p.tfplan", "deny", "TRUST-LEVEL", env={"TF_WORKSPACE": "prod"}, **STG),
    case("terraform state rm aws_instance.a", "hold", "TF-STATE-MUTATE", env={"TF_WORKSPACE": "staging"}),
    case("terraform plan", "allow", "ENV-STRIPPED", env={"TF_LOG": "trace", "LD_PRELOAD": "/tmp/x.so"}),
    # ------------------------------------------------------------ incidents
    case("terraform plan -out p.tfplan", "allow", None, sev=1),
    case("terraform state list", "allow", None, sev=2),
    case("terraform fmt", "allow", None, sev=1),
    case("terraform apply p.tfplan", "deny", "INCIDENT-SEV12", sev=1, **STG),
    case("terraform workspace select x", "deny", "INCIDENT-SEV12", sev=2, **STG),
    case("terraform apply p.tfplan", "deny", "TRUST-LEVEL", sev=3, **STG),
    case("terraform destroy", "deny", "TF-DESTROY", sev=1),
    case("kubectl get pods", "allow", None, sev=1, kctx="prod-1"),
    case("kubectl delete pod web-0", "deny", "INCIDENT-SEV12", sev=1, **K_STG),
    case("kubectl rollout restart deploy/web", "deny", "TRUST-LEVEL", sev=4, **K_STG),
    case("make lint", "deny", "INCIDENT-SEV12", sev=2),
    # ------------------------------------------------------------ kubectl: reads
    case("kubectl get pods", "allow", None),
    case("kubectl get pods -n kube-system -o wide", "allow", None),
    case("kubectl -n prod get deploy", "allow", None),
    case("kubectl --namespace=prod --context=prod-1 describe pod web-0", "allow", None),
    case("kubectl logs -f web-0", "allow", None),
    case("kubectl logs deploy/web -c app --since=1h -p", "allow", None),
    case("kubectl events -A", "allow", None),
    case("kubectl top pods", "allow", None),
    case("kubectl explain pod.spec", "allow", None),
    case("kubectl api-resources", "allow", None),
    case("kubectl auth can-i delete pods", "allow", None),
    case("kubectl rollout status deploy/web", "allow", None),
    case("kubectl rollout history deploy/web", "allow", None, kctx="kind-1"),
    case("kubectl config current-context", "allow", None),
    case("kubectl config view", "allow", None),
    case("kubectl get secret", "allow", None),
    case("kubectl describe secret db", "allow", None),
    case("kubectl get pods --kubeconfig /tmp/k", "deny", "K8S-LOCAL-EXEC"),
    case("kubectl get pods", "allow", None, kctx="kind-1"),
    case("kubectl diff -f deploy.yaml", "allow", None),
    case("kubectl diff -f deploy.yaml", "deny", "TRUST-LEVEL", kctx="kind-1"),
    # ------------------------------------------------------------ kubectl: credentials to the model
    case("kubectl get secret -o yaml", "deny", "K8S-SECRET-READ"),
    case("kubectl get secrets db -ojson", "deny", "K8S-SECRET-READ"),
    case("kubectl get secret/db -o jsonpath='{.data.password}'", "deny", "K8S-SECRET-READ"),
    case("kubectl get cm,secret -n app --output=go-template='{{.data}}'", "deny", "K8S-SECRET-READ"),
    case("kubectl get --raw /api/v1/namespaces/app/secrets/db", "deny", "K8S-SECRET-READ"),
    case("kubectl config view --raw", "deny", "K8S-KUBECONFIG-READ"),
    case("kubectl config view --flatten --minify", "deny", "K8S-KUBECONFIG-READ"),
    case("kubectl create token deployer", "deny", "K8S-CREDENTIAL-ISSUE", **K_STG),
    case("kubectl certificate approve csr-1", "deny", "K8S-CREDENTIAL-ISSUE", **K_STG),
    case("kubectl get pods --as=system:admin", "deny", "K8S-IMPERSONATE"),
    case("kubectl get pods --token=abc", "deny", "K8S-INLINE-CREDENTIAL"),
    # ------------------------------------------------------------ kubectl: mutations
    case("kubectl --context staging-1 apply -f deploy.yaml", "hold", "K8S-MUTATE"),
    case("kubectl --context=prod-1 apply -f deploy.yaml", "deny", "TRUST-LEVEL"),
    case("kubectl --context=prod-1 apply -f deploy.yaml --dry-run=server", "allow", "K8S-DRY-RUN"),
    case("kubectl apply -f deploy.yaml --dry-run=client", "allow", "K8S-DRY-RUN"),
    case("kubectl delete pod web-0 --dry-run", "allow", "K8S-DRY-RUN"),
    case("kubectl delete pod web-0 --dry-run=none", "hold", "K8S-DELETE", **K_STG),
    case("kubectl delete ns prod --context prod-1", "deny", "TRUST-LEVEL"),
    case("kubectl scale deploy web --replicas=0", "hold", "K8S-MUTATE", **K_STG),
    case("kubectl rollout restart deploy/web", "hold", "K8S-MUTATE", **K_STG),
    # kubectl 1.32's `rollout restart` has no --dry-run: kubectl refuses it, so does the gate
    case("kubectl rollout restart deploy/web --dry-run=server", "deny", "CMD-UNPARSEABLE", **K_STG),
    case("kubectl rollout undo deploy/web --dry-run=server", "allow", "K8S-DRY-RUN", **K_STG),
    case("kubectl drain node-1 --ignore-daemonsets", "hold", "K8S-MUTATE", **K_STG),
    case("kubectl cordon node-1", "deny", "TRUST-LEVEL", kctx="kind-1"),
    case("kubectl exec -it web-0 -- sh -c 'ps aux | grep java'", "hold", "K8S-EXEC", **K_STG),
    case("kubectl cp web-0:/etc/hosts hosts", "hold", "K8S-EXEC", **K_STG),
    case("kubectl port-forward svc/web 8080:80", "hold", "K8S-EXEC", **K_STG),
    case("kubectl debug node/node-1 -it --image=busybox", "hold", "K8S-EXEC", **K_STG),
    case("kubectl edit deploy web", "hold", "K8S-MUTATE", **K_STG),
    case("kubectl label pod web-0 tier=web", "hold", "K8S-MUTATE", **K_STG),
    case("kubectl config use-context prod-1", "deny", "TRUST-LEVEL"),
    case("kubectl config use-context dev", "allow", "K8S-CONFIG-WRITE", **K_STG),
    case("kubectl --kubeconfig /tmp/k delete pod web-0", "deny", "K8S-LOCAL-EXEC", **K_STG),
    case("kubectl --server https://10.0.0.1 --context staging-1 scale deploy web --replicas=2", "deny",
         "K8S-TARGET-UNCLEAR"),
    case("kubectl delete pod web-0", "deny", "K8S-TARGET-UNCLEAR", env={"KUBECONFIG": "/tmp/other"}),
    case("kubectl delete pod web-0", "hold", "K8S-DELETE", env={"KUBECONFIG": "/tmp/other"}, **K_STG),
    case("kubectl krew install foo", "deny", "CMD-UNKNOWN", **K_STG),
    case("kubectl", "deny", "CMD-UNKNOWN"),
    case("kubectl --bogus get pods", "deny", "CMD-UNPARSEABLE"),
    case("kubectl rollout --bogus x restart deploy/web", "deny", "CMD-UNPARSEABLE", **K_STG),
    # ------------------------------------------------------------ shells, metacharacters, other commands
    case("kubectl get pods | grep web", "deny", "CMD-SHELL-META"),
    case("kubectl get pods >pods.txt", "deny", "CMD-SHELL-META"),
    case("terraform plan ; terraform apply -auto-approve", "deny", "CMD-SHELL-META"),
    case("terraform plan -var 'x=$(whoami)'", "deny", "CMD-SHELL-META"),
    case("terraform plan -var 'x=`id`'", "deny", "CMD-SHELL-META"),
    case("terraform plan 2>/dev/null", "deny", "CMD-SHELL-META"),
    case("bash -c 'terraform apply'", "deny", "CMD-SHELL"),
    case("/bin/sh", "deny", "CMD-SHELL"),
    case("'terraform plan'", "deny", "CMD-SHELL"),
    case("env TF_LOG=trace terraform plan", "deny", "CMD-WRAPPER"),
    case("sudo kubectl get pods", "deny", "CMD-WRAPPER"),
    case("", "deny", "CMD-EMPTY"),
    case("''", "deny", "CMD-EMPTY"),
    case("make lint", "allow", "CMD-ALLOWED"),
    case("make lint", "allow", "CMD-ALLOWED", kctx="kind-1"),
    case("/usr/bin/make lint", "allow", "CMD-ALLOWED"),
    case("tflint --recursive", "allow", "CMD-ALLOWED"),
    case("tflint --recursive --config=/tmp/x", "deny", "CMD-UNKNOWN"),  # entries match the whole argv
    case("make lint SHELL=/tmp/x", "deny", "CMD-UNKNOWN"),
    case("make test unit integration", "allow", "CMD-ALLOWED"),
    case("make test SHELL=/tmp/x", "deny", "CMD-UNKNOWN"),
    case("make test -f /tmp/Makefile", "deny", "CMD-UNKNOWN"),
    case("make deploy", "deny", "CMD-UNKNOWN"),
    case("./make lint", "deny", "CMD-UNKNOWN"),
    case("rm -rf .terraform", "deny", "CMD-UNKNOWN", **STG),
    case("python -c 'import os'", "deny", "CMD-UNKNOWN"),
    # ------------------------------------------------------------ QA: argv tricks a prompt-injected agent tries
    case("Terraform apply -auto-approve", "deny", "CMD-UNKNOWN"),
    case("terraform ap\u200bply -auto-approve", "deny", "CMD-UNKNOWN"),
    case("terraform \u0430pply -auto-approve", "deny", "CMD-UNKNOWN"),
    case("terraform\u200b apply -auto-approve", "deny", "CMD-UNKNOWN"),
    case("terraform apply\x00 -auto-approve", "deny", "CMD-UNPARSEABLE", **STG),
    case("terraform plan -var=x=\x00", "deny", "CMD-UNPARSEABLE"),
    case("terraform " + "plan " * 5000, "deny", "CMD-UNPARSEABLE"),
    case("terraform apply -- p.tfplan", "hold", "TF-APPLY-SAVED-PLAN", **STG),
    case("terraform apply -auto-approve=true", "deny", "TF-APPLY-UNSAVED-PLAN", **STG),
    case("terraform apply -input=false -compact-warnings p.tfplan", "hold", "TF-APPLY-SAVED-PLAN", **STG),
    case("terraform -chdir=.. apply p.tfplan", "deny", "TF-PATH-OUTSIDE"),
    case("terraform -help apply -auto-approve", "deny", "TF-APPLY-UNSAVED-PLAN"),
    case("terraform apply -state-out=/tmp/x.tfstate p.tfplan", "deny", "TF-PATH-OUTSIDE", **STG),
    case("terraform apply -state-out=x.tfstate p.tfplan", "deny", "TF-PATH-OWNED", **STG),
    case("terraform apply -state-out=out/state.json p.tfplan", "hold", "TF-APPLY-SAVED-PLAN", **STG),
    # paths are floors now: outside the workspace (here the test's cwd) is refused at every trust level
    case("terraform plan -out=/etc/x", "deny", "TF-PATH-OUTSIDE"),
    case("terraform plan -out=../../x.tfplan", "deny", "TF-PATH-OUTSIDE"),
    case("terraform plan -var-file=/home/me/.aws/credentials", "deny", "TF-PATH-OUTSIDE"),
    case("terraform plan -out=/srv/p.tfplan", "deny", "TF-PATH-OUTSIDE", **STG),
    # /tmp is no longer a scratch area by itself: review passes its own directory in scratch_dirs
    case("terraform plan -out=/tmp/infraleash-review-x/review.tfplan", "deny", "TF-PATH-OUTSIDE"),
    case("terraform plan -out=/tmp/infraleash-review-x/review.tfplan", "allow", None,
         scratch=["/tmp/infraleash-review-x"]),
    case("terraform plan -out=/tmp/infraleash-review-x/../x.tfplan", "deny", "TF-PATH-OUTSIDE",
         scratch=["/tmp/infraleash-review-x"]),
    case("terraform plan -out=/tmp/../home/me/.bashrc", "deny", "TF-PATH-OUTSIDE"),
    case("terraform plan -var-file=/tmp/x.tfvars", "deny", "TF-PATH-OUTSIDE"),
    case("terraform init -plugin-dir=/tmp/evil", "deny", "ARG-NOT-ALLOWED"),
    case("terraform init -from-module=file:///tmp/m.zip", "deny", "ARG-NOT-ALLOWED"),
    case("terraform init -backend-config=key=x", "deny", "ARG-NOT-ALLOWED"),
    case("terraform providers mirror /tmp/mirror", "deny", "TF-PATH-OUTSIDE"),
    case("terraform plan -out=terraform.tfstate", "deny", "TF-PATH-OWNED"),
    case("terraform plan -out=.infraleash/audit.jsonl", "deny", "TF-PATH-OWNED"),
    case("terraform plan -out=main.tf", "deny", "TF-PATH-OWNED"),
    case("terraform plan -out=infraleash.yaml", "deny", "TF-PATH-OWNED"),
    case("terraform plan -out=.terraform.lock.hcl", "deny", "TF-PATH-OWNED"),
    case("terraform \u2013out=x plan", "deny", "CMD-UNKNOWN"),
    case("terraform fmt \u2013write=false", "deny", "ARG-NOT-ALLOWED"),
    case("terraform plan \u2013out=x", "deny", "ARG-NOT-ALLOWED"),
    case("terraform 'state rm' x aws_instance.a", "hold", "TF-STATE-MUTATE", **STG),
    case("terraform '' output -raw db_password", "allow", None),
    case("terraform -chdir= plan", "deny", "CMD-UNPARSEABLE"),
    case("kubectl 'get secret' db -o yaml", "deny", "CMD-UNKNOWN"),
    case("terraform plan -out=plans/p.tfplan", "allow", None),
    case("terraform state rm -dry-run=false aws_instance.a", "hold", "TF-STATE-MUTATE", **STG),
    case("terraform workspace delete -force feature-x", "hold", "TF-WORKSPACE-DELETE", **STG),
    case("terraform import -allow-missing-config aws_instance.a i-1", "hold", "TF-IMPORT", **STG),
    case("terraform test", "deny", "TRUST-LEVEL"),
    case("terraform apply -lock=false -input=false p.tfplan", "deny", "TF-LOCK-DISABLED", **STG),
    case("terraform plan", "allow", "ENV-STRIPPED", env={"LD_LIBRARY_PATH": "/tmp", "GIT_SSH_COMMAND": "sh x"}),
    case("terraform init", "allow", "ENV-STRIPPED", env={"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.sshCommand"}),
    case("kubectl get secret foo -o=yaml", "deny", "K8S-SECRET-READ"),
    case("kubectl get secrets,configmaps -o yaml", "deny", "K8S-SECRET-READ"),
    case("kubectl get all -A -o yaml", "allow", None),
    case("kubectl get secret --output jsonpath={.data}", "deny", "K8S-SECRET-READ"),
    case("kubectl get -f secret.yaml -o yaml", "deny", "K8S-SECRET-READ"),
    case("kubectl get -k overlays/prod -ojson", "deny", "K8S-SECRET-READ"),
    case("kubectl get -f deploy.yaml", "allow", None),
    case("kubectl get pod --show-managed-fields -o json secret", "deny", "K8S-SECRET-READ"),
    case("kubectl get --raw /api/v1/namespaces/x/%73ecrets/db", "deny", "K8S-SECRET-READ"),
    case("kubectl get --raw /api/v1/namespaces/x/configmaps/../secrets/db", "deny", "K8S-SECRET-READ"),
    case("kubectl apply view-last-applied secret/db -o json", "deny", "K8S-SECRET-READ"),
    case("kubectl describe secret db -v=9", "deny", "K8S-SECRET-READ"),
    case("kubectl get pods --v 6", "allow", None),
    case("kubectl get pods --server=https://attacker.example", "deny", "K8S-TARGET-UNCLEAR"),
    case("kubectl --kubeconfig=/tmp/k get pods", "deny", "K8S-LOCAL-EXEC"),
    case("kubectl kustomize --enable-helm --helm-command=/tmp/evil .", "deny", "K8S-LOCAL-EXEC"),
    case("kubectl kustomize overlays/prod --enable-alpha-plugins", "deny", "K8S-LOCAL-EXEC"),
    case("kubectl kustomize overlays/prod --enable_helm --helm_command=./evil", "deny", "K8S-LOCAL-EXEC"),
    case("kubectl kustomize overlays/prod --enable-exec", "deny", "CMD-UNPARSEABLE"),  # not a 1.32 flag
    case("kubectl kustomize overlays/prod --load-restrictor=LoadRestrictionsNone", "deny", "ARG-NOT-ALLOWED"),
    case("kubectl get pods --insecure-skip-tls-verify", "deny", "ARG-NOT-ALLOWED"),
    case("kubectl get pods --kubec=/tmp/k", "deny", "CMD-UNPARSEABLE"),  # pflag: no abbreviations
    case("kubectl get -o yaml -- secrets", "deny", "K8S-SECRET-READ"),
    case("kubectl wait --for=condition=Ready secret/db -o yaml", "deny", "K8S-SECRET-READ"),
    case("kubectl create secret generic x --from-literal=a=b --dry-run=client -o yaml", "deny", "K8S-SECRET-READ"),
    case("kubectl patch secret db -p {} --dry-run=server -o yaml", "deny", "K8S-SECRET-READ"),
    case("kubectl get --raw /api/v1/namespaces/x/services/web:80/proxy/debug", "deny", "K8S-SECRET-READ"),
    case("kubectl get cm x -o go-template={{.data.a|base64decode}}", "deny", "K8S-SECRET-READ"),
    case("kubectl get secrets.v1. -o yaml", "deny", "K8S-SECRET-READ"),
    case("kubectl config view", "allow", None),
    case("kubectl config view -o jsonpath={.users}", "deny", "K8S-KUBECONFIG-READ"),
    case("kubectl config set-credentials u --exec-command=./x", "deny", "K8S-LOCAL-EXEC"),
    case("kubectl config set users.u.exec.command ./x", "deny", "K8S-LOCAL-EXEC"),
    case("kubectl create configmap x --from-file=/root/.ssh/id_rsa", "deny", "K8S-PATH-OUTSIDE"),
    case("kubectl create configmap x --from-file=k=terraform.tfstate --dry-run=client", "deny", "K8S-PATH-OWNED"),
    case("kubectl create configmap x --from-file=conf/app.ini --dry-run=client", "allow", "K8S-DRY-RUN"),
    case("kubectl get pods --profile=cpu --profile-output=/tmp/p.out", "deny", "K8S-PATH-OUTSIDE"),
    case("kubectl cluster-info dump --output-directory=/srv/dump", "deny", "K8S-PATH-OUTSIDE"),
    case("kubectl apply -k . --enable-helm", "deny", "CMD-UNPARSEABLE", **K_STG),
    case("kubectl -n app --context staging-1 apply -f a.yaml", "hold", "K8S-MUTATE"),
    case("kubectl apply --dry-run -f a.yaml", "allow", "K8S-DRY-RUN", kctx="prod-1"),
    case("kubectl apply --dry-run=none -f a.yaml", "deny", "TRUST-LEVEL", kctx="prod-1"),
    case("kubectl proxy", "hold", "K8S-EXEC", **K_STG),
    case("kubectl create token deployer --duration=8760h", "deny", "K8S-CREDENTIAL-ISSUE", **K_STG),
    case("kubectl auth can-i --list", "allow", None),
    case("kubectl exec web-0 -- sh", "hold", "K8S-EXEC", **K_STG),
    case("kubectl krew install evil", "deny", "CMD-UNKNOWN"),
    case("kubectl --token=abc get pods", "deny", "K8S-INLINE-CREDENTIAL"),
    case("kubectl --client-certificate=/tmp/admin.crt --client-key=/tmp/admin.key get pods", "deny",
         "K8S-IMPERSONATE"),
    case("kubectl create --raw /api/v1/namespaces/app/serviceaccounts/deployer/token -f req.json", "deny",
         "K8S-CREDENTIAL-ISSUE", **K_STG),
    case("kubectl replace --raw /apis/certificates.k8s.io/v1/certificatesigningrequests/c1/approval -f a.json",
         "deny", "K8S-CREDENTIAL-ISSUE", **K_STG),
    case("kubectl create --raw /api/v1/namespaces/app/configmaps -f cm.json", "hold", "K8S-MUTATE", **K_STG),
    # ------------------------------------------------------------ overrides
    case("terraform workspace select prod", "allow", "POLICY-OVERRIDE", policy="ovr"),
    case("kubectl rollout restart deploy/web --context staging-1", "allow", "POLICY-OVERRIDE", policy="ovr"),
    case("kubectl rollout restart deploy/web --context prod-1", "deny", "TRUST-LEVEL", policy="ovr"),
    case("terraform -chdir=envs/prod init -upgrade", "deny", "POLICY-OVERRIDE", policy="ovr"),
    case("terraform -chdir=envs/staging init -upgrade", "allow", "TF-INIT-UPGRADE", policy="ovr"),
    case("terraform destroy", "deny", "TF-DESTROY", policy="ovr", **STG),
    case("terraform state rm aws_instance.a", "deny", "POLICY-OVERRIDE", policy="ovr", **STG),
    case("terraform import aws_instance.a i-1", "deny", "TRUST-LEVEL", policy="ovr"),
    case("kubectl rollout restart deploy/web", "deny", "INCIDENT-SEV12", policy="ovr", sev=1, **K_STG),
]


def _decide(cmd: str, where: dict[str, Any]) -> Decision:
    ctx = GateContext(workspace=where.get("ws"), kube_context=where.get("kctx"),
                      incident_severity=where.get("sev"), scratch_dirs=where.get("scratch", []))
    action = Action(argv=shlex.split(cmd), env=where.get("env", {}))
    return decide(action, POLICIES[where.get("policy", "base")], ctx)


@pytest.mark.parametrize(("cmd", "verdict", "rule", "where"), CASES)
def test_argv_table(cmd: str, verdict: str, rule: str | None, where: dict[str, Any]) -> None:
    d = _decide(cmd, where)
    ids = [r.id for r in d.rules]
    assert d.verdict is VERDICTS[verdict], f"{d.summary}: {d.reasons()}"
    if verdict == "allow":
        assert rule is None or rule in ids, ids
    else:
        assert ids and ids[0] == rule, f"{d.summary}: {d.reasons()}"
        assert all(r.reason for r in d.rules)


def test_table_is_large_and_covers_both_clis() -> None:
    cmds = [p.values[0] for p in CASES]
    assert sum(c.startswith(("terraform", "tofu", "/usr/local/bin/terraform")) for c in cmds) >= 60
    assert sum(c.startswith("kubectl") for c in cmds) >= 50
    assert {p.values[1] for p in CASES} == {"allow", "deny", "hold"}


# --------------------------------------------------------------------------- the decision's other fields


def test_saved_plan_path_is_resolved_against_chdir_and_cwd() -> None:
    policy = parse_policy(BASE, "/repo/infraleash.yaml")
    d = decide(Action(argv=["terraform", "-chdir=envs/staging", "apply", "out/p.tfplan"], cwd="/repo"), policy)
    assert d.plan_file == "/repo/envs/staging/out/p.tfplan"
    assert d.verdict is GateVerdict.NEEDS_APPROVAL and d.approvable


def test_tf_cli_args_are_folded_after_the_subcommand_and_stripped() -> None:
    env = {"TF_CLI_ARGS": "-input=false", "TF_CLI_ARGS_apply": "-auto-approve", "AWS_REGION": "eu-west-1"}
    d = decide(Action(argv=["terraform", "-chdir=envs/staging", "apply", "p.tfplan"], env=env), POLICIES["base"])
    # the specific variable's words come first, as Terraform's mergeEnvArgs inserts them last at the same spot
    assert d.argv == ["terraform", "-chdir=envs/staging", "apply", "-auto-approve", "-input=false", "p.tfplan"]
    assert d.env == {}  # AWS_REGION is not on the allow-list: the runner configuration sets the region
    assert d.stripped_env == ["AWS_REGION", "TF_CLI_ARGS", "TF_CLI_ARGS_apply"]


def test_tf_cli_args_for_a_nested_subcommand_use_the_underscored_name() -> None:
    d = _decide("terraform state rm aws_instance.a", {"env": {"TF_CLI_ARGS_state_rm": "-dry-run"}})
    assert d.verdict is GateVerdict.ALLOW and d.effect is Effect.PLAN
    assert d.argv == ["terraform", "state", "rm", "-dry-run", "aws_instance.a"]


def test_the_contexts_kube_context_is_pinned_into_the_kubectl_argv() -> None:
    # decided for staging-1: it must not run on whatever the kubeconfig's current-context is (maybe prod)
    d = _decide("kubectl -n app delete pod web-0", K_STG)
    assert d.verdict is GateVerdict.NEEDS_APPROVAL and d.environment == "staging"
    assert d.argv == ["kubectl", "--context=staging-1", "-n", "app", "delete", "pod", "web-0"]
    named = _decide("kubectl --context prod-1 get pods", K_STG)
    assert named.argv == ["kubectl", "--context", "prod-1", "get", "pods"] and named.environment == "production"
    assert _decide("kubectl get pods", {}).argv == ["kubectl", "get", "pods"]


def test_tf_workspace_is_kept_and_decides_the_environment() -> None:
    d = _decide("terraform plan", {"env": {"TF_WORKSPACE": "prod-eu"}})
    assert d.environment == "production" and d.env == {"TF_WORKSPACE": "prod-eu"} and not d.stripped_env


def test_the_strictest_matching_environment_wins() -> None:
    # staging workspace (act-with-approval) but a production directory (plan): production decides
    d = decide(Action(argv=["terraform", "-chdir=envs/prod/app", "apply", "p.tfplan"]), POLICIES["base"],
               GateContext(workspace="staging"))
    assert d.environment == "production" and d.verdict is GateVerdict.DENY


def test_absolute_directories_match_patterns_relative_to_the_policy_file() -> None:
    policy = parse_policy(BASE, "/org/repo/infraleash.yaml")
    d = decide(Action(argv=["terraform", "apply", "p.tfplan"], cwd="/org/repo/envs/staging/net"), policy)
    assert d.environment == "staging" and d.verdict is GateVerdict.NEEDS_APPROVAL


def test_sev3_never_raises_trust_above_the_environment() -> None:
    policy = parse_policy(BASE.replace("sev3_and_below_trust_level: plan",
                                       "sev3_and_below_trust_level: act-with-approval"))
    d = decide(Action(argv=["kubectl", "cordon", "node-1"]), policy,
               GateContext(kube_context="kind-1", incident_severity=3))
    assert d.trust_level == "observe" and d.verdict is GateVerdict.DENY


def test_hard_denials_are_not_approvable_but_trust_denials_are() -> None:
    assert not _decide("terraform apply -auto-approve", STG).approvable
    assert not _decide("terraform apply p.tfplan", {"sev": 1, **STG}).approvable
    assert _decide("terraform apply p.tfplan", {}).approvable  # denied at plan trust; approvable in staging


def test_ignored_override_is_reported_after_the_deciding_rule() -> None:
    d = _decide("terraform destroy", {"policy": "ovr"})
    ids = [r.id for r in d.rules]
    assert ids[0] == "TF-DESTROY" and "POLICY-OVERRIDE-IGNORED" in ids
    assert "POLICY-OVERRIDE" not in ids


def test_override_reason_is_recorded() -> None:
    d = _decide("terraform workspace select prod", {"policy": "ovr"})
    assert "CI selects workspaces itself" in d.rules[0].reason


def test_trust_level_cannot_be_overridden_away() -> None:
    d = _decide("terraform import aws_instance.a i-1", {"policy": "ovr"})
    assert any(r.id == "POLICY-OVERRIDE-IGNORED" and "TRUST-LEVEL" in r.reason for r in d.rules)


# --------------------------------------------------------------------------- tool calls


@pytest.mark.parametrize(("effect", "where", "verdict", "rule"), [
    (Effect.READ, {"ws": "lab"}, "allow", "TOOL-CALL"),
    (Effect.PLAN, {"ws": "lab"}, "deny", "TRUST-LEVEL"),
    (Effect.WRITE, {}, "allow", "TOOL-CALL"),
    (Effect.WRITE, {"sev": 1}, "allow", "TOOL-CALL"),
    (Effect.DESTRUCTIVE, {}, "deny", "TRUST-LEVEL"),
    (Effect.DESTRUCTIVE, STG, "hold", "TOOL-CALL"),
    (Effect.DESTRUCTIVE, {"sev": 2, **STG}, "deny", "INCIDENT-SEV12"),
    (None, STG, "deny", "TOOL-NO-EFFECT"),
])
def test_tool_calls_are_decided_on_their_declared_effect(effect: Effect | None, where: dict[str, Any],
                                                         verdict: str, rule: str) -> None:
    ctx = GateContext(workspace=where.get("ws"), incident_severity=where.get("sev"))
    d = decide(Action(tool="restart_service", effect=effect, arguments={"name": "web"}), POLICIES["base"], ctx)
    assert d.verdict is VERDICTS[verdict] and d.rules[0].id == rule, d.reasons()
    assert "restart_service" in d.summary


def test_a_tool_that_runs_a_command_is_decided_on_the_command() -> None:
    action = Action(tool="terraform", effect=Effect.READ, argv=["terraform", "apply", "-auto-approve"])
    d = decide(action, POLICIES["base"], GateContext(workspace="staging"))
    assert d.verdict is GateVerdict.DENY and d.rules[0].id == "TF-APPLY-UNSAVED-PLAN"
    assert d.summary.startswith("tool terraform: terraform apply")


def test_decide_runs_no_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("decide() started a process")

    monkeypatch.setattr(subprocess, "Popen", boom)
    assert _decide("terraform version", {}).verdict is GateVerdict.ALLOW


def test_default_policy_is_plan_trust() -> None:
    d = decide(Action(argv=["kubectl", "delete", "pod", "x"]), Policy())
    assert d.verdict is GateVerdict.DENY and d.trust_level == "plan" and d.environment is None


def test_remembered_environment_matches_belong_to_their_policy() -> None:
    action = Action(argv=["terraform", "apply", "p.tfplan"])
    ctx = GateContext(workspace="staging")
    first = parse_policy(BASE, "infraleash.yaml")
    assert decide(action, first, ctx).verdict is GateVerdict.NEEDS_APPROVAL
    stricter = parse_policy(BASE.replace("trust_level: act-with-approval", "trust_level: plan"), "infraleash.yaml")
    assert decide(action, stricter, ctx).verdict is GateVerdict.DENY
    assert decide(action, first, ctx).verdict is GateVerdict.NEEDS_APPROVAL


def test_every_reason_is_one_line() -> None:
    d = _decide("terraform apply", {"env": {"TF_CLI_ARGS_apply": "'p\nlan.tfplan'"}, **STG})
    assert d.verdict is GateVerdict.NEEDS_APPROVAL and d.plan_file == "p\nlan.tfplan"
    assert all("\n" not in r.reason for r in d.rules) and "p\\nlan.tfplan" in d.reasons()


def test_rule_table_docstring_documents_every_rule() -> None:
    import re

    from infraleash.gate import rules

    documented = set(re.findall(r"^([A-Z0-9]+(?:-[A-Z0-9]+)+)\s", rules.__doc__ or "", re.MULTILINE))
    # the pre-flight's rows are documented in preflight_rules.py and re-exported into the table
    assert documented == {r for r in rules.RULES if not r.startswith("PRE-")}
    fired = {r.id for p in CASES for r in _decide(p.values[0], p.values[3]).rules}
    # every rule a command can fire is exercised by the table (tool and override rules have their own tests)
    # (the executor's refusals, GATE-STATE-CORRUPT, SANDBOX-*, RUNNER-*, the approval flow's APPROVAL-* and the
    # pre-flight's PRE-* rules are not decided from an argv: their owners test them)
    not_argv = {r for r in rules.RULES if r.startswith(("PRE-", "SANDBOX-", "RUNNER-", "GATE-STATE-", "APPROVAL-"))}
    assert set(rules.RULES) - fired - not_argv <= {"TOOL-CALL", "TOOL-NO-EFFECT", "POLICY-OVERRIDE-IGNORED"}
