"""Template miner: typed masking, grouping, refinement, stable ids, bounded memory, Loghub-2k floor."""

from __future__ import annotations

import csv
import json
import re
import time
from collections import defaultdict
from pathlib import Path

import pytest

from infraleash.logs.header import split_header
from infraleash.logs.masking import mask
from infraleash.logs.miner import TemplateMiner, merge_tokens, mine

LOGHUB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "loghub2k"


def _types(content: str) -> list[tuple[str, str]]:
    return [(v.type, v.value) for v in mask(content)[1]]


# -- masking -----------------------------------------------------------------------------------------


def test_mask_types_ip_and_port_separately():
    tokens, _ = mask("upstream 10.2.3.4:5432 refused")
    assert tokens == ["upstream", "<*>:<*>", "refused"]
    assert _types("upstream 10.2.3.4:5432 refused") == [("ip", "10.2.3.4"), ("port", "5432")]


@pytest.mark.parametrize(
    ("content", "masked", "types"),
    [
        ("pod 3f2b9c1e-8d4a-4c1b-9e2f-0a1b2c3d4e5f evicted", "pod <*> evicted", ["uuid"]),
        ("request took 12ms", "request took <*>", ["duration"]),
        ("slow query 3.5s on shard 7", "slow query <*> on shard <*>", ["duration", "number"]),
        ("open /var/lib/postgresql/data/pg_wal failed", "open <*> failed", ["path"]),
        ("GET https://api.example.com/v1/users?id=4 ok", "GET https://<*> ok", ["url"]),
        ("mail to oncall@example.com queued", "mail to <*> queued", ["email"]),
        ("handle @0x7ff1b2d17980 released", "handle @<*> released", ["hex"]),
        ("peer fe80::1ff:fe23:4567:890a down", "peer <*> down", ["ipv6"]),
        ("resolved db-2.prod.example.com", "resolved <*>", ["host"]),
        ("enabled=true retries=-3", "enabled=<*> retries=<*>", ["bool", "number"]),
        ("Served block blk_-1608999687919862906 to /10.250.19.102", "Served block <*> to <*>", ["id", "path"]),
        ("backup started at Sat Jul 9 22:53:22 2005 by cron", "backup started at <*> by cron", ["datetime"]),
        ("cache size 512 KB free", "cache size <*> free", ["size"]),
    ],
)
def test_mask_detects_typed_variables(content, masked, types):
    tokens, variables = mask(content)
    assert " ".join(tokens) == masked
    assert [v.type for v in variables] == types


def test_mask_keeps_constant_words_and_class_names():
    tokens, variables = mask("Added filter (class=org.apache.hadoop.http.Filter) on eth1")
    assert variables == []
    assert " ".join(tokens) == "Added filter (class=org.apache.hadoop.http.Filter) on eth1"


def test_merge_tokens_keeps_common_prefix_at_a_delimiter():
    assert merge_tokens("user=root", "user=guest") == "user=<*>"
    assert merge_tokens("HTTPS", "SOCKS5") == "<*>"
    assert merge_tokens("(<*>)", "(eadmin1)") == "(<*>)"


# -- grouping ----------------------------------------------------------------------------------------


def test_lines_differing_in_numbers_share_a_template_with_typed_variables():
    miner = TemplateMiner()
    a = miner.add("Connection pool exhausted: 50 of 50 in use, waited 2300ms")
    b = miner.add("Connection pool exhausted: 50 of 64 in use, waited 120ms")
    c = miner.add("Payment 8812 declined by issuer")
    assert a.template_id == b.template_id != c.template_id
    assert a.template == "Connection pool exhausted: <*> of <*> in use, waited <*>"
    assert [(v.type, v.value) for v in b.variables] == [("number", "50"), ("number", "64"), ("duration", "120ms")]
    assert {t.template: t.count for t in miner.templates()} == {
        "Connection pool exhausted: <*> of <*> in use, waited <*>": 2,
        "Payment <*> declined by issuer": 1,
    }


def test_word_variable_is_refined_and_ids_stay_stable():
    miner = TemplateMiner()
    first = miner.add("session opened for user alice by sshd")
    second = miner.add("session opened for user bob by sshd")
    assert first.template_id != second.template_id  # two values could still be two events
    third = miner.add("session opened for user carol by sshd")
    # the third distinct name makes the position a variable: all three groups are one now
    assert miner.group_of(first.template_id) == miner.group_of(second.template_id) == third.template_id
    assert miner.final_template(first.template_id) == "session opened for user <*> by sshd"
    assert third.template == "session opened for user <*> by sshd"
    assert [(v.type, v.value) for v in third.variables] == [("string", "carol")]
    assert len(miner.templates()) == 1 and miner.templates()[0].count == 3


def test_positions_learned_as_variables_let_lines_that_differ_in_two_of_them_join():
    miner = TemplateMiner()
    first = miner.add("release lock tag=A1 name=android uid=1000")
    for tag in ("B2", "C3"):
        miner.add(f"release lock tag={tag} name=android uid=1000")
    assert miner.final_template(first.template_id) == "release lock tag=<*> name=android uid=<*>"
    # tag and name change together here: no two of these differ in one position only
    late = [miner.add(f"release lock tag={t} name={n} uid=1000") for t, n in
            (("RILJ_ACK_WL", "com.android.phone"), ("AudioMix", "audioserver"), ("ViewLock", "systemui"))]
    assert {miner.group_of(m.template_id) for m in late} == {first.template_id}  # the first id is kept
    assert miner.final_template(first.template_id) == "release lock tag=<*> name=<*> uid=<*>"
    joined = miner.add("release lock tag=WakeLock name=bluetooth uid=1002")  # now joins at once
    assert joined.template_id == first.template_id and len(miner.templates()) == 1


def test_short_lines_need_more_distinct_values_before_a_word_is_a_variable():
    miner = TemplateMiner()
    services = ["chargen", "daytime", "echo", "time", "eklogin", "ftp", "klogin"]
    ids = [miner.add(f"removing {s}").template_id for s in services[:6]]
    assert len({miner.group_of(i) for i in ids}) == 6  # one constant word: six names could be six events
    miner.add(f"removing {services[6]}")
    assert {t.template for t in miner.templates()} == {"removing <*>"}
    assert {miner.group_of(i) for i in ids} == {ids[0]}


def test_two_alternating_keywords_stay_separate_events():
    lines = [f"www.example.com:{443 + i} open through proxy proxy.corp.example.com:5070 {kind}"
             for i, kind in enumerate(["HTTPS", "SOCKS5"] * 10)]
    matches = mine(lines)
    templates = {m.template for m in matches}
    assert templates == {"<*>:<*> open through proxy <*>:<*> HTTPS", "<*>:<*> open through proxy <*>:<*> SOCKS5"}


def test_capitalised_alternatives_are_not_merged_but_lowercase_names_are():
    verbs = [f"[instance: {i:08x}-0000-4000-8000-000000000000] VM {v} (Lifecycle Event)"
             for i, v in enumerate(["Started", "Paused", "Resumed", "Stopped"])]
    users = [f"Accepted publickey for {u} from 10.0.0.{i} port 22 ssh2"
             for i, u in enumerate(["deploy", "ci", "alice", "bob"])]
    got = {m.template for m in mine(verbs + users)}
    assert "Accepted publickey for <*> from <*> port <*> ssh2" in got
    assert {f"[instance: <*>] VM {v} (Lifecycle Event)" for v in ["Started", "Paused", "Resumed", "Stopped"]} <= got


def test_mine_reports_the_final_template_for_early_lines():
    lines = [f"disk quota exceeded for tenant {name} on vol-{i}" for i, name in enumerate(["acme", "globex", "initech"])]
    matches = mine(lines)
    assert {m.template for m in matches} == {"disk quota exceeded for tenant <*> on vol-<*>"}
    assert len({m.template_id for m in matches}) == 1


def test_match_does_not_learn():
    miner = TemplateMiner()
    miner.add("worker 3 heartbeat ok")
    assert miner.match("worker 17 heartbeat ok").template == "worker <*> heartbeat ok"  # type: ignore[union-attr]
    assert miner.match("completely different line") is None
    assert [t.count for t in miner.templates()] == [1]


def test_memory_grows_with_templates_not_lines():
    miner = TemplateMiner(cache_size=64)
    for i in range(30_000):
        miner.add(f"GET /api/orders/{i} 200 {i % 997}ms from 10.{i % 250}.{i % 7}.{i % 13}")
        miner.add(f"db timeout after {i % 5000}ms on replica-{i % 3}")
    assert len(miner.templates()) == 2
    assert len(miner._cache) <= 64
    assert len(miner._raw_tokens) <= 4


# -- header ------------------------------------------------------------------------------------------


def test_split_header_with_a_loghub_format():
    fields, content = split_header(
        "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38 terminating",
        "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    )
    assert fields == {"Date": "081109", "Time": "203615", "Pid": "148", "Level": "INFO",
                      "Component": "dfs.DataNode$PacketResponder"}
    assert content == "PacketResponder 1 for block blk_38 terminating"


@pytest.mark.parametrize(
    ("line", "level", "content"),
    [
        ("2024-03-02T02:17:33.120Z ERROR pool: connection pool exhausted", "ERROR", "connection pool exhausted"),
        ("Jun 14 15:16:01 combo sshd[19939]: authentication failure; user=root", None,
         "authentication failure; user=root"),
        ("2024-03-02 02:17:35,001 WARN  db timeout after 3000ms", "WARN", "db timeout after 3000ms"),
        ("no header here at all", None, "no header here at all"),
    ],
)
def test_split_header_generic(line, level, content):
    fields, got = split_header(line)
    assert got == content
    assert fields.get("level") == level


# -- Loghub-2k floor (a few seconds; the full comparison is bench/loghub_drain3.py) --------------------


def _normalise(t: str) -> str:
    t = re.sub(r"\s+", " ", t.strip())
    while "<*><*>" in t:
        t = t.replace("<*><*>", "<*>")
    return t


def test_loghub2k_average_accuracy_floor():
    if not (LOGHUB / "settings.json").exists():
        pytest.skip(f"Loghub-2k not found at {LOGHUB} (expected ../shared beside the repo)")
    settings = json.loads((LOGHUB / "settings.json").read_text(encoding="utf-8"))["datasets"]
    ga_sum = pa_sum = 0.0
    t0 = time.perf_counter()
    for name, st in settings.items():
        lines = (LOGHUB / st["log_file"]).read_text(encoding="utf-8").splitlines()
        with (LOGHUB / name / f"{name}_2k.log_structured_corrected.csv").open(encoding="utf-8", newline="") as f:
            truth = [_normalise(r["EventTemplate"]) for r in csv.DictReader(f)]
        matches = mine(split_header(line, st["log_format"])[1] for line in lines)
        by_pred: dict[int, set[int]] = defaultdict(set)
        by_truth: dict[str, set[int]] = defaultdict(set)
        for i, m in enumerate(matches):
            by_pred[m.template_id].add(i)
            by_truth[truth[i]].add(i)
        ga_sum += sum(len(s) for s in by_pred.values() if by_truth[truth[min(s)]] == s) / len(truth)
        pa_sum += sum(_normalise(m.template) == t for m, t in zip(matches, truth, strict=True)) / len(truth)
    n = len(settings)
    print(f"Loghub-2k: GA {ga_sum / n:.3f} PA {pa_sum / n:.3f} in {time.perf_counter() - t0:.1f}s")
    assert ga_sum / n >= 0.929  # not below the figures before the generalisation work (0.929 / 0.781)
    assert pa_sum / n >= 0.781


# -- cache key: lines that share a key must mask alike ----------------------------------------------

_HEX_RUN = re.compile(r"[0-9a-fA-F]{6,}")


def _rehex(content: str, seed: int) -> str:
    """``content`` with every run of 6+ hex characters replaced by another hex run of the same length."""
    import random

    rng = random.Random(seed)

    def repl(m: re.Match[str]) -> str:
        return "".join(rng.choice("0123456789abcdef" if c.islower() or c.isdigit() else "0123456789ABCDEF")
                       for c in m.group(0))

    return _HEX_RUN.sub(repl, content)


def test_lines_that_share_a_cache_key_mask_to_the_same_template():
    """The miner caches raw groups by a key with digits and standalone hex runs normalised; every pair of
    lines with one key must mask identically, or a line would be put in another line's group.  (Up to the
    digits of constants: ``Package_for_KB3182203`` keeps the spelling of its first line, by design.)"""
    from infraleash.logs.miner import _BYTE_DIGITS, _hex_key

    contents = [
        "request_id=56d050cd67601367 method=GET status=200", "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "pod 3f2b9c1e-8d4a-4c1b-9e2f-0a1b2c3d4e5f evicted", "release v1.2.123456a rolled out", "commit abc1234def done",
        "image sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 pulled",
        "ip fe80::1ff:fe23:4567:890a up", "mac 00:1a:2b:3c:4d:5e", "host a1b2c3.example.com ok", "0xdeadbeef12 read",
        "blk_-1608999687919862906 served", "token 1234567d expired", "file /var/run/abcdef12/pid", "sum=ABCDEF1234?",
        "x deadbeef cafe12 y", "queue depth 512 KB", "at Sat Jul 9 22:53:22 2005 done",
    ]
    if (LOGHUB / "settings.json").exists():
        settings = json.loads((LOGHUB / "settings.json").read_text(encoding="utf-8"))["datasets"]
        for st in settings.values():
            lines = (LOGHUB / st["log_file"]).read_text(encoding="utf-8").splitlines()
            contents += [split_header(line, st["log_format"])[1] for line in lines[:400]]
    by_key: dict[str, set[str]] = defaultdict(set)
    for content in contents:
        for variant in (content, _rehex(content, 1), _rehex(content, 2)):
            key = _hex_key(variant.encode("utf-8").translate(_BYTE_DIGITS).decode("utf-8"))
            by_key[key].add(" ".join(mask(variant)[0]).encode("utf-8").translate(_BYTE_DIGITS).decode("utf-8"))
    clashes = {k: v for k, v in by_key.items() if len(v) > 1}
    assert not clashes, list(clashes.items())[:3]
    assert len(by_key) < 3 * len(contents)  # the hex variants really share keys
