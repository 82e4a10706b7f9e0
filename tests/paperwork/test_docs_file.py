"""Injecting between terraform-docs' markers and spotting a stale file."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.errors import InputError
from infraleash.paperwork.docs_file import BEGIN, END, inject, stale_diff, write


def test_only_the_text_between_the_markers_changes() -> None:
    old = f"# Title\n\nIntro by hand.\n\n{BEGIN}\nold table\n{END}\n\n## Notes\nkept\n"
    new = inject(old, "new table")
    assert new == f"# Title\n\nIntro by hand.\n\n{BEGIN}\nnew table\n{END}\n\n## Notes\nkept\n"


def test_a_file_without_markers_gets_the_block_appended() -> None:
    assert inject("# Title\n", "t") == f"# Title\n\n{BEGIN}\nt\n{END}\n"
    assert inject(None, "t") == f"{BEGIN}\nt\n{END}\n"


def test_one_marker_alone_is_an_input_error_with_a_line() -> None:
    with pytest.raises(InputError, match=r"README.md:3: .*END_TF_DOCS --> missing"):
        inject(f"a\nb\n{BEGIN}\nx\n", "t", file="README.md")


def test_stale_diff_and_write(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{BEGIN}\nold\n{END}\n", encoding="utf-8")
    diff = stale_diff(readme, "new")
    assert "-old" in diff and "+new" in diff
    assert write(readme, "new") is True
    assert stale_diff(readme, "new") == ""
    assert write(readme, "new") is False
    assert readme.read_text(encoding="utf-8") == f"intro\n{BEGIN}\nnew\n{END}\n"
