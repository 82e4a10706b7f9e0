"""Pre-flight scan for AWS shared config / credentials files with ``credential_process`` in the workspace.

The AWS SDK inside the provider (and the s3 backend) runs ``credential_process = PROGRAM`` when it
resolves a profile: during ``plan``, not only ``apply``.  A provider block that names such a file is
PRE-PROVIDER-FILE already; this finds the files themselves (anything under a ``.aws`` directory, files
named ``config``/``credentials``, ``*.ini``/``*.cfg``/``*.conf``), so one reached another way (a
``HOME`` or ``AWS_CONFIG_FILE`` pointing into the workspace) is refused too.  The walk skips ``.git``,
``.terraform`` and ``node_modules`` and stops after ``MAX_ENTRIES`` entries; contents are cached by file
identity.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from infraleash.gate.preflight_rules import Hit, ScanContext

MAX_ENTRIES = 20_000
MAX_BYTES = 256 * 1024
_SKIP_DIRS = {".git", ".terraform", "node_modules", ".venv", "__pycache__"}
_NAMES = {"config", "credentials"}
_SUFFIXES = (".ini", ".cfg", ".conf")
_CREDENTIAL_PROCESS = re.compile(rb"^[ \t]*credential_process[ \t]*=", re.M)
_cache: dict[tuple[int, int, int, int], int | None] = {}
_lock = threading.Lock()


def _candidate(dirpath: str, name: str) -> bool:
    low = name.lower()
    return low in _NAMES or low.endswith(_SUFFIXES) or "aws" in low or f"{os.sep}.aws" in dirpath


def _credential_process_line(path: str) -> int | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    if st.st_size > MAX_BYTES or not os.path.isfile(path):
        return None
    key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
    with _lock:
        if key in _cache:
            return _cache[key]
    line: int | None = None
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES)
        m = _CREDENTIAL_PROCESS.search(data)
        if m:
            line = data.count(b"\n", 0, m.start()) + 1
    except OSError:
        line = None
    with _lock:
        if len(_cache) > 50_000:
            _cache.clear()
        _cache[key] = line
    return line


def scan_aws_files(ctx: ScanContext) -> list[Hit]:
    hits: list[Hit] = []
    seen = 0
    for dirpath, dirs, files in os.walk(ctx.workspace):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        seen += len(dirs) + len(files)
        for name in sorted(files):
            if not _candidate(dirpath, name):
                continue
            path = os.path.join(dirpath, name)
            line = _credential_process_line(path)
            if line is not None:
                shown = ctx.rel(path)
                hits.append(Hit("PRE-PROVIDER-FILE", shown, line, Path(shown).as_posix(),
                                "an AWS config file sets credential_process: the AWS SDK runs that program "
                                "when it resolves the profile, during plan"))
        if seen > MAX_ENTRIES:
            break
    return hits
