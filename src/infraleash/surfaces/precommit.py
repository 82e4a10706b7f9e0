"""The pre-commit hooks' entries (``.pre-commit-hooks.yaml``): staged files in, ``check`` / ``docs --check`` out.

    python -m infraleash.surfaces.precommit check infra/prod/main.tf infra/net/vpc.tf.json
    python -m infraleash.surfaces.precommit docs modules/vpc/main.tf modules/vpc/README.md

pre-commit passes the changed files; Terraform checks whole configurations, so ``check`` maps the
files to their directories and runs ``infraleash check DIR...`` once over them (each directory its own
root).  ``docs`` runs ``infraleash docs DIR --output-file README.md --check`` on each of those
directories whose README.md holds the ``<!-- BEGIN_TF_DOCS -->`` marker (module READMEs kept by
``docs``); other directories are left alone.  The exit code is the worst of the runs (1 refuses the
commit; 2 names a bad file).
"""

from __future__ import annotations

import sys
from pathlib import Path

from infraleash.surfaces.cli import main as cli_main

TERRAFORM_SUFFIXES = (".tf", ".tf.json", ".tofu", ".tofu.json")
DOCS_MARKER = "<!-- BEGIN_TF_DOCS -->"
USAGE = "usage: python -m infraleash.surfaces.precommit check|docs FILE..."


def directories(files: list[str]) -> list[Path]:
    """The directories holding the Terraform files among ``files``, in first-seen order, existing ones only."""
    dirs: dict[Path, None] = {}
    for name in files:
        path = Path(name)
        if (name.endswith(TERRAFORM_SUFFIXES) or path.name == "README.md") and path.parent.is_dir():
            dirs[path.parent] = None
    return list(dirs)


def _run(argv: list[str]) -> int:
    try:
        cli_main(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    return 0


def run(hook: str, files: list[str]) -> int:
    if hook == "check":
        dirs = [d for d in directories(files) if any(d.glob("*.tf")) or any(d.glob("*.tf.json"))
                or any(d.glob("*.tofu"))]
        return _run(["check", *map(str, dirs)]) if dirs else 0
    if hook == "docs":
        code = 0
        for d in directories(files):
            readme = d / "README.md"
            if readme.is_file() and DOCS_MARKER in readme.read_text(encoding="utf-8", errors="replace"):
                code = max(code, _run(["docs", str(d), "--output-file", "README.md", "--check"]))
        return code
    print(f"error: {USAGE} (got {hook!r})", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(f"error: {USAGE}", file=sys.stderr)
        return 2
    return run(args[0], args[1:])


if __name__ == "__main__":
    sys.exit(main())
