"""A local AWS sandbox: the moto emulator on a loopback port plus a Terraform
CLI configuration that installs the AWS provider from the machine's filesystem
mirror.  Used by the bundled demo (a real plan when the sandbox is there) and
by the test-suite.

    with MotoServer() as moto:
        env = sandbox_env(workdir)          # TF_CLI_CONFIG_FILE + fake credentials
        (workdir / "provider.tf").write_text(provider_block(moto.endpoint))
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PROVIDER_MIRROR = Path(os.environ.get("INFRALEASH_TF_MIRROR", "/opt/tf-plugins"))
AWS_PROVIDER_VERSION = "5.100.0"

# Every service endpoint the examples and tests touch.
AWS_SERVICES = [
    "ec2", "s3", "iam", "rds", "sts", "dynamodb", "kms", "efs", "elb", "elbv2", "cloudtrail",
    "lambda", "logs", "ecr", "eks", "elasticache", "route53", "sns", "sqs", "secretsmanager",
    "ssm", "cloudwatch", "autoscaling", "opensearch", "redshift",
]


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot run here; the message says what is missing."""


def terraform_binary() -> str | None:
    return shutil.which("terraform") or shutil.which("tofu")


def aws_provider_mirrored() -> bool:
    return (PROVIDER_MIRROR / "registry.terraform.io/hashicorp/aws" / AWS_PROVIDER_VERSION).is_dir()


def moto_server_command() -> list[str] | None:
    """How to start moto's server from this Python, if moto[server] is installed."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "moto.server"]


def why_unavailable() -> str | None:
    """None when a real plan can run here, else a sentence saying what is missing."""
    if terraform_binary() is None:
        return "no terraform or tofu binary on PATH"
    if not aws_provider_mirrored():
        return f"the AWS provider {AWS_PROVIDER_VERSION} is not in the filesystem mirror {PROVIDER_MIRROR}"
    if moto_server_command() is None:
        return "moto[server] is not installed (pip install 'infraleash[sandbox]')"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MotoServer:
    """moto_server on a free loopback port, stopped by its own process id."""

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> MotoServer:
        cmd = moto_server_command()
        if cmd is None:
            raise SandboxUnavailable("moto[server] is not installed (pip install 'infraleash[sandbox]')")
        out = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen([*cmd, "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SandboxUnavailable(f"moto server exited with code {self.proc.returncode}")
            try:
                httpx.get(f"{self.endpoint}/moto-api/", timeout=1.0)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise SandboxUnavailable(f"moto server did not answer on {self.endpoint} within {timeout:.0f}s")

    def reset(self) -> None:
        httpx.post(f"{self.endpoint}/moto-api/reset", timeout=10.0)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


CLI_CONFIG = """\
provider_installation {{
  filesystem_mirror {{
    path    = "{mirror}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }}
  direct {{ exclude = ["registry.terraform.io/hashicorp/aws"] }}
}}
"""


def write_cli_config(directory: Path) -> Path:
    """A Terraform CLI config that installs the AWS provider from the mirror."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "terraformrc.hcl"
    path.write_text(CLI_CONFIG.format(mirror=PROVIDER_MIRROR), encoding="utf-8")
    return path


def sandbox_env(config_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for running terraform against the sandbox."""
    env = dict(os.environ if base is None else base)
    env["TF_CLI_CONFIG_FILE"] = str(write_cli_config(config_dir))
    env["TF_IN_AUTOMATION"] = "1"
    env["CHECKPOINT_DISABLE"] = "1"
    env["AWS_ACCESS_KEY_ID"] = "test"
    env["AWS_SECRET_ACCESS_KEY"] = "test"  # noqa: S105 - moto's fake credentials
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    for k in [k for k in env if k.startswith("TF_CLI_ARGS") or k == "TF_WORKSPACE"]:
        del env[k]
    return env


def provider_block(endpoint: str, region: str = "us-east-1") -> str:
    """A provider "aws" block that talks to moto at ``endpoint``."""
    endpoints = "\n".join(f'    {svc:<14} = "{endpoint}"' for svc in AWS_SERVICES)
    return f"""\
terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "{AWS_PROVIDER_VERSION}"
    }}
  }}
}}

provider "aws" {{
  region                      = "{region}"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true
  endpoints {{
{endpoints}
  }}
}}
"""
