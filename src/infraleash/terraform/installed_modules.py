"""The modules ``terraform init`` installed: ``.terraform/modules/modules.json``.

``terraform init`` downloads every module call's source (registry, git, S3, local too)
and writes a manifest beside the copies::

    {"Modules": [{"Key": "", "Source": "", "Dir": "."},
                 {"Key": "s3", "Source": "registry.terraform.io/terraform-aws-modules/s3-bucket/aws",
                  "Version": "4.1.2", "Dir": ".terraform/modules/s3"},
                 {"Key": "s3.notification", "Source": "./modules/notification",
                  "Dir": ".terraform/modules/s3/modules/notification"}]}

``$TF_DATA_DIR`` moves it (``$TF_DATA_DIR/modules/modules.json``), as it moves ``.terraform``.
``Key`` is the call's path of module names joined by dots (``module.s3.module.notification``
is ``s3.notification``), ``Dir`` the installed directory relative to the working directory.

    installed = read_manifest(Path("infra/"))      # None when init never ran there
    installed.dir_for("module.s3", "notification")  # Path, or None when not installed
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from infraleash.terraform.config import ParseProblem

MANIFEST = Path(".terraform") / "modules" / "modules.json"


@dataclass
class InstalledModules:
    """Call key -> installed directory, read from one working directory's manifest."""

    root: Path
    dirs: dict[str, Path] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    problem: ParseProblem | None = None

    @staticmethod
    def key(module_path: str, name: str) -> str:
        """``("module.a.module.b", "c")`` -> ``"a.b.c"``."""
        parts = [p for i, p in enumerate(module_path.split(".")) if i % 2 == 1] if module_path else []
        return ".".join([*parts, name])

    def dir_for(self, module_path: str, name: str) -> Path | None:
        """The installed copy of the call ``name`` made in ``module_path``, if it is on disk."""
        d = self.dirs.get(self.key(module_path, name))
        return d if d is not None and d.is_dir() else None

    def recorded(self, module_path: str, name: str) -> bool:
        return self.key(module_path, name) in self.dirs


def manifest_path(env: dict[str, str] | None = None) -> Path:
    """``.terraform/modules/modules.json``, or under ``$TF_DATA_DIR`` when set (as terraform does)."""
    data_dir = (env if env is not None else os.environ).get("TF_DATA_DIR")
    return Path(data_dir) / "modules" / "modules.json" if data_dir else MANIFEST


def read_manifest(root: Path, env: dict[str, str] | None = None) -> InstalledModules | None:
    """The manifest under ``root`` (None when there is none); a malformed one is a ParseProblem."""
    rel = manifest_path(env)
    path = rel if rel.is_absolute() else root / rel
    if not path.is_file():
        return None
    found = InstalledModules(root=root)
    shown = rel.as_posix()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        found.problem = ParseProblem(shown, None, f"cannot read the module manifest: {e}")
        return found
    except json.JSONDecodeError as e:
        found.problem = ParseProblem(shown, e.lineno, f"module manifest is not JSON: {e.msg}")
        return found
    entries = doc.get("Modules") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        found.problem = ParseProblem(shown, 1, 'module manifest has no "Modules" list')
        return found
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("Key"), str) or \
                not isinstance(entry.get("Dir"), str) or not entry["Key"]:
            continue
        found.dirs[entry["Key"]] = (root / entry["Dir"]).resolve()
        if isinstance(entry.get("Source"), str):
            found.sources[entry["Key"]] = entry["Source"]
    return found
