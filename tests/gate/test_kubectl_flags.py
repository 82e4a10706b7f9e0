"""kubectl_flags.py against the real kubectl binary: every command's flags, their kinds and shorthands."""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from infraleash.gate.kubectl_flags import ALIASES, COMMANDS, GLOBAL

KUBECTL = shutil.which("kubectl")
_OPTION = re.compile(r"^\s+(?:-(\w), )?--([\w-]+)=(.*):$", re.MULTILINE)
_OPTIONAL = {"dry-run", "cascade", "validate"}  # NoOptDefVal: help does not show it; the table says '?'


def _help(*words: str) -> str:
    assert KUBECTL is not None
    return subprocess.run([KUBECTL, *words, "--help"], capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}).stdout


def _real(text: str, section: str = "Options:\n") -> str:
    body = text.split(section, 1)[1].split("\nUsage:")[0] if section in text else ""
    tokens = []
    for short, name, default in _OPTION.findall(body):
        kind = "?" if name in _OPTIONAL else "" if default in ("true", "false") else "="
        tokens.append(f"{short}|{name}{kind}" if short else f"{name}{kind}")
    return " ".join(sorted(tokens))


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed on this machine (the image has /usr/bin/kubectl 1.32)")
    with ThreadPoolExecutor(4) as pool:
        texts = pool.map(lambda cmd: _help(*cmd.split()), COMMANDS)
        return dict(zip(COMMANDS, texts, strict=True))


def test_every_command_has_exactly_the_flags_kubectl_has(helps: dict[str, str]) -> None:
    wrong = {cmd: (COMMANDS[cmd], _real(text)) for cmd, text in helps.items()
             if " ".join(sorted(COMMANDS[cmd].split())) != _real(text)}
    assert not wrong, wrong


def test_global_flags_are_kubectl_options() -> None:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed on this machine (the image has /usr/bin/kubectl 1.32)")
    options = subprocess.run([KUBECTL, "options"], capture_output=True, text=True, check=True).stdout
    real = _real("Options:\n" + options.split("\n", 1)[1] + "\nUsage:")
    assert " ".join(sorted(t for t in GLOBAL.split() if t != "h|help")) == real


def test_every_command_and_alias_exists(helps: dict[str, str]) -> None:
    for alias, target in ALIASES.items():
        assert target in COMMANDS
        assert f"{alias.split()[-1]}" in helps[target].split("Aliases:\n", 1)[1].split("\n\n")[0], alias
    top = {line.split()[0] for line in _help().splitlines() if re.match(r"^  [a-z]", line)} - {"kubectl"}
    assert top <= {c.split()[0] for c in COMMANDS}
