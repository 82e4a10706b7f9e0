"""The markdown stays under GitHub's comment limit and says which section was cut (never silently)."""

from __future__ import annotations

from infraleash.findings import Verdict
from infraleash.paperwork.pr_description import GITHUB_COMMENT_LIMIT, PrDescription


def test_a_huge_change_list_is_truncated_with_a_note() -> None:
    creates = [{"address": f'aws_s3_bucket.logs["tenant-{i:05d}"]', "detail": ""} for i in range(5000)]
    pr = PrDescription(summary="**5000 to create**; review verdict: allow", verdict=Verdict.ALLOW,
                       changes={"create": creates}, risks=[], checks=["c"], rollout=[], diffstat=" main.tf | 9 +")
    text = pr.markdown()
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "## Changes" in text and "_(section truncated:" in text and "characters left out" in text
    assert 'aws_s3_bucket.logs["tenant-00000"]' in text and 'tenant-04999' not in text
    assert "## Diff" in text  # later sections still there
    small = PrDescription(summary="s", verdict=Verdict.ALLOW, changes={"create": creates[:3]}, risks=[],
                          checks=["c"], rollout=[], diffstat=None).markdown()
    assert "truncated" not in small
