"""Streaming log template miner: lines in, templates with typed variables out (pure core, no I/O).

How a line is grouped:

1. **Mask** (``masking.mask``): numbers, IPs, ids, paths, ... become ``<*>``. Most of the accuracy is won
   here; lines of one template usually mask to the same text.
2. **Exact group**: each distinct masked text is a *raw group*.
3. **Merge on variable positions, learned as the lines stream**: raw groups with the same number of tokens
   that differ in exactly one position are merged once that position has shown ``merge_distinct`` different
   words (a word that keeps changing is a variable, like a user name; two alternatives such as
   ``SOCKS5``/``HTTPS`` stay apart). A slot needs other tokens that carry constant words (*anchors*): with
   fewer than ``min_anchors`` it needs ``evidence_step`` more distinct values per missing anchor (the first
   token counts against ``first_token_anchors``), and with none it never merges, so short lines are not
   swallowed by a ``<*>``. Capitalised alternatives (``GET``/``POST``, ``Started``/``Paused``) are never merged.
   Merged raw groups form a *template group* whose *mask* is the set of positions its members differ in;
   its template has ``<*>`` there, keeping a common prefix/suffix (``user=root``/``user=bob`` -> ``user=<*>``).
   Each group is indexed by its tokens with its mask blanked, so a later line that differs from it only at
   its variable positions joins at once, however many of them it changes; and the one-position slots are
   also kept under each mask, so a group that has learned ``tag`` is a variable learns ``name`` from lines
   that change both (``tag="AudioMix", name=audioserver`` / ``tag="RILJ", name=com.android.phone``). A mask
   only merges around a group that learned it.
Template ids are stable within a run: the id returned for a line stays valid after merges
(``final_template(id)`` and ``group_of(id)`` follow it to the group it was merged into), and a merge keeps
the older group's id, so a record that shows late that a position is variable does not rename the event.

Why the constants are what they are, and how well they hold on datasets they were not picked on:
``bench/loghub_leave_out.py`` and ``BENCHMARKS.md``.

Speed: the masked text of a line only depends on the line with its digits normalised, so a bounded cache
maps that key to its raw group and most lines cost one ``str.translate`` and one dict lookup; on a miss,
tokens are masked through a second bounded cache keyed the same way.
Memory grows with the number of templates, plus the bounded caches (``cache_size`` keys each, then cleared).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from infraleash.logs.masking import (
    BYTE_UNITS,
    MULTI_TOKEN_DATE,
    WILDCARD,
    Variable,
    mask,
    mask_token,
    mask_tokens,
)

__all__ = ["Match", "Template", "TemplateMiner", "Variable", "mask", "mine"]

MERGE_DISTINCT = 3  # distinct values that make a position a variable (two could be two events)
MIN_ANCHORS = 3  # other tokens with constant words a slot needs for MERGE_DISTINCT to be enough
FIRST_TOKEN_ANCHORS = 5  # the first token only becomes a variable in a long template...
EVIDENCE_STEP = 2  # ...or with this many more distinct values per missing anchor
MIN_SKELETON = 4
MAX_MASKS_PER_LENGTH = 8  # variable-position sets indexed per line length (bounds the work per new group)
MAX_SLOT_TOKENS = 256  # longer lines only join by exact text, mask or same words (slot keys cost n^2 each)
CACHE_SIZE = 50_000  # keys per cache before it is cleared: a cap reached within the first ~250k lines, so peak
# memory is the same at 1M and at 5M lines (a 200k cap filled only past 1M lines: +16 MB at 5M)
_NO_MASK: frozenset[int] = frozenset()
_NEVER = 1 << 30
_PUNCT = "()[]{}<>,;:.!?'\"=-"
_UNIT_WORDS = frozenset({"B", "KB", "MB", "GB", "TB", "sec", "secs", "ms", "s", "bytes"})
_CAPITALISED = re.compile(r"^\W*[A-Z][A-Za-z]*\W*$")
_BYTE_DIGITS = bytes.maketrans(b"123456789", b"111111111")  # bytes.translate: ~10x faster than str.translate
# A run of 6+ hex characters with a digit and a letter, standing alone between masking delimiters, is always
# masked to ``<*>`` whatever its characters are; the cache key writes it as one canonical run of the same
# length, so request ids, trace ids and hashes (unique per line) share one key.  The length and the one shape
# that a whole-piece test in ``masking`` can see (digits then one letter, the end of ``v1.2.123456a``) are
# kept, so every other check (UUID, IPv6, host, version, unit) reads the key as it reads the line.
_DELIM = r"\s,!;:=|\"'\[\](){}<>+@#$%&/.\-"
_HEX_RUN = re.compile(rf"(?<![^{_DELIM}])(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{{6,}}(?![^{_DELIM}])")


def _canonical_hex(m: re.Match[str]) -> str:
    run = m.group(0)
    n = len(run)
    if run[:-1].isdigit():
        return "1" * (n - 1) + ("a" if run[-1].islower() else "A")
    return "a" + "1" * (n - 1)


def _hex_key(key: str) -> str:
    return _HEX_RUN.sub(_canonical_hex, key)



@dataclass(frozen=True, slots=True)
class Template:
    """A template group: its id, its text (variables written ``<*>``) and how many lines it matched."""

    id: int
    template: str
    count: int


@dataclass(slots=True)  # not frozen: one is built per line, and a frozen __init__ costs 3x more
class Match:
    """The template a line was assigned to. ``variables`` are computed on first access."""

    template_id: int
    template: str
    content: str = field(repr=False)

    @property
    def variables(self) -> list[Variable]:
        """The line's variables, one per ``<*>`` of ``template``, in order, with their detected type."""
        return variables_for(self.template, self.content)


def variables_for(template: str, content: str) -> list[Variable]:
    """Align ``content`` with ``template`` token by token and return the variables with their types."""
    t_tokens = template.split()
    masked = mask_tokens(content)
    if len(t_tokens) != len(masked):
        return [Variable("string", content)] if WILDCARD in template else []
    out: list[Variable] = []
    for t, (m, vs) in zip(t_tokens, masked, strict=True):
        if WILDCARD not in t:
            continue
        if m.count(WILDCARD) == t.count(WILDCARD):
            out.extend(vs)
        else:
            out.extend(_refined_variables(t, m, vs))
    return out


def _refined_variables(template_token: str, masked: str, vs: list[Variable]) -> list[Variable]:
    """Variables of a token whose template has more ``<*>`` than its own masking found (a word variable)."""
    if template_token == WILDCARD:
        text = masked
        for v in vs:
            text = text.replace(WILDCARD, v.value, 1)
        return [Variable(vs[0].type if len(vs) == 1 and masked == WILDCARD else "string", text)]
    prefix, _, suffix = template_token.partition(WILDCARD)
    if WILDCARD not in suffix and masked.startswith(prefix) and masked.endswith(suffix):
        inner = masked[len(prefix) : len(masked) - len(suffix)]
        for v in vs:
            inner = inner.replace(WILDCARD, v.value, 1)
        return [Variable("string", inner)]
    return list(vs)


def _generalises(pattern: str, token: str) -> bool:
    """True when template token ``pattern`` (with ``<*>``) also covers ``token``: ``(<*>)`` covers ``()``."""
    if WILDCARD not in pattern or pattern == token:
        return False
    return _pattern(pattern).fullmatch(token) is not None


@lru_cache(maxsize=4096)
def _pattern(template_token: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in template_token.split(WILDCARD)), re.DOTALL)


def merge_tokens(a: str, b: str) -> str:
    """One template token covering ``a`` and ``b``: their common prefix and suffix around a ``<*>``.

    The prefix ends and the suffix starts at a delimiter, so ``user=root``/``user=guest`` gives
    ``user=<*>`` but ``HTTPS``/``SOCKS5`` gives ``<*>``.
    """
    if a == b:
        return a
    limit = min(len(a), len(b))
    n = 0
    while n < limit and a[n] == b[n]:
        n += 1
    while n > 0 and (a[n - 1].isalnum() or a[n - 1] == "_" or a[:n].endswith(("<", "<*"))):
        n -= 1
    k = 0
    while k < limit - n and a[len(a) - 1 - k] == b[len(b) - 1 - k]:
        k += 1
    while k > 0 and (a[len(a) - k].isalnum() or a[len(a) - k] == "_" or a[len(a) - k :].startswith(("*>", ">"))):
        k -= 1
    prefix, suffix = a[:n], a[len(a) - k :]
    merged = prefix + WILDCARD + suffix
    while "<*><*>" in merged:
        merged = merged.replace("<*><*>", WILDCARD)
    return merged



class TemplateMiner:
    """Online template miner. ``add`` learns from a line; ``match`` only looks up."""

    def __init__(self, *, merge_distinct: int = MERGE_DISTINCT, min_anchors: int = MIN_ANCHORS,
                 first_token_anchors: int = FIRST_TOKEN_ANCHORS, evidence_step: int = EVIDENCE_STEP,
                 min_skeleton: int = MIN_SKELETON, cache_size: int = CACHE_SIZE) -> None:
        self.merge_distinct = merge_distinct
        self.min_anchors = min_anchors
        self.first_token_anchors = first_token_anchors
        self.evidence_step = evidence_step
        self.min_skeleton = min_skeleton
        self.cache_size = cache_size
        self._cache: dict[str | bytes, int] = {}  # digit-normalised line (UTF-8), or its hex key -> raw group
        self._token_cache: dict[str, str] = {}  # digit-normalised token -> masked token
        self._raw_by_text: dict[str, int] = {}  # masked text -> raw group id
        self._raw_tokens: list[tuple[str, ...]] = []
        self._parent: list[int] = []  # union-find over raw group ids
        self._count: list[int] = []  # lines per raw group
        self._group_tokens: dict[int, list[str]] = {}  # root id -> merged template tokens
        self._group_text: dict[int, str] = {}  # root id -> template text
        # (length, position, tokens with that position blanked) -> raw ids sharing it, or the root once merged
        self._skeletons: dict[tuple[str, ...], int] = {}
        # (length, blanked positions, tokens with them blanked, mask) -> members, or the root once merged
        self._slots: dict[tuple[int, frozenset[int], tuple[str, ...], frozenset[int]], set[int] | int] = {}
        self._mask: dict[int, frozenset[int]] = {}  # root -> positions learned as variables
        self._masks_by_len: dict[int, dict[frozenset[int], None]] = {}
        self._exact: dict[tuple[int, frozenset[int], tuple[str, ...]], int] = {}  # root by its blanked tokens
        self._roots_by_len: dict[int, set[int]] = {}
        self._dirty: set[int] = set()

    # -- public API --------------------------------------------------------------------------------

    def add(self, content: str) -> Match:
        """Assign ``content`` to a template group (creating or refining one) and return the match."""
        cache = self._cache
        fast = content.encode("utf-8", "surrogatepass").translate(_BYTE_DIGITS)
        raw = cache.get(fast)
        if raw is None:
            key = fast.decode("utf-8", "surrogatepass")
            hex_key = _hex_key(key)
            raw = cache.get(hex_key)
            if raw is None:
                raw = self._raw_group(self._masked(content, hex_key))
                if len(cache) >= self.cache_size:
                    cache.clear()
                cache[hex_key] = raw
            if hex_key == key:  # no hex run: the next line of this shape is found by its bytes key
                cache[fast] = raw
        self._count[raw] += 1
        root = self._find(raw)
        return Match(root, self._group_text[root], content)

    def _masked(self, content: str, key: str) -> tuple[str, ...]:
        """Masked tokens of ``content`` through a bounded cache keyed by the tokens of ``key`` (the line with
        digits and hex runs normalised; masking does not depend on them, and a constant such as ``eth1``
        keeps its first spelling)."""
        tokens = content.split()
        if not BYTE_UNITS.isdisjoint(tokens) or MULTI_TOKEN_DATE.search(key):
            return tuple(t for t, _ in mask_tokens(content))
        cache = self._token_cache
        out = []
        for tok, tkey in zip(tokens, key.split(), strict=True):
            masked = cache.get(tkey)
            if masked is None:
                masked = mask_token(tok)[0]
                if len(cache) >= self.cache_size:
                    cache.clear()
                cache[tkey] = masked
            out.append(masked)
        return tuple(out)

    def match(self, content: str) -> Match | None:
        """The group ``content`` belongs to, without learning from it; None when no group fits."""
        fast = content.encode("utf-8", "surrogatepass").translate(_BYTE_DIGITS)
        raw = self._cache.get(fast)
        if raw is None:
            raw = self._cache.get(_hex_key(fast.decode("utf-8", "surrogatepass")))
        if raw is None:
            tokens = tuple(mask(content)[0])
            raw = self._raw_by_text.get(" ".join(tokens))
            if raw is None:
                root = self.match_tokens(tokens)
                if root is None:
                    return None
                return Match(root, self._group_text[root], content)
        root = self._find(raw)
        return Match(root, self._group_text[root], content)

    def templates(self) -> list[Template]:
        """The final template groups, most frequent first."""
        counts: dict[int, int] = {}
        for raw in range(len(self._parent)):
            root = self._find(raw)
            counts[root] = counts.get(root, 0) + self._count[raw]
        out = [Template(root, self._group_text[root], n) for root, n in counts.items() if n > 0]
        out.sort(key=lambda t: (-t.count, t.id))
        return out

    def final_template(self, template_id: int) -> str:
        """The current text of the group ``template_id`` belongs to (following any later merge)."""
        return self._group_text[self._find(template_id)]

    def group_of(self, template_id: int) -> int:
        """The id of the group ``template_id`` was merged into (itself when never merged)."""
        return self._find(template_id)

    # -- grouping ----------------------------------------------------------------------------------

    def _raw_group(self, tokens: tuple[str, ...]) -> int:
        text = " ".join(tokens)
        raw = self._raw_by_text.get(text)
        if raw is not None:
            return raw
        raw = len(self._parent)
        self._raw_by_text[text] = raw
        self._raw_tokens.append(tokens)
        self._parent.append(raw)
        self._count.append(0)
        self._group_tokens[raw] = list(tokens)
        self._group_text[raw] = text
        self._mask[raw] = _NO_MASK
        n = len(tokens)
        self._index_skeleton(raw, tokens)
        for mask_ in self._masks_by_len.get(n, ()):  # differs from a group only where that group varies
            root = self._exact.get((n, mask_, _blank(tokens, mask_)))
            if root is not None:
                self._union(root, raw)
                self._settle()
                return raw
        self._roots_by_len.setdefault(n, set()).add(raw)
        if n <= MAX_SLOT_TOKENS:
            for mask_ in (_NO_MASK, *self._masks_by_len.get(n, ())):
                self._index_slots(raw, tokens, mask_)
        self._settle()
        return raw

    def _index_skeleton(self, raw: int, tokens: tuple[str, ...]) -> None:
        """Join a group whose constant words equal an existing group's but whose variables span a
        different number of tokens (``5 bytes sent`` / ``5 bytes (1.2 KB) sent``; lists of names)."""
        skeleton = tuple(
            w for t in tokens if (w := t.replace(WILDCARD, "").strip(_PUNCT)) and w not in _UNIT_WORDS and not w.isdigit()
        )
        if len(skeleton) < self.min_skeleton or sum(WILDCARD in t for t in tokens) == 0:
            return
        other = self._skeletons.setdefault(skeleton, raw)
        if other != raw and len(self._raw_tokens[other]) != len(tokens):
            self._union(other, raw)

    def _needed(self, tokens: Sequence[str], mask_: frozenset[int], pos: int) -> int:
        """Distinct values a position needs before it is a variable: ``merge_distinct`` when enough other
        tokens carry constant words (anchors), ``evidence_step`` more per missing anchor, never with none (short lines need more evidence);
        the first token needs ``first_token_anchors``."""
        anchors = sum(1 for i, t in enumerate(tokens) if i != pos and i not in mask_ and _anchor(t))
        if anchors == 0:
            return _NEVER  # nothing constant would be left
        wanted = self.first_token_anchors if pos == 0 else self.min_anchors
        return self.merge_distinct + self.evidence_step * max(0, wanted - anchors)

    def _index_slots(self, member: int, tokens: Sequence[str], mask_: frozenset[int]) -> None:
        """Put ``member`` (a raw group, or a root under its own mask) in every slot: the positions outside
        ``mask_`` blanked one at a time.  A slot whose members show enough distinct values at its position
        merges them (the position is learned as a variable)."""
        n = len(tokens)
        for pos in range(n):
            if pos in mask_:
                continue
            needed = self._needed(tokens, mask_, pos)
            if needed == _NEVER:
                continue  # no constant word would be left
            cut = mask_ | {pos}
            slot = (n, cut, _blank(tokens, cut), mask_)
            entry = self._slots.get(slot)
            if entry is None:
                self._slots[slot] = {member}
                continue
            if isinstance(entry, int):
                self._union(entry, member)
                continue
            tok = tokens[pos]
            if needed <= self.merge_distinct + self.evidence_step:  # ``(<*>)`` covers ``()``: one event with an empty variable
                for other in list(entry):
                    o = self._token_at(other, pos, n)
                    if o is not None and (_generalises(o, tok) or _generalises(tok, o)):
                        self._union(other, member)
            entry.add(member)
            if len(entry) < needed:
                continue
            roots = {self._find(m) for m in entry}
            values = {v for m in entry if (v := self._token_at(m, pos, n)) is not None}
            if len(values) < needed or self._looks_enumerated(values):
                continue
            if mask_ and not any(self._mask[r] >= mask_ for r in roots):
                continue  # a mask borrowed from elsewhere merges only around the group that learned it
            members = list(entry)
            for other in members[1:]:
                self._union(members[0], other)
            self._slots[slot] = self._find(members[0])

    def _token_at(self, member: int, pos: int, n: int) -> str | None:
        """Token ``pos`` of the group ``member`` is in; its own when that group has another length (it was
        joined by the same-words rule)."""
        group = self._group_tokens[self._find(member)]
        if len(group) == n:
            return group[pos]
        own = self._raw_tokens[member]
        return own[pos] if len(own) == n else None

    @staticmethod
    def _looks_enumerated(values: set[str]) -> bool:
        """Capitalised words in a slot (``GET``/``POST``, ``Started``/``Paused``) name different events."""
        return all(_CAPITALISED.match(v) for v in values)

    def _settle(self) -> None:
        """Index the groups whose variable positions changed: by their mask (exact joins) and in the slots
        of that mask, so a later record that differs from them at a known variable joins at once."""
        while self._dirty:
            root = self._dirty.pop()
            if self._find(root) != root:
                continue
            tokens = self._group_tokens[root]
            mask_ = self._mask[root]
            n = len(tokens)
            if not mask_:
                continue
            known = self._masks_by_len.setdefault(n, {})
            if mask_ not in known and len(known) < MAX_MASKS_PER_LENGTH and n <= MAX_SLOT_TOKENS:
                known[mask_] = None
                for other in list(self._roots_by_len.get(n, ())):  # earlier groups, seen under the new mask
                    if self._find(other) == other and other != root:
                        self._index_slots(other, self._group_tokens[other], mask_)
            key = (n, mask_, _blank(tokens, mask_))
            same = self._exact.get(key)
            if same is not None and self._find(same) != root:
                self._union(same, root)
                continue
            self._exact[key] = root
            if mask_ in known:
                self._index_slots(root, tokens, mask_)

    def match_tokens(self, tokens: tuple[str, ...]) -> int | None:
        n = len(tokens)
        for mask_ in self._masks_by_len.get(n, ()):
            root = self._exact.get((n, mask_, _blank(tokens, mask_)))
            if root is not None:
                return self._find(root)
        return None

    def _find(self, raw: int) -> int:
        parent = self._parent
        root = raw
        while parent[root] != root:
            root = parent[root]
        while parent[raw] != root:
            parent[raw], raw = root, parent[raw]
        return root

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return
        if rb < ra:
            ra, rb = rb, ra  # the older group keeps its id
        self._parent[rb] = ra
        ta, tb = self._group_tokens[ra], self._group_tokens[rb]
        mask_ = self._mask[ra] | self._mask[rb]
        if len(ta) == len(tb):
            merged = [merge_tokens(x, y) for x, y in zip(ta, tb, strict=True)]
            mask_ = mask_ | frozenset(i for i, (x, y) in enumerate(zip(ta, tb, strict=True)) if x != y)
        else:
            merged = ta
        del self._group_tokens[rb]
        del self._group_text[rb]
        del self._mask[rb]
        self._roots_by_len.get(len(tb), set()).discard(rb)
        self._group_tokens[ra] = merged
        self._group_text[ra] = " ".join(merged)
        self._mask[ra] = frozenset(mask_)
        self._dirty.add(ra)


def _anchor(token: str) -> bool:
    """A token whose constant part has a letter: ``CMD``, ``from=<*>,``; not ``(<*>)`` or ``<*>``."""
    return any(c.isalpha() for c in token.replace(WILDCARD, ""))


def _blank(tokens: Sequence[str], positions: frozenset[int]) -> tuple[str, ...]:
    return tuple(WILDCARD if i in positions else t for i, t in enumerate(tokens))


def mine(contents: Iterable[str], miner: TemplateMiner | None = None) -> list[Match]:
    """Mine a batch; every returned match carries the FINAL template and group id of its line."""
    miner = miner or TemplateMiner()
    first = [miner.add(c) for c in contents]
    out: list[Match] = []
    for m in first:
        root = miner.group_of(m.template_id)
        out.append(m if root == m.template_id and miner.final_template(root) == m.template else
                   Match(root, miner.final_template(root), m.content))
    return out
