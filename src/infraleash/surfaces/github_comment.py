"""One pull-request comment per PR, created once and then updated (Atlantis-style), found by a hidden marker.

    python -m infraleash.surfaces.github_comment --file review.md

What the GitHub Action (``action.yml``) runs after ``review --format markdown``.  It reads the
environment a workflow step sees: ``GITHUB_API_URL`` (default https://api.github.com),
``GITHUB_REPOSITORY`` (``owner/name``), ``GITHUB_EVENT_PATH`` (the event JSON: the number of its
``pull_request`` or ``issue``) and ``GITHUB_TOKEN``.  It lists the issue's comments
(``GET /repos/{o}/{r}/issues/{n}/comments``, following every ``Link: rel="next"`` page), and
``PATCH /repos/{o}/{r}/issues/comments/{id}`` the first one whose body holds
``<!-- infraleash-review -->``, else ``POST``s a new one.  Not a pull request (a push event):
says so and exits 0.  Missing environment, an unreadable file or a refused request: one line, exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

MARKER = "<!-- infraleash-review -->"
DEFAULT_API = "https://api.github.com"


class CommentError(Exception):
    """A one-line reason the comment could not be written."""


@dataclass(frozen=True)
class Target:
    api: str
    repository: str
    number: int
    token: str


def target_from_env(env: dict[str, str]) -> Target | None:
    """Where to comment, from the workflow's environment; ``None`` when the event is not a PR or an issue."""
    missing = [k for k in ("GITHUB_REPOSITORY", "GITHUB_EVENT_PATH", "GITHUB_TOKEN") if not env.get(k)]
    if missing:
        raise CommentError(f"{', '.join(missing)} not set (run inside a GitHub Actions step, with github-token)")
    path = env["GITHUB_EVENT_PATH"]
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CommentError(f"{path}: cannot read the event: {e}") from None
    subject = event.get("pull_request") or event.get("issue") or {}
    number = subject.get("number") if isinstance(subject, dict) else None
    if not isinstance(number, int):
        return None
    return Target(env.get("GITHUB_API_URL") or DEFAULT_API, env["GITHUB_REPOSITORY"], number, env["GITHUB_TOKEN"])


def _check(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        detail = response.text.strip().replace("\n", " ")[:200]
        raise CommentError(f"{what}: HTTP {response.status_code} {detail}")
    return response.json()


def find_comment(client: httpx.Client, target: Target) -> int | None:
    """The id of the first comment holding the marker, reading every page."""
    url: str | None = f"/repos/{target.repository}/issues/{target.number}/comments"
    params: dict[str, Any] | None = {"per_page": 100}
    while url:
        response = client.get(url, params=params)
        for comment in _check(response, f"GET {url}"):
            if MARKER in (comment.get("body") or ""):
                return int(comment["id"])
        url = response.links.get("next", {}).get("url")
        params = None  # the next link carries its own query
    return None


def upsert(target: Target, markdown: str, *, transport: httpx.BaseTransport | None = None) -> tuple[str, int]:
    """Create or update the one comment; ``("created" | "updated", id)``."""
    body = f"{MARKER}\n{markdown}"
    headers = {"Authorization": f"Bearer {target.token}", "Accept": "application/vnd.github+json",
               "X-GitHub-Api-Version": "2022-11-28"}
    with httpx.Client(base_url=target.api, headers=headers, timeout=30, transport=transport) as client:
        existing = find_comment(client, target)
        if existing is not None:
            url = f"/repos/{target.repository}/issues/comments/{existing}"
            _check(client.patch(url, json={"body": body}), f"PATCH {url}")
            return "updated", existing
        url = f"/repos/{target.repository}/issues/{target.number}/comments"
        created = _check(client.post(url, json={"body": body}), f"POST {url}")
        return "created", int(created["id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infraleash.surfaces.github_comment",
                                     description="create or update infraleash's one PR comment")
    parser.add_argument("--file", required=True, type=Path, help="the markdown to post (review --format markdown)")
    args = parser.parse_args(argv)
    try:
        try:
            markdown = args.file.read_text(encoding="utf-8")
        except OSError as e:
            raise CommentError(f"{args.file}: cannot read: {e.strerror}") from None
        target = target_from_env(dict(os.environ))
        if target is None:
            print("infraleash: not a pull request or issue event; no comment written", file=sys.stderr)
            return 0
        action, cid = upsert(target, markdown)
    except CommentError as e:
        print(f"error: github comment: {e}", file=sys.stderr)
        return 2
    except httpx.HTTPError as e:
        print(f"error: github comment: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    print(f"infraleash: {action} comment {cid} on {target.repository}#{target.number}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
