"""``infraleash docs MODULE_DIR [--output-file F] [--check] [-r]``: terraform-docs compatible module docs.

Prints terraform-docs' default markdown table for the module (Requirements, Providers,
Modules, Resources, Inputs, Outputs).  ``--output-file README.md`` writes it into that
file of each module directory, between ``<!-- BEGIN_TF_DOCS -->`` and
``<!-- END_TF_DOCS -->`` (the rest of the file is left alone).  ``--check`` writes
nothing: it prints a unified diff for each stale file.  ``-r`` documents every module
directory under MODULE_DIR.  ``--prose`` (with a model configured: ``--model``,
INFRALEASH_MODEL_PROVIDER/INFRALEASH_MODEL, or infraleash.yaml's ``model:``) prints a
fact-checked "What this module is for" section before the table, on stdout only: model text
changes from run to run, so it is never written into a file that ``--check`` compares.

Exit codes: 0 done (or every file current), 1 ``--check`` found a stale file,
2 usage or input error (not a module, malformed HCL with file:line, unreadable file).
"""

from __future__ import annotations

from pathlib import Path

import typer

from infraleash.errors import ExitCode, UsageError
from infraleash.paperwork import docs_file
from infraleash.paperwork.docs import render
from infraleash.paperwork.factcheck import FactSet, model_section
from infraleash.paperwork.module_facts import module_dirs, read_module


def register(app: typer.Typer) -> None:
    app.command("docs")(docs_command)


def docs_command(
    module_dir: Path = typer.Argument(..., help="the Terraform module directory"),
    output_file: str | None = typer.Option(None, "--output-file",
                                           help="file in each module directory to inject into (e.g. README.md)"),
    check: bool = typer.Option(False, "--check", help="write nothing; exit 1 with a diff when a file is stale"),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="every module directory under MODULE_DIR"),
    prose: bool = typer.Option(False, "--prose", help="ask the configured model for a fact-checked "
                               "'What this module is for' paragraph (stdout only)"),
    model: str | None = typer.Option(None, "--model", help="PROVIDER:NAME for --prose (default: the configured model)"),
) -> int:
    """Module documentation in terraform-docs' markdown table format (a drop-in for `terraform-docs markdown table`)."""
    if check and output_file is None:
        raise UsageError("--check needs --output-file (the file to compare, e.g. README.md)")
    if output_file is not None and (Path(output_file).is_absolute() or Path(output_file).name != output_file):
        raise UsageError(f"--output-file must be a file name inside the module directory (got {output_file!r})")
    if prose and output_file is not None:
        raise UsageError("--prose prints to stdout only (model text changes run to run; --check would always fail)")
    writer = None
    if prose:
        from infraleash.policy import load_policy
        from infraleash.surfaces.cli.model_prose import configured_writer

        writer = configured_writer(load_policy(search_from=module_dir).model, model)
        if writer is None:
            typer.echo("no model configured: printing the deterministic docs only "
                       "(set INFRALEASH_MODEL_PROVIDER and INFRALEASH_MODEL, or --model)", err=True)
    directories = module_dirs(module_dir) if recursive else [module_dir]
    stale = 0
    for directory in directories:
        content = render(read_module(directory))
        if output_file is None:
            if recursive:
                typer.echo(f"<!-- {directory} -->")
            section, _ = model_section(writer, f"say in 2 to 4 sentences what the Terraform module {directory.name} "
                                       "is for and what it creates", content,
                                       FactSet.from_texts(content.replace("\\_", "_")),
                                       "What this module is for")
            if section:
                typer.echo(section)
            typer.echo(content)
            continue
        target = directory / output_file
        if check:
            diff = docs_file.stale_diff(target, content)
            if diff:
                stale += 1
                typer.echo(diff, nl=False)
        elif docs_file.write(target, content):
            typer.echo(f"{target}: updated", err=True)
    if check:
        typer.echo(f"{stale} of {len(directories)} file(s) stale" if stale else
                   f"{len(directories)} file(s) current", err=True)
        return ExitCode.FINDINGS if stale else ExitCode.OK
    return ExitCode.OK
