"""``infraleash mcp``: serve the guarded tools to MCP clients over stdio or streamable HTTP.

    infraleash mcp --dir infra                            # stdio (Claude Code, Cursor: command + args)
    infraleash mcp --transport http --port 8765           # http://127.0.0.1:8765/mcp

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
) -> int:
    """Serve infraleash's guarded tools over MCP: same gate, approvals and audit as our own agent."""
    if transport not in ("stdio", "http"):
        raise UsageError(f"--transport {transport}: expected stdio or http")
    if not directory.is_dir():
        raise UsageError(f"--dir {directory}: not a directory")
    try:
        from infraleash.surfaces.mcp import build_server, serve_http, serve_stdio
    except ImportError as e:  # pragma: no cover - the mcp extra is missing
        raise UsageError(f"the MCP server needs the mcp extra: pip install 'infraleash[mcp]' ({e})") from None
    runner = load_runner_config(runner_config, workspace=directory)
    server = build_server(directory, surface_policy(runner, None, directory), runner=runner)
    if transport == "stdio":
        serve_stdio(server)
    else:
        serve_http(server, host=host, port=port)
    return 0
