"""Real-world inputs, written by the tests: what an on-call engineer actually pipes into ``infraleash logs``.

Each test writes the text the tool in question prints (nginx, journalctl, kubectl, syslog daemons, language
runtimes) and checks the records: how many, their times, levels, hosts/pods/services and which lines a
multi-line record holds.
"""

from __future__ import annotations

import json
import os
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


# -- formats pasted during incidents: databases, logfmt, cloud exports, Kubernetes events ------------------


def _fields(recs: list[LogRecord]) -> list[tuple[datetime | None, str | None, str | None, str | None, str]]:
    return [(r.time, r.level, r.host, r.pod, r.content) for r in recs]


def test_postgresql_header_pid_and_user_at_db_are_not_message(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "postgresql-16-main.log", [
        "2026-11-24 02:17:35.123 UTC [48211] app@orders ERROR:  canceling statement due to statement timeout",
        "2026-11-24 02:17:35.123 UTC [48211] app@orders STATEMENT:  SELECT * FROM orders WHERE customer_id = $1",
        "2026-11-24 02:17:36.002 UTC [48230] LOG:  checkpoint starting: time",
        "2026-11-24 02:17:40.510 UTC [48231] [unknown]@[unknown] LOG:  connection received: host=10.0.3.7 port=51512",
        "2026-11-24 02:18:01.000 UTC [48240] app@orders FATAL:  remaining connection slots are reserved for "
        "non-replication superuser connections",
        "2026-11-24 02:18:02 UTC [48241]: [3-1] user=app,db=orders WARNING:  there is no transaction in progress",
    ])
    assert [(r.time, r.level, r.content) for r in recs] == [
        (_at(2, 17, 35, 123000), "error", "canceling statement due to statement timeout"),
        (_at(2, 17, 35, 123000), "info", "SELECT * FROM orders WHERE customer_id = $1"),
        (_at(2, 17, 36, 2000), "info", "checkpoint starting: time"),
        (_at(2, 17, 40, 510000), "info", "connection received: host=10.0.3.7 port=51512"),
        (_at(2, 18, 1), "critical", "remaining connection slots are reserved for non-replication superuser connections"),
        (_at(2, 18, 2), "warning", "there is no transaction in progress"),
    ]


def test_mysql_8_error_log_thread_code_and_subsystem_are_not_message(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "mysqld.log", [
        "2026-11-24T02:17:35.123456Z 12 [Warning] [MY-010055] [Server] IP address '10.0.0.9' could not be "
        "resolved: Name or service not known",
        "2026-11-24T02:17:36.000001Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. "
        "Version: '8.0.36'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.",
        "2026-11-24T02:17:40.734012Z 88 [ERROR] [MY-010584] [Repl] Replica SQL for channel '': Error 'Duplicate "
        "entry '7' for key 'PRIMARY'' on query.",
        "2026-11-24T02:17:41.000000Z 0 [Note] [MY-011953] [InnoDB] Page cleaner took 4373ms to flush 121 pages",
    ])
    assert [(r.level, r.content.split(":")[0]) for r in recs] == [
        ("warning", "IP address '10.0.0.9' could not be resolved"), ("info", "/usr/sbin/mysqld"),
        ("error", "Replica SQL for channel ''"), ("info", "Page cleaner took 4373ms to flush 121 pages")]
    assert recs[0].time == _at(2, 17, 35, 123456)


def test_logfmt_time_level_message_and_origin_come_from_the_pairs(tmp_path: Path) -> None:
    recs, source = _read(tmp_path, "ingester.log", [
        'ts=2026-11-24T02:17:33.512Z caller=ingester.go:1041 level=warn msg="slow flush" host=ing-2 '
        "tenant=team-a duration=2.3s",
        'time="2026-11-24T02:17:34Z" level=error msg="failed to flush chunks: context deadline exceeded" '
        "service=loki-ingester pod=loki-ingester-2 err=\"rpc error: code = DeadlineExceeded\"",
    ])
    assert _fields(recs) == [
        (_at(2, 17, 33, 512000), "warning", "ing-2", None, "slow flush tenant=team-a duration=2.3s"),
        (_at(2, 17, 34), "error", None, "loki-ingester-2",
         'failed to flush chunks: context deadline exceeded err=rpc error: code = DeadlineExceeded')]
    assert recs[1].service == "loki-ingester" and source.detector.format == "logfmt"


def test_nested_json_names_its_host_pod_container_and_service(tmp_path: Path) -> None:
    recs, _ = _read(tmp_path, "filebeat.jsonl", [
        json.dumps({"@timestamp": "2026-11-24T02:17:33.000Z", "log.level": "error", "message": "pool timeout",
                    "host": {"name": "ip-10-0-1-23", "os": {"name": "Ubuntu"}}, "service": {"name": "checkout"},
                    "container": {"name": "app"}, "jvm": {"heap_used_mb": 812}}),
        json.dumps({"time": "2026-11-24T02:17:34Z", "stream": "stderr", "log": "GET /healthz 503\n",
                    "kubernetes": {"pod_name": "web-6c9d-x2", "container_name": "nginx", "host": "node-7",
                                   "labels": {"app": "web"}}}),
        json.dumps({"timestamp": "2026-11-24T02:17:35Z", "severity_text": "WARN", "body": "retrying",
                    "resource": {"service.name": "billing", "host.name": "bill-1", "k8s.pod.name": "billing-0"}}),
    ])
    assert [(r.host, r.pod, r.container, r.service, r.level) for r in recs] == [
        ("ip-10-0-1-23", None, "app", "checkout", "error"), ("node-7", "web-6c9d-x2", "nginx", "web", None),
        ("bill-1", "billing-0", None, "billing", "warning")]
    assert recs[0].content == "pool timeout jvm.heap_used_mb=812"  # the host object is not message


def test_cloudwatch_logs_export_is_read_as_one_document(tmp_path: Path) -> None:
    export = {"events": [
        {"logStreamName": "checkout/app/5f1c", "timestamp": 1795486653000, "message": "ERROR pool timeout",
         "ingestionTime": 1795486654000, "eventId": "3811"},
        {"logStreamName": "checkout/app/5f1c", "timestamp": 1795486654000,
         "message": json.dumps({"level": "warn", "msg": "retry 2", "host": "ip-10-0-1-31"}), "eventId": "3812"},
    ], "searchedLogStreams": []}
    path = tmp_path / "filter-log-events.json"
    path.write_text(json.dumps(export, indent=2), encoding="utf-8")
    recs = list(LogSource(path))
    t = datetime.fromtimestamp(1795486653, tz=UTC)
    assert [(r.time, r.level, r.host, r.service, r.content) for r in recs] == [
        (t, "error", None, "checkout/app/5f1c", "ERROR pool timeout"),
        (t + timedelta(seconds=1), "warning", "ip-10-0-1-31", "checkout/app/5f1c", "retry 2")]


def test_kubectl_get_events_json_list_and_watch_objects(tmp_path: Path) -> None:
    def ev(reason: str, kind: str, first: str, count: int) -> dict[str, object]:
        return {"kind": "Event", "apiVersion": "v1", "type": kind, "reason": reason, "count": count,
                "firstTimestamp": first, "lastTimestamp": "2026-11-24T02:20:00Z", "message": f"{reason} happened",
                "involvedObject": {"kind": "Pod", "name": "api-7f9c-2", "namespace": "prod"},
                "source": {"component": "kubelet", "host": "node-2"}}
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"kind": "List", "items": [ev("BackOff", "Warning", "2026-11-24T02:18:00Z", 7)]},
                               indent=4) + "\n" + json.dumps(ev("Pulled", "Normal", "2026-11-24T02:19:00Z", 1),
                                                             indent=4), encoding="utf-8")
    recs = list(LogSource(path))
    assert [(r.time, r.level, r.host, r.pod, r.content) for r in recs] == [
        (_at(2, 18, 0), "warning", "node-2", "api-7f9c-2", "BackOff Pod/api-7f9c-2: BackOff happened"),
        (_at(2, 19, 0), "info", "node-2", "api-7f9c-2", "Pulled Pod/api-7f9c-2: Pulled happened")]
    assert recs[0].event is not None and (recs[0].event.count, recs[0].event.last) == (7, _at(2, 20, 0))
    # events.k8s.io/v1, one object per line (kubectl get events -o json | jq -c '.items[]')
    line = json.dumps({"apiVersion": "events.k8s.io/v1", "kind": "Event", "reason": "FailedScheduling",
                       "type": "Warning", "eventTime": "2026-11-24T02:17:33.123456Z", "note": "0/3 nodes are "
                       "available: 3 Insufficient memory.", "regarding": {"kind": "Pod", "name": "batch-1"},
                       "series": {"count": 5, "lastObservedTime": "2026-11-24T02:19:00Z"},
                       "reportingController": "default-scheduler"})
    (rec,), _ = _read(tmp_path, "events.jsonl", [line])
    assert (rec.time, rec.level, rec.pod, rec.event.count if rec.event else 0) == (
        _at(2, 17, 33, 123456), "warning", "batch-1", 5)


def test_kubectl_get_events_wide_table_is_placed_against_the_file_time_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "events.txt"
    path.write_text(
        "NAMESPACE   LAST SEEN   TYPE      REASON      OBJECT               SUBOBJECT              SOURCE"
        "                MESSAGE                                                       FIRST SEEN   COUNT   NAME\n"
        "prod        2m          Warning   Unhealthy   pod/api-7f9c-2       spec.containers{api}   kubelet, node-2"
        "       Readiness probe failed: HTTP probe failed with statuscode: 503   9m           14      api-7f9c-2.1\n"
        "prod        30s         Normal    Pulled      pod/api-7f9c-2       spec.containers{api}   kubelet, node-2"
        '       Container image "api:1.4" already present on machine          30s          1       api-7f9c-2.2\n',
        encoding="utf-8")
    saved = _at(2, 30, 0).timestamp()
    os.utime(path, (saved, saved))
    source = LogSource(path)
    recs = list(source)
    assert [(r.time, r.level, r.host, r.content) for r in recs] == [
        (_at(2, 21, 0), "warning", "node-2", "Unhealthy pod/api-7f9c-2: Readiness probe failed: HTTP probe failed "
                                          "with statuscode: 503"),
        (_at(2, 29, 30), "info", "node-2", 'Pulled pod/api-7f9c-2: Container image "api:1.4" already present on '
                                           "machine")]
    assert recs[0].event is not None and (recs[0].event.count, recs[0].event.last, recs[0].event.namespace) == (
        14, _at(2, 28, 0), "prod")
    (problem,) = source.problems
    assert problem.kind == "relative_times" and "2026-11-24 02:30:00" in problem.message


def test_a_broken_first_json_line_does_not_make_the_file_a_document(tmp_path: Path) -> None:
    recs, source = _read(tmp_path, "app.jsonl", [
        '{"ts": "2026-11-24T02:17:33Z", "level": "info", "msg": "trunc',
        json.dumps({"ts": "2026-11-24T02:17:34Z", "level": "error", "msg": "pool timeout", "host": "api-2"}),
    ])
    assert [(r.time, r.level, r.host) for r in recs][1:] == [(_at(2, 17, 34), "error", "api-2")]
    assert source.lines == 2 and not [p for p in source.problems if p.kind == "unreadable"]
