"""Every attack the MCP tools can spell, through the MCP SDK's own client against `build_server`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from attacks._corpus import Attack, attacks_for
from attacks._harness import run_attack
from attacks._surfaces import mcp_surface
from attacks._world import Templates, World


@pytest.mark.parametrize("attack", attacks_for("mcp"), ids=lambda a: a.id)
def test_attack(attack: Attack, tmp_path: Path, templates: Templates, portal: Any,
                capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    world = World.build(tmp_path, attack, templates)
    run_attack(attack, world, "mcp", lambda: mcp_surface(world, portal), capsys, monkeypatch)
