"""Facts about directories that the loader asks for every root: where a path really is, which git work tree holds it.

``Path.resolve()`` costs an ``lstat`` per component of the path (about 30 us for a path ten directories deep), and
the git work tree is found by a ``stat`` per directory up to ``/``. A monorepo's roots share nearly all of those
directories, so :func:`shared` lets one batch of roots (``run_checks_many``) share the answers: a directory is
resolved as its resolved parent plus its name (one ``lstat`` to see it is no symlink), and the walk up for ``.git``
stops at the first directory already answered. Outside a batch each configuration gets its own :class:`PathFacts`,
so a long-lived process (the MCP server, the agent runtime) never answers from a tree that has changed since.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


class PathFacts:
    def __init__(self) -> None:
        self._resolved: dict[Path, Path] = {}
        self._repository: dict[str, str | None] = {}  # directory -> the git work tree holding it (None: none)
        self._cwd: Path | None = None

    def resolve(self, path: Path) -> Path:
        """``path.resolve()`` (symlinks followed, ``..`` applied, relative to the working directory)."""
        hit = self._resolved.get(path)
        if hit is None:
            hit = self._resolved[path] = self._resolved_anew(path)
        return hit

    def _resolved_anew(self, path: Path) -> Path:
        if not path.is_absolute():
            if self._cwd is None:
                self._cwd = Path.cwd()
            return self.resolve(self._cwd / path)
        name = path.name
        if not name:
            return path.resolve()  # "/"
        if name == "..":  # as realpath does it: the directory it leaves is resolved first (symlinks followed)
            return self.resolve(path.parent).parent
        candidate = self.resolve(path.parent) / name
        if os.path.islink(candidate):
            return candidate.resolve()
        return candidate

    def repository_of(self, root: Path) -> Path:
        """The git work tree holding ``root`` (the nearest directory at or above it with ``.git``), else ``root``."""
        walked: list[str] = []
        d = str(root)
        found: str | None
        while True:  # on strings: a Path per level up to "/" costs more than the stat
            if d in self._repository:
                found = self._repository[d]
                break
            walked.append(d)
            if os.path.exists(os.path.join(d, ".git")):
                found = d
                break
            parent = os.path.dirname(d)
            if parent == d:
                found = None
                break
            d = parent
        for w in walked:
            self._repository[w] = found
        return Path(found) if found is not None else root


_shared: PathFacts | None = None


def for_configuration() -> PathFacts:
    """The facts a configuration's loader uses: the batch's, inside :func:`shared`, else new ones."""
    return _shared if _shared is not None else PathFacts()


@contextlib.contextmanager
def shared() -> Iterator[None]:
    """Within it, every configuration loaded shares one :class:`PathFacts` (the tree does not change meanwhile)."""
    global _shared
    outer = _shared
    if outer is None:
        _shared = PathFacts()
    try:
        yield
    finally:
        _shared = outer
