"""Security groups that open a sensitive port to the internet, judged per protocol.

Any ingress range from ``0.0.0.0/0`` or ``::/0`` that *includes* one of :data:`SENSITIVE_PORTS`
for the protocol the service speaks (``tcp``/``6``, ``udp``/``17``, ``-1``/``all`` for both) is a
finding naming every service it exposes: ``from_port = 0, to_port = 1024, protocol = "tcp"``
opens FTP, Telnet, SMTP, NetBIOS, SMB ... at once.  Port 80 (plain HTTP) is its own, lower
rule.  SSH (22), RDP (3389), the database ports and all-ports rules have their own rules
(:mod:`~infraleash.checks.aws.network`) and are not repeated here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from infraleash.checks.aws._common import as_int
from infraleash.checks.aws._iam_common import and3
from infraleash.checks.aws.network import _SG_DOCS, INGRESS_TYPES, Ingress, _ingress_check
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Outcome, Severity
from infraleash.terraform.config import Block, Unknown

TCP, UDP = "tcp", "udp"
# (first port, last port, protocols, service): the services that must never face the internet
SENSITIVE_PORTS: tuple[tuple[int, int, frozenset[str], str], ...] = tuple(
    (lo, hi, frozenset(protos), name) for lo, hi, protos, name in (
        (20, 21, (TCP,), "FTP"), (23, 23, (TCP,), "Telnet"), (25, 25, (TCP,), "SMTP"),
        (53, 53, (TCP, UDP), "DNS"), (69, 69, (UDP,), "TFTP"), (110, 110, (TCP,), "POP3"),
        (111, 111, (TCP, UDP), "RPC portmapper"), (123, 123, (UDP,), "NTP"), (135, 135, (TCP, UDP), "MS RPC"),
        (137, 138, (UDP,), "NetBIOS name/datagram"), (139, 139, (TCP,), "NetBIOS session"),
        (143, 143, (TCP,), "IMAP"), (161, 162, (UDP,), "SNMP"), (389, 389, (TCP, UDP), "LDAP"),
        (445, 445, (TCP,), "SMB"), (514, 514, (UDP,), "syslog"), (873, 873, (TCP,), "rsync"),
        (1900, 1900, (UDP,), "SSDP"), (2049, 2049, (TCP, UDP), "NFS"), (2375, 2376, (TCP,), "Docker API"),
        (2379, 2380, (TCP,), "etcd"), (5601, 5601, (TCP,), "Kibana"), (5800, 5800, (TCP,), "VNC (web)"),
        (5900, 5903, (TCP,), "VNC"), (5985, 5986, (TCP,), "WinRM"), (6443, 6443, (TCP,), "Kubernetes API"),
        (10250, 10250, (TCP,), "kubelet"), (10255, 10255, (TCP,), "kubelet (read-only)"),
        (11211, 11211, (UDP,), "Memcached (UDP)"),
    ))
HTTP = ((80, 80, frozenset({TCP}), "HTTP"),)
_PROTOCOLS = {"tcp": {TCP}, "6": {TCP}, "udp": {UDP}, "17": {UDP}, "-1": {TCP, UDP}, "all": {TCP, UDP}}


def _protocols(ingress: Ingress) -> set[str] | None:
    if isinstance(ingress.protocol, Unknown):
        return None
    return _PROTOCOLS.get(str(ingress.protocol).strip().lower(), set())


def exposed(ingress: Ingress, table: tuple[tuple[int, int, frozenset[str], str], ...]) -> list[str] | None:
    """The services of ``table`` this ingress range opens (``["445 SMB (tcp)"]``); None when unknown."""
    protos = _protocols(ingress)
    if protos is None:
        return None
    if not protos:
        return []
    if protos == {TCP, UDP} and str(ingress.protocol).lower() in ("-1", "all"):
        lo, hi = 0, 65535
    else:
        first_port, last_port = as_int(ingress.from_port), as_int(ingress.to_port)
        if first_port is None or last_port is None:
            return None if isinstance(ingress.from_port, Unknown) or isinstance(ingress.to_port, Unknown) else []
        lo, hi = first_port, last_port
    out = []
    for first, last, services, name in table:
        hit = sorted(services & protos)
        if hit and lo <= last and first <= hi:
            where = str(first) if first == last else f"{first}-{last}"
            out.append(f"{where} {name} ({'/'.join(hit)})")
    return out


def _test(table: tuple[tuple[int, int, frozenset[str], str], ...]) -> Callable[[Ingress], bool | None]:
    def test(i: Ingress) -> bool | None:
        if i.all_ports():
            return False  # reported by AWS-SG-OPEN-ALL-PORTS
        found = exposed(i, table)
        return and3(i.open_to_world(), None if found is None else bool(found))

    return test


def _check_with(table: tuple[tuple[int, int, frozenset[str], str], ...], head: str, what: str) -> Any:
    def check(block: Block, ctx: CheckContext) -> Iterator[Result]:
        for r in _ingress_check(block, _test(table), head, what):
            if r.outcome is not Outcome.FAIL:
                yield r
                continue
            ing = Ingress(r.details.get("protocol"), r.details.get("from_port"), r.details.get("to_port"), (),
                          r.attribute or "ingress")
            services = exposed(ing, table) or []
            yield Result(f"{head}: {', '.join(services)}", attribute=r.attribute,
                         details={**r.details, "services": services})

    return check


def _sg(name: str, protocol: str, lo: int, hi: int, cidr: str = "0.0.0.0/0") -> str:
    return f'''resource "aws_security_group" "{name}" {{
  name = "{name}"
  ingress {{
    from_port   = {lo}
    to_port     = {hi}
    protocol    = "{protocol}"
    cidr_blocks = ["{cidr}"]
  }}
}}'''


OPEN_SENSITIVE_PORT = Rule(
    id="AWS-SG-OPEN-SENSITIVE-PORT",
    title="security group opens a sensitive port to the internet",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=INGRESS_TYPES,
    why="File sharing (SMB, NetBIOS, NFS), remote administration (Telnet, VNC, WinRM, the Docker and Kubernetes "
        "APIs, kubelet, etcd), mail, directory and management protocols (SNMP, LDAP, RPC) are attacked within "
        "minutes of facing the internet and amplify DDoS over UDP. A wide range (0-1024) opens all of them at "
        "once. Ports, per protocol: " + ", ".join(
            f"{lo if lo == hi else f'{lo}-{hi}'} {n} ({'/'.join(sorted(p))})" for lo, hi, p, n in SENSITIVE_PORTS)
        + ". SSH, RDP and database ports have their own rules.",
    fail_example=_sg("fail", "tcp", 0, 1024),
    pass_example=_sg("pass", "tcp", 443, 443) + "\n" + _sg("pass_udp", "udp", 445, 445) + "\n" +
    _sg("pass_private", "tcp", 445, 445, "10.0.0.0/8"),
    unknown_example='variable "protocol" { type = string }\n' + _sg("unknown", "tcp", 137, 139).replace(
        'protocol    = "tcp"', "protocol    = var.protocol"),
    check=_check_with(SENSITIVE_PORTS, "security group opens sensitive ports to the internet",
                      "a sensitive port is open to the internet"),
    checkov_ids=("CKV_AWS_277",),
    references=(_SG_DOCS,),
)

OPEN_HTTP = Rule(
    id="AWS-SG-OPEN-HTTP",
    title="security group allows plain HTTP (port 80) from the internet",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=INGRESS_TYPES,
    why="Port 80 from the internet means clear-text traffic reaches the service (credentials, cookies). Serve "
        "HTTPS; keep port 80 open only on a load balancer whose HTTP listener redirects to HTTPS, and suppress "
        "this finding there with that reason.",
    fail_example=_sg("fail", "tcp", 80, 80),
    pass_example=_sg("pass", "tcp", 443, 443) + "\n" + _sg("pass_udp", "udp", 80, 80),
    unknown_example='variable "port" { type = number }\n' + _sg("unknown", "tcp", 0, 0).replace(
        "from_port   = 0", "from_port   = var.port").replace("to_port     = 0", "to_port     = var.port"),
    check=_check_with(HTTP, "security group allows plain HTTP from the internet", "port 80 is open to the internet"),
    checkov_ids=("CKV_AWS_260",),
    references=(_SG_DOCS,),
)

RULES: list[Rule] = [OPEN_SENSITIVE_PORT, OPEN_HTTP]
