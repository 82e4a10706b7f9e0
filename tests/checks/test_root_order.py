"""The order, weights and cut costs of a monorepo's roots for the check workers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infraleash.checks.root_order import SHARED_FILE_MIN_BYTES, copies_together, cut_costs, for_workers

BIG = SHARED_FILE_MIN_BYTES


def test_roots_holding_copies_follow_the_first_of_them() -> None:
    listed = [
        [("main.tf", BIG + 10)],               # 0: envs/dev
        [("main.tf", 900)],                    # 1: modules/net
        [("versions.tf", 40)],                 # 2: a small file that recurs everywhere ties nothing
        [("main.tf", BIG + 10), ("x.tf", 5)],  # 3: envs/prod, a copy of dev's main.tf
        [("versions.tf", 40)],                 # 4
    ]
    order, groups = copies_together(listed)
    assert order == [0, 3, 1, 2, 4]
    assert groups == [0, 1, 2, 0, 4]


def test_copies_tie_transitively_and_a_group_is_named_by_its_first_root() -> None:
    listed = [[("a.tf", 1000)], [("b.tf", 2000)], [("a.tf", 1000), ("b.tf", 3000)], [("b.tf", 3000)]]
    order, groups = copies_together(listed)
    assert groups == [0, 1, 0, 0]
    assert order == [0, 2, 3, 1]


def test_a_cut_between_projects_is_free_and_one_inside_a_project_costs_its_depth() -> None:
    base = "/repo"
    paths = [f"{base}/{p}" for p in ("a/envs/dev", "a/envs/prod", "a/modules/net", "b/stack", "b/stack/sub")]
    costs = cut_costs(paths, base, groups=[0, 1, 2, 3, 4])
    # before 1: inside a/ and a/envs; before 2: inside a/; before 3: between a/ and b/; before 4: inside b/, b/stack
    assert costs == [0, 2, 1, 0, 2]


@pytest.mark.parametrize("base", ["/", "/repo", "", "repo"])
def test_cut_costs_under_any_base(base: str) -> None:
    paths = [os.path.join(base, p) for p in ("a/x", "a/y", "b")]
    assert cut_costs(paths, os.path.commonpath(paths), groups=[0, 1, 2]) == [0, 1, 0]


def test_a_group_of_copies_makes_every_cut_inside_it_cost() -> None:
    base = "/repo"
    paths = [f"{base}/{p}" for p in ("a", "b", "c", "d")]
    assert cut_costs(paths, base, groups=[0, 1, 2, 3]) == [0, 0, 0, 0]
    assert cut_costs(paths, base, groups=[0, 0, 0, 3]) == [0, 1, 1, 0]


def test_for_workers_on_a_real_tree(tmp_path: Path) -> None:
    main = 'resource "aws_s3_bucket" "b" {\n  bucket = "logs"\n}\n' * 20  # over SHARED_FILE_MIN_BYTES
    layout = {"app/dev": main, "app/prod": main, "lib/net": "variable \"cidr\" {}\n", "old/dev": main + "\n"}
    for d, text in layout.items():
        (tmp_path / d).mkdir(parents=True)
        (tmp_path / d / "main.tf").write_text(text)
        (tmp_path / d / "README.md").write_text("not configuration " * 100)
    roots = sorted(tmp_path / d for d in layout)
    order, weights, costs = for_workers(roots)
    assert sorted(order) == list(range(len(roots)))
    assert [roots[i].relative_to(tmp_path).as_posix() for i in order] == ["app/dev", "app/prod", "lib/net", "old/dev"]
    assert weights == [float(len(layout[roots[i].relative_to(tmp_path).as_posix()])) for i in order]
    assert costs == [0, 2, 0, 0]  # app/dev | app/prod: inside app/ and inside the copies group


def test_for_workers_weighs_an_unreadable_root_as_one(tmp_path: Path) -> None:
    f = tmp_path / "main.tf"
    f.write_text("locals {}\n")
    order, weights, costs = for_workers([f, tmp_path / "gone"])
    assert order == [0, 1] and weights == [1.0, 1.0] and len(costs) == 2
