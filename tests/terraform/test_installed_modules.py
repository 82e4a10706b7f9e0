"""The manifest `terraform init` writes: call keys, installed directories, malformed input."""

from __future__ import annotations

import json
from pathlib import Path

from infraleash.terraform.installed_modules import InstalledModules, read_manifest


def test_key_joins_the_call_names() -> None:
    assert InstalledModules.key("", "s3") == "s3"
    assert InstalledModules.key("module.db", "db_instance") == "db.db_instance"
    assert InstalledModules.key("module.a.module.b", "c") == "a.b.c"


def test_reads_dirs_relative_to_the_working_directory(tmp_path: Path) -> None:
    modules = tmp_path / ".terraform" / "modules"
    (modules / "vpc").mkdir(parents=True)
    (modules / "modules.json").write_text(json.dumps({"Modules": [
        {"Key": "", "Source": "", "Dir": "."},
        {"Key": "vpc", "Source": "registry.terraform.io/terraform-aws-modules/vpc/aws", "Dir": ".terraform/modules/vpc"},
        {"Key": "gone", "Source": "git::https://example.com/x.git", "Dir": ".terraform/modules/gone"}]}))
    found = read_manifest(tmp_path)
    assert found is not None and found.problem is None
    assert found.dir_for("", "vpc") == (modules / "vpc").resolve()
    assert found.dir_for("", "gone") is None and found.recorded("", "gone")
    assert not found.recorded("", "other")


def test_no_manifest_and_a_malformed_one(tmp_path: Path) -> None:
    assert read_manifest(tmp_path) is None
    (tmp_path / ".terraform" / "modules").mkdir(parents=True)
    (tmp_path / ".terraform" / "modules" / "modules.json").write_text("[1, 2]")
    found = read_manifest(tmp_path)
    assert found is not None and found.problem is not None and "Modules" in found.problem.message


def test_tf_data_dir_moves_the_manifest(tmp_path: Path) -> None:
    modules = tmp_path / ".tfdata" / "modules"
    (modules / "vpc").mkdir(parents=True)
    (modules / "modules.json").write_text(json.dumps({"Modules": [
        {"Key": "vpc", "Source": "registry.terraform.io/terraform-aws-modules/vpc/aws", "Dir": ".tfdata/modules/vpc"}]}))
    assert read_manifest(tmp_path, env={}) is None
    found = read_manifest(tmp_path, env={"TF_DATA_DIR": ".tfdata"})
    assert found is not None and found.dir_for("", "vpc") == (modules / "vpc").resolve()
