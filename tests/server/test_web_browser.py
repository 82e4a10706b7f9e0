"""The approvers' web page in a real browser (Debian's Chromium driven by Selenium, no browser download):
a real server process, a real plan of a change to the moto sandbox, log in, see the pending
``terraform apply p.tfplan`` with the review of that plan, approve with a comment; then the agent side claims
it through the API and runs it once, through the gate's sandboxed runner, against moto.

Screenshots go to ``$INFRALEASH_TEST_ARTIFACTS/web-browser`` (default ``tests/.artifacts/web-browser``)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infraleash.gate.executor import run_command

from .serverproc import ServerProcess

pytestmark = pytest.mark.sandbox
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PASSWORD = "approver password for the browser test"
XSS = "<script>window.__pwned = 1; document.title = 'pwned'</script><img src=x onerror=\"window.__pwned = 2\">"
ROLE_POLICY = 'jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", Action = "sts:AssumeRole", ' \
              'Principal = {Service = "ec2.amazonaws.com"}}]})'


def _config(suffix: str, *, after: bool) -> str:
    """Before: an old policy, a deployer role, a reader role.  After: the old policy destroyed, the deployer's
    tags changed in place, the reader renamed (replaced), a new policy created."""
    old_policy = f'''
resource "aws_iam_policy" "old" {{
  name   = "infraleash-web-old-{suffix}"
  policy = jsonencode({{Version = "2012-10-17", Statement = [{{Effect = "Allow", Action = "s3:ListBucket", Resource = "*"}}]}})
}}
'''
    new_policy = f'''
resource "aws_iam_policy" "new" {{
  name   = "infraleash-web-new-{suffix}"
  policy = jsonencode({{Version = "2012-10-17", Statement = [{{Effect = "Allow", Action = "s3:GetObject", Resource = "*"}}]}})
}}
'''
    return (new_policy if after else old_policy) + f'''
resource "aws_iam_role" "deployer" {{
  name               = "infraleash-web-deployer-{suffix}"
  assume_role_policy = {ROLE_POLICY}
  tags               = {{ team = "{"platform" if after else "infra"}" }}
}}

resource "aws_iam_role" "reader" {{
  name               = "infraleash-web-reader-{suffix}{"-v2" if after else ""}"
  assume_role_policy = {ROLE_POLICY}
}}
'''


@pytest.fixture(scope="module")
def planned(sandbox, plugin_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workdir whose state holds the 'before' resources in moto and whose p.tfplan is the real plan to 'after'."""
    suffix = uuid.uuid4().hex[:8]
    wd = sandbox.workdir(tmp_path_factory.mktemp("web-plan") / "infra", _config(suffix, after=False))
    sandbox.terraform(wd, "init", "-input=false", "-no-color")
    sandbox.terraform(wd, "apply", "-input=false", "-no-color", "-auto-approve")
    (wd / "main.tf").write_text(_config(suffix, after=True), encoding="utf-8")
    sandbox.terraform(wd, "plan", "-input=false", "-no-color", "-out=p.tfplan")
    return wd


@pytest.fixture(scope="module")
def artifacts() -> Path:
    base = Path(os.environ.get("INFRALEASH_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / ".artifacts")
    out = base / "web-browser"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return out


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"{CHROMIUM} / {CHROMEDRIVER} missing: scripts/system-deps.sh installs chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager download a browser or driver
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1600"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def _click_to_next_page(driver: Any, element: Any) -> None:
    """Click, then wait until the browser has left the page (no element of the old page is used after it)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(old))


def _cli(*argv: str, env: dict[str, str] | None = None) -> str:
    exe = str(Path(sys.executable).parent / "infraleash")
    proc = subprocess.run([exe, *argv], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_log_in_see_the_plan_review_approve_then_the_runner_applies_it_once(
        planned: Path, sandbox, browser, artifacts: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    db = f"sqlite:///{tmp_path / 'server.db'}"
    server = ServerProcess(db, tmp_path / "data", tmp_path / "server.log")
    try:
        assert f"approvers log in on {server.url}/login" in server.banner()
        _cli("server", "user", "create", "Alice", "--role", "approver", "--env", "prod", "--database-url", db,
             env={"INFRALEASH_SERVER_USER_PASSWORD": PASSWORD})
        token = _cli("server", "token", "create", "--name", "ci-agent", "--role", "agent", "--database-url", db
                     ).strip().splitlines()[-1]
        plan_file = planned / "p.tfplan"
        plan_sha = hashlib.sha256(plan_file.read_bytes()).hexdigest()
        plan_json = sandbox.terraform(planned, "show", "-json", "p.tfplan").stdout
        agent = httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                             timeout=30)
        made = agent.post("/requests", json={
            "argv": ["terraform", "apply", "p.tfplan"], "cwd": str(planned), "environment": "prod",
            "reason": f"rename the reader role {XSS}", "plan_json": plan_json, "plan_sha256": plan_sha,
            "rules": [{"id": "TF-APPLY-NEEDS-APPROVAL", "reason": "apply in prod needs a named human"}]})
        assert made.status_code == 201, made.text
        rid, review = made.json()["id"], made.json()["review"]
        assert {i["address"] for i in review["summary"]["destroy"]} == {"aws_iam_policy.old"}
        assert {i["address"] for i in review["summary"]["replace"]} == {"aws_iam_role.reader"}

        driver.get(server.url + "/requests")  # not logged in: sent to the login form
        assert "/login" in driver.current_url
        driver.save_screenshot(str(artifacts / "1-login.png"))
        driver.find_element(By.ID, "name").send_keys("alice")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        _click_to_next_page(driver, driver.find_element(By.ID, "login"))
        assert driver.current_url.endswith("/requests")
        assert driver.find_element(By.ID, "who").text == "Alice (approver: prod)"
        rows = driver.find_elements(By.CSS_SELECTOR, "tr.request")
        assert [r.get_attribute("data-id") for r in rows] == [rid]
        assert "terraform apply p.tfplan" in rows[0].text and review["verdict"] in rows[0].text
        driver.save_screenshot(str(artifacts / "2-pending.png"))

        _click_to_next_page(driver, rows[0].find_element(By.TAG_NAME, "a"))
        assert driver.current_url.endswith(f"/requests/{rid}")
        assert driver.find_element(By.ID, "argv").text == "terraform apply p.tfplan"
        assert driver.find_element(By.ID, "cwd").text == str(planned)
        assert driver.find_element(By.ID, "plan-sha").text == plan_sha
        assert "TF-APPLY-NEEDS-APPROVAL" in driver.find_element(By.ID, "rules").text
        assert driver.find_element(By.ID, "verdict").text == review["verdict"]
        assert driver.find_element(By.ID, "headline").text == review["headline"]
        assert "aws_iam_policy.old" in driver.find_element(By.ID, "summary-destroy").text
        assert "aws_iam_role.reader" in driver.find_element(By.ID, "summary-replace").text
        assert "aws_iam_role.deployer" in driver.find_element(By.ID, "summary-update").text
        assert "aws_iam_policy.new" in driver.find_element(By.ID, "summary-create").text
        if review["findings"]:
            assert len(driver.find_elements(By.CSS_SELECTOR, "#findings tbody tr")) == len(review["findings"])
        # the <script> and onerror in the reason are shown as text and never ran
        assert XSS in driver.find_element(By.ID, "reason").text
        assert driver.execute_script("return window.__pwned === undefined") is True
        assert driver.title != "pwned" and "<script>window.__pwned" not in driver.page_source.split("<body")[1]
        driver.save_screenshot(str(artifacts / "3-request.png"))

        driver.find_element(By.ID, "comment").send_keys("reviewed the plan: reader renamed, old policy goes")
        _click_to_next_page(driver, driver.find_element(By.ID, "approve"))
        assert driver.find_element(By.ID, "status").text == "approved"
        assert "Alice" in driver.find_element(By.ID, "decision").text
        assert "reviewed the plan" in driver.find_element(By.ID, "audit").text
        driver.save_screenshot(str(artifacts / "4-approved.png"))

        # the agent side: wait, re-check the plan file's hash, claim once, run exactly the claimed argv
        assert agent.get(f"/requests/{rid}/wait", params={"timeout_s": 5}).json()["status"] == "approved"
        claimed = agent.post(f"/requests/{rid}/claim", json={
            "plan_sha256": hashlib.sha256(plan_file.read_bytes()).hexdigest()})
        assert claimed.status_code == 200, claimed.text
        assert claimed.json()["argv"] == ["terraform", "apply", "p.tfplan"]
        assert agent.post(f"/requests/{rid}/claim", json={"plan_sha256": plan_sha}).status_code == 409  # replay
        ran = run_command(claimed.json()["argv"], cwd=claimed.json()["cwd"], env={}, runner=sandbox.runner(),
                          workspace=claimed.json()["cwd"])
        assert ran.exit_code == 0, ran.stderr
        assert "Apply complete! Resources: 2 added, 1 changed, 2 destroyed." in ran.stdout
        done = agent.post(f"/requests/{rid}/result", json={"exit_code": ran.exit_code,
                                                           "output_tail": ran.stdout[-2000:]})
        assert done.status_code == 200 and done.json()["status"] == "done"
        state = json.loads((planned / "terraform.tfstate").read_text(encoding="utf-8"))
        assert {(r["type"], r["name"]) for r in state["resources"]} == {
            ("aws_iam_policy", "new"), ("aws_iam_role", "deployer"), ("aws_iam_role", "reader")}

        driver.refresh()
        assert driver.find_element(By.ID, "status").text == "done"
        assert driver.find_element(By.ID, "result").text.startswith("exit code 0")
        assert driver.find_element(By.ID, "decision").text.startswith("approved by Alice")
        driver.save_screenshot(str(artifacts / "5-done.png"))
        print(f"\nweb page screenshots: {artifacts}")
    finally:
        server.stop()
