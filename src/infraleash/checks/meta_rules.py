"""Documentation and examples of the configuration-level rules.

Their findings come from :mod:`~infraleash.checks.hallucination`,
:mod:`~infraleash.checks.providers`, :mod:`~infraleash.checks.modules`,
:mod:`~infraleash.checks.suppressions` and the engine (unreadable input); the ``Rule``
objects here make them listable (``infraleash rules``), documented
(``infraleash rules show ID``) and self-testing (their examples run in the suite).
"""

from __future__ import annotations

from collections.abc import Iterable

from infraleash.checks import hallucination as h
from infraleash.checks import module_calls as mc
from infraleash.checks import modules as m
from infraleash.checks import providers as p
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.checks.suppressions import NO_REASON
from infraleash.findings import Kind, Severity
from infraleash.terraform import hcl_budget
from infraleash.terraform.config import Block


def _config_level(_block: Block, _ctx: CheckContext) -> Iterable[Result]:
    return ()  # findings are produced for the whole configuration, see the module docstring


def _rule(id: str, title: str, severity: Severity, kind: Kind, why: str, fail: str, ok: str,
          policy: str | None = None, unknown_only: bool = False) -> Rule:
    return Rule(id=id, title=title, severity=severity, kind=kind, resource_types=(), why=why, fail_example=fail,
                pass_example=ok, check=_config_level, example_policy=policy, unknown_only=unknown_only)


HAL = Kind.HALLUCINATION
PIN_POLICY = 'providers:\n  aws: "~> 4.67"\n'
MODULE_POLICY = ('modules:\n  allowed_sources:\n    - "./"\n    - "terraform-aws-modules/"\n'
                 '    - "git::https://github.com/acme/"\n')
VERSIONS_OK = ('terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
               '      version = "~> 4.67"\n    }\n  }\n}\n')

RULES: list[Rule] = [
    _rule(h.UNKNOWN_RESOURCE, "Resource type does not exist in the provider", Severity.HIGH, HAL,
          "A made-up resource type fails at `terraform plan` at best; at worst an agent keeps 'fixing' around it. "
          "The provider schema is the ground truth.",
          'resource "aws_s3_bukket" "fail" {\n  bucket = "logs"\n}\n',
          'resource "aws_s3_bucket" "pass" {\n  bucket = "logs"\n}\n'),
    _rule(h.UNKNOWN_DATA, "Data source type does not exist in the provider", Severity.HIGH, HAL,
          "An invented data source cannot be read; everything derived from it is fiction.",
          'data "aws_ami_lookup" "fail" {\n  owners = ["amazon"]\n}\n',
          'data "aws_ami" "pass" {\n  owners      = ["amazon"]\n  most_recent = true\n}\n'),
    _rule(h.UNKNOWN_ARGUMENT, "Argument or nested block the type does not have", Severity.HIGH, HAL,
          "Plausible-looking arguments (`enable_encryption = true`) are the most common hallucination: the "
          "reviewer believes a control is on while Terraform refuses the file or the control does not exist.",
          'resource "aws_s3_bucket" "fail" {\n  bucket            = "logs"\n  enable_encryption = true\n}\n',
          'resource "aws_s3_bucket" "pass" {\n  bucket = "logs"\n}\n'),
    _rule(h.MISMATCH, "Argument written as a block, or a block as an argument", Severity.HIGH, HAL,
          "`tags { ... }` or `versioning_configuration = {...}` look right but Terraform rejects them; "
          "agents mix the two forms often.",
          'resource "aws_vpc" "fail" {\n  cidr_block = "10.0.0.0/16"\n  tags {\n    Name = "main"\n  }\n}\n',
          'resource "aws_vpc" "pass" {\n  cidr_block = "10.0.0.0/16"\n  tags = {\n    Name = "main"\n  }\n}\n'),
    _rule(h.MISSING_REQUIRED, "Required argument or block is missing", Severity.HIGH, HAL,
          "A resource without its required arguments cannot be planned; catching it before a human reviews "
          "saves a round trip.",
          'resource "aws_iam_role" "fail" {\n  name = "app"\n}\n',
          'resource "aws_iam_role" "pass" {\n  name               = "app"\n  assume_role_policy = "{}"\n}\n'),
    _rule(h.DEPRECATED, "Argument or block deprecated by the provider", Severity.LOW, HAL,
          "Deprecated arguments (the v3-style `acl`/`versioning` inside `aws_s3_bucket`) disappear in the next "
          "major version and often behave differently from their replacements.",
          'resource "aws_s3_bucket" "fail" {\n  bucket = "logs"\n  versioning {\n    enabled = true\n  }\n}\n',
          'resource "aws_s3_bucket" "pass" {\n  bucket = "logs"\n}\n'
          'resource "aws_s3_bucket_versioning" "pass" {\n  bucket = aws_s3_bucket.pass.id\n'
          '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n'),
    _rule(h.UNKNOWN_REFERENCE, "Reference to an attribute the resource type does not export", Severity.HIGH,
          HAL, "`aws_vpc.main.arn_xyz` is a confident guess; Terraform fails, or worse, an output is wrong.",
          'resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n'
          'resource "aws_subnet" "fail" {\n  vpc_id     = aws_vpc.main.vpc_identifier\n'
          '  cidr_block = "10.0.1.0/24"\n}\n',
          'resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n'
          'resource "aws_subnet" "pass" {\n  vpc_id     = aws_vpc.main.id\n  cidr_block = "10.0.1.0/24"\n}\n'),
    _rule(h.UNDECLARED, "Reference to a resource or data source that is not declared", Severity.HIGH, HAL,
          "An agent referring to a resource it forgot to write (or misspelled) leaves a configuration that "
          "cannot be planned.",
          'resource "aws_subnet" "fail" {\n  vpc_id     = aws_vpc.mian.id\n  cidr_block = "10.0.1.0/24"\n}\n'
          'resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n',
          'resource "aws_subnet" "pass" {\n  vpc_id     = aws_vpc.main.id\n  cidr_block = "10.0.1.0/24"\n}\n'
          'resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n'),
    _rule(p.PIN_CONFLICT, "Provider constraint outside the org's pin", Severity.HIGH, Kind.PROVIDER_CONSTRAINT,
          "The org pins provider versions it has tested; an agent writing `~> 5.0` where the org pins `~> 4.67` "
          "upgrades a major version (and its breaking changes) as a side effect.",
          'terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
          '      version = "~> 5.0"\n    }\n  }\n}\nresource "aws_vpc" "fail" {\n  cidr_block = "10.0.0.0/16"\n}\n',
          VERSIONS_OK + 'resource "aws_vpc" "pass" {\n  cidr_block = "10.0.0.0/16"\n}\n', PIN_POLICY),
    _rule(p.NO_VERSION, "Provider used without a version constraint", Severity.MEDIUM, Kind.PROVIDER_CONSTRAINT,
          "Without a constraint every `terraform init -upgrade` may pull a new major version.",
          'resource "aws_vpc" "fail" {\n  cidr_block = "10.0.0.0/16"\n}\n',
          VERSIONS_OK + 'resource "aws_vpc" "pass" {\n  cidr_block = "10.0.0.0/16"\n}\n'),
    _rule(p.LOCK_MISMATCH, "Locked provider version outside the constraint", Severity.HIGH,
          Kind.PROVIDER_CONSTRAINT,
          "The lock file decides what actually runs; a lock outside the constraint means the constraint was "
          "edited without `terraform init`, and CI will fail or run an unreviewed version.",
          VERSIONS_OK + 'resource "aws_vpc" "fail" {\n  cidr_block = "10.0.0.0/16"\n}\n'
          '# file: .terraform.lock.hcl\nprovider "registry.terraform.io/hashicorp/aws" {\n'
          '  version     = "5.100.0"\n  constraints = "~> 5.0"\n}\n',
          VERSIONS_OK + 'resource "aws_vpc" "pass" {\n  cidr_block = "10.0.0.0/16"\n}\n'
          '# file: .terraform.lock.hcl\nprovider "registry.terraform.io/hashicorp/aws" {\n'
          '  version     = "4.67.0"\n  constraints = "~> 4.67"\n}\n'),
    _rule(p.NOT_LOCKED, "Required provider missing from the lock file", Severity.MEDIUM, Kind.PROVIDER_CONSTRAINT,
          "A provider added without re-running `terraform init` is not locked: each machine may resolve a "
          "different version.",
          VERSIONS_OK + 'resource "aws_vpc" "fail" {\n  cidr_block = "10.0.0.0/16"\n}\n'
          '# file: .terraform.lock.hcl\nprovider "registry.terraform.io/hashicorp/random" {\n'
          '  version = "3.6.0"\n}\n',
          VERSIONS_OK + 'resource "aws_vpc" "pass" {\n  cidr_block = "10.0.0.0/16"\n}\n'
          '# file: .terraform.lock.hcl\nprovider "registry.terraform.io/hashicorp/aws" {\n'
          '  version = "4.67.0"\n}\n'),
    _rule(p.SCHEMA_UNAVAILABLE, "Code checked against another provider version than the pinned one",
          Severity.INFO, Kind.PROVIDER_CONSTRAINT,
          "Hallucination checks are only as good as the schema; when the pinned version's schema is not "
          "available the report says which version was used instead.",
          VERSIONS_OK + 'resource "aws_vpc" "fail" {\n  cidr_block = "10.0.0.0/16"\n}\n',
          VERSIONS_OK.replace("~> 4.67", "~> 5.100") + 'resource "aws_vpc" "pass" {\n  cidr_block = "10.0.0.0/16"\n}\n'),
    _rule(m.NOT_ALLOWED, "Module source outside the allowed prefixes", Severity.HIGH, Kind.MODULE_SOURCE,
          "A module is code that runs with the pipeline's credentials; only sources the org reviewed may be used.",
          'module "fail" {\n  source  = "randomuser/vpc/aws"\n  version = "1.0.0"\n}\n',
          'module "pass" {\n  source  = "terraform-aws-modules/vpc/aws"\n  version = "5.8.1"\n}\n', MODULE_POLICY),
    _rule(m.LOOKALIKE, "Module host only looks like an allowed host", Severity.CRITICAL, Kind.MODULE_SOURCE,
          "`github.com.evil.io` and `evil-github.com` pass a careless substring check; they are someone else's "
          "servers serving code that will run with your credentials.",
          'module "fail" {\n  source = "git::https://github.com.evil.io/acme/vpc.git?ref=v1.2.0"\n}\n',
          'module "pass" {\n  source = "git::https://github.com/acme/vpc.git?ref=v1.2.0"\n}\n', MODULE_POLICY),
    _rule(m.NO_VERSION, "Registry module without a version", Severity.MEDIUM, Kind.MODULE_SOURCE,
          "Without `version` every init may pull a new release of the module, changing infrastructure without "
          "a code change.",
          'module "fail" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n',
          'module "pass" {\n  source  = "terraform-aws-modules/vpc/aws"\n  version = "5.8.1"\n}\n', MODULE_POLICY),
    _rule(m.GIT_UNPINNED, "Git module not pinned to a tag or commit", Severity.HIGH, Kind.MODULE_SOURCE,
          "A branch (`?ref=main`) or no ref at all means whoever pushes to that branch changes your "
          "infrastructure on the next init.",
          'module "fail" {\n  source = "git::https://github.com/acme/vpc.git?ref=main"\n}\n',
          'module "pass" {\n  source = "git::https://github.com/acme/vpc.git?ref=v1.2.0"\n}\n', MODULE_POLICY),
    _rule(m.INSECURE, "Module fetched over plain http", Severity.HIGH, Kind.MODULE_SOURCE,
          "Without TLS anyone on the path can replace the module's code.",
          'module "fail" {\n  source = "http://modules.example.com/vpc.zip"\n}\n',
          'module "pass" {\n  source = "./modules/vpc"\n}\n# file: modules/vpc/main.tf\n'),
    _rule(mc.NOT_EVALUATED, "Module call whose module could not be read (not installed)", Severity.MEDIUM,
          Kind.MODULE_SOURCE,
          "A registry or git module is evaluated through the copy `terraform init` installed "
          "(.terraform/modules/modules.json), with the caller's inputs. Without it nothing the module creates "
          "is checked, and a report without findings would be a silent pass: the call is reported UNKNOWN.",
          'module "fail" {\n  source  = "terraform-aws-modules/s3-bucket/aws"\n  version = "4.1.2"\n'
          '  bucket  = "logs"\n}\n',
          'module "pass" {\n  source  = "terraform-aws-modules/s3-bucket/aws"\n  version = "4.1.2"\n'
          '  bucket  = "logs"\n}\n# file: .terraform/modules/modules.json\n'
          '{"Modules": [{"Key": "", "Source": "", "Dir": "."}, {"Key": "pass", "Source": '
          '"registry.terraform.io/terraform-aws-modules/s3-bucket/aws", "Version": "4.1.2", '
          '"Dir": ".terraform/modules/pass"}]}\n'
          '# file: .terraform/modules/pass/main.tf\nvariable "bucket" {\n  type = string\n}\n',
          MODULE_POLICY, unknown_only=True),
    _rule(NO_REASON, "infraleash:ignore without a rule id or reason", Severity.MEDIUM, Kind.CONVENTION,
          "A suppression is a decision someone must be able to review later; without a reason it is just "
          "silence.",
          'resource "aws_vpc" "fail" { # infraleash:ignore TF-UNKNOWN-ARGUMENT\n  cidr_block = "10.0.0.0/16"\n}\n',
          'resource "aws_vpc" "pass" { # infraleash:ignore TF-UNKNOWN-ARGUMENT tested in staging\n'
          '  cidr_block = "10.0.0.0/16"\n}\n'),
    _rule("TF-PARSE-ERROR", "File cannot be read or parsed", Severity.HIGH, Kind.INPUT,
          "A file infraleash cannot read is a file nobody checked; it is reported with its line, and the rest "
          "of the directory is still checked.",
          'resource "aws_vpc" "fail" {\n  cidr_block = \n}\n',
          'resource "aws_vpc" "pass" {\n  cidr_block = "10.0.0.0/16"\n}\n'),
    _rule(hcl_budget.RULE_ID, "Expression past the evaluation budget", Severity.HIGH, Kind.INPUT,
          "A value that would take minutes or gigabytes to evaluate (`range(1000000000)`, `format(\"%1000000000d\", "
          "1)`, nested `for` expressions) is not evaluated: it is unknown to every check, so whatever it feeds "
          "goes unchecked. Terraform itself refuses most of these (its `range` stops at 1,024 elements).",
          'resource "aws_security_group" "fail" {\n  name = "web"\n  tags = { ports = join(",", range(1000000)) }\n}\n',
          'resource "aws_security_group" "pass" {\n  name = "web"\n  tags = { ports = join(",", range(3)) }\n}\n'),
    _rule(hcl_budget.FILE_RULE_ID, "File function reads outside the configuration or a special file", Severity.HIGH,
          Kind.INPUT,
          "`file()`, `templatefile()`, `fileexists()`, `filebase64()` ... read only regular files of at most 1 MB "
          "inside the configuration's repository: a path elsewhere (`/etc/passwd`, `~/.aws/credentials`, `../..`) "
          "or a device or FIFO is not read, so no secret from it reaches a finding an agent reads.",
          'resource "aws_iam_policy" "fail" {\n  name   = "p"\n  policy = file("/etc/passwd")\n}\n',
          '# file: main.tf\nresource "aws_iam_policy" "pass" {\n  name   = "p"\n  policy = file("policy.json")\n}\n'
          '# file: policy.json\n{"Version": "2012-10-17", "Statement": []}\n'),
]
