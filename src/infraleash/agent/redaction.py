"""Secrets are redacted before anything reaches a model: every tool result and every file read.

    r = redact(text)
    r.text      # each secret replaced by [REDACTED:<kind>]
    r.counts    # {"aws_secret_access_key": 1, "k8s_secret_data": 3}
    r.note()    # "[3 secrets redacted before you saw this: 1 aws_secret_access_key, 3 k8s_secret_data]"

What is found, in this order (a value already replaced is never matched again):

1. PEM private keys (``-----BEGIN ... PRIVATE KEY-----`` blocks, also JSON-escaped);
2. JSON documents, walked structurally: the ``data``/``stringData`` values of
   ``kind: Secret`` objects, kubeconfig credentials (``client-key-data``,
   ``client-certificate-data``, ``token``, ``password``, ...), values under
   password/secret/token-like keys, and JSON held in string values (the
   ``last-applied-configuration`` annotation carries a Secret's data again);
3. YAML ``kind: Secret`` documents: every value under ``data:``/``stringData:``;
   ``{"name": "DB_PASSWORD", "value": ...}`` pairs (pod env, kubeconfig exec
   plugin env) and docker ``config.json`` ``auth`` values;
3b. HCL heredocs under a secret-looking key (``master_password = <<EOT``) and
   YAML ``- name: VAULT_TOKEN`` / ``value: ...`` pairs;
4. tokens by shape: AWS access key ids and STS session tokens, GitHub, Slack,
   Anthropic and OpenAI keys, JWTs, ``Bearer`` tokens, ``Authorization:`` /
   ``Proxy-Authorization:`` headers of any scheme (``Basic``), credentials in URLs;
5. ``key = value`` / ``key: value`` / ``"key": "value"`` where the key names a
   password, secret, token, API key or private key and the value is a literal
   (Terraform references such as ``var.db_password`` are left alone).

Over-redaction is the failure mode chosen on purpose: in a YAML document that
holds a Secret, a ConfigMap's ``data:`` in the same document is redacted too.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MARK = "[REDACTED:{}]"

_PEM = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----(?:.|\n)*?-----END \1PRIVATE KEY-----")
_SHAPES: list[tuple[str, re.Pattern[str]]] = [
    ("anthropic_api_key", re.compile(r"\bsk-ant-[a-z0-9]{2,10}-[A-Za-z0-9_-]{20,}")),
    ("openai_api_key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/]+")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("aws_access_key_id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}\b")),
    ("aws_session_token", re.compile(r"\b(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+=]{40,}")),
    ("aws_secret_access_key", re.compile(
        r"(?i)(?<=aws_secret_access_key)(?:[\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])")),
]
_BEARER = re.compile(r"(?i)\b(Bearer)\s+([A-Za-z0-9._~+/-]{16,}=*)")
# `Authorization: Basic dXNlcjpwYXNz` (any scheme: Basic, Digest, Token, ApiKey, AWS4-HMAC-SHA256 ...)
_AUTH_HEADER = re.compile(r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)([A-Za-z][\w-]*)[ \t]+([^\s\"']{6,}(?:[^\n\"']*)?)")
# `- name: DB_PASSWORD` followed by `value: ...` (pod env, kubeconfig exec plugin env)
_NAME_VALUE_YAML = re.compile(r"(?im)^(\s*-?\s*name:\s*[\"']?(?P<name>[\w.-]+)[\"']?\s*\n\s*value:[ \t]*)(?P<val>[^\n]+)$")
# `master_password = <<EOT ... EOT` (HCL heredoc)
_HEREDOC = re.compile(r"(?m)^(?P<head>[ \t]*(?P<key>[\w.-]+)[ \t]*=[ \t]*<<-?(?P<tag>\w+)[ \t]*\n)(?P<body>.*?)"
                      r"(?P<end>^[ \t]*(?P=tag)[ \t]*$)", re.S)
_URL_CREDS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(@)")

_SENSITIVE_KEY = (r"(?:[\w.-]*?(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|"
                  r"private[_-]?key|credentials?|authorization|client[_-]key[_-]data|pass(?![a-z])|pwd|"
                  r"client[_-]certificate[_-]data)[\w.-]*)")
_KEY_VALUE = re.compile(
    r"(?i)(?P<key>[\"']?" + _SENSITIVE_KEY + r"[\"']?)(?P<sep>\s*(?:=>|[:=])\s*)"
    r"(?P<val>\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[^\s,;}\]\)]+)")
_NOT_SECRET_KEY = re.compile(r"(?i)(_arn|_id|_ids|_name|_names|_count|_length|_ttl|_path|_file|_type|_version|"
                             r"_enabled|_policy|_rotation|_expir\w*|tokens|_url|_uri|_endpoint|_prefix|_format|"
                             r"_max|_min|_limit|_role|_kms\w*|_key_id|_algorithm|_ref|-ref|keyref|_version_stage)[\"']?$")
_REFERENCE = re.compile(r"^(var|local|data|module|each|count|self|path|terraform)\.|^\$\{|^\{\{|^<\*>$|^\*+$|"
                        r"^(null|none|true|false|yes|no|~|\||>|\[|\{|-)$|^\[REDACTED", re.I)

_KUBECONFIG_KEYS = {"client-key-data", "client-certificate-data", "token", "password", "id-token",
                    "refresh-token", "access-token", "client-secret", "auth"}  # auth: docker config.json
_SENSITIVE_KEY_RE = re.compile(r"(?i)^" + _SENSITIVE_KEY + r"$")


@dataclass
class Redacted:
    text: str
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def note(self) -> str:
        """What the model is told (empty when nothing was redacted)."""
        if not self.total:
            return ""
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()))
        return (f"[{self.total} secret value(s) redacted before you saw this: {kinds}. The values exist but are "
                "withheld from the model; do not try to read them another way.]")


def redact(text: str) -> Redacted:
    counts: Counter[str] = Counter()

    def mark(kind: str) -> str:
        counts[kind] += 1
        return MARK.format(kind)

    if "PRIVATE KEY-----" in text:
        text = _PEM.sub(lambda m: mark("private_key"), text)
        text = re.sub(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----(?:\\n|[A-Za-z0-9+/=\s])*?-----END \1PRIVATE KEY-----",
                      lambda m: mark("private_key"), text)
    text = _redact_json(text, counts)
    text = _HEREDOC.sub(lambda m: _heredoc(m, mark), text)
    text = _NAME_VALUE_YAML.sub(lambda m: _name_value(m, mark), text)
    if re.search(r"(?m)^\s*-?\s*kind:\s*[\"']?Secret[\"']?\s*$", text):
        text = _redact_yaml_secrets(text, mark)
    for kind, pattern in _SHAPES:
        text = pattern.sub(_shape_replacer(kind, mark), text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {mark('bearer_token')}", text)
    text = _AUTH_HEADER.sub(_auth_header(mark), text)
    text = _URL_CREDS.sub(lambda m: f"{m.group(1)}{mark('url_credentials')}{m.group(3)}", text)
    text = _KEY_VALUE.sub(lambda m: _key_value(m, mark), text)
    return Redacted(text, counts)


def _shape_replacer(kind: str, mark: Any) -> Any:
    if kind == "aws_secret_access_key":  # keep the key name, replace the value group
        return lambda m: m.group(0).replace(m.group(1), mark(kind))
    return lambda m: mark(kind)


def _auth_header(mark: Any) -> Any:
    def sub(m: re.Match[str]) -> str:
        if m.group(3).startswith("[REDACTED"):
            return m.group(0)
        return f"{m.group(1)}{m.group(2)} {mark('authorization')}"
    return sub


def _secret_name(name: str) -> bool:
    return bool(_SENSITIVE_KEY_RE.match(name)) and not _NOT_SECRET_KEY.search(name)


def _name_value(m: re.Match[str], mark: Any) -> str:
    val = m.group("val").strip()
    if not _secret_name(m.group("name")) or _REFERENCE.search(val.strip("\"'")):
        return m.group(0)
    return f"{m.group(1)}{mark('password' if 'pass' in m.group('name').lower() else 'secret')}"


def _heredoc(m: re.Match[str], mark: Any) -> str:
    if not _secret_name(m.group("key")) or not m.group("body").strip():
        return m.group(0)
    return f"{m.group('head')}{mark('password' if 'pass' in m.group('key').lower() else 'secret')}\n{m.group('end')}"


def _key_value(m: re.Match[str], mark: Any) -> str:
    key, val = m.group("key"), m.group("val")
    bare = val.strip("\"'")
    if _NOT_SECRET_KEY.search(key) or not bare or _REFERENCE.search(bare):
        return m.group(0)
    if m.string.startswith(" [REDACTED", m.end()):  # the scheme of an already redacted `Authorization: Basic ...`
        return m.group(0)
    lowered = key.lower()
    kind = "password" if ("pass" in lowered or "pwd" in lowered) else \
        "kubeconfig_credential" if lowered.strip("\"'") in _KUBECONFIG_KEYS else "secret"
    quote = val[0] if val[0] in "\"'" and val[-1] == val[0] and len(val) > 1 else ""
    return f"{key}{m.group('sep')}{quote}{mark(kind)}{quote}"


# ------------------------------------------------------------------------------------------------ JSON


def _redact_json(text: str, counts: Counter[str]) -> str:
    stripped = text.lstrip()
    if stripped[:1] not in ("{", "["):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    before = sum(counts.values())
    value = _walk(value, counts, parent_kind=None)
    if sum(counts.values()) == before:
        return text
    indent = _indent_of(text)
    return json.dumps(value, indent=indent, ensure_ascii=False) + ("\n" if text.endswith("\n") else "")


def _indent_of(text: str) -> int | None:
    m = re.search(r"\n( +)\S", text[:2000])
    return len(m.group(1)) if m else None


def _walk(value: Any, counts: Counter[str], parent_kind: str | None) -> Any:
    if isinstance(value, list):
        return [_walk(v, counts, parent_kind) for v in value]
    if isinstance(value, str):
        if value[:1] in ("{", "[") and len(value) > 2:
            inner = redact(value)  # JSON inside a string (last-applied-configuration)
            counts.update(inner.counts)
            return inner.text
        return value
    if not isinstance(value, dict):
        return value
    is_secret = value.get("kind") == "Secret"
    name = value.get("name")
    if isinstance(name, str) and isinstance(value.get("value"), str) and value["value"] and _secret_name(name) \
            and not _REFERENCE.search(value["value"]):  # pod env / kubeconfig exec env: {"name": ..., "value": ...}
        value = {**value, "value": _count(counts, "password" if "pass" in name.lower() else "secret")}
    out: dict[str, Any] = {}
    for k, v in value.items():
        key = str(k)
        if is_secret and key in ("data", "stringData") and isinstance(v, dict):
            out[key] = {dk: _count(counts, "k8s_secret_data") for dk in v}
        elif key in _KUBECONFIG_KEYS and isinstance(v, str) and v and not v.startswith("[REDACTED"):
            out[key] = _count(counts, "kubeconfig_credential")
        elif isinstance(v, str) and _SENSITIVE_KEY_RE.match(key) and not _NOT_SECRET_KEY.search(key) \
                and v and not _REFERENCE.search(v):
            out[key] = _count(counts, "password" if "pass" in key.lower() else "secret")
        else:
            out[key] = _walk(v, counts, parent_kind)
    return out


def _count(counts: Counter[str], kind: str) -> str:
    counts[kind] += 1
    return MARK.format(kind)


# ------------------------------------------------------------------------------------------------ YAML

_DOC_SPLIT = re.compile(r"(?m)^---[^\n]*\n")
_DATA_KEY = re.compile(r"^(\s*(?:-\s+)?)(data|stringData):\s*(.*)$")
_ENTRY = re.compile(r"^(\s*)([^\s:#][^:#]*?):(\s*)(.*)$")


def _redact_yaml_secrets(text: str, mark: Any) -> str:
    docs = _DOC_SPLIT.split(text)
    seps = _DOC_SPLIT.findall(text)
    out = []
    for i, doc in enumerate(docs):
        if re.search(r"(?m)^\s*-?\s*kind:\s*[\"']?Secret[\"']?\s*$", doc):
            doc = _redact_data_blocks(doc, mark)
        out.append(doc + (seps[i] if i < len(seps) else ""))
    return "".join(out)


def _redact_data_blocks(doc: str, mark: Any) -> str:
    lines = doc.split("\n")
    result: list[str] = []
    block_indent: int | None = None
    entry_indent: int | None = None
    skipping_scalar: int | None = None
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if skipping_scalar is not None:
            if line.strip() and indent > skipping_scalar:
                continue  # continuation of a redacted block scalar
            skipping_scalar = None
        if block_indent is not None and line.strip() and indent <= block_indent:
            block_indent = entry_indent = None
        m = _DATA_KEY.match(line)
        if m and block_indent is None:
            rest = m.group(3).strip()
            if rest.startswith("{") and rest != "{}":
                result.append(f"{m.group(1)}{m.group(2)}: {{{mark('k8s_secret_data')}}}")
                continue
            if not rest:
                block_indent = len(m.group(1)) if "-" not in m.group(1) else len(m.group(1).rstrip("- ")) + 2
                result.append(line)
                continue
        if block_indent is not None and line.strip() and not line.lstrip().startswith("#"):
            e = _ENTRY.match(line)
            if e and (entry_indent is None or len(e.group(1)) == entry_indent):
                entry_indent = len(e.group(1))
                value = e.group(4).strip()
                if value in ("|", ">", "|-", ">-", "|+", ">+", ""):
                    skipping_scalar = entry_indent
                result.append(f"{e.group(1)}{e.group(2)}: {mark('k8s_secret_data')}")
                continue
        result.append(line)
    return "\n".join(result)
