"""Every attack the agent's tools can spell, as tool calls into the agent's GuardedToolset."""

from __future__ import annotations

from pathlib import Path

import pytest

from attacks._corpus import Attack, attacks_for
from attacks._harness import run_attack
from attacks._surfaces import agent_surface
from attacks._world import Templates, World


@pytest.mark.parametrize("attack", attacks_for("agent"), ids=lambda a: a.id)
def test_attack(attack: Attack, tmp_path: Path, templates: Templates, capsys: pytest.CaptureFixture[str],
                monkeypatch: pytest.MonkeyPatch) -> None:
    world = World.build(tmp_path, attack, templates)
    run_attack(attack, world, "agent", lambda: agent_surface(world), capsys, monkeypatch)
