"""Every gate rule in one table: its stable id, a title, and the plain-language reason.

A rule id is what an operator greps for in the audit log and what an
``overrides:`` entry in ``infraleash.yaml`` names.  Ids never change meaning.

``floor`` marks a hard rule: an action it hits is never approvable, and a
policy override may tighten it but never loosen it.

========================  =====  ==============================================================
id                        floor  fires when
========================  =====  ==============================================================
CMD-EMPTY                 yes    the argv is empty or argv[0] is blank
CMD-SHELL                 yes    argv[0] is a shell (sh, bash, zsh, pwsh, ...) or one element
                                 is a whole shell string (``"terraform plan | tee x"``)
CMD-SHELL-META            yes    an element is a pipe, ``;``, ``&&``, a redirection, ``$(...)``,
                                 a backtick or a process substitution: the agent expects a shell
CMD-WRAPPER               yes    argv[0] runs another command (env, sudo, xargs, timeout, nohup, ...)
CMD-UNKNOWN               yes    a program, subcommand or kubectl plugin the gate does not know,
                                 and no ``commands.allow`` prefix matches
CMD-UNPARSEABLE           yes    an option the gate cannot parse (unknown, missing value): it
                                 cannot tell what the command would do
ARG-NOT-ALLOWED           yes    an option the command has but the gate does not allow for that
                                 subcommand/verb (``init -from-module``, ``-plugin-dir``,
                                 ``-backend-config``, kubectl ``--insecure-skip-tls-verify``,
                                 kustomize ``--load-restrictor`` ...), or an argument starting with
                                 a look-alike dash (``–out``): named in the reason
CMD-ALLOWED               no     another command, allowed by a ``commands.allow`` entry (whole argv,
                                 or its prefix followed by plain words where the entry ends in ``*``)
ENV-TF-CLI-ARGS           no     TF_CLI_ARGS / TF_CLI_ARGS_<cmd> were folded into the argv exactly
                                 as Terraform does and removed from the environment
GATE-STATE-CORRUPT        yes    the audit log or approvals database is unreadable, truncated, not
                                 what it should be (binary data, a directory, a wrong schema)
ENV-STRIPPED              no     variables that inject code or leak secrets were removed
                                 (LD_PRELOAD, TF_LOG*, TF_REATTACH_PROVIDERS, KUBECTL_EXTERNAL_DIFF)
TF-APPLY-UNSAVED-PLAN     yes    ``terraform apply`` without a saved plan file
TF-APPLY-PLAN-OPTIONS     yes    ``apply PLANFILE`` with planning options (-target, -var, ...)
TF-APPLY-SAVED-PLAN       no     ``terraform apply PLANFILE``: changes real infrastructure
TF-DESTROY                yes    ``terraform destroy`` (the reviewable path: plan -destroy -out F)
TF-REFRESH                yes    ``terraform refresh`` writes state without review
TF-STATE-MUTATE           no     ``state rm|mv|push|replace-provider`` (without -dry-run)
TF-STATE-PULL             yes    ``state pull`` prints the raw state, secrets included
TF-IMPORT                 no     ``terraform import`` writes state
TF-FORCE-UNLOCK           no     ``force-unlock`` breaks another run's state lock
TF-TAINT                  no     ``taint`` / ``untaint`` write state
TF-WORKSPACE-SELECT       no     ``workspace select|new`` retargets later commands in that directory
TF-WORKSPACE-DELETE       no     ``workspace delete`` deletes a state
TF-INIT-MIGRATE           no     ``init -migrate-state|-force-copy`` copies state between backends
TF-INIT-UPGRADE           no     ``init -upgrade`` may change provider versions in the lock file
TF-TEST                   no     ``terraform test`` creates and destroys real infrastructure
TF-LOGIN                  yes    ``login`` / ``logout`` handle credentials: a human's job
TF-LOCK-DISABLED          yes    ``-lock=false`` on a command that writes state
TF-PATH-OUTSIDE           yes    a path terraform writes or reads (-out, -state-out, -var-file,
                                 -chdir, fmt targets, ...) resolves outside the workspace and the
                                 scratch directories (symlinks followed)
TF-PATH-OWNED             yes    a path terraform writes is a file the gate or Terraform owns: state,
                                 lock file, .terraform/, infraleash.yaml, .infraleash/, the policy's
                                 audit/head/approvals files, or configuration for ``-out``
K8S-MUTATE                no     a kubectl verb that changes the cluster
K8S-DELETE                no     ``kubectl delete``
K8S-EXEC                  no     exec, attach, cp, debug, port-forward, proxy: runs code in or
                                 opens a path into workloads
K8S-DRY-RUN               no     ``--dry-run=client|server`` on a verb that honours it: nothing
                                 is persisted
K8S-SECRET-READ           yes    ``get secret(s)`` with an output format that prints the data,
                                 or ``get --raw`` on a secrets path
K8S-KUBECONFIG-READ       yes    ``config view --raw|--flatten`` prints credentials
K8S-CREDENTIAL-ISSUE      yes    ``create token``, ``certificate approve``: mints credentials
                                 (also ``create|replace --raw`` on a token or approval path)
K8S-IMPERSONATE           yes    ``--as``, ``--as-group``, ``--as-uid``, ``--client-certificate|-key``
K8S-INLINE-CREDENTIAL     yes    ``--token``, ``--password``, ``--username`` in the argv
K8S-TARGET-UNCLEAR        yes    a mutating verb whose cluster the policy cannot match:
                                 --kubeconfig or KUBECONFIG without --context, or --server,
                                 --cluster, --user
K8S-CONFIG-WRITE          no     ``config use-context|set-*|delete-*|rename-context``
K8S-LOCAL-EXEC            yes    kubectl would run a local program the policy cannot see:
                                 ``--kubeconfig`` (exec credential plugins), kustomize
                                 ``--enable-helm|--helm-command|--enable-alpha-plugins``,
                                 ``config set-credentials --exec-*|--auth-provider*``, ``config set
                                 users.*.exec...``
K8S-PATH-OUTSIDE          yes    a local path kubectl reads or writes (-f, -k, --from-file,
                                 --profile-output, --output-directory, --cache-dir, cp's local side,
                                 -o ...-file templates) resolves outside the workspace
K8S-PATH-OWNED            yes    a local path kubectl writes or reads into the cluster is a file the
                                 gate or Terraform owns (state, .infraleash/, the policy ...)
TOOL-CALL                 no     a tool call, decided on its declared effect
TOOL-NO-EFFECT            yes    a tool call that declares no effect
TRUST-LEVEL               yes*   the effect is above what the environment's trust level allows
INCIDENT-SEV12            yes    a sev1/sev2 incident is open: humans act, the agent reads/drafts
POLICY-OVERRIDE           no     an ``overrides:`` entry changed the decision (its reason quoted)
POLICY-OVERRIDE-IGNORED   no     an override tried to loosen a hard rule or a sev1/sev2 denial
PRE-*                     yes    the static pre-flight (``preflight_rules.py``): a configuration
                                 that would run code or reach outside
SANDBOX-UNAVAILABLE       yes    bubblewrap is missing or cannot build a sandbox here: nothing runs
SANDBOX-PATH              yes    the sandbox would have to make a file the gate owns, or one
                                 outside the workspace, writable
RUNNER-WORKSPACE          yes    the working directory is outside the runner configuration's
                                 workspaces, or the runner configuration lies inside the workspace
APPROVAL-SERVER-UNAVAILABLE yes  the approval server named in the policy is unreachable, fails
                                 TLS, answers 5xx or garbage, or no token is set: nothing runs
APPROVAL-SERVER-REFUSED   yes    the approval server refused the call (token rejected, a claim of a
                                 request that is not approved, already claimed or expired)
APPROVAL-PLAN-CHANGED     yes    the saved plan file's SHA-256 is not the approved plan's
APPROVAL-PLAN-UNREVIEWED  yes    ``terraform show -json`` of the saved plan failed, so the approver
                                 could not be shown what would run
APPROVAL-DENIED           no     a named human denied the request on the approval server
APPROVAL-EXPIRED          no     the request expired on the approval server before it ran
========================  =====  ==============================================================

\\* TRUST-LEVEL cannot be loosened by naming it in an override (that is what
raising ``trust_level`` is for), but the action it denied stays approvable in
principle: an override naming the action's own rule may loosen it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infraleash.gate.model import Effect, RuleHit
from infraleash.gate.preflight_rules import PREFLIGHT_ROWS


@dataclass(frozen=True, slots=True)
class GateRule:
    """One row of the table: ``reason`` is a ``str.format`` template."""

    id: str
    title: str
    reason: str
    floor: bool = False  # never approvable; overrides cannot loosen it


_RULES = [
    GateRule("CMD-EMPTY", "Empty command", "the command is empty; there is nothing to decide", True),
    GateRule("CMD-SHELL", "Shell", "{detail}: shells run arbitrary strings the gate cannot classify; "
             "pass the program and its arguments as a list", True),
    GateRule("CMD-SHELL-META", "Shell metacharacter", "argument {arg!r} is shell syntax ({what}); commands run "
             "without a shell, so pipes, redirections and substitutions are refused", True),
    GateRule("CMD-WRAPPER", "Command wrapper", "{program} runs another command the gate would not see; "
             "run the command directly (environment goes in the action's env)", True),
    GateRule("CMD-UNKNOWN", "Unknown command", "{detail}: unknown commands are denied, not allowed", True),
    GateRule("CMD-UNPARSEABLE", "Unparseable command", "{detail}: the gate cannot tell what the command "
             "would do, so it is denied", True),
    GateRule("ARG-NOT-ALLOWED", "Argument not allowed", "`{program} {sub}` does not allow {arg!r}{why}; the "
             "gate allows only the options known to be safe for each subcommand", True),
    GateRule("CMD-ALLOWED", "Allowed by policy", "allowed by the commands.allow entry {prefix}"),
    GateRule("ENV-TF-CLI-ARGS", "TF_CLI_ARGS folded", "{names} folded into the command exactly as Terraform "
             "does and removed from the environment; the decision is on the effective command"),
    GateRule("GATE-STATE-CORRUPT", "Gate state corrupt", "{detail}; the gate refuses every action until an "
             "operator repairs or moves it aside (`infraleash audit verify` says what is wrong; nothing is "
             "truncated or rewritten)", True),
    GateRule("ENV-STRIPPED", "Environment stripped", "removed {names}: they inject code or write secrets "
             "to logs"),
    GateRule("TF-APPLY-UNSAVED-PLAN", "Apply without a saved plan", "`terraform apply` without a saved plan "
             "applies changes nobody reviewed; run `plan -out FILE`, have it reviewed, then `apply FILE`", True),
    GateRule("TF-APPLY-PLAN-OPTIONS", "Planning options on a saved-plan apply", "{options} only apply when "
             "planning; a saved plan is applied exactly as reviewed, so put them on `plan -out`", True),
    GateRule("TF-APPLY-SAVED-PLAN", "Apply a saved plan", "applying {plan_file} changes real infrastructure"),
    GateRule("TF-DESTROY", "Destroy", "`terraform destroy` is never run directly; run `plan -destroy -out FILE`, "
             "have it reviewed, then `apply FILE`", True),
    GateRule("TF-REFRESH", "Refresh", "`terraform refresh` rewrites state without review (a wrong region or "
             "credential can empty it); run `plan -refresh-only -out FILE`, then `apply FILE`", True),
    GateRule("TF-STATE-MUTATE", "State change", "`state {sub}` changes Terraform state directly"),
    GateRule("TF-STATE-PULL", "State dump", "`state pull` prints the raw state, secrets included, into the "
             "model's context; use `state list` / `state show ADDRESS`", True),
    GateRule("TF-IMPORT", "Import", "`terraform import` writes state; prefer an `import` block and a plan"),
    GateRule("TF-FORCE-UNLOCK", "Force unlock", "`force-unlock` breaks a lock another run may still hold"),
    GateRule("TF-TAINT", "Taint", "`{sub}` writes state; prefer `plan -replace=ADDRESS`"),
    GateRule("TF-WORKSPACE-SELECT", "Workspace switch", "`workspace {sub} {name}` retargets every later "
             "command in this directory"),
    GateRule("TF-WORKSPACE-DELETE", "Workspace delete", "`workspace delete {name}` deletes a state"),
    GateRule("TF-INIT-MIGRATE", "State migration", "`init {option}` copies state between backends"),
    GateRule("TF-INIT-UPGRADE", "Provider upgrade", "`init -upgrade` may change provider versions in "
             ".terraform.lock.hcl; review the lock-file diff"),
    GateRule("TF-TEST", "Terraform test", "`terraform test` creates and destroys real infrastructure"),
    GateRule("TF-LOGIN", "Credentials", "`terraform {sub}` handles credentials; a human does that", True),
    GateRule("TF-LOCK-DISABLED", "Lock disabled", "-lock=false on `{sub}`, which writes state: concurrent "
             "runs can corrupt it", True),
    GateRule("TF-PATH-OUTSIDE", "Path outside the workspace", "{option} {path!r} is {where}: files terraform "
             "writes or reads for the agent stay in the workspace", True),
    GateRule("TF-PATH-OWNED", "Path the gate or Terraform owns", "{option} {path!r} would be written over "
             "{owner}", True),
    GateRule("K8S-MUTATE", "Cluster change", "`kubectl {verb}` changes the cluster"),
    GateRule("K8S-DELETE", "Cluster delete", "`kubectl delete` removes cluster objects"),
    GateRule("K8S-EXEC", "Workload access", "`kubectl {verb}` runs code in, or opens a path into, workloads"),
    GateRule("K8S-DRY-RUN", "Dry run", "--dry-run={mode}: kubectl persists nothing"),
    GateRule("K8S-SECRET-READ", "Secret read", "{detail} prints Secret data into the model's context; "
             "`kubectl describe secret` shows keys and sizes only", True),
    GateRule("K8S-KUBECONFIG-READ", "Kubeconfig read", "`kubectl config view {flag}` prints cluster "
             "credentials", True),
    GateRule("K8S-CREDENTIAL-ISSUE", "Credential issue", "`kubectl {detail}` mints cluster credentials", True),
    GateRule("K8S-IMPERSONATE", "Impersonation", "{flag} impersonates another identity; the agent acts as "
             "itself so RBAC and the audit stay true", True),
    GateRule("K8S-INLINE-CREDENTIAL", "Inline credential", "{flag} puts a credential in the argv, where it "
             "reaches logs, the audit and the model", True),
    GateRule("K8S-TARGET-UNCLEAR", "Unclear cluster", "{detail}: the policy cannot tell which environment "
             "this changes; name the cluster with --context", True),
    GateRule("K8S-CONFIG-WRITE", "Kubeconfig change", "`kubectl config {sub}` changes which cluster later "
             "commands reach"),
    GateRule("K8S-LOCAL-EXEC", "Local program", "{detail} makes kubectl run a local program the policy "
             "cannot see; use the runner's kubeconfig and select the cluster with --context", True),
    GateRule("K8S-PATH-OUTSIDE", "Path outside the workspace", "{option} {path!r} is {where}: files kubectl "
             "reads or writes for the agent stay in the workspace", True),
    GateRule("K8S-PATH-OWNED", "Path the gate or Terraform owns", "{option} {path!r} is {owner}", True),
    GateRule("TOOL-CALL", "Tool call", "tool {tool} declares effect {effect}"),
    GateRule("TOOL-NO-EFFECT", "Tool without effect", "tool {tool} declares no effect; it cannot be "
             "classified", True),
    GateRule("TRUST-LEVEL", "Trust level", "{effect} is above trust level {trust} in {environment}, which "
             "allows {allows}", True),
    GateRule("INCIDENT-SEV12", "Sev1/sev2 incident", "a sev{severity} incident is open: humans act; the agent "
             "may only read, plan and draft", True),
    GateRule("POLICY-OVERRIDE", "Policy override", "{rule} -> {decision} by policy override: {reason}"),
    GateRule("POLICY-OVERRIDE-IGNORED", "Override ignored", "override {rule} -> {decision} ignored: {why}"),
    GateRule("SANDBOX-UNAVAILABLE", "Sandbox unavailable", "{detail}", True),
    GateRule("SANDBOX-PATH", "Sandbox path", "{detail}", True),
    GateRule("RUNNER-WORKSPACE", "Outside the runner's workspaces", "{detail}", True),
    GateRule("APPROVAL-SERVER-UNAVAILABLE", "Approval server unavailable", "{detail}; nothing runs without the "
             "server's answer", True),
    GateRule("APPROVAL-SERVER-REFUSED", "Approval server refused", "{detail}", True),
    GateRule("APPROVAL-PLAN-CHANGED", "Plan changed after approval", "{detail}", True),
    GateRule("APPROVAL-PLAN-UNREVIEWED", "Plan not reviewable", "{detail}; the approver must read the review of "
             "the exact plan, so no request was made", True),
    GateRule("APPROVAL-DENIED", "Denied by a human", "{detail}"),
    GateRule("APPROVAL-EXPIRED", "Approval expired", "{detail}"),
]

RULES: dict[str, GateRule] = {r.id: r for r in [*_RULES, *(GateRule(*row) for row in PREFLIGHT_ROWS)]}


def hit(rule_id: str, **params: object) -> RuleHit:
    """A :class:`RuleHit` for ``rule_id`` with its reason filled in (always one line)."""
    reason = RULES[rule_id].reason.format(**params)
    return RuleHit(id=rule_id, reason=reason.replace("\r", "\\r").replace("\n", "\\n"))


def is_floor(rule_id: str) -> bool:
    rule = RULES.get(rule_id)
    return rule is not None and rule.floor


@dataclass(slots=True)
class Classification:
    """What a command or tool call is, before trust, incidents and overrides apply.

    ``local`` matters for WRITE only: True when the write stays in the working
    tree (fmt, init, get), False when it retargets shared state or config
    (workspace select, kubectl config use-context).
    """

    effect: Effect
    hits: list[RuleHit] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    stripped_env: list[str] = field(default_factory=list)
    notes: list[RuleHit] = field(default_factory=list)  # informational hits (env folded, dry run, ...)
    plan_file: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)  # set by the gate on top of the child's env (git)
    output_filter: str | None = None  # a masker the executor runs over stdout (output_filters.FILTERS)
    local: bool = True
    workspace: str | None = None  # TF_WORKSPACE, when set
    workspace_target: str | None = None  # the workspace `workspace select|new|delete` names
    directory: str | None = None
    kube_context: str | None = None
    summary: str = ""

    @property
    def floor_hits(self) -> list[RuleHit]:
        return [h for h in self.hits if is_floor(h.id)]
