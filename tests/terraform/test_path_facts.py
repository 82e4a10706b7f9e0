"""Resolved directories and git work trees, shared by the roots of one batch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infraleash.terraform import path_facts
from infraleash.terraform.path_facts import PathFacts


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "envs" / "dev").mkdir(parents=True)
    (tmp_path / "repo" / "modules" / "net").mkdir(parents=True)
    (tmp_path / "elsewhere" / "deep").mkdir(parents=True)
    (tmp_path / "repo" / "envs" / "link").symlink_to(tmp_path / "elsewhere")
    return tmp_path


@pytest.mark.parametrize("rel", [
    "repo/envs/dev", "repo/envs/link", "repo/envs/link/deep", "repo/envs/dev/../../modules/net",
    "repo/envs/link/../dev", "repo/missing/x", "repo/envs/dev/.", "."])
def test_resolve_is_path_resolve(tree: Path, rel: str) -> None:
    facts = PathFacts()
    assert facts.resolve(tree / rel) == (tree / rel).resolve()
    assert facts.resolve(tree / rel) == (tree / rel).resolve()  # and again, from its memo


def test_resolve_of_a_relative_path_is_from_the_working_directory(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree / "repo")
    facts = PathFacts()
    assert facts.resolve(Path("envs/link/deep")) == tree.resolve() / "elsewhere" / "deep"
    assert facts.resolve(Path("../repo/envs/dev")) == (tree / "repo" / "envs" / "dev").resolve()


def test_repository_of_finds_the_nearest_git_work_tree(tree: Path) -> None:
    facts = PathFacts()
    assert facts.repository_of(tree / "repo" / "envs" / "dev") == tree / "repo"
    assert facts.repository_of(tree / "repo" / "modules" / "net") == tree / "repo"  # from the memo, on the way up
    outside = tree / "elsewhere" / "deep"
    assert facts.repository_of(outside) == outside  # none: the directory itself
    assert facts.repository_of(tree / "elsewhere") == tree / "elsewhere"


def test_a_batch_shares_one_set_of_facts_and_outside_it_each_configuration_asks_afresh(tree: Path) -> None:
    assert path_facts.for_configuration() is not path_facts.for_configuration()
    with path_facts.shared():
        facts = path_facts.for_configuration()
        assert path_facts.for_configuration() is facts
        with path_facts.shared():  # nested: still the outer batch
            assert path_facts.for_configuration() is facts
        assert facts.repository_of(tree / "elsewhere" / "deep") == tree / "elsewhere" / "deep"
        (tree / "elsewhere" / ".git").mkdir()  # inside the batch nothing is asked twice
        assert facts.repository_of(tree / "elsewhere" / "deep") == tree / "elsewhere" / "deep"
    assert path_facts.for_configuration().repository_of(tree / "elsewhere" / "deep") == tree / "elsewhere"
    assert os.path.isdir(tree / "elsewhere" / ".git")


def test_dot_dot_after_a_symlink_leaves_the_link_target_as_realpath_does(tree: Path) -> None:
    # repo/envs/link -> elsewhere: link/.. is tree/, not repo/envs
    facts = PathFacts()
    assert facts.resolve(tree / "repo/envs/link/..") == tree.resolve()
    assert facts.resolve(tree / "repo/envs/link/../repo/modules/net") == (tree / "repo/modules/net").resolve()
    assert facts.resolve(tree / "repo/../../..") == (tree / "repo/../../..").resolve()


def test_a_symlink_loop_raises_as_path_resolve_does(tree: Path) -> None:
    (tree / "loop").symlink_to(tree / "loop")
    with pytest.raises((RuntimeError, OSError)):
        (tree / "loop" / "x").resolve()
    with pytest.raises((RuntimeError, OSError)):
        PathFacts().resolve(tree / "loop" / "x")
