"""load_config: evaluation of real HCL into the Config model, and bad input that never raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.errors import InputError
from infraleash.terraform.config import Unknown
from infraleash.terraform.hcl import load_config, load_text
from infraleash.terraform.hcl_parse import MAX_FILE_BYTES


def write(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return tmp_path


MAIN = '''
variable "env" {
  default = "prod"
}
variable "cidr" {}

locals {
  name = "app-${var.env}"
  tags = { Owner = "platform", Env = var.env }
  ports = [22, 443]
}

resource "aws_vpc" "main" {
  cidr_block = var.cidr
  tags       = merge(local.tags, { Name = local.name })
}

resource "aws_s3_bucket" "logs" {
  count  = 2
  bucket = "${local.name}-logs-${count.index}"
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_security_group" "web" {
  name   = lower("${local.name}-WEB")
  vpc_id = aws_vpc.main.id
  dynamic "ingress" {
    for_each = local.ports
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }
  dynamic "egress" {
    for_each = var.egress_rules
    iterator = rule
    content {
      from_port = rule.value.port
    }
  }
}
'''

POLICIES = '''
data "aws_iam_policy_document" "read" {
  statement {
    sid       = "Read"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.logs[0].arn}/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}

resource "aws_iam_policy" "doc" {
  name   = "from-document"
  policy = data.aws_iam_policy_document.read.json
}

resource "aws_iam_policy" "encoded" {
  name = "encoded"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }]
  })
}

resource "aws_iam_role_policy" "heredoc" {
  role   = "r"
  policy = <<-EOF
    {
      "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "${aws_s3_bucket.logs[0].arn}"}]
    }
  EOF
}
'''


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory):
    root = write(tmp_path_factory.mktemp("hcl"), {"main.tf": MAIN, "policies.tf": POLICIES})
    return load_config(root)


def test_variables_locals_and_functions_are_evaluated(config) -> None:
    vpc = config.by_address("aws_vpc.main")
    assert vpc.get("tags") == {"Owner": "platform", "Env": "prod", "Name": "app-prod"}
    assert vpc.get("cidr_block") == Unknown("var.cidr")
    assert config.variables["env"] == "prod"
    assert config.by_address("aws_security_group.web").get("name") == "app-prod-web"


def test_lines_of_blocks_and_attributes(config) -> None:
    vpc = config.by_address("aws_vpc.main")
    start = line_of(MAIN, 'resource "aws_vpc" "main"')
    assert (vpc.file, vpc.line, vpc.end_line) == ("main.tf", start, start + 3)
    assert vpc.line_of("tags") == line_of(MAIN, "tags       = merge")
    assert config.by_address("aws_iam_policy.doc").line_of("policy") == \
        line_of(POLICIES, "policy = data.aws_iam_policy_document")


def test_count_kept_on_one_block_and_count_index_unknown(config) -> None:
    buckets = config.of_type("aws_s3_bucket")
    assert len(buckets) == 1
    assert buckets[0].instances == 2
    assert isinstance(buckets[0].get("bucket"), Unknown)


def test_references_are_collected(config) -> None:
    versioning = config.by_address("aws_s3_bucket_versioning.logs")
    bucket = config.by_address("aws_s3_bucket.logs")
    assert versioning.refers_to(bucket)
    assert config.referencing(bucket, "aws_s3_bucket_versioning") == [versioning]
    assert "aws_vpc.main" in config.by_address("aws_security_group.web").references
    assert isinstance(versioning.get("bucket"), Unknown)
    assert versioning.blocks("versioning_configuration")[0].get("status") == "Enabled"


def test_dynamic_blocks_expand_when_for_each_is_known(config) -> None:
    sg = config.by_address("aws_security_group.web")
    ingress = sg.blocks("ingress")
    assert [b.get("from_port") for b in ingress] == [22, 443]
    assert all(b.dynamic for b in ingress)
    egress = sg.blocks("egress")
    assert len(egress) == 1 and isinstance(egress[0].get("from_port"), Unknown)


def test_policies_are_decoded(config) -> None:
    doc = config.by_address("aws_iam_policy.doc").get("policy")
    statement = doc["Statement"][0]
    assert statement["Action"] == ["s3:GetObject"] and statement["Principal"] == {"AWS": ["*"]}
    assert isinstance(statement["Resource"][0], Unknown)
    assert config.by_address("aws_iam_policy.encoded").get("policy")["Statement"][0]["Action"] == "*"
    heredoc = config.by_address("aws_iam_role_policy.heredoc").get("policy")
    assert heredoc["Statement"][0]["Action"] == "s3:*"
    assert isinstance(heredoc["Statement"][0]["Resource"], Unknown)


def test_ref_sites_name_attribute_and_line(config) -> None:
    sites = {(s.address, s.attribute, s.line) for s in config.ref_sites if s.file == "main.tf"}
    assert ("aws_vpc.main", "id", line_of(MAIN, "vpc_id = aws_vpc.main.id")) in sites
    assert ("aws_s3_bucket.logs", "id", line_of(MAIN, "bucket = aws_s3_bucket.logs[0].id")) in sites


def test_local_modules_are_loaded_with_inputs(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "main.tf": 'module "net" {\n  source = "./modules/net"\n  cidr = "10.1.0.0/16"\n}\n'
                   'resource "aws_route53_zone" "z" {\n  name = module.net.zone_name\n}\n',
        "modules/net/main.tf": 'variable "cidr" {}\nresource "aws_vpc" "this" {\n  cidr_block = var.cidr\n}\n'
                               'output "zone_name" {\n  value = "example.com"\n}\n',
    })
    cfg = load_config(root)
    vpc = cfg.by_address("module.net.aws_vpc.this")
    assert vpc is not None and vpc.get("cidr_block") == "10.1.0.0/16" and vpc.file == "modules/net/main.tf"
    assert cfg.modules[0].local_path == (root / "modules/net").resolve()
    assert cfg.by_address("aws_route53_zone.z").get("name") == "example.com"


def test_tfvars_override_defaults(tmp_path: Path) -> None:
    root = write(tmp_path, {"main.tf": 'variable "env" {\n  default = "dev"\n}\n',
                            "terraform.tfvars": 'env = "prod"\n'})
    assert load_config(root).variables["env"] == "prod"


def test_required_providers(tmp_path: Path) -> None:
    root = write(tmp_path, {"versions.tf": 'terraform {\n  required_providers {\n    aws = {\n'
                                           '      source  = "hashicorp/aws"\n      version = "~> 5.0"\n    }\n  }\n}\n'})
    rp = load_config(root).required_providers["aws"]
    assert (rp["source"], rp["version"], rp["line"]) == ("hashicorp/aws", "~> 5.0", 3)


GOOD = 'resource "aws_vpc" "ok" {\n  cidr_block = "10.0.0.0/16"\n}\n'


@pytest.mark.parametrize("name,content,line,words", [
    ("broken.tf", 'resource "aws_vpc" "x" {\n  cidr_block = \n}\n', 2, "malformed HCL"),
    ("binary.tf", b"\x7fELF\x02\x01\n\x00\x00\x00garbage", 2, "binary"),
    ("latin1.tf", 'resource "aws_s3_bucket" "b" {\n  bucket = "caf\xe9"\n}\n'.encode("latin-1"), 2, "UTF-8"),
    ("deep.tf", "locals {\n  x = " + "[" * 200 + "]" * 200 + "\n}\n", 2, "nesting"),
    ("deepblocks.tf", "".join(f"b{i} {{\n" for i in range(200)) + "}\n" * 200, 49, "nesting"),
])
def test_bad_input_is_a_problem_with_file_and_line(tmp_path: Path, name: str, content: str | bytes,
                                                   line: int, words: str) -> None:
    root = write(tmp_path, {name: content, "good.tf": GOOD})
    cfg = load_config(root)
    assert [(p.file, p.line) for p in cfg.problems] == [(name, line)]
    assert words in cfg.problems[0].message
    assert cfg.by_address("aws_vpc.ok") is not None  # the rest of the directory is still loaded


def test_oversized_file_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "huge.tf"
    with big.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # a 50 MB file (sparse)
    (tmp_path / "good.tf").write_text(GOOD, encoding="utf-8")
    cfg = load_config(tmp_path)
    assert cfg.problems[0].file == "huge.tf" and cfg.problems[0].line == 1
    assert f"{MAX_FILE_BYTES / 1e6:.0f} MB limit" in cfg.problems[0].message
    assert cfg.by_address("aws_vpc.ok") is not None


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_config(tmp_path / "nope")


def test_load_text_and_cycles_do_not_hang() -> None:
    cfg = load_text('locals {\n  a = local.b\n  b = local.a\n}\nresource "aws_vpc" "v" {\n  cidr_block = local.a\n}\n')
    assert isinstance(cfg.by_address("aws_vpc.v").get("cidr_block"), Unknown)


def test_cache_sees_edits(tmp_path: Path) -> None:
    f = tmp_path / "main.tf"
    f.write_text(GOOD, encoding="utf-8")
    assert load_config(tmp_path).by_address("aws_vpc.ok").get("cidr_block") == "10.0.0.0/16"
    f.write_text(GOOD.replace("10.0.0.0/16", "10.99.0.0/16") + "\n", encoding="utf-8")
    assert load_config(tmp_path).by_address("aws_vpc.ok").get("cidr_block") == "10.99.0.0/16"


def test_file_of_a_device_or_fifo_is_unknown_not_a_hang(tmp_path: Path) -> None:
    """``file("/dev/zero")`` or a FIFO would block the loader (and the gate's pre-flight) forever."""
    import os

    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "main.tf").write_text(
        f'resource "x_y" "a" {{\n  zero = file("/dev/zero")\n  pipe = file("{tmp_path}/pipe")\n}}\n',
        encoding="utf-8")
    block = load_config(tmp_path).by_address("x_y.a")
    assert block is not None
    assert isinstance(block.get("zero"), Unknown) and "outside the configuration" in block.get("zero").reason
    assert isinstance(block.get("pipe"), Unknown) and "not a regular file" in block.get("pipe").reason


def test_files_read_are_regular_files_and_links_to_them(tmp_path: Path) -> None:
    outside = write(tmp_path / "shared", {"net.tf": GOOD.replace('"ok"', '"linked"')})
    root = write(tmp_path / "root", {"main.tf": GOOD, "notes.txt": "not terraform\n"})
    (root / "net.tf").symlink_to(outside / "net.tf")
    (root / "dangling.tf").symlink_to(root / "missing.tf")
    (root / "looping.tf").symlink_to(root / "looping.tf")
    (root / "dir.tf").mkdir()
    cfg = load_config(root)
    assert sorted(cfg.files) == ["main.tf", "net.tf"]
    assert sorted(b.address for b in cfg.resources) == ["aws_vpc.linked", "aws_vpc.ok"]
    assert cfg.problems == []


def test_tfvars_files_are_read_in_terraforms_order(tmp_path: Path) -> None:
    root = write(tmp_path, {"main.tf": 'variable "a" {}\nvariable "b" {}\nvariable "c" {}\n',
                            "terraform.tfvars": 'a = "tfvars"\nb = "tfvars"\nc = "tfvars"\n',
                            "terraform.tfvars.json": '{"b": "json", "c": "json"}',
                            "b.auto.tfvars": 'c = "b.auto"\n', "a.auto.tfvars.json": '{"c": "a.auto"}'})
    (root / "z.auto.tfvars").mkdir()  # a directory is not a variable file
    cfg = load_config(root)
    assert cfg.variables == {"a": "tfvars", "b": "json", "c": "b.auto"}
    assert cfg.files == ["main.tf", "terraform.tfvars", "terraform.tfvars.json", "a.auto.tfvars.json",
                         "b.auto.tfvars"]


def test_a_module_outside_the_root_is_named_relative_to_the_root(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"envs/prod/main.tf": 'module "a" {\n  source = "../../modules/x"\n}\n'
                                          'module "b" {\n  source = "../../modules/x"\n}\n',
                     "modules/x/main.tf": 'resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n}\n'})
    monkeypatch.chdir(tmp_path)
    cfg = load_config(Path("envs/prod"))
    assert [(b.address, b.file) for b in cfg.resources] == [("module.a.aws_vpc.v", "../../modules/x/main.tf"),
                                                          ("module.b.aws_vpc.v", "../../modules/x/main.tf")]
    assert [m.local_path for m in cfg.modules] == [(tmp_path / "modules/x").resolve()] * 2


def test_references_skip_iterators_and_follow_locals() -> None:
    cfg = load_text('locals {\n  ids = [for s in aws_subnet.a : s.id]\n}\n'
                    'resource "aws_instance" "i" {\n  subnet_id = local.ids[0]\n'
                    '  dynamic "ebs_block_device" {\n    for_each = var.disks\n    iterator = disk\n'
                    '    content {\n      device_name = disk.value\n      kms_key_id = aws_kms_key.k.arn\n'
                    '    }\n  }\n  user_data = <<EOT\n${data.aws_ami.x.id}\nEOT\n}\n')
    sites = [(s.address, s.attribute, s.line, s.text) for s in cfg.ref_sites]
    # blocks in file order; in a block its attributes, then its nested blocks; a heredoc's at its first line
    assert sites == [("aws_subnet.a", None, 2, "aws_subnet.a"),
                     ("data.aws_ami.x", "id", 14, "data.aws_ami.x.id"),
                     ("aws_kms_key.k", "arn", 11, "aws_kms_key.k.arn")]
    assert cfg.by_address("aws_instance.i").references == {"data.aws_ami.x", "aws_kms_key.k", "aws_subnet.a"}


def test_a_nested_block_beside_an_argument_of_its_name_changes_no_shared_value(tmp_path: Path) -> None:
    """``ingress = local.rules`` and an ``ingress {}`` block (Terraform refuses both): the block is listed on the
    resource, ``local.rules`` (read by another resource too) stays as written, and a string argument does not
    crash the loader when a ``dynamic`` block of its name follows."""
    (tmp_path / "main.tf").write_text('''
locals {
  rules = [{ from_port = 22 }]
}
resource "aws_security_group" "a" {
  ingress = local.rules
  ingress {
    from_port = 443
  }
}
resource "aws_security_group" "b" {
  ingress = local.rules
}
resource "aws_security_group" "c" {
  ingress = "text"
  dynamic "ingress" {
    for_each = [1]
    content {
      from_port = 80
    }
  }
}
''', encoding="utf-8")
    cfg = load_config(tmp_path)
    a, b, c = (cfg.by_address(f"aws_security_group.{n}") for n in "abc")
    assert a is not None and b is not None and c is not None
    assert [r if isinstance(r, dict) else r.get("from_port") for r in a.get("ingress")] == [{"from_port": 22}, 443]
    assert b.get("ingress") == [{"from_port": 22}]
    assert c.get("ingress") == "text"


def test_principals_of_one_type_joined_to_an_unknown_are_unknown_not_a_crash() -> None:
    cfg = load_text('''
variable "who" {}
data "aws_iam_policy_document" "p" {
  statement {
    actions = ["s3:GetObject"]
    principals {
      type        = "AWS"
      identifiers = var.who
    }
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::123456789012:root"]
    }
  }
}
resource "aws_iam_policy" "p" {
  policy = data.aws_iam_policy_document.p.json
}
''')
    policy = cfg.by_address("aws_iam_policy.p")
    assert policy is not None
    (statement,) = policy.get("policy")["Statement"]
    assert isinstance(statement["Principal"]["AWS"], Unknown)
