"""Typed variable detection in one log message: the part of template mining that needs no state.

``mask(content)`` turns a message into whitespace tokens where each variable part is written ``<*>``,
plus the list of variables (type and original text) in order of appearance:

    >>> toks, vs = mask("Connection from 10.0.0.7:5432 took 12ms")
    >>> " ".join(toks)
    'Connection from <*>:<*> took <*>'
    >>> [(v.type, v.value) for v in vs]
    [('ip', '10.0.0.7'), ('port', '5432'), ('duration', '12ms')]

How a token is read (no per-source configuration; the same rules for every input):

1. whole-token shapes first: URLs (the scheme stays constant: ``spark://<*>``), e-mail addresses,
   IPv6 and MAC addresses, UUIDs;
2. otherwise the token is cut at *path delimiters* (``, ! ; : = | " ' [ ] ( ) { }``); a piece that looks like
   a file path (``/a/b``, ``C:\\x``) is one variable, an IPv4 address is one variable (so ``ip:port`` gives
   ``<*>:<*>``);
3. the remaining pieces are cut at *word delimiters* (``. - + @ # $ % &``) and each word that is a number,
   a hex number, a number with a unit (``12ms``, ``3.5s``, ``200KB``), a boolean/null, or a long id mixing
   digits and letters becomes a variable; a word glued to a variable by ``_`` joins it;
4. adjacent variables, or variables joined only by ``.``, merge into one (``3.5`` is one number).

These are close to the rules that Khan et al. (ICSE 2022) used to correct the Loghub ground truth, which is
why the templates line up with the benchmark's; the code is ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WILDCARD = "<*>"


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable part of a message: its detected type and its original text."""

    type: str
    value: str


_URL = re.compile(r"^([A-Za-z][\w+.-]*://)(\S+)$")
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$")
_IPV6 = re.compile(r"^(?=.*[0-9a-fA-F])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?:%\w+)?$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_PATH_SPLIT = re.compile(r"([,!;:=|\"'\[\](){}<>\s])")
_WORD_SPLIT = re.compile(r"([.\-+@#$%&/])")
_HOST = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$")
_TLDS = frozenset(
    ["com", "net", "org", "edu", "gov", "mil", "int", "io", "cn", "hk", "jp", "kr", "tw", "de", "uk", "fr", "ru", "br", "in", "au", "us", "ca", "it", "nl", "es", "ch", "se", "no", "eu", "info", "biz", "me", "co", "om", "local", "internal", "lan", "corp", "arpa", "cloud", "dev", "app"]
)
_VERSION = re.compile(r"^[vV]\d+(?:\.\d+)*[a-z]?$")
_SIGNED = re.compile(r"^[-+]\d")
BYTE_UNITS = frozenset({"B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"})
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
MULTI_TOKEN_DATE = re.compile(
    rf"\b(?:{_DAY}\s+)?{_MONTH}\s+\d{{1,2}}\s+\d{{1,2}}:\d{{2}}:\d{{2}}(?:\s+\d{{4}})?\b"
    r"|\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_UNIX_PATH = re.compile(r"^(?:/[^/]*)+$")
_WIN_PATH = re.compile(r"^(?:[A-Za-z]:)?\\")
_NUMBER = re.compile(r"^\d+$")
_HEX_PREFIXED = re.compile(r"^0[xX][0-9a-fA-F]+$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_UNIT = re.compile(r"^\d+(?:ms|us|µs|ns|s|m|h|d|[kKMGT]i?B|[kKMG]|B|%)$")
_DURATION_UNITS = ("ms", "us", "µs", "ns", "s", "m", "h", "d")
_BOOLISH = frozenset({"true", "false", "null", "none", "nil"})
_USERS = frozenset({"root", "admin"})  # well-known account names, variables like any user name
_HAS_DIGIT = re.compile(r"\d")
_HAS_ALPHA = re.compile(r"[A-Za-z]")
_ALNUM_ID = re.compile(r"^[A-Za-z0-9_]+$")

# A piece is either constant text (str) or a variable (Variable).
_Piece = str | Variable


def _word_type(word: str) -> str | None:
    """The variable type of one word (no delimiters inside), or None when it reads as constant text."""
    if _NUMBER.match(word):
        return "number"
    if _VERSION.match(word):
        return "version"
    if _HEX_PREFIXED.match(word):
        return "hex"
    if _UNIT.match(word):
        unit = word.lstrip("0123456789")
        return "duration" if unit in _DURATION_UNITS else "size"
    if word.lower() in _BOOLISH:
        return "bool"
    if word in _USERS:
        return "user"
    if not _HAS_DIGIT.search(word):
        return None
    if _HEX.match(word) and len(word) >= 6:
        return "hex"
    digits = sum(c.isdigit() for c in word)
    if _ALNUM_ID.match(word) and (digits >= 4 or "_" in word or (len(word) >= 8 and _HAS_ALPHA.search(word))):
        return "id"
    return None


def _mask_words(piece: str, out: list[_Piece]) -> None:
    """Cut a piece at word delimiters and classify each word."""
    if _VERSION.match(piece):
        out.append(Variable("version", piece))
        return
    if _SIGNED.match(piece) and _NUMBER.match(piece[1:].replace(".", "", 1)):
        out.append(Variable("number", piece))
        return
    if "." in piece and _is_host(piece):
        out.append(Variable("host", piece))
        return
    words = _WORD_SPLIT.split(piece)
    start = len(out)
    for word in words:
        if not word:
            continue
        kind = _word_type(word) if len(word) > 0 and word not in ".-+@#$%&" else None
        out.append(Variable(kind, word) if kind else word)
    # a word glued to a variable by "_" (blk_, attempt_) or a sign belongs to it: ``blk_-123`` is one id
    i = start
    while i < len(out) - 1:
        a, b = out[i], out[i + 1]
        if isinstance(a, str) and isinstance(b, Variable) and a.endswith("_") and a[:-1].isalnum():
            out[i : i + 2] = [Variable("id", a + b.value)]
            continue
        if isinstance(a, str) and a.endswith("_") and b == "-" and i + 2 < len(out) and isinstance(out[i + 2], Variable):
            out[i : i + 3] = [Variable("id", a + "-" + out[i + 2].value)]  # type: ignore[union-attr]
            continue
        i += 1


def _mask_token(token: str, out: list[_Piece]) -> None:
    m = _URL.match(token)
    if m:
        out.append(m.group(1))
        out.append(Variable("url", m.group(2)))
        return
    if _UUID.match(token):
        out.append(Variable("uuid", token))
        return
    if _EMAIL.match(token):
        out.append(Variable("email", token))
        return
    if _MAC.match(token):
        out.append(Variable("mac", token))
        return
    if token.count(":") >= 2 and _IPV6.match(token) and not _all_short_numbers(token):
        out.append(Variable("ipv6", token))
        return
    for piece in _PATH_SPLIT.split(token):
        if not piece:
            continue
        if len(piece) == 1 and _PATH_SPLIT.match(piece):
            out.append(piece)
        elif _is_path(piece):
            out.append(Variable("path", piece))
        elif _IPV4.match(piece):
            out.append(Variable("ip", piece))
        elif _UUID.match(piece):
            out.append(Variable("uuid", piece))
        else:
            _mask_words(piece, out)


def _is_path(piece: str) -> bool:
    if "/" in piece and len(piece) > 1 and _UNIX_PATH.match(piece):
        return True
    return "\\" in piece and bool(_WIN_PATH.match(piece))


def _is_host(piece: str) -> bool:
    """``db-1.prod.example.com`` is a host name; ``org.apache.hadoop.Foo`` (a Java class) is not."""
    if not _HOST.match(piece):
        return False
    labels = piece.split(".")
    last = labels[-1]
    if labels[0].lower() in _TLDS or not last.isalpha():
        return False
    return last.lower() in _TLDS or (len(labels) >= 3 and len(last) == 2 and last.islower())


def _all_short_numbers(token: str) -> bool:
    """``07:07:00`` is a time of day, not an IPv6 address."""
    return all(p.isdigit() and len(p) <= 2 for p in token.split(":"))


def _merge(pieces: list[_Piece]) -> list[_Piece]:
    """Merge variables that touch, or that only a dot separates (``3.5``, ``1.2.3``)."""
    merged: list[_Piece] = []
    for p in pieces:
        if isinstance(p, Variable) and merged:
            last = merged[-1]
            if isinstance(last, Variable):
                merged[-1] = Variable(last.type if last.type == p.type else _joined_type(last, p), last.value + p.value)
                continue
            if last == "," and p.type == "ip" and len(merged) >= 2 and _is_ip(merged[-2]):
                prev = merged[-2]
                assert isinstance(prev, Variable)
                merged[-2:] = [Variable("ip", prev.value + "," + p.value)]  # a list of addresses
                continue
            if last == "." and len(merged) >= 2 and isinstance(merged[-2], Variable):
                prev = merged[-2]
                assert isinstance(prev, Variable)
                merged[-2:] = [Variable(_joined_type(prev, p), prev.value + "." + p.value)]
                continue
        merged.append(p)
    return merged


def _is_ip(piece: _Piece) -> bool:
    return isinstance(piece, Variable) and piece.type == "ip"


def _joined_type(a: Variable, b: Variable) -> str:
    if a.type == "number" and b.type == "number":
        return "number"
    if a.type == "number" and b.type in ("duration", "size"):
        return b.type
    return a.type if a.type == b.type else "id"


def _typed_port(pieces: list[_Piece]) -> None:
    """A number right after ``ip:`` is a port."""
    for i in range(2, len(pieces)):
        p = pieces[i]
        if isinstance(p, Variable) and p.type == "number" and pieces[i - 1] == ":":
            prev = pieces[i - 2]
            if isinstance(prev, Variable) and prev.type in ("ip", "ipv6"):
                pieces[i] = Variable("port", p.value)


def mask_token(token: str) -> tuple[str, list[Variable]]:
    """One whitespace-free token, masked: its text with ``<*>`` for variables, and the variables."""
    pieces: list[_Piece] = []
    _mask_token(token, pieces)
    pieces = _merge(pieces)
    _typed_port(pieces)
    text: list[str] = []
    variables: list[Variable] = []
    for p in pieces:
        if isinstance(p, Variable):
            text.append(WILDCARD)
            variables.append(p)
        else:
            text.append(p)
    return "".join(text), variables


def mask(content: str) -> tuple[list[str], list[Variable]]:
    """Split ``content`` on whitespace and mask every token; returns (masked tokens, variables in order)."""
    tokens: list[str] = []
    variables: list[Variable] = []
    for text, vs in mask_tokens(content):
        tokens.append(text)
        variables.extend(vs)
    return tokens, variables


def mask_tokens(content: str) -> list[tuple[str, list[Variable]]]:
    """Masked tokens of ``content`` with the variables of each; a date written over several words
    (``Sat Jul 9 22:53:22 2005``) and a number followed by a byte unit (``512 KB``) are one token."""
    out: list[tuple[str, list[Variable]]] = []
    pos = 0
    if any(c.isdigit() for c in content):
        for m in MULTI_TOKEN_DATE.finditer(content):
            _mask_plain(content[pos : m.start()], out)
            out.append((WILDCARD, [Variable("datetime", m.group(0))]))
            pos = m.end()
    _mask_plain(content[pos:], out)
    return out


def _mask_plain(text: str, out: list[tuple[str, list[Variable]]]) -> None:
    for token in text.split():
        if token in BYTE_UNITS and out and out[-1][0] == WILDCARD and out[-1][1][0].type == "number":
            out[-1] = (WILDCARD, [Variable("size", out[-1][1][0].value + " " + token)])
            continue
        out.append(mask_token(token))
