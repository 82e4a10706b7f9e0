"""PostgreSQL and MySQL headers after the timestamp; logfmt pairs."""

from __future__ import annotations

from infraleash.logs.server_headers import parse_logfmt, strip_server_header, strip_zone_word


def test_database_headers() -> None:
    assert strip_server_header("UTC [48211] app@orders ERROR:  canceling statement") == (
        "error", "canceling statement")
    assert strip_server_header("[99]: [3-1] user=app,db=orders LOG:  duration: 1532.112 ms") == (
        "info", "duration: 1532.112 ms")
    assert strip_server_header("12 [Warning] [MY-010055] [Server] IP address could not be resolved") == (
        "warning", "IP address could not be resolved")
    assert strip_server_header("GET /x 200") is None and strip_server_header("[12] nothing here") is None
    assert strip_zone_word("UTC message") == "message" and strip_zone_word("UTCx y") == "UTCx y"


def test_logfmt_pairs() -> None:
    assert parse_logfmt('level=warn msg="slow \\"flush\\"" host=ing-2 empty=') == {
        "level": "warn", "msg": 'slow "flush"', "host": "ing-2", "empty": ""}
    assert parse_logfmt("user=bob logged in") is None  # words that are not pairs
    assert parse_logfmt("a=1 b=2") is None  # too few pairs to call it logfmt
