"""Every attack in the corpus against `infraleash exec` (the real CLI entry)."""

from __future__ import annotations

from pathlib import Path

import pytest

from attacks._corpus import Attack, attacks_for
from attacks._harness import run_attack
from attacks._surfaces import exec_surface
from attacks._world import Templates, World


@pytest.mark.parametrize("attack", attacks_for("exec"), ids=lambda a: a.id)
def test_attack(attack: Attack, tmp_path: Path, templates: Templates, capsys: pytest.CaptureFixture[str],
                monkeypatch: pytest.MonkeyPatch) -> None:
    world = World.build(tmp_path, attack, templates)
    run_attack(attack, world, "exec", lambda: exec_surface(world, capsys, monkeypatch), capsys, monkeypatch)
