"""Put ``infraleash docs`` output into a file between terraform-docs' markers, and check it is current.

    text = inject(old_text, content)      # only the text between the markers changes
    diff = stale_diff(path, content)      # "" when the file is current

Like terraform-docs' ``--output-mode inject``: a file without the markers gets the
marked block appended; a missing file is created with the block alone.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from infraleash.errors import InputError

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


def block(content: str) -> str:
    return f"{BEGIN}\n{content}\n{END}"


def inject(old: str | None, content: str, *, file: str = "") -> str:
    """``old`` with the text between the markers replaced by ``content`` (the markers kept)."""
    if not old:
        return block(content) + "\n"
    start = old.find(BEGIN)
    end = old.find(END, start + len(BEGIN)) if start >= 0 else -1
    if start < 0 and END not in old:
        return old + ("" if old.endswith("\n") else "\n") + "\n" + block(content) + "\n"
    if start < 0 or end < 0:
        missing = BEGIN if start < 0 else END
        line = old.count("\n", 0, old.find(END if start < 0 else BEGIN)) + 1
        raise InputError(f"has one terraform-docs marker without the other ({missing} missing)", file=file,
                         line=line)
    return old[:start] + block(content) + old[end + len(END):]


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read: {getattr(e, 'strerror', None) or e}", file=str(path)) from None


def stale_diff(path: Path, content: str) -> str:
    """A unified diff from ``path`` as it is to ``path`` with current docs; "" when nothing changes."""
    old = read_text(path)
    new = inject(old, content, file=str(path))
    if old == new:
        return ""
    return "".join(difflib.unified_diff((old or "").splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"{path} (on disk)", f"{path} (generated)"))


def write(path: Path, content: str) -> bool:
    """Inject ``content`` into ``path``; True when the file changed."""
    old = read_text(path)
    new = inject(old, content, file=str(path))
    if old == new:
        return False
    try:
        path.write_text(new, encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot write: {e.strerror}", file=str(path)) from None
    return True
