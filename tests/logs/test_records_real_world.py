"""Real-world inputs, written by the tests: what an on-call engineer actually pipes into ``infraleash logs``.

Each test writes the text the tool in question prints (nginx, journalctl, kubectl, syslog daemons, language
runtimes) and checks the records: how many, their times, levels, hosts/pods/services and which lines a
multi-line record holds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from infraleash.logs.analysis import analyze
from infraleash.logs.records import LogRecord, LogSource


def _read(tmp_path: Path, name: str, lines: list[str], newline: str = "\n") -> tuple[list[LogRecord], LogSource]:
    path = tmp_path / name
    path.write_bytes(("".join(line + newline for line in lines)).encode("utf-8"))
    source = LogSource(path)
    return list(source), source


def _at(h: int, m: int, s: int, us: int = 0) -> datetime:
    return datetime(2026, 11, 24, h, m, s, us, tzinfo=UTC)


def test_nginx_access_log_status_gives_the_level(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "access.log", [
        '10.0.0.7 - - [24/Nov/2026:02:17:33 +0000] "GET /api/v1/orders?id=42 HTTP/1.1" 200 512 "-" "curl/8.5.0"',
        '10.0.0.8 - alice [24/Nov/2026:03:17:34 +0100] "POST /login HTTP/1.1" 502 157 "https://x.example.com/" '
        '"Mozilla/5.0 (X11; Linux x86_64)"',
        '10.0.0.9 - - [24/Nov/2026:02:17:35 +0000] "GET /nope HTTP/2.0" 404 0 "-" "-"',
    ])
    assert [(r.time, r.level) for r in recs] == [
        (_at(2, 17, 33), "info"), (_at(2, 17, 34), "error"), (_at(2, 17, 35), "warning")]
    assert recs[1].content.startswith('10.0.0.8 - alice "POST /login HTTP/1.1" 502')


def test_nginx_error_log(tmp_path: Path) -> None:
    recs, source = _read(tmp_path, "error.log", [
        "2026/11/24 02:17:35 [error] 1234#1234: *5678 connect() failed (111: Connection refused) while connecting "
        'to upstream, client: 10.0.0.8, server: shop.example.com, request: "POST /login HTTP/1.1"',
        "2026/11/24 02:17:36 [warn] 1234#1234: *5679 an upstream response is buffered to a temporary file",
    ])
    assert [(r.time, r.level) for r in recs] == [(_at(2, 17, 35), "error"), (_at(2, 17, 36), "warning")]
    assert recs[0].content.startswith("1234#1234: *5678 connect() failed") and source.detector.format == "slashed"


def test_journalctl_short_iso_hosts_units_and_boot_markers(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "journal.txt", [
        "2026-11-24T02:17:33+0000 web-1 sshd[812]: Accepted publickey for deploy from 10.0.0.9 port 50522 ssh2",
        "2026-11-24T03:17:34+0100 web-1 kernel: Out of memory: Killed process 4242 (java)",
        "-- Boot 0a1b2c3d4e5f46a7 --",
        "2026-11-24T02:19:00+0000 web-1 systemd[1]: Started api.service.",
    ])
    assert [(r.time, r.host, r.service) for r in recs] == [
        (_at(2, 17, 33), "web-1", "sshd"), (_at(2, 17, 34), "web-1", "kernel"), (None, None, "journal"),
        (_at(2, 19, 0), "web-1", "systemd")]
    assert recs[1].content == "Out of memory: Killed process 4242 (java)"
    assert recs[2].content == "-- Boot 0a1b2c3d4e5f46a7 --"  # a reboot is an event, not part of the OOM line


def test_journalctl_json_priority_host_unit_and_no_metadata_in_the_message(tmp_path: Path) -> None:
    def entry(us: int, host: str, ident: str, prio: int, msg: str) -> str:
        return json.dumps({"__CURSOR": f"s=abc;i={us}", "__REALTIME_TIMESTAMP": str(us),
                           "__MONOTONIC_TIMESTAMP": "123", "_BOOT_ID": "0a1b", "_HOSTNAME": host,
                           "SYSLOG_IDENTIFIER": ident, "_PID": "812", "PRIORITY": str(prio), "MESSAGE": msg})

    base = int(_at(2, 17, 33).timestamp()) * 1_000_000
    recs, source = _read(tmp_path, "journal.json", [
        entry(base + 123456, "web-1", "sshd", 6, "Accepted publickey for deploy"),
        entry(base + 1_000_000, "web-2", "kernel", 3, "Out of memory: Killed process 4242 (java)"),
        entry(base + 2_000_000, "web-2", "kernel", 4, "Memory cgroup out of memory"),
    ])
    assert [(r.time, r.level, r.host, r.service) for r in recs] == [
        (_at(2, 17, 33, 123456), "info", "web-1", "sshd"), (_at(2, 17, 34), "error", "web-2", "kernel"),
        (_at(2, 17, 35), "warning", "web-2", "kernel")]
    assert recs[0].content == "Accepted publickey for deploy"  # no _PID=..., __CURSOR=... (unique per line)
    assert source.detector.format == "json"


def test_kubectl_all_containers_prefix_timestamps_keeps_traces_per_container(tmp_path: Path) -> None:
    api, proxy = "[pod/api-7d9f8c6b5-x2x4z/api] ", "[pod/api-7d9f8c6b5-x2x4z/istio-proxy] "
    recs, _ = _read(tmp_path, "kubectl.log", [
        api + "2026-11-24T02:17:33.123456789Z INFO starting server on :8080",
        proxy + '2026-11-24T02:17:33.200000000Z [2026-11-24T02:17:33.199Z] "GET /healthz HTTP/1.1" 200 -',
        api + "2026-11-24T02:17:34.000000000Z ERROR request failed",
        api + "2026-11-24T02:17:34.000000001Z Traceback (most recent call last):",
        api + '2026-11-24T02:17:34.000000002Z   File "/app/main.py", line 10, in handler',
        api + "2026-11-24T02:17:34.000000003Z     return db.query(q)",
        api + "2026-11-24T02:17:34.000000004Z TimeoutError: query timed out",
        proxy + '2026-11-24T02:17:34.100000000Z [2026-11-24T02:17:34.099Z] "GET /orders HTTP/1.1" 504 -',
        api + "2026-11-24T02:17:35.000000000Z INFO retrying",
    ])
    assert [(r.line_no, r.end_line, r.pod) for r in recs] == [
        (1, 1, "api-7d9f8c6b5-x2x4z"), (2, 2, "api-7d9f8c6b5-x2x4z"), (3, 7, "api-7d9f8c6b5-x2x4z"),
        (8, 8, "api-7d9f8c6b5-x2x4z"), (9, 9, "api-7d9f8c6b5-x2x4z")]
    failed = recs[2]
    assert failed.level == "error" and failed.time == _at(2, 17, 34)
    assert failed.content.split("\n") == ["request failed", "Traceback (most recent call last):",
                                          '  File "/app/main.py", line 10, in handler', "    return db.query(q)",
                                          "TimeoutError: query timed out"]
    assert recs[0].time == _at(2, 17, 33, 123456)


def test_json_logs_with_nested_level_and_kubernetes_fields(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "app.json", [
        json.dumps({"@timestamp": "2026-11-24T02:17:33.5Z", "log": {"level": "error", "logger": "db"},
                    "message": "query timeout", "kubernetes": {"pod_name": "api-1", "host": "node-3",
                                                               "labels": {"app": "api"}}}),
        json.dumps({"time": "2026-11-24T02:17:34Z", "level": "WARN", "msg": "slow",
                    "kubernetes": {"pod_name": "api-2", "host": "node-4"}}),
        json.dumps({"log": "2026-11-24T02:17:35Z plain text from docker\n", "stream": "stderr",
                    "time": "2026-11-24T02:17:35.000000001Z"}),
    ])
    assert [(r.time, r.level, r.host, r.pod, r.service, r.content) for r in recs] == [
        (_at(2, 17, 33, 500000), "error", "node-3", "api-1", "api", "query timeout"),
        (_at(2, 17, 34), "warning", "node-4", "api-2", "app", "slow"),
        (_at(2, 17, 35), None, None, None, "app", "2026-11-24T02:17:35Z plain text from docker"),
    ]


def test_python_traceback_in_a_plain_log_is_one_record(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "worker.log", [
        "2026-11-24 02:17:33,001 ERROR worker: job 42 failed",
        "Traceback (most recent call last):",
        '  File "/app/worker.py", line 88, in run',
        "    result = job()",
        "ValueError: bad input",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "/app/worker.py", line 90, in run',
        "RuntimeError: job 42 gave up",
        "2026-11-24 02:17:34,000 INFO worker: next job",
    ])
    assert [(r.line_no, r.end_line, r.level) for r in recs] == [(1, 11, "error"), (12, 12, "info")]
    assert recs[0].content.split("\n")[-1] == "RuntimeError: job 42 gave up"


def test_go_panic_with_goroutine_dump_is_one_critical_record_at_the_last_log_time(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "svc.log", [
        "2026-11-24T02:17:33Z INFO serving on :8080",
        "2026-11-24T02:17:34Z INFO handling request",
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a2b3c]",
        "",
        "goroutine 42 [running]:",
        "main.(*Server).handle(0xc000120000, {0x7f2e8c, 0xc0001a6000})",
        "\t/app/server.go:57 +0x1d",
        "created by net/http.(*Server).Serve in goroutine 1",
        "\t/usr/local/go/src/net/http/server.go:3086 +0x4db",
    ])
    assert [(r.line_no, r.end_line) for r in recs] == [(1, 1), (2, 2), (3, 10)]
    panic = recs[2]
    assert panic.level == "critical" and panic.time == _at(2, 17, 34)
    assert panic.content.startswith("runtime error: invalid memory address") and "goroutine 42" in panic.content


def test_java_stack_trace_with_caused_by_and_more(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "api.log", [
        "2026-11-24 02:17:33,123 ERROR [http-nio-8080-exec-7] c.e.OrderController - request failed",
        "org.springframework.dao.DataAccessResourceFailureException: could not get connection",
        "\tat org.springframework.jdbc.support.SQLStateSQLExceptionTranslator.doTranslate(SQLState.java:105)",
        "\tat com.example.OrderRepository.find(OrderRepository.java:42)",
        "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available",
        "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
        "\t... 12 more",
        "2026-11-24 02:17:34,000 INFO [main] c.e.App - still up",
    ])
    assert [(r.line_no, r.end_line, r.level) for r in recs] == [(1, 7, "error"), (8, 8, "info")]
    assert recs[0].content.split("\n")[-1] == "\t... 12 more"


def test_syslog_rfc5424_and_rfc3164_with_priority(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "syslog", [
        "<34>1 2026-11-24T02:17:33.003Z mymachine.example.com su 4242 ID47 - 'su root' failed on /dev/pts/8",
        '<165>1 2026-11-24T04:17:34.000+02:00 web-2 evntslog - ID47 [exampleSDID@32473 iut="3" '
        'eventSource="Application"] \ufeffAn application event log entry',
        "<86>1 2026-11-24T02:17:35Z - - - - -",
        "<13>Nov 24 02:17:36 web-1 app[12]: hello",
    ])
    assert [(r.time, r.level, r.host, r.service, r.content) for r in recs] == [
        (_at(2, 17, 33, 3000), "critical", "mymachine.example.com", "su", "'su root' failed on /dev/pts/8"),
        (_at(2, 17, 34), "info", "web-2", "evntslog", "An application event log entry"),
        (_at(2, 17, 35), "info", None, "syslog", ""),
        (datetime(recs[3].time.year, 11, 24, 2, 17, 36, tzinfo=UTC) if recs[3].time else None, "info", "web-1",
         "app", "hello"),
    ]


def test_windows_crlf_line_ends(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "win.log", [
        "2026-11-24 02:17:33,123 INFO [main] app: started",
        "2026-11-24 02:17:34,123 ERROR [main] app: failed",
        "java.lang.IllegalStateException: boom",
        "\tat com.example.App.run(App.java:10)",
    ], newline="\r\n")
    assert [(r.line_no, r.end_line, r.level) for r in recs] == [(1, 1, "info"), (2, 4, "error")]
    assert all("\r" not in r.raw for r in recs)
    assert recs[1].content == "[main] app: failed\njava.lang.IllegalStateException: boom\n\tat com.example.App.run(App.java:10)"


def test_clock_skew_between_hosts_does_not_break_the_window_or_the_timeline(tmp_path: Path) -> None:
    """Two hosts in one file, h2's clock 45 s behind: times go backwards at every h2 line."""
    lines = []
    for s in range(0, 1800, 5):
        lines.append(f"{(_at(2, 0, 0) + timedelta(seconds=s)).isoformat()} INFO host=h1 GET /orders 200")
        lines.append(f"{(_at(2, 0, 0) + timedelta(seconds=s - 45)).isoformat()} INFO host=h2 GET /orders 200")
    for i in range(20):  # errors on h2 from (its) 02:20:00
        lines.append(f"{(_at(2, 20, 0) + timedelta(seconds=3 * i)).isoformat()} ERROR host=h2 pool exhausted")
    path = tmp_path / "skewed.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    a = analyze([path])
    assert a.records == len(lines) and a.window_start == _at(1, 59, 15) and a.window_end == _at(2, 29, 55)
    assert [e.time for e in a.timeline] == sorted(e.time for e in a.timeline)
    (burst,) = [b for b in a.bursts if "pool exhausted" in b.template]
    assert (burst.start, burst.end, burst.count, burst.origins) == (_at(2, 20, 0), _at(2, 20, 57), 20, {"h2": 20})


def test_syslog_year_is_not_pushed_back_by_a_late_december_line_after_new_year(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "messages", [
        "Dec 31 23:59:58 h1 app: tick",
        "Jan  1 00:00:01 h1 app: tick",
        "Dec 31 23:59:59 h2 app: tick",  # h2 is two seconds behind
        "Jan  1 00:00:03 h2 app: tick",
    ])
    years = [r.time.year for r in recs if r.time is not None]
    assert years[1] == years[0] + 1 and years[2] == years[0] and years[3] == years[1]


def test_an_html_error_page_dumped_after_a_log_line_stays_with_it(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "proxy.log", [
        "2026-11-24T02:17:33Z ERROR upstream returned 502, body:",
        "<!DOCTYPE html>",
        "<html><head><title>502 Bad Gateway</title></head>",
        "<body>bad gateway</body></html>",
        "2026-11-24T02:17:34Z INFO retrying",
    ])
    assert [(r.line_no, r.end_line) for r in recs] == [(1, 4), (5, 5)]
