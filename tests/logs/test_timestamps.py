from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from infraleash.logs.timestamps import FORMAT_NAMES, TimestampDetector, epoch_to_datetime, parse_time

T = datetime(2026, 11, 24, 2, 17, 33, tzinfo=UTC)


@pytest.mark.parametrize(("line", "fmt", "expected"), [
    ("2026-11-24T02:17:33Z GET /", "iso8601", T),
    ("2026-11-24 02:17:33 GET /", "iso8601", T),
    ("2026-11-24T02:17:33.250+01:00 x", "iso8601",
     datetime(2026, 11, 24, 2, 17, 33, 250000, tzinfo=timezone(timedelta(hours=1)))),
    ("2026-11-24T02:17:33.123456789Z x", "iso8601", T.replace(microsecond=123456)),
    ("2026-11-24 02:17:33,123 INFO x", "log4j", T.replace(microsecond=123000)),
    ("2026/11/24 02:17:33 [error] 1#1: x", "slashed", T),
    ('10.0.0.1 - - [24/Nov/2026:02:17:33 +0000] "GET / HTTP/1.1" 200', "apache", T),  # after a prefix
    ("[24/Nov/2026:02:17:33 +0200] GET", "apache", T.replace(tzinfo=timezone(timedelta(hours=2)))),
    ("[Tue Nov 24 02:17:33 2026] [error] x", "apache_err", T),
    ("Nov 24 02:17:33 h1 sshd[1]: x", "syslog", T),
    ("I1124 02:17:33.000001   1 main.go:1] x", "klog", T.replace(microsecond=1)),
    ("11-24 02:17:33.500  1702  2395 D Tag: x", "android", T.replace(microsecond=500000)),
    ("261124 021733 148 INFO x", "yymmdd", T),
    ("26/11/24 02:17:33 INFO x", "yy_slash", T),
    ("2026-11-24 02:17:33, Info  CBS  Loaded", "iso8601", T),
    ("20261124-02:17:33:606|Step_LSC|30002312|x", "compact", T.replace(microsecond=606000)),
    ("[11.24 02:17:33] chrome.exe - proxy", "month_dot", T),
    ("1795486653 x", "epoch", T),
    ("1795486653000 x", "epoch", T),
])
def test_each_format_is_detected_with_its_exact_time(line: str, fmt: str, expected: datetime | None) -> None:
    found = TimestampDetector(year=2026).find(line)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert (found.format, found.time) == (fmt, expected)
    assert found.time.tzinfo is not None


def test_a_short_prefix_before_an_iso_timestamp_is_skipped() -> None:
    found = TimestampDetector().find("api-1  | 2026-11-24T02:17:33Z ready")
    assert found is not None and found.time == T


def test_the_detected_format_is_reused_and_a_different_line_falls_back() -> None:
    d = TimestampDetector(year=2026)
    assert d.find("Nov 24 02:17:33 h1 a") is not None
    assert d.format == "syslog"
    assert d.find("Nov 24 02:17:34 h1 b") is not None and d.format == "syslog"
    other = d.find("2026-11-24T02:17:35Z c")
    assert other is not None and other.format == "iso8601" and d.format == "iso8601"


def test_syslog_year_is_inferred_and_rolls_over_at_new_year() -> None:
    d = TimestampDetector(year=2025)
    dec = d.find("Dec 31 23:59:59 h x")
    jan = d.find("Jan  1 00:00:01 h y")
    assert dec is not None and jan is not None
    assert dec.time.year == 2025 and jan.time == datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)


def test_impossible_dates_and_plain_text_are_not_timestamps() -> None:
    d = TimestampDetector()
    assert d.find("2026-13-45 25:00:00 nope") is None
    assert d.find("Foo 12 10:00:00 nope") is None
    assert d.find("connection reset by peer") is None
    assert d.find("12345 not an epoch") is None


def test_naive_times_use_the_default_zone() -> None:
    tz = timezone(timedelta(hours=-5))
    found = TimestampDetector(default_tz=tz).find("2026-11-24 02:17:33 x")
    assert found is not None and found.time.utcoffset() == timedelta(hours=-5)


def test_epoch_values_by_magnitude() -> None:
    for value in (1795486653, 1795486653_000, 1795486653_000_000, 1795486653_000_000_000):
        assert epoch_to_datetime(value) == T
    assert epoch_to_datetime(42) is None
    d = TimestampDetector()
    assert d.parse_value(1795486653.5) == T.replace(microsecond=500000)
    assert d.parse_value("1795486653") == T
    assert d.parse_value(True) is None and d.parse_value({"a": 1}) is None


def test_parse_time_accepts_any_format_and_explains_a_bad_one() -> None:
    assert parse_time("2026-11-24T02:17:33Z") == T
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_time("yesterday")


def test_format_names_are_unique() -> None:
    assert len(FORMAT_NAMES) == len(set(FORMAT_NAMES))
