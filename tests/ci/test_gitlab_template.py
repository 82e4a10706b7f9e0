"""The GitLab CI template parses, uploads Code Quality + JUnit reports, and asks only for formats `check` has;
its check command, run as the job runs it, writes a report valid against GitLab's format."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from infraleash.checks.report import FORMATS

REPO = Path(__file__).parents[2]
TEMPLATE = REPO / "ci" / "gitlab" / "infraleash.gitlab-ci.yml"
SCHEMA = json.loads((REPO / "tests" / "data" / "gitlab-codequality.schema.json").read_text())


def test_template_parses_and_reports_formats_that_exist() -> None:
    doc = yaml.safe_load(TEMPLATE.read_text())
    job = doc["infraleash"]
    reports = job["artifacts"]["reports"]
    assert job["artifacts"]["when"] == "always"
    script = "\n".join(job["script"])
    formats = re.findall(r"--format (\S+)", script)
    assert set(formats) == {"gitlab-codequality", "junit"}
    assert set(formats) <= set(FORMATS)
    for fmt, report_key in (("gitlab-codequality", "codequality"), ("junit", "junit")):
        out = re.search(rf"--format {fmt} --output (\S+)", script)
        assert out and out.group(1) == reports[report_key]


def test_codequality_line_of_the_job_runs(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(
        'resource "aws_security_group" "web" {\n  ingress {\n    from_port   = 22\n    to_port     = 22\n'
        '    protocol    = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n')
    job = yaml.safe_load(TEMPLATE.read_text())["infraleash"]
    line = next(s for s in job["script"] if "gitlab-codequality" in s).split("||")[0]
    line = line.replace('"$INFRALEASH_PATH"', "infra").replace("$INFRALEASH_ARGS", "")
    argv = shlex.split(line)
    assert argv[0] == "infraleash"
    r = subprocess.run([sys.executable, "-m", "infraleash", *argv[1:]], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    issues = json.loads((tmp_path / "gl-code-quality-report.json").read_text())
    jsonschema.validate(issues, SCHEMA)
    assert issues and {i["location"]["path"] for i in issues} == {"infra/main.tf"}
