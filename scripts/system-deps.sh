#!/usr/bin/env bash
# System packages infraleash needs beyond Python: bubblewrap (bwrap), the sandbox every gated command runs in,
# PostgreSQL (the approval server's tests) and Chromium + chromedriver (its web page's browser test).
# Installs with apt-get when missing and running as root; otherwise says exactly what to install.
# Called by setup.sh (so by test.sh, demo.sh and CI).
set -euo pipefail

updated=
# apt_install WHY PACKAGE...: install with apt-get (one `apt-get update` per run); fails when not root or no apt
apt_install() {
  local why=$1; shift
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
  echo "== installing $* ($why)"
  if [ -z "$updated" ]; then apt-get update -qq; updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# patch(1): tests/surfaces/test_cli_runbook.py applies `infraleash runbook update`'s diff with it (and git apply)
if ! command -v patch >/dev/null 2>&1; then
  apt_install "the runbook patch test applies a diff with it" patch ||
    echo "warning: patch is not installed (sudo apt-get install patch); the runbook patch test will skip" >&2
fi
# PostgreSQL: the approval server's team database; its tests (tests/server/pg.py) start a real one.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt_install "the approval server's tests run on a real PostgreSQL" postgresql || {
    echo "warning: PostgreSQL binaries not found (/usr/lib/postgresql/*/bin); tests/server needs them:" >&2
    echo "  Debian/Ubuntu: sudo apt-get install postgresql" >&2
  }
fi
# Chromium + its WebDriver (Debian packages, never a browser download): the approvers' web page browser test
# (tests/server/test_web_browser.py) drives the system browser with Selenium.
if ! { command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ]; }; then
  apt_install "the approvers' web page browser test" chromium chromium-driver || {
    echo "warning: chromium/chromedriver not found; the web page browser test will skip:" >&2
    echo "  Debian/Ubuntu: sudo apt-get install chromium chromium-driver" >&2
  }
fi
if command -v bwrap >/dev/null 2>&1 && bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all true 2>/dev/null; then
  exit 0
fi
if ! command -v bwrap >/dev/null 2>&1; then
  apt_install "the sandbox for every command the gate runs" bubblewrap || {
    echo "error: bubblewrap (bwrap) is not installed and this script cannot install it (needs root and apt-get)." >&2
    echo "  Debian/Ubuntu: sudo apt-get install bubblewrap   Fedora: sudo dnf install bubblewrap" >&2
    echo "  Arch: sudo pacman -S bubblewrap                   Alpine: sudo apk add bubblewrap" >&2
    echo "  infraleash refuses to run commands without it (SANDBOX-UNAVAILABLE) unless the runner" >&2
    echo "  configuration says sandbox: {mode: off, reason: ...}." >&2
    exit 1
  }
fi
if ! err=$(bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all true 2>&1); then
  echo "error: bubblewrap is installed but cannot build a sandbox here: ${err}" >&2
  echo "  it needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or" >&2
  echo "  kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu 24.04+) or to run as root." >&2
  exit 1
fi
