"""Calibrate (and check) the chars/token estimate against the real o200k_base tokenizer, per content kind.

Samples of ~8 KB from real text of each kind, all read in this run:

  prose  the repository's Markdown files and module docstrings
  json   the AWS provider schema (../shared, compact and indented) and Python-generated pod lists
  log    the 16 Loghub-2k logs (../shared/data/loghub2k)
  hcl    every .tf file in the repository (examples, test fixtures)

For each kind it prints the measured chars/token (median over samples, indentation not counted), the ratio configured
in infraleash.agent.tokens, the estimate's mean and worst absolute error per sample, and how often
``content_kind`` guessed the sample's kind.  The estimate without margin is what is compared:
the margin for unknown tokenizers is a separate, stated assumption.

    .venv/bin/python bench/token_calibration.py
"""

from __future__ import annotations

import ast
import gzip
import json
import statistics
import sys
from pathlib import Path

from infraleash.agent.tokens import (
    CHARS_PER_TOKEN,
    EstimateCounter,
    TiktokenCounter,
    content_kind,
    significant_chars,
)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
CHUNK = 8192


def chunks(text: str, limit: int = 40) -> list[str]:
    out, start = [], 0
    while start < len(text) and len(out) < limit:
        end = text.rfind("\n", start, start + CHUNK)
        end = start + CHUNK if end <= start else end
        out.append(text[start:end])
        start = end + 1
    return [c for c in out if len(c) > 500]


def prose() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in ROOT.glob("*.md")]
    for p in sorted((ROOT / "src").rglob("*.py")):
        doc = ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))
        if doc and len(doc) > 600:
            texts.append(doc)
    return [c for t in texts for c in chunks(t, 6)]


def json_samples() -> list[str]:
    schema = SHARED / "provider-schemas" / "aws-5.100.0.json.gz"
    data = json.loads(gzip.decompress(schema.read_bytes()))
    rs = data["provider_schemas"]["registry.terraform.io/hashicorp/aws"]["resource_schemas"]
    picked = {k: rs[k] for k in sorted(rs)[::60]}
    pods = {"apiVersion": "v1", "kind": "List", "items": [
        {"metadata": {"name": f"web-{i}-7d9f8c6b5-x{i:04d}", "namespace": f"team-{i % 7}",
                      "labels": {"app": "web", "pod-template-hash": "7d9f8c6b5"}, "uid": f"4f1c2a{i:06d}-aa"},
         "status": {"phase": "Running", "podIP": f"10.0.{i % 250}.{i % 200}", "conditions": [
             {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-03T10:00:01Z"}],
             "containerStatuses": [{"name": "web", "ready": True, "restartCount": 0,
                                    "image": "registry.local/web:1.4.2", "state": {"running": {
                                        "startedAt": "2026-11-03T10:00:01Z"}}}]}} for i in range(200)]}
    return chunks(json.dumps(picked, separators=(",", ":")), 15) + chunks(json.dumps(picked, indent=2), 15) + \
        chunks(json.dumps(pods, indent=4), 10)


def logs() -> list[str]:
    out = []
    for p in sorted((SHARED / "loghub2k").glob("*/*_2k.log")):
        out += chunks(p.read_text(encoding="utf-8", errors="replace"), 3)
    return out


def hcl() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(ROOT.rglob("*.tf"))
             if ".venv" not in p.parts and ".terraform" not in p.parts]
    joined = "\n\n".join(texts)
    return chunks(joined, 40)


def main() -> int:
    exact, estimate = TiktokenCounter("o200k_base"), EstimateCounter(margin=0.0)
    print(f"{'kind':6} {'samples':>7} {'chars/token':>11} {'configured':>10} {'mean err':>8} {'worst':>7} "
          f"{'kind guessed':>12}")
    worst_overall = 0.0
    for kind, samples in (("prose", prose()), ("json", json_samples()), ("log", logs()), ("hcl", hcl())):
        if not samples:
            print(f"{kind:6} no samples found")
            continue
        tokens = [exact.count(s) for s in samples]
        measured = statistics.median(significant_chars(s) / t for s, t in zip(samples, tokens, strict=True))
        errors = [abs(estimate.count(s) - t) / t for s, t in zip(samples, tokens, strict=True)]
        guessed = sum(content_kind(s) == kind for s in samples) / len(samples)
        worst_overall = max(worst_overall, statistics.mean(errors))
        print(f"{kind:6} {len(samples):7d} {measured:11.2f} {CHARS_PER_TOKEN[kind]:10.2f} "  # type: ignore[index]
              f"{statistics.mean(errors):8.1%} {max(errors):7.1%} {guessed:12.0%}")
    print(f"worst mean error of the estimate (no margin) over kinds: {worst_overall:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
