"""``infraleash mcp``: serve the guarded tools to MCP clients over stdio or streamable HTTP.

    infraleash mcp --dir infra                            # stdio (Claude Code, Cursor: command + args)
    infraleash mcp --transport http --port 8765           # http://127.0.0.1:8765/mcp, bearer tokens required

Over HTTP every request needs ``Authorization: Bearer TOKEN``: an agent token of the approval server the
policy names, else one from ``--token-file`` / ``$INFRALEASH_MCP_TOKEN`` (:mod:`infraleash.surfaces.mcp_auth`).

Exit codes: 0 when the client disconnects; 2 for bad arguments or a bad policy file.
"""

from __future__ import annotations

from pathlib import Path

import typer

from infraleash.errors import UsageError
from infraleash.gate.runner_config import load_runner_config
from infraleash.surfaces.cli.exec_cmd import RUNNER_CONFIG_HELP, surface_policy


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)


def mcp(
    transport: str = typer.Option("stdio", "--transport", help="stdio or http (streamable HTTP)"),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="HTTP port (with --transport http)"),
    host: str = typer.Option("127.0.0.1", "--host", help="HTTP address to listen on (loopback by default)"),
    directory: Path = typer.Option(Path("."), "--dir", help="the workspace the tools work in"),
    runner_config: Path = typer.Option(None, "--runner-config", help=RUNNER_CONFIG_HELP),
    token_file: Path = typer.Option(None, "--token-file", help="with --transport http and no approval server: "
                                    "accepted bearer tokens, one per line (or sha256:HEX); default "
                                    "$INFRALEASH_MCP_TOKEN_FILE, or the one token in $INFRALEASH_MCP_TOKEN"),
) -> int:
    """Serve infraleash's guarded tools over MCP: same gate, approvals and audit as our own agent."""
    if transport not in ("stdio", "http"):
        raise UsageError(f"--transport {transport}: expected stdio or http")
    if not directory.is_dir():
        raise UsageError(f"--dir {directory}: not a directory")
    try:
        from infraleash.surfaces.mcp import build_server, serve_http, serve_stdio
        from infraleash.surfaces.mcp_auth import token_checker
    except ImportError as e:  # pragma: no cover - the mcp extra is missing
        raise UsageError(f"the MCP server needs the mcp extra: pip install 'infraleash[mcp]' ({e})") from None
    runner = load_runner_config(runner_config, workspace=directory)
    policy = surface_policy(runner, None, directory)
    check = token_checker(policy, token_file) if transport == "http" else None
    server = build_server(directory, policy, runner=runner)
    if check is None:
        serve_stdio(server)
    else:
        serve_http(server, check=check, host=host, port=port)
    return 0
