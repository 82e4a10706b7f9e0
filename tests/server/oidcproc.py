"""A real OpenID Connect provider for the tests: npm ``oidc-provider`` (installed by scripts/setup.sh under
.venv/node) run by node with tests/server/oidc_provider.mjs on a free loopback port; stopped by its PID.

``login_through(provider, start_url, login)`` plays the user agent through the provider's development
login and consent forms (any login name becomes the ``sub``) and returns the redirect back to the client."""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .pg import free_port

MODULE = Path(sys.prefix) / "node" / "node_modules" / "oidc-provider"
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="post"', re.S)


class OidcProvider:
    def __init__(self, log: Path, client_id: str, client_secret: str, redirect_uri: str) -> None:
        node = shutil.which("node")
        if node is None or not MODULE.is_dir():
            pytest.skip(f"a real OIDC provider needs node and {MODULE} (scripts/setup.sh installs oidc-provider)")
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen([node, str(SCRIPT), str(MODULE), str(self.port), client_id, client_secret,
                                          redirect_uri], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"oidc-provider did not start within 30 s: {log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def login_through(provider: OidcProvider, start_url: str, login: str) -> str:
    """Follow the provider from the authorization URL through login and consent; the URL it sends us back to."""
    with httpx.Client(base_url=provider.issuer, timeout=10) as ua:
        url = start_url
        for _ in range(20):
            if not url.startswith(provider.issuer) and not url.startswith("/"):
                return url  # back at the client (the redirect_uri)
            r = ua.get(url)
            if r.is_redirect:
                url = r.headers["location"]
                continue
            assert r.status_code == 200, r.text[:500]
            m = _FORM.search(r.text)
            assert m, r.text[:500]
            data = ({"prompt": "login", "login": login, "password": "any"} if 'name="login"' in r.text
                    else {"prompt": "consent"})
            r = ua.post(html.unescape(m.group(1)), data=data)
            assert r.is_redirect, r.text[:500]
            url = r.headers["location"]
    raise AssertionError("the provider never redirected back")
