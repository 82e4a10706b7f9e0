"""Secrets never reach a model: each kind is replaced by [REDACTED:<kind>], counted, and reported."""

from __future__ import annotations

import base64
import json

import pytest

from infraleash.agent.redaction import redact

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDx" + "A" * 120
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n" \
      "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ." \
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"


def test_aws_credentials_file_and_env() -> None:
    text = (f"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {AWS_SECRET}\n"
            f"aws_session_token = {SESSION}\nregion = eu-west-1\n")
    r = redact(text)
    assert "AKIAIOSFODNN7EXAMPLE" not in r.text and AWS_SECRET not in r.text and SESSION[:30] not in r.text
    assert r.counts["aws_access_key_id"] == 1 and r.counts["aws_secret_access_key"] == 1
    assert "region = eu-west-1" in r.text
    env = redact(f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}\nPATH=/usr/bin\n")
    assert AWS_SECRET not in env.text and "PATH=/usr/bin" in env.text


@pytest.mark.parametrize("secret, kind", [
    ("ghp_" + "a1B2c3D4e5" * 4, "github_token"),
    ("github_pat_11ABCDEFG0" + "x" * 60, "github_token"),
    ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack_token"),
    ("sk-proj-" + "Ab3dE" * 10, "openai_api_key"),
    ("sk-ant-api03-" + "Zy9_x" * 12, "anthropic_api_key"),
    (JWT, "jwt"),
])
def test_tokens_by_shape_in_prose_and_logs(secret: str, kind: str) -> None:
    r = redact(f"2026-11-03T10:00:02Z INFO calling api with credential {secret} (retry 2)\n")
    assert secret not in r.text and f"[REDACTED:{kind}]" in r.text and r.counts[kind] == 1
    assert "retry 2" in r.text


def test_bearer_header_password_pairs_and_url_credentials() -> None:
    text = ('curl -H "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0"\n'
            'DB_PASSWORD=hunter2hunter2\npassword: "s3cr3t!"\n{"db_password": "correct horse"}\n'
            "postgres://app:pa55word@db.internal:5432/app\n")
    r = redact(text)
    for s in ("9f8e7d6c5b4a39281706f5e4d3c2b1a0", "hunter2hunter2", "s3cr3t!", "correct horse", "pa55word"):
        assert s not in r.text, s
    assert "db.internal:5432" in r.text and r.counts["password"] >= 3


def test_terraform_references_and_harmless_keys_are_kept() -> None:
    hcl = ('resource "aws_db_instance" "db" {\n  password = var.db_password\n  manage_master_user_password = true\n'
           '  kms_key_id = aws_kms_key.db.arn\n  max_tokens = 200\n  secret_arn = "arn:aws:secretsmanager:x"\n}\n')
    r = redact(hcl)
    assert r.text == hcl and r.total == 0 and r.note() == ""


def test_pem_private_key_plain_and_json_escaped() -> None:
    r = redact(f"key:\n{PEM}\nafter")
    assert "MIIEow" not in r.text and r.counts["private_key"] == 1 and r.text.endswith("after")
    j = redact(json.dumps({"tls_key": PEM, "name": "web"}))
    assert "MIIEow" not in j.text and json.loads(j.text)["name"] == "web"


def test_kubernetes_secret_json_including_last_applied_annotation() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "db", "namespace": "prod", "annotations": {
                  "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
                      {"kind": "Secret", "data": {"password": base64.b64encode(b"topsecret").decode()}})}},
              "data": {"password": base64.b64encode(b"topsecret").decode(),
                       "username": base64.b64encode(b"app").decode()}}
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": [secret]}, indent=4)
    r = redact(text)
    assert base64.b64encode(b"topsecret").decode() not in r.text
    out = json.loads(r.text)["items"][0]
    assert out["data"] == {"password": "[REDACTED:k8s_secret_data]", "username": "[REDACTED:k8s_secret_data]"}
    assert out["metadata"]["name"] == "db" and r.counts["k8s_secret_data"] == 3
    assert "\n    " in r.text  # indentation kept


def test_kubernetes_secret_yaml_data_stringdata_and_block_scalars() -> None:
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  LOG_LEVEL: debug\n---\n"
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ntype: kubernetes.io/tls\ndata:\n"
            "  tls.crt: LS0tLS1CRUdJTi1DRVJU\n  tls.key: LS0tLS1CRUdJTi1LRVk=\nstringData:\n  config.yaml: |\n"
            "    user: admin\n    pass: plain\n  api: x1y2z3\n")
    r = redact(text)
    assert "LOG_LEVEL: debug" in r.text  # the ConfigMap in its own document is untouched
    for s in ("LS0tLS1CRUdJTi1DRVJU", "LS0tLS1CRUdJTi1LRVk=", "pass: plain", "x1y2z3", "admin"):
        assert s not in r.text, s
    assert r.counts["k8s_secret_data"] == 4 and "name: tls" in r.text


def test_kubeconfig_credentials() -> None:
    kubeconfig = ("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: LS0tQ0EK\n"
                  "    server: https://10.0.0.1\n  name: prod\nusers:\n- name: admin\n  user:\n"
                  "    client-certificate-data: LS0tQ0VSVC1EQVRBCg==\n    client-key-data: LS0tS0VZLURBVEEK\n"
                  "    token: abc123def456ghi789\n")
    r = redact(kubeconfig)
    for s in ("LS0tQ0VSVC1EQVRBCg==", "LS0tS0VZLURBVEEK", "abc123def456ghi789"):
        assert s not in r.text, s
    assert "certificate-authority-data: LS0tQ0EK" in r.text  # public CA data is not a secret
    assert r.total == 3 and "3 secret value(s) redacted" in r.note()


# --------------------------------------------------------------------------- QA: attempts to sneak secrets past

BASIC = base64.b64encode(b"admin:hunter2-prod").decode()
EXEC_KUBECONFIG = f"""apiVersion: v1
kind: Config
users:
- name: eks-prod
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, prod]
      env:
      - name: AWS_PROFILE
        value: prod
      - name: AWS_SECRET_ACCESS_KEY
        value: {AWS_SECRET}
      - name: VAULT_TOKEN
        value: hvs.CAESIJ-planted-vault-token-42
"""


@pytest.mark.parametrize("text, secret, kind", [
    (f"GET /metrics HTTP/1.1\nAuthorization: Basic {BASIC}\n", BASIC, "authorization"),
    (f"curl -sH 'Authorization: Basic {BASIC}' https://grafana.internal/api", BASIC, "authorization"),
    (f"Proxy-Authorization: Basic {BASIC}\n", BASIC, "authorization"),
    (json.dumps({"headers": {"authorization": f"Basic {BASIC}"}}), BASIC, "secret"),
    ('admin_pass = "hunter2hunter2"\nregion = "eu-west-1"\n', "hunter2hunter2", "password"),
    ("DB_PASS=plainpass99\nDB_HOST=db.internal\n", "plainpass99", "password"),
    ('master_password = <<EOT\nHeredoc-Passw0rd\nEOT\nname = "db"\n', "Heredoc-Passw0rd", "password"),
    (json.dumps({"auths": {"ghcr.io": {"auth": BASIC}}}), BASIC, "kubeconfig_credential"),
    (json.dumps({"kind": "Pod", "spec": {"containers": [{"env": [
        {"name": "DB_PASSWORD", "value": "podEnvSecret77"}, {"name": "LOG_LEVEL", "value": "debug"}]}]}}),
     "podEnvSecret77", "password"),
])
def test_sneaky_secret_shapes_are_caught(text: str, secret: str, kind: str) -> None:
    r = redact(text)
    assert secret not in r.text, r.text
    assert r.counts[kind] >= 1, r.counts


def test_kubeconfig_exec_plugin_env_yaml_and_json() -> None:
    r = redact(EXEC_KUBECONFIG)
    assert AWS_SECRET not in r.text and "hvs.CAESIJ-planted" not in r.text
    assert "value: prod" in r.text and "command: aws" in r.text  # the profile name and plugin stay readable
    as_json = json.dumps({"kind": "Config", "users": [{"name": "eks", "user": {"exec": {"command": "aws", "env": [
        {"name": "API_TOKEN", "value": "plain-token-value-123456"}, {"name": "AWS_REGION", "value": "eu-west-1"}]}}}]})
    rj = redact(as_json)
    assert "plain-token-value-123456" not in rj.text and "eu-west-1" in rj.text


def test_secrets_in_base64_pem_escapes_and_ini_files_stay_caught() -> None:
    """Shapes the brief named that were already caught: kept as regression tests."""
    b64 = base64.b64encode(b"Sup3rS3cretPw!").decode()
    secret = redact(json.dumps({"kind": "Secret", "data": {"password": b64}}))
    assert b64 not in secret.text
    escaped = redact(json.dumps({"note": "key follows", "pem": PEM}))  # \n escapes inside a JSON string
    assert "MIIEowIBAAKCAQEAu1SU1" not in escaped.text and escaped.counts["private_key"] == 1
    ini = redact(f"[prod]\naws_secret_access_key={AWS_SECRET}\n")
    assert AWS_SECRET not in ini.text


def test_harmless_neighbours_of_the_new_patterns_are_kept() -> None:
    text = ('passthrough_behavior = "WHEN_NO_MATCH"\nbypass = true\npassword = var.db_password\n'
            'user_data = <<EOF\n#!/bin/bash\necho hello\nEOF\n'
            "  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef: {name: db, key: password}\n")
    r = redact(text)
    assert r.text == text, r.text
