"""Record the bundled plan: apply ``production/`` to moto, plan ``proposed/``, save ``recorded-plan.json``.

    .venv/bin/python examples/review/record_plan.py

Needs the sandbox (terraform + the AWS provider mirror + moto[server]; see
../shared/SANDBOX.md).  The demo uses the recorded plan when the sandbox is not
there.  The moto endpoint in the plan's provider configuration is replaced by
a placeholder so the file does not change from one recording to the next
except where the plan does.  Beside it, ``recorded-plan.sha256`` holds a hash of the ``.tf`` files
it was recorded from; a test fails when they change without a new recording.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

from infraleash.review.sandbox_plan import Production
from infraleash.terraform.sandbox import MotoServer, sandbox_env, why_unavailable

HERE = Path(__file__).resolve().parent
RECORDED = HERE / "recorded-plan.json"
INPUTS_HASH = HERE / "recorded-plan.sha256"


def inputs_hash(root: Path = HERE) -> str:
    """sha256 over the production/ and proposed/ .tf files (names and bytes) the recording is made from."""
    digest = hashlib.sha256()
    for path in sorted([*root.glob("production/*.tf"), *root.glob("proposed/*.tf")]):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def record(workdir: Path, moto: MotoServer) -> str:
    """Apply production to ``moto``, plan the proposed change from its state; the plan JSON."""
    env = sandbox_env(workdir / "tfconfig")
    prod = Production.apply(workdir / "production", HERE / "production", endpoint=moto.endpoint, env=env)
    scenario = prod.derive(workdir / "proposed", HERE / "proposed")
    return scenario.plan_json().replace(moto.endpoint, "http://127.0.0.1:MOTO_PORT")


def main() -> int:
    reason = why_unavailable()
    if reason:
        print(f"cannot record: the sandbox is unavailable ({reason})", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="infraleash-record-") as tmp, MotoServer() as moto:
        text = record(Path(tmp), moto)
    doc = json.loads(text)
    doc.pop("timestamp", None)
    RECORDED.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    INPUTS_HASH.write_text(inputs_hash() + "\n", encoding="utf-8")
    print(f"wrote {RECORDED.relative_to(Path.cwd()) if RECORDED.is_relative_to(Path.cwd()) else RECORDED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
