"""Log template mining: infraleash vs Drain3 on the 16 Loghub-2k datasets, side by side in one run.

    .venv/bin/python bench/loghub_drain3.py [--data ../shared/data/loghub2k] [--lines 1000000]

What it does
* Creates ``bench/.venv-drain3`` with ``pip install drain3`` on first use; Drain3 runs there as a subprocess.
* Accuracy, per dataset and on average, on the corrected ground truth (``*_structured_corrected.csv``):
  - infraleash with ONE generic configuration (``TemplateMiner()`` defaults, no per-dataset regexes);
  - Drain3 with its defaults (``TemplateMinerConfig()``: sim_th 0.4, depth 4, no masking);
  - Drain3 with the benchmark's standard per-dataset settings (``settings.json``: regexes masked to ``<*>``,
    ``st`` as ``drain_sim_th``, ``depth`` as ``drain_depth``).
  Every parser sees the same message: the ``Content`` field cut from the raw line with the dataset's
  ``log_format``. Each line is scored with the FINAL template of its group.
* Grouping accuracy (GA, Loghub definition): a line is correct when the set of lines sharing its predicted
  group equals the set sharing its true template.
* Parsing accuracy (PA): a line is correct when its predicted template equals the true one after this
  normalisation of both: strip, collapse each whitespace run to one space, then replace ``<*><*>`` by ``<*>``
  until none is left. Nothing else (``<*> <*>`` stays two variables).
* Throughput: the 16 datasets' messages (32,000) are repeated until ``--lines`` are reached; in repeat r every
  digit d becomes (d + r) mod 10, so no parser can win by caching whole lines. Both miners get the same
  in-memory list; only the mining loop is timed (infraleash: ``mine()``, which includes resolving every line
  to its final template; Drain3: ``add_log_message`` per line). Drain3 defaults run the whole stream;
  Drain3 standard settings run each dataset's share of the stream with that dataset's settings.

The Loghub data is for research/evaluation only: it is read from ``--data`` at run time and never copied.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import venv
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from infraleash.logs.header import split_header  # noqa: E402
from infraleash.logs.miner import mine  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "loghub2k"
DRAIN_VENV = REPO / "bench" / ".venv-drain3"

DRAIN_WORKER = r'''
import json, sys, time
from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

def make(settings):
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    if settings is not None:
        config.drain_sim_th = settings["st"]
        config.drain_depth = settings["depth"]
        config.masking_instructions = [MaskingInstruction(r, "*") for r in settings["regex"]]
        config.mask_prefix, config.mask_suffix = "<", ">"
    return TemplateMiner(config=config)

def run(lines, settings):
    miner = make(settings)
    t0 = time.perf_counter()
    ids = [miner.add_log_message(line)["cluster_id"] for line in lines]
    elapsed = time.perf_counter() - t0
    templates = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return ids, [templates[i] for i in ids], elapsed

job = json.load(open(sys.argv[1], encoding="utf-8"))
out = []
for part in job:
    lines = open(part["file"], encoding="utf-8").read().split("\n")
    ids, templates, elapsed = run(lines, part["settings"])
    out.append({"ids": ids if part["keep"] else [], "templates": templates if part["keep"] else [],
                "seconds": elapsed, "lines": len(lines)})
json.dump(out, open(sys.argv[2], "w", encoding="utf-8"))
'''


def ensure_drain3() -> Path:
    python = DRAIN_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {DRAIN_VENV} with drain3 ...", file=sys.stderr)
        venv.create(DRAIN_VENV, with_pip=True)
    if subprocess.run([python, "-c", "import drain3"], capture_output=True).returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "-q", "drain3"], check=True)
    return python


def normalise(template: str) -> str:
    template = re.sub(r"\s+", " ", template.strip())
    while "<*><*>" in template:
        template = template.replace("<*><*>", "<*>")
    return template


def grouping_accuracy(predicted: list, truth: list[str]) -> float:
    by_pred: dict[object, set[int]] = defaultdict(set)
    by_truth: dict[str, set[int]] = defaultdict(set)
    for i, (p, t) in enumerate(zip(predicted, truth, strict=True)):
        by_pred[p].add(i)
        by_truth[t].add(i)
    correct = sum(len(lines) for lines in by_pred.values() if by_truth[truth[next(iter(lines))]] == lines)
    return correct / len(truth)


def parsing_accuracy(templates: list[str], truth: list[str]) -> float:
    return sum(normalise(p) == t for p, t in zip(templates, truth, strict=True)) / len(truth)


def load(data: Path) -> dict[str, tuple[dict, list[str], list[str]]]:
    settings = json.loads((data / "settings.json").read_text(encoding="utf-8"))["datasets"]
    out = {}
    for name, st in settings.items():
        raw = (data / st["log_file"]).read_text(encoding="utf-8").splitlines()
        contents = [split_header(line, st["log_format"])[1] for line in raw]
        csv_path = data / name / f"{name}_2k.log_structured_corrected.csv"
        with csv_path.open(encoding="utf-8", newline="") as f:
            truth = [normalise(row["EventTemplate"]) for row in csv.DictReader(f)]
        if len(truth) != len(contents):
            raise SystemExit(f"{csv_path}: {len(truth)} rows for {len(contents)} log lines")
        out[name] = (st, contents, truth)
    return out


def run_drain(python: Path, parts: list[tuple[list[str], dict | None, bool]]) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        job = []
        for i, (lines, settings, keep) in enumerate(parts):
            path = Path(tmp) / f"part{i}.txt"
            path.write_text("\n".join(lines), encoding="utf-8")
            job.append({"file": str(path), "settings": settings, "keep": keep})
        (Path(tmp) / "job.json").write_text(json.dumps(job), encoding="utf-8")
        (Path(tmp) / "worker.py").write_text(DRAIN_WORKER, encoding="utf-8")
        subprocess.run([python, Path(tmp) / "worker.py", Path(tmp) / "job.json", Path(tmp) / "out.json"], check=True)
        return json.loads((Path(tmp) / "out.json").read_text(encoding="utf-8"))


def rotate_digits(lines: list[str], r: int) -> list[str]:
    if r % 10 == 0:
        return lines
    table = str.maketrans("0123456789", "".join(str((d + r) % 10) for d in range(10)))
    return [line.translate(table) for line in lines]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("LOGHUB2K", DEFAULT_DATA)))
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines for the throughput run")
    args = ap.parse_args()
    if not (args.data / "settings.json").exists():
        raise SystemExit(f"{args.data}: no settings.json; pass --data to the Loghub-2k folder")
    python = ensure_drain3()
    datasets = load(args.data)
    names = list(datasets)

    # -- accuracy -------------------------------------------------------------------------------
    drain_default = run_drain(python, [(datasets[n][1], None, True) for n in names])
    drain_std = run_drain(python, [(datasets[n][1], datasets[n][0], True) for n in names])
    rows = []
    for i, name in enumerate(names):
        _, contents, truth = datasets[name]
        ours = mine(contents)
        rows.append((
            name,
            grouping_accuracy([m.template_id for m in ours], truth),
            parsing_accuracy([m.template for m in ours], truth),
            grouping_accuracy(drain_default[i]["ids"], truth),
            parsing_accuracy(drain_default[i]["templates"], truth),
            grouping_accuracy(drain_std[i]["ids"], truth),
            parsing_accuracy(drain_std[i]["templates"], truth),
        ))
    avg = ("Average", *(sum(r[k] for r in rows) / len(rows) for k in range(1, 7)))
    print("| dataset | infraleash GA | infraleash PA | Drain3 default GA | Drain3 default PA "
          "| Drain3 standard GA | Drain3 standard PA |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in [*rows, avg]:
        cells = " | ".join(f"{v:.3f}" for v in r[1:])
        print(f"| {'**' + r[0] + '**' if r[0] == 'Average' else r[0]} | {cells} |")

    # -- throughput -----------------------------------------------------------------------------
    base = [(n, c) for n in names for c in datasets[n][1]]
    repeats = -(-args.lines // len(base))
    stream: list[str] = []
    per_dataset: dict[str, list[str]] = defaultdict(list)
    for r in range(repeats):
        rotated = rotate_digits([c for _, c in base], r)
        stream.extend(rotated)
        for (n, _), line in zip(base, rotated, strict=True):
            per_dataset[n].append(line)
    t0 = time.perf_counter()
    mine(stream)
    ours_s = time.perf_counter() - t0
    d_def = run_drain(python, [(stream, None, False)])[0]["seconds"]
    d_std = sum(p["seconds"] for p in run_drain(python, [(per_dataset[n], datasets[n][0], False) for n in names]))
    cold = [c for _, c in base]
    t0 = time.perf_counter()
    mine(cold)
    ours_cold = time.perf_counter() - t0
    d_cold = run_drain(python, [(cold, None, False)])[0]["seconds"]
    n = len(stream)
    print()
    print(f"Throughput on {n:,} lines ({repeats} rotated copies of the {len(base):,} Loghub-2k messages):")
    print("| miner | seconds | lines/s | infraleash speed-up |")
    print("|---|---:|---:|---:|")
    print(f"| infraleash (generic) | {ours_s:.2f} | {n / ours_s:,.0f} | 1.0x |")
    print(f"| Drain3 defaults | {d_def:.2f} | {n / d_def:,.0f} | {d_def / ours_s:.1f}x |")
    print(f"| Drain3 standard settings | {d_std:.2f} | {n / d_std:,.0f} | {d_std / ours_s:.1f}x |")
    print(f"Single cold pass over the {len(cold):,} distinct messages: infraleash {len(cold) / ours_cold:,.0f} "
          f"lines/s, Drain3 defaults {len(cold) / d_cold:,.0f} lines/s ({d_cold / ours_cold:.1f}x)")


if __name__ == "__main__":
    main()
