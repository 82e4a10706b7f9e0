"""What the static pre-flight costs per command, side by side with the cheapest command it guards.

Same run, same machine:

  preflight warm   infraleash.gate.preflight.preflight(["terraform", "plan"], DIR, ...) again in the same
                   process (parse trees and the loaded tree cached; every file re-stat'ed), --rounds times
  preflight cold   the same call in a fresh Python process that has imported the executor (so: the HCL
                   parser's import, grammar tables, first parse), --n times; what one `infraleash exec` adds
  kubectl warm     preflight(["kubectl", "apply", "-k", "."]) with a kubeconfig and a kustomization
  subprocess       `terraform version` run bare, --n times (the cheapest real command behind the gate)

over two trees: the bundled examples/review/production root, and a generated one (--files .tf files of
--resources resources each, two local modules, a lock file, .terraform/providers linked into the mirror).

    .venv/bin/python bench/preflight_speed.py [--rounds 50] [--n 5] [--files 40] [--resources 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infraleash.gate.preflight import preflight
from infraleash.policy import Policy

ROOT = Path(__file__).resolve().parents[1]
MIRROR = Path("/opt/tf-plugins")
AWS = "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"
HEAD = 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "5.100.0" }\n  }\n}\n'


def generated(base: Path, files: int, resources: int) -> Path:
    (base / "modules" / "a").mkdir(parents=True)
    (base / "modules" / "b").mkdir(parents=True)
    (base / "versions.tf").write_text(HEAD + 'provider "aws" {\n  region = "eu-west-1"\n}\n'
                                      'module "a" {\n  source = "./modules/a"\n}\nmodule "b" {\n  source = "./modules/b"\n}\n')
    for i in range(files):
        body = "".join(f'resource "aws_s3_bucket" "b{i}_{j}" {{\n  bucket = "bench-{i}-{j}"\n'
                       f'  tags = {{ Name = "b{i}_{j}", Owner = "bench" }}\n  policy = file("${{path.module}}/p.json")\n}}\n'
                       for j in range(resources))
        (base / f"f{i:03d}.tf").write_text(body)
    (base / "p.json").write_text("{}")
    for m in ("a", "b"):
        (base / "modules" / m / "main.tf").write_text(
            'variable "n" {\n  default = 2\n}\nresource "aws_sqs_queue" "q" {\n  count = var.n\n  name = "q"\n}\n')
    (base / ".terraform.lock.hcl").write_text(
        'provider "registry.terraform.io/hashicorp/aws" {\n  version = "5.100.0"\n  hashes = ["h1:x"]\n}\n')
    if (MIRROR / AWS).is_dir():
        link = base / ".terraform" / "providers" / AWS
        link.parent.mkdir(parents=True)
        link.symlink_to(MIRROR / AWS)
    return base


def kube_tree(base: Path) -> tuple[Path, Path]:
    base.mkdir()
    (base / "kustomization.yaml").write_text("resources:\n  - deploy.yaml\nconfigMapGenerator:\n  - name: c\n"
                                             "    envs: [app.env]\n")
    (base / "deploy.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    (base / "app.env").write_text("A=1\n")
    cfg = base.parent / "kubeconfig"
    cfg.write_text("apiVersion: v1\nkind: Config\nusers:\n  - name: u\n    user: {token: abc}\n")
    return base, cfg


def warm(argv: list[str], d: Path, rounds: int, **kw: object) -> tuple[list[float], list[float]]:
    """(wall ms, this thread's CPU ms) per call; CPU time leaves out the time other processes ran."""
    wall, cpu = [], []
    preflight(argv, str(d), Policy(), plugin_mirrors=[str(MIRROR)], **kw)  # type: ignore[arg-type]
    for _ in range(rounds):
        t, c = time.perf_counter(), time.thread_time()
        hits = preflight(argv, str(d), Policy(), plugin_mirrors=[str(MIRROR)], **kw)  # type: ignore[arg-type]
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
    assert not hits, hits
    return wall, cpu


def rows(name: str, measured: tuple[list[float], list[float]]) -> None:
    row(f"{name} (wall)", measured[0])
    row(f"{name} (CPU)", measured[1])


def cold(d: Path, n: int) -> list[float]:
    # the executor (which `infraleash exec` imports anyway) is loaded first: the timer measures what the
    # pre-flight adds to a fresh process, i.e. the HCL parser's import, its tables and the first parse
    code = ("import sys,time;import infraleash.gate.executor;from infraleash.policy import Policy;"
            "t=time.perf_counter();from infraleash.gate.preflight import preflight;"
            "h=preflight(['terraform','plan'],sys.argv[1],Policy(),"
            f"plugin_mirrors=['{MIRROR}']);print((time.perf_counter()-t)*1000);assert not h,h")
    out = []
    for _ in range(n):
        proc = subprocess.run([sys.executable, "-c", code, str(d)], capture_output=True, text=True, check=True)
        out.append(float(proc.stdout.strip()))
    return out


def bare(argv: list[str], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        out.append((time.perf_counter() - t) * 1000)
    return out


def row(name: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"| {name} | {statistics.median(ms):.1f} ms | {statistics.mean(ms):.1f} ms | {p99:.1f} ms | {len(ms)} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--resources", type=int, default=10)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="preflight-bench-"))
    try:
        gen = generated(tmp / "gen", args.files, args.resources)
        kdir, kcfg = kube_tree(tmp / "kube")
        example = ROOT / "examples" / "review" / "production"
        print(f"generated tree: {args.files} files x {args.resources} resources + 2 modules\n")
        print("| | median | mean | p99 | runs |\n| --- | ---: | ---: | ---: | ---: |")
        rows("preflight warm, examples/review/production", warm(["terraform", "plan"], example, args.rounds))
        rows("preflight warm, generated tree", warm(["terraform", "plan"], gen, args.rounds))
        rows("preflight warm, kubectl apply -k . (kubeconfig + kustomization)",
            warm(["kubectl", "apply", "-k", "."], kdir, args.rounds, kubeconfig=str(kcfg)))
        row("preflight cold (fresh process), examples/review/production", cold(example, args.n))
        row("preflight cold (fresh process), generated tree", cold(gen, args.n))
        if shutil.which("terraform"):
            row("`terraform version` via subprocess", bare(["terraform", "version"], args.n))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
