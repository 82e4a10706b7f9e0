"""The org policy file, ``infraleash.yaml``: loaded, validated, explained.

The policy is the one place where a team says what its agents may do.  It is
validated with pydantic; every error names the file, the line and the key
(``infraleash.yaml:12: environments[0].trust_level: Input should be ...``).

Sections (all optional; the defaults are the safe ones):

* ``trust_level``     observe -> plan -> act-with-approval, raised as a team learns
* ``environments``    matched by terraform workspace, directory glob or kube context,
                      each with its own trust level and protected resources
* ``incidents``       severity gating: sev1/sev2 are always read-and-draft only
* ``protected``       resource addresses, IDs and tags that must never be destroyed
* ``modules``         allowed module source prefixes
* ``providers``       provider version pins
* ``checks``          failing severity, required tags, naming, suppressions
* ``commands``        explicit allow-list for commands that are not terraform/kubectl
* ``overrides``       change a gate rule's decision, each with a mandatory reason
* ``review``          how ``review`` judges plans: state operations decided like their CLI
                      commands, replacements held for approval per environment or type
* ``approvals``/``audit``  where requests and the audit log are stored
* ``model``           the LLM the agent runtime talks to

Several files.  The org policy comes from the runner configuration; every
``infraleash.yaml`` found walking up from the working directory (with no org
policy: every one below the outermost) can only add restrictions, never relax
one: :func:`load_effective_policy` merges them section by section
(:mod:`infraleash.policy_merge`) and the result says which files it merged and
which relaxations it ignored, with file and line (``merge_notes``).
* ``preflight``       what the static pre-flight lets through (``preflight_policy.py``)
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import re
import types
import typing
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from infraleash.errors import PolicyError
from infraleash.limits import MAX_DEPTH, MAX_POLICY_BYTES, MAX_POLICY_NODES
from infraleash.policy_defaults import (
    DEFAULT_POLICY_FILE,
    FAILING_SEVERITY,
    MODULE_SOURCES,
    REQUIRE_MODULE_VERSION_PIN,
)
from infraleash.policy_defaults import (
    find_policy_file as find_policy_file,  # re-exported: callers import them here
)
from infraleash.policy_defaults import policy_files_above as policy_files_above
from infraleash.preflight_policy import PreflightPolicy


class TrustLevel(StrEnum):
    OBSERVE = "observe"  # read only
    PLAN = "plan"  # read, validate, plan
    ACT_WITH_APPROVAL = "act-with-approval"  # may request mutating actions, a human approves

    @property
    def rank(self) -> int:
        return list(TrustLevel).index(self)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EnvironmentMatch(_Strict):
    workspaces: list[str] = Field(default_factory=list, description="glob patterns on the terraform workspace")
    directories: list[str] = Field(default_factory=list, description="glob patterns on the working directory")
    kube_contexts: list[str] = Field(default_factory=list, description="glob patterns on the kube context")


class ProtectedResources(_Strict):
    """Resources that must never be destroyed or replaced by an agent's change.

    Any entry may say why, and every finding about a resource it matches shows that reason::

        addresses: [aws_db_instance.main, {address: "aws_security_group.legacy_*", reason: "hard-coded by the billing app"}]
        ids: [{id: sg-0123, reason: "allow-listed by the payment provider"}]
        tags: {Protected: "true", Billing: {value: "yes", reason: "finance owns it"}}
    """

    addresses: list[str] = Field(default_factory=list, description="glob patterns on resource addresses")
    ids: list[str] = Field(default_factory=list, description="cloud resource IDs (sg-..., arn:...)")
    tags: dict[str, str] = Field(default_factory=dict, description="a resource carrying any of these tags")
    reasons: dict[str, str] = Field(default_factory=dict, description="entry (address pattern, id, tag KEY=VALUE) "
                                    "-> why it is protected; usually written beside the entry as `reason`")

    @model_validator(mode="before")
    @classmethod
    def _entries_with_reasons(cls, data: Any) -> Any:
        """``{address: X, reason: Y}`` / ``{id: X, reason: Y}`` / tag ``K: {value: V, reason: Y}`` -> the plain
        entry plus ``reasons[X] = Y``; anything else is left for validation to refuse."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        reasons = dict(data["reasons"]) if isinstance(data.get("reasons"), dict) else {}
        for key, name in (("addresses", "address"), ("ids", "id")):
            if isinstance(data.get(key), list):
                data[key] = [_entry(item, name, reasons) for item in data[key]]
        if isinstance(data.get("tags"), dict):
            tags = {}
            for k, v in data["tags"].items():
                value = _entry(v, "value", reasons, key=f"{k}=")
                tags[k] = value
            data["tags"] = tags
        if reasons:
            data["reasons"] = reasons
        return data

    def merged(self, other: ProtectedResources) -> ProtectedResources:
        return ProtectedResources(
            addresses=[*self.addresses, *other.addresses],
            ids=[*self.ids, *other.ids],
            tags={**self.tags, **other.tags},
            reasons={**other.reasons, **self.reasons},
        )

    def _because(self, entry: str, text: str) -> str:
        reason = self.reasons.get(entry)
        return f"{text}: {reason}" if reason else text

    def matches(self, address: str | None = None, ids: list[str] | None = None,
                tags: dict[str, Any] | None = None) -> str | None:
        """Return why a resource is protected (with the entry's reason), or None."""
        if address:
            for pat in self.addresses:
                if fnmatch.fnmatchcase(address, pat):
                    return self._because(pat, f"address matches protected pattern {pat!r}")
        for rid in ids or []:
            if rid in self.ids:
                return self._because(rid, f"id {rid} is protected")
        for key, value in (tags or {}).items():
            if key in self.tags and str(value) == self.tags[key]:
                return self._because(f"{key}={value}", f"tag {key}={value} marks it protected")
        return None


def _entry(item: Any, name: str, reasons: dict[str, str], key: str = "") -> Any:
    if isinstance(item, dict) and name in item and set(item) <= {name, "reason"} and isinstance(item[name], str):
        if isinstance(item.get("reason"), str) and item["reason"].strip():
            reasons[key + item[name]] = item["reason"].strip()
        return item[name]
    return item


class Environment(_Strict):
    name: str
    match: EnvironmentMatch = Field(default_factory=EnvironmentMatch)
    trust_level: TrustLevel | None = None
    protected: ProtectedResources = Field(default_factory=ProtectedResources)


class IncidentPolicy(_Strict):
    # sev1 and sev2 are always read-and-draft; this is not configurable on purpose.
    sev3_and_below_trust_level: TrustLevel | None = Field(
        default=None, description="trust level during sev3+ incidents (default: the environment's)")


class ModulePolicy(_Strict):
    allowed_sources: list[str] = Field(
        default_factory=lambda: list(MODULE_SOURCES),
        description="prefixes a module source must start with; local paths are allowed by default")
    require_version_pin: bool = REQUIRE_MODULE_VERSION_PIN


class Suppression(_Strict):
    rule: str
    reason: str = Field(min_length=1)
    address: str | None = Field(default=None, description="glob on the resource address")
    file: str | None = Field(default=None, description="glob on the file path")

    @field_validator("reason")
    @classmethod
    def _reason_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a suppression needs a reason")
        return v


class NamingConvention(_Strict):
    resource_name_pattern: str | None = Field(
        default=None, description="regex the Terraform resource name must match (e.g. ^[a-z][a-z0-9_]*$)")
    name_tag_pattern: str | None = Field(default=None, description="regex the Name tag / name argument must match")
    learn_from_code: bool = True


class ChecksPolicy(_Strict):
    failing_severity: Literal["info", "low", "medium", "high", "critical"] = FAILING_SEVERITY
    required_tags: list[str] = Field(default_factory=list)
    naming: NamingConvention = Field(default_factory=NamingConvention)
    suppressions: list[Suppression] = Field(default_factory=list)
    disabled_rules: list[Suppression] = Field(default_factory=list)
    rules_dirs: list[str] = Field(default_factory=list, description="directories of the org's own rules (*.py, "
                                  "*.rego), relative to this file; see infraleash.checks.custom_rules")


class CommandsPolicy(_Strict):
    allow: list[list[str]] = Field(
        default_factory=list,
        description="argv prefixes allowed for commands other than terraform/tofu/kubectl, e.g. [make, lint]")


class Override(_Strict):
    rule: str
    decision: Literal["allow", "deny", "needs_approval"]
    reason: str = Field(min_length=1)
    environments: list[str] = Field(default_factory=list, description="limit to these environments")

    @field_validator("reason")
    @classmethod
    def _reason_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("an override needs a reason")
        return v


class ApprovalsPolicy(_Strict):
    store: str = ".infraleash/approvals.db"
    ttl_minutes: int = Field(default=240, gt=0)
    approvers: list[str] = Field(default_factory=list, description="who may approve (empty: anyone named)")
    server: str | None = Field(default=None, description="approval server URL: held commands wait there, not in "
                               "the local store (infraleash.gate.approval_client)")
    token_env: str = Field(default="INFRALEASH_APPROVAL_TOKEN", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                           description="the environment variable holding this runner's agent token")
    wait_seconds: int = Field(default=900, ge=0, le=86400,
                              description="how long a held command waits for the server's decision (0: do not)")

    @field_validator("server")
    @classmethod
    def _server_url(cls, v: str | None) -> str | None:
        if v is None:
            return None
        url = v.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", url):
            raise ValueError(f"{v!r}: an http:// or https:// URL, e.g. https://approvals.example.com")
        return url


class AuditPolicy(_Strict):
    path: str = ".infraleash/audit.jsonl"
    anchor: str | None = Field(default=None, description="where the chain head is also written (default: beside the log)")


class ModelPolicy(_Strict):
    provider: Literal["openai", "anthropic", "litellm", "ollama", "scripted"] | None = None
    name: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    max_steps: int = 30
    max_tokens: int = 200_000
    max_seconds: int = 1800
    max_cost_usd: float | None = None
    context_window: int | None = None


class MergeNote(BaseModel):
    """One thing a working-tree policy file did to the org policy: tightened it, or tried to relax it (ignored)."""

    file: str
    line: int | None
    section: str
    kind: Literal["tightened", "ignored"]
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.section}: {self.kind}: {self.message}"


_NOT_IN_FILE = ("source", "merged_from", "merge_notes")


class ReplacementHold(_Strict):
    """Hold create-before-destroy replacements of stateless resources for approval (they are allowed
    by default): every type and environment, or only the ones listed (globs on the type)."""

    resource_types: list[str] = Field(default_factory=list, description="globs on the resource type (empty: all)")
    environments: list[str] = Field(default_factory=list, description="environment names (empty: all)")
    reason: str | None = Field(default=None, description="shown in the finding")

    def applies(self, resource_type: str, environment: str | None) -> bool:
        if self.environments and environment not in self.environments:
            return False
        return not self.resource_types or any(fnmatch.fnmatchcase(resource_type, p) for p in self.resource_types)


class ReviewPolicy(_Strict):
    state_operations_follow_gate: bool | None = Field(
        default=None, description="import/removed/moved blocks get the verdict the gate gives `terraform import`, "
        "`state rm`, `state mv` in the environment (None: on at trust levels below act-with-approval; off: they "
        "need approval)")
    hold_replacements: list[ReplacementHold] = Field(
        default_factory=list, description="create-before-destroy replacements of stateless resources that need "
        "approval anyway")

    def follows_gate(self, trust: TrustLevel) -> bool:
        if self.state_operations_follow_gate is not None:
            return self.state_operations_follow_gate
        return trust.rank < TrustLevel.ACT_WITH_APPROVAL.rank

    def replacement_hold(self, resource_type: str, environment: str | None) -> ReplacementHold | None:
        return next((h for h in self.hold_replacements if h.applies(resource_type, environment)), None)


class Policy(_Strict):
    version: Literal[1] = 1
    trust_level: TrustLevel = TrustLevel.PLAN
    environments: list[Environment] = Field(default_factory=list)
    incidents: IncidentPolicy = Field(default_factory=IncidentPolicy)
    protected: ProtectedResources = Field(default_factory=ProtectedResources)
    modules: ModulePolicy = Field(default_factory=ModulePolicy)
    providers: dict[str, str] = Field(default_factory=dict, description="provider name -> version constraint pin")
    checks: ChecksPolicy = Field(default_factory=ChecksPolicy)
    commands: CommandsPolicy = Field(default_factory=CommandsPolicy)
    overrides: list[Override] = Field(default_factory=list)
    review: ReviewPolicy = Field(default_factory=ReviewPolicy)
    approvals: ApprovalsPolicy = Field(default_factory=ApprovalsPolicy)
    audit: AuditPolicy = Field(default_factory=AuditPolicy)
    model: ModelPolicy = Field(default_factory=ModelPolicy)
    preflight: PreflightPolicy = Field(default_factory=PreflightPolicy)  # infraleash/preflight_policy.py

    # where it was loaded from (not part of the file)
    source: str | None = Field(default=None, exclude=True)
    merged_from: list[str] = Field(default_factory=list, exclude=True,
                                   description="the base (org) file first, then each working-tree file merged in")
    merge_notes: list[MergeNote] = Field(default_factory=list, exclude=True,
                                         description="what each merged file tightened, and each relaxation ignored")
    python_rules_refused: list[str] = Field(
        default_factory=list, exclude=True,
        description="rules directories whose Python rules are not loaded: named by a policy file inside the checked "
                    "tree, which a change under review can edit (checks/custom_rules.py: guard_tree_policy)")

    def environment_for(self, *, workspace: str | None = None, directory: str | None = None,
                        kube_context: str | None = None) -> Environment | None:
        """The first environment whose match applies."""
        for env in self.environments:
            m = env.match
            if workspace and any(fnmatch.fnmatchcase(workspace, p) for p in m.workspaces):
                return env
            if directory and any(_dir_matches(directory, p) for p in m.directories):
                return env
            if kube_context and any(fnmatch.fnmatchcase(kube_context, p) for p in m.kube_contexts):
                return env
        return None

    def trust_for(self, env: Environment | None) -> TrustLevel:
        return env.trust_level if env and env.trust_level else self.trust_level

    def protected_for(self, env: Environment | None) -> ProtectedResources:
        return self.protected.merged(env.protected) if env else self.protected

    def base_dir(self) -> Path:
        return Path(self.source).parent if self.source else Path.cwd()

    def resolve_path(self, p: str) -> Path:
        path = Path(p)
        return path if path.is_absolute() else self.base_dir() / path


def _dir_matches(directory: str, pattern: str) -> bool:
    d = directory.rstrip("/")
    return fnmatch.fnmatchcase(d, pattern) or fnmatch.fnmatchcase(d + "/", pattern) or \
        fnmatch.fnmatchcase(d, pattern.rstrip("/*").rstrip("/")) or \
        any(fnmatch.fnmatchcase(str(parent), pattern.rstrip("/*").rstrip("/"))
            for parent in Path(d).parents)


# --------------------------------------------------------------------------- loading


def load_policy(path: str | Path | None = None, *, search_from: Path | None = None) -> Policy:
    """Load and validate a policy.

    With a path: that one file.  With none: the effective policy for
    ``search_from`` (default: the current directory): the outermost
    ``infraleash.yaml`` above it, tightened by each one below it
    (:func:`load_effective_policy` with no org policy); none found gives the default policy.
    """
    if path is None:
        return load_effective_policy(None, search_from or Path.cwd())
    return load_policy_file(path)


def load_effective_policy(org: str | Path | None, cwd: Path) -> Policy:
    """The org policy (``None``: the outermost file found) tightened by every ``infraleash.yaml`` above ``cwd``."""
    from infraleash.policy_merge import effective_policy

    return effective_policy(Path(org) if org is not None else None, cwd)


def read_policy_text(path: str | Path) -> str:
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_POLICY_BYTES:
            raise PolicyError(f"refused: {p.stat().st_size:,} bytes (limit {MAX_POLICY_BYTES:,})", file=str(p))
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError("policy file not found", file=str(p)) from None
    except IsADirectoryError:
        raise PolicyError("is a directory, not a policy file", file=str(p)) from None
    except UnicodeDecodeError as e:
        raise PolicyError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=str(p)) from None
    except OSError as e:
        raise PolicyError(f"cannot read policy file: {e.strerror}", file=str(p)) from None


def load_policy_file(path: str | Path) -> Policy:
    """One policy file, loaded and validated on its own (no merging)."""
    return parse_policy(read_policy_text(path), str(path))


def parse_policy(text: str, filename: str = DEFAULT_POLICY_FILE) -> Policy:
    return parse_policy_node(text, filename)[0]


def parse_policy_node(text: str, filename: str = DEFAULT_POLICY_FILE) -> tuple[Policy, yaml.Node | None, dict[str, Any]]:
    """(the policy, its composed YAML tree for line numbers, the raw mapping: which keys the file sets)."""
    if len(text) > MAX_POLICY_BYTES:
        raise PolicyError(f"refused: {len(text):,} characters (limit {MAX_POLICY_BYTES:,})", file=filename)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        _check_yaml_bounds(node, filename)
        data = yaml.safe_load(text)
    except RecursionError:
        raise PolicyError(f"refused: nested deeper than {MAX_DEPTH} levels", file=filename) from None
    except ValueError as e:  # a scalar the YAML constructor cannot convert (an integer of 5,000 digits)
        raise PolicyError("refused: a value YAML cannot convert: " + " ".join(str(e).split())[:120],
                          file=filename) from None
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise PolicyError(f"invalid YAML: {e.problem}", file=filename, line=line) from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow (NUL, a control character)
        raise PolicyError(f"invalid YAML: {e.reason} (character #x{e.character:04x})"
                          if isinstance(e.character, int) else f"invalid YAML: {e.reason}",
                          file=filename, line=text.count("\n", 0, e.position) + 1) from None
    except yaml.YAMLError as e:
        raise PolicyError("invalid YAML: " + " ".join(str(e).split()), file=filename) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError("the policy must be a mapping of sections (trust_level, environments, ...)",
                          file=filename, line=1)
    for key in _NOT_IN_FILE:
        if key in data:
            raise PolicyError(f"{key}: Extra inputs are not permitted", file=filename, line=_line_of(node, (key,)))
    try:
        policy = Policy.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        line = _line_of(node, loc)
        more = f" (and {len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
        hint = _did_you_mean(loc) if err["type"] == "extra_forbidden" else ""
        raise PolicyError(f"{_format_loc(loc)}: {err['msg']}{hint}{more}", file=filename, line=line) from None
    policy.source = filename
    policy.merged_from = [filename]
    return policy, node, data


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that holds the key at ``loc`` (``loc[:-1]`` walked through fields, dicts, lists)."""
    annotation: Any = Policy
    for part in loc[:-1]:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
        elif typing.get_origin(annotation) in (dict, list, tuple, set):
            args = typing.get_args(annotation)
            annotation = args[-1] if args else None
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> ``X``; ``list[X] | None`` -> ``list[X]`` (the first model-bearing member)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else annotation
    return annotation


def _did_you_mean(loc: tuple[Any, ...]) -> str:
    """``; did you mean 'failing_severity'?`` for a misspelled key, from the fields of the model that holds it."""
    model = _model_at(loc)
    if model is None or not loc:
        return ""
    names = [f.alias or n for n, f in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f" (known keys: {', '.join(sorted(names))})"


def policy_for(policy: Policy | str | Path | None, near: str | Path) -> Policy:
    """The policy the Python API uses: the one given (object or file), else the nearest ``infraleash.yaml``
    in ``near`` (a directory, or a file's directory) or a parent, as the CLI finds it, else the defaults."""
    if isinstance(policy, Policy):
        return policy
    if policy is not None:
        return load_policy(Path(policy))
    return load_policy(search_from=Path(near) if Path(near).is_dir() else Path(near).parent)


def _check_yaml_bounds(root: yaml.Node | None, filename: str) -> None:
    """Refuse alias bombs (nodes counted as often as aliases repeat them) and deep nesting, before
    the YAML is turned into Python values."""
    stack: list[tuple[yaml.Node, int]] = [(root, 0)] if root is not None else []
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_POLICY_NODES:
            raise PolicyError(f"refused: more than {MAX_POLICY_NODES:,} YAML nodes once aliases are expanded "
                              "(an alias bomb?)", file=filename)
        if depth > MAX_DEPTH:
            raise PolicyError(f"refused: nested deeper than {MAX_DEPTH} levels", file=filename,
                              line=node.start_mark.line + 1)
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The line of a key path (``("approvals", "ttl_minutes")``) in a composed policy file."""
    return _line_of(node, loc)


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            if not _PLAIN_KEY.fullmatch(text):  # a key with spaces, newlines, quotes: quoted, on one line
                text = json.dumps(text, ensure_ascii=False)
            out += ("." if out else "") + text
    return out or "(top level)"


_PLAIN_KEY = re.compile(r"[\w./*:@+-]+")


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Walk the composed YAML tree along a pydantic error location."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


STARTER_POLICY = """\
# infraleash.yaml: what LLM agents may do to this organisation's infrastructure.
# Validate with `infraleash policy check`. Every key is optional; defaults are safe.
version: 1

# observe: agents may only read.  plan: read, validate and plan.
# act-with-approval: agents may request mutating actions; a named human approves each one.
trust_level: plan

environments:
  - name: production
    match:
      workspaces: ["prod*"]
      directories: ["envs/prod/**"]
      kube_contexts: ["prod-*"]
    trust_level: plan
    protected:
      tags: { Protected: "true" }
  - name: staging
    match:
      workspaces: ["staging"]
      directories: ["envs/staging/**"]
    trust_level: act-with-approval

# sev1/sev2 incidents: the agent may only read, analyze and draft (not configurable).
incidents:
  sev3_and_below_trust_level: plan

# Resources that must never be destroyed or replaced by an agent's change. Any entry may say why:
# every finding about the resource shows the reason.
protected:
  addresses:
    - address: "aws_security_group.legacy_*"
      reason: its ID is hard-coded in the legacy billing app
  ids: []
  tags: {}

modules:
  allowed_sources:
    - "./"
    - "../"
    - "git::https://git.example.com/platform/"
  require_version_pin: true

providers:
  aws: "~> 5.100"

checks:
  failing_severity: high
  required_tags: [Owner, CostCenter]
  naming:
    resource_name_pattern: "^[a-z][a-z0-9_]*$"
    learn_from_code: true
  suppressions: []
  #  - rule: AWS-S3-VERSIONING
  #    address: aws_s3_bucket.scratch
  #    reason: scratch data, recreated nightly

# Commands other than terraform/tofu/kubectl are refused unless listed (argv prefixes).
commands:
  allow: []

# Change a gate rule's decision. A reason is mandatory.
overrides: []
#  - rule: TF-WORKSPACE-SELECT
#    decision: allow
#    reason: CI selects workspaces itself

# How `review` judges plans. import/removed/moved blocks get the gate's decision for
# `terraform import` / `state rm` / `state mv` (null: at trust levels below act-with-approval;
# false: they need approval). Create-before-destroy replacements of stateless resources nothing
# depends on are allowed unless held here.
review:
  state_operations_follow_gate: null
  hold_replacements: []
  #  - resource_types: ["aws_launch_template"]
  #    environments: [production]
  #    reason: every production rollout is announced

approvals:
  store: .infraleash/approvals.db
  ttl_minutes: 240

audit:
  path: .infraleash/audit.jsonl

# The model the agent runtime talks to (or set INFRALEASH_MODEL_PROVIDER etc.).
model:
  provider: null
"""
