from __future__ import annotations

from infraleash.logs.anomalies import source_rates
from infraleash.logs.correlation import attribution, lead_lag, negative_facts, timeline, window_text
from infraleash.logs.series import Collector

from .test_anomalies import add, at

NAMES = {0: "GET <*>", 1: "pool exhausted", 2: "db timeout", 3: "cache miss", 4: "payment ok"}


def _incident() -> Collector:
    c = Collector()
    for s in range(0, 1500, 10):
        add(c, s, 0, host=f"h{1 + (s // 10) % 3}", source="api.log")
        add(c, s + 3, 4, host="pay-1", source="payment.log")
    for i in range(30):  # pool exhaustion on h2 every 7 s from 02:15:00
        add(c, 900 + 7 * i, 1, host="h2", level="error", source="api.log")
    for i in range(0, 30, 2):  # a db timeout 4 or 5 s after every second one
        add(c, 900 + 7 * i + (4 if i % 4 == 0 else 5), 2, host="db1", level="error", source="db.log")
    return c


def test_a_follower_is_found_with_its_lag_range_and_counts() -> None:
    c = _incident()
    (ll,) = lead_lag(c, [1, 2], NAMES)
    assert (ll.leader_id, ll.follower_id, ll.leader_first, ll.follower_first) == (1, 2, at(900), at(904))
    assert (ll.leader_count, ll.follower_count, ll.matched, ll.lag_low, ll.lag_high) == (30, 15, 15, 4, 5)
    assert ll.summary.startswith("pool exhausted starts 02:15:00, 30 occurrences; db timeout follows 4–5 s later")


def test_a_leader_that_covers_the_whole_window_explains_nothing() -> None:
    c = _incident()
    # GET <*> happens every 10 s all along: every timeout is within 10 s of one, but so is everything else
    assert [(r.leader_id, r.follower_id) for r in lead_lag(c, [0, 2], NAMES)] == []


def test_events_that_do_not_follow_are_not_correlated() -> None:
    c = _incident()
    for i in range(10):  # cache misses long before the pool trouble
        add(c, 100 + 20 * i, 3, host="h1", level="error", source="api.log")
    pairs = {(r.leader_id, r.follower_id) for r in lead_lag(c, [1, 2, 3], NAMES)}
    assert pairs == {(1, 2)}


def test_attribution_and_negative_facts() -> None:
    c = _incident()
    atts = attribution(c, [1, 2], NAMES)
    assert [(a.template_id, a.only, a.origins) for a in atts] == [(1, "h2", {"h2": 30}), (2, "db1", {"db1": 15})]
    facts = negative_facts(c, source_rates(c, 60), atts, window_text(c.first_time, c.last_time))
    messages = [f.message for f in facts]
    assert "no errors and no warnings from payment in this window (2026-11-24 02:00:00–02:24:53 UTC; " \
           "150 records)" in messages
    assert "pool exhausted: only on h2; none on h1, h3" in messages
    assert "no lines from db.log after 02:18:20 (the input runs to 02:24:53)" in messages
    assert not any("db timeout" in m for m in messages)  # db1 is the only db host: nothing absent


def test_a_source_that_went_silent_is_a_negative_fact_and_on_the_timeline() -> None:
    c = _incident()
    for s in range(0, 600, 15):
        add(c, s, 3, host="cache-1", source="cache.log")
    rates = source_rates(c, 60)
    facts = negative_facts(c, rates, [], window_text(c.first_time, c.last_time))
    silent = {f.subject: f.message for f in facts if f.kind == "silent"}
    assert silent == {"cache.log": "no lines from cache.log after 02:09:45 (the input runs to 02:24:53)",
                      "db.log": "no lines from db.log after 02:18:20 (the input runs to 02:24:53)"}
    events = timeline([], [], rates, [], facts, c)
    assert [(e.time, e.kinds, e.subject) for e in events if "silent" in e.kinds] == [
        (at(585), ["silent"], "cache.log"), (at(1100), ["silent"], "db.log")]
