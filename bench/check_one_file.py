"""One-file check of a two-file configuration, cold: infraleash vs Checkov, side by side.

    .venv/bin/python bench/check_one_file.py [--repeat 10] [--json FILE]

The case an agent's validation checkpoint, a pre-commit hook or an editor hits on every edit:
one file of a small configuration (``main.tf`` with an S3 bucket and an open security group,
``variables.tf`` with a variable and the provider) checked by a fresh process.

* infraleash: ``.venv/bin/infraleash check DIR/main.tf --format json -o FILE`` (all rules, the
  bundled AWS schema read per type from its index in the user cache; the index is built on first
  use, so one untimed run comes first and the first-use cost is measured on its own, with an
  empty ``INFRALEASH_CACHE``);
* Checkov (``bench/.venv-checkov``, see ``checkov_compare.py``): ``checkov -f DIR/main.tf
  --framework terraform -o json --quiet --compact --skip-download`` with the same no-network
  environment as ``checkov_compare.py``.

Each run is a fresh process; wall time around it, CPU time (user + system) and peak RSS of the process
from ``getrusage(RUSAGE_CHILDREN)`` in a fresh wrapper (``checkov_compare.measure``). The tools alternate,
``--repeat`` rounds; medians. Both must find the open security group.

The package is byte-compiled first (``python -m compileall``), as ``pip install`` does for a wheel: run from
a source checkout with ``PYTHONDONTWRITEBYTECODE`` set, every module would be compiled from source in every
run (~0.4 s of a one-file check), which no installed copy pays.  The load average is printed beside the
figures: on a shared machine wall time is CPU time times the queue, so the CPU median says what a quiet
machine would see.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from checkov_compare import CHECKOV_ENV, byte_compile, checkov_bin, checkov_version, measure  # noqa: E402

MAIN_TF = """resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}

resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""
VARIABLES_TF = """variable "region" {
  type    = string
  default = "us-east-1"
}

provider "aws" {
  region = var.region
}
"""
TARGET_MS = 300


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    walls = [r["wall"] for r in runs]
    return {"median_wall_s": round(statistics.median(walls), 3), "min_wall_s": round(min(walls), 3),
            "median_cpu_s": round(statistics.median(r["cpu"] for r in runs), 3),
            "max_wall_s": round(max(walls), 3), "peak_rss_mb": round(max(r["rss_kb"] for r in runs) / 1024, 1),
            "exit_codes": sorted({int(r["rc"]) for r in runs}), "all_wall_s": [round(w, 3) for w in walls]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--skip-checkov", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="check-one-file-"))
    config = work / "config"
    config.mkdir()
    (config / "main.tf").write_text(MAIN_TF)
    (config / "variables.tf").write_text(VARIABLES_TF)
    target = config / "main.tf"
    report = work / "infraleash.json"
    ours = [str(ROOT / ".venv" / "bin" / "infraleash"), "check", str(target), "--format", "json", "-o", str(report)]
    tools: dict[str, tuple[list[str], dict[str, str] | None]] = {"infraleash": (ours, None)}
    if not args.skip_checkov:
        tools["checkov"] = ([str(checkov_bin()), "-f", str(target), "--framework", "terraform", "-o", "json",
                             "--quiet", "--compact", "--skip-download"], CHECKOV_ENV)
    byte_compile()
    out: dict[str, Any] = {"load_before": [round(x, 1) for x in os.getloadavg()]}
    if "checkov" in tools:
        out["checkov_version"] = checkov_version()
    # first use: the schema index is built into an empty cache directory (not part of the timed runs)
    first = measure(ours, {"INFRALEASH_CACHE": str(work / "fresh-cache")})
    out["infraleash_first_use_s"] = round(first["wall"], 3)
    for _tool, (argv, env) in tools.items():  # warm the OS file cache and the user cache once, untimed
        measure(argv, env)
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
    for _ in range(args.repeat):
        for tool, (argv, env) in tools.items():
            runs[tool].append(measure(argv, env))
    findings = json.loads(report.read_text())["findings"]
    if not any("0.0.0.0/0" in json.dumps(f) or "ingress" in json.dumps(f).lower() for f in findings):
        raise SystemExit("infraleash did not report the open security group")
    out["infraleash_findings"] = len(findings)
    for tool in tools:
        out[tool] = _summary(runs[tool])
    out["load_after"] = [round(x, 1) for x in os.getloadavg()]
    s = out["infraleash"]
    print(f"one-file check of a two-file configuration, cold, median of {args.repeat}; load average before "
          f"{out['load_before']}, after {out['load_after']}")
    print(f"  infraleash  {s['median_wall_s'] * 1000:7.0f} ms  (min {s['min_wall_s'] * 1000:.0f}, max "
          f"{s['max_wall_s'] * 1000:.0f}; CPU {s['median_cpu_s'] * 1000:.0f} ms)  peak RSS {s['peak_rss_mb']:6.1f} MB  "
          f"exit {s['exit_codes']}  "
          f"{out['infraleash_findings']} findings  target < {TARGET_MS} ms: "
          f"{'met' if s['median_wall_s'] * 1000 < TARGET_MS else 'NOT met'}")
    print(f"  infraleash first use (builds the schema index into an empty cache): {out['infraleash_first_use_s']} s")
    if "checkov" in out:
        c = out["checkov"]
        print(f"  checkov {out['checkov_version']}  {c['median_wall_s'] * 1000:7.0f} ms  (min "
              f"{c['min_wall_s'] * 1000:.0f}, max {c['max_wall_s'] * 1000:.0f}; CPU {c['median_cpu_s'] * 1000:.0f} ms)  "
              f"peak RSS {c['peak_rss_mb']:6.1f} MB  "
              f"exit {c['exit_codes']}  ({c['median_wall_s'] / s['median_wall_s']:.1f}x infraleash's time)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
