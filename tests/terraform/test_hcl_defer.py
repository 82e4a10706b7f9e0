"""Deferred block bodies (terraform/config.py ``DeferredBlock``, ``load_config(defer=...)`` in terraform/hcl.py).

A deferred block is evaluated when first read and is then a plain Block, equal to the one an eager load
builds; what would reach a file function (an argument: evaluated at once; a nested block: the whole block
built at once) is never deferred, so a refusal (``HCL-FILE-REFUSED``) is reported whether or not anything
reads the block; what a late evaluation refuses is added to the configuration's problems then.
"""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest

from infraleash.terraform.config import Block, DeferredBlock
from infraleash.terraform.hcl import load_config
from infraleash.terraform.hcl_budget import FILE_RULE_ID, RULE_ID


def _everything(kind: str, type_: str) -> bool:
    return True


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


CONFIG = '''variable "replicas" {
  default = 3
}

locals {
  labels = { app = "web", tier = "front" }
}

resource "kubernetes_deployment" "web" {
  metadata {
    name   = "web"
    labels = local.labels
  }
  spec {
    replicas = var.replicas
    dynamic "volume" {
      for_each = ["a", "b"]
      content {
        name = volume.value
      }
    }
  }
}

output "name" {
  value = kubernetes_deployment.web.metadata[0].name
}
'''


def test_a_deferred_body_is_evaluated_on_first_read_into_the_same_block(tmp_path: Path) -> None:
    root = _write(tmp_path, {"main.tf": CONFIG})
    eager = load_config(root)
    lazy = load_config(root, defer=_everything)
    (web,) = lazy.resources
    assert type(web) is DeferredBlock and "attrs" not in vars(web)
    # what is known without evaluating is there from the start
    assert (web.address, web.line, web.end_line, web.attr_lines) == ("kubernetes_deployment.web", 9, 23,
                                                                     {"metadata": 10, "spec": 14})
    assert web.raw == eager.resources[0].raw and web.references == eager.resources[0].references
    spec = web.blocks("spec")[0]  # the first read evaluates the body
    assert type(web) is Block and spec.get("replicas") == 3
    assert [v.get("name") for v in spec.blocks("volume")] == ["a", "b"]
    assert web.blocks("metadata")[0].get("labels") == {"app": "web", "tier": "front"}
    assert lazy == eager  # every deferred block (variable, output) evaluated by the comparison, all equal
    assert [type(b) for b in [*lazy.resources, *lazy.variable_blocks, *lazy.outputs]] == [Block] * 3


def test_comparing_copying_and_pickling_evaluate_first(tmp_path: Path) -> None:
    root = _write(tmp_path, {"main.tf": CONFIG})
    (eager,) = load_config(root).resources

    def deferred() -> Block:
        (block,) = load_config(root, defer=_everything).resources
        assert type(block) is DeferredBlock
        return block

    assert eager == deferred() and deferred() == eager
    for made in (pickle.loads(pickle.dumps(deferred())), copy.deepcopy(deferred()), copy.copy(deferred())):
        assert type(made) is Block and made == eager
    assert "replicas" in repr(deferred())


def test_only_what_the_predicate_names_is_deferred(tmp_path: Path) -> None:
    root = _write(tmp_path, {"main.tf": CONFIG + 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'})
    cfg = load_config(root, defer=lambda kind, type_: kind == "resource" and not type_.startswith("aws_"))
    kinds = {b.address: type(b).__name__ for b in [*cfg.resources, *cfg.variable_blocks, *cfg.outputs]}
    assert kinds == {"kubernetes_deployment.web": "DeferredBlock", "aws_s3_bucket.b": "Block",
                     "variable.replicas": "Block", "output.name": "Block"}
    assert all(type(b) is Block for b in load_config(root).resources)  # no predicate: nothing deferred


_FILE_READERS = {
    "own argument": 'resource "local_file" "x" {\n  content = file("/etc/passwd")\n}\n',
    "nested block": 'resource "helm_release" "x" {\n  set {\n    value = templatefile("/etc/passwd", {})\n  }\n}\n',
    "through locals": 'locals {\n  a = local.b\n  b = filebase64("/etc/passwd")\n}\n'
                      'resource "local_file" "x" {\n  content = local.a\n}\n',
    "through a resource": 'resource "local_file" "src" {\n  content = file("/etc/passwd")\n}\n'
                          'resource "local_file" "x" {\n  content = local_file.src.content\n}\n',
}


@pytest.mark.parametrize("how", sorted(_FILE_READERS))
def test_what_a_file_function_refuses_is_reported_though_nothing_reads_the_block(tmp_path: Path, how: str) -> None:
    text = _FILE_READERS[how] + 'resource "random_id" "unrelated" {\n  byte_length = 8\n}\n'
    root = _write(tmp_path, {"main.tf": text})
    cfg = load_config(root, defer=_everything)
    assert [p.rule for p in cfg.problems] == [FILE_RULE_ID], cfg.problems  # reported, nothing read yet
    kinds = {b.address: type(b) for b in cfg.resources}
    # a nested block that calls one: the block is built whole; a top-level argument: only it is evaluated now
    assert kinds.pop("helm_release.x" if how == "nested block" else "local_file.x") is \
        (Block if how == "nested block" else DeferredBlock)
    assert set(kinds.values()) == {DeferredBlock}  # the rest of the module is deferred
    assert cfg == load_config(root)  # and once read, as an eager load (the refusal reported once)


def test_a_module_output_that_reads_a_file_is_read_when_its_readers_are_built(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "main.tf": 'module "m" {\n  source = "./m"\n}\n'
                   'resource "local_file" "x" {\n  content = module.m.text\n}\n'
                   'resource "local_file" "y" {\n  content = "plain"\n}\n',
        "m/main.tf": 'output "text" {\n  value = file("/etc/passwd")\n}\n',
    })
    cfg = load_config(root, defer=_everything)
    assert [p.rule for p in cfg.problems] == [FILE_RULE_ID]
    x = cfg.by_address("local_file.x")
    assert x is not None and type(x) is DeferredBlock and "attrs" not in vars(x)  # its `content` evaluated apart
    assert cfg == load_config(root) and len(cfg.problems) == 1  # the refusal reported once


def test_a_late_evaluation_adds_what_it_refused_to_the_problems(tmp_path: Path) -> None:
    text = 'resource "null_resource" "x" {\n  triggers = {\n    all = join(",", range(1000000000))\n  }\n}\n'
    cfg = load_config(_write(tmp_path, {"main.tf": text}), defer=_everything)
    assert cfg.problems == []  # not evaluated: nothing refused yet
    cfg.resources[0].get("triggers")
    assert [(p.rule, p.file, p.line) for p in cfg.problems] == [(RULE_ID, "main.tf", 3)]
    assert [(p.rule, p.line) for p in load_config(tmp_path).problems] == [(RULE_ID, 3)]  # as eagerly


def test_on_the_real_world_corpus_a_deferred_load_once_read_equals_the_eager_one(
        real_corpus_dirs: list[Path]) -> None:
    deferred = 0
    for root in real_corpus_dirs:  # each holds .tf files
        lazy = load_config(root, defer=_everything)
        deferred += sum(type(b) is DeferredBlock for b in [*lazy.resources, *lazy.data, *lazy.variable_blocks])
        eager = load_config(root)
        assert lazy == eager, root
    assert len(real_corpus_dirs) >= 100 and deferred >= 1000
