"""Provider schemas: what resource types, data sources and arguments really exist.

    schemas = load_schemas(Path("infra/"))          # working dir's providers, else the bundled AWS snapshot
    vpc = schemas.resource("aws_vpc")               # BlockSchema | None
    vpc.attributes["cidr_block"].optional           # True
    schemas.suggest_resource("aws_vpcc")            # "aws_vpc"

Sources, in order:

1. the working directory's initialized providers (``.terraform/`` and
   ``.terraform.lock.hcl`` present): ``terraform providers schema -json`` through
   :class:`~infraleash.terraform.runner.TerraformRunner`, cached per provider and
   locked version under ``$INFRALEASH_CACHE`` (default ``~/.cache/infraleash``)
   ``/schemas/<host>/<namespace>/<name>/<version>.idx`` so it runs once per version;
2. the bundled AWS provider 5.100.0 snapshot (``infraleash/data/provider-schemas``).

The full schema JSON (13.6 MB for AWS) takes ~0.35 s to parse, so on first use it is
reduced to a compact per-type index (flags and nesting only, no descriptions) written to
the cache directory: one JSON header line (the provider block and, for every resource and
data source type, where its entry is) followed by one zlib-compressed entry per type.
A check reads the header (type names only) and then the entries of the types the
configuration uses, each on first use (:class:`TypeIndex`); never the whole document.
An entry is the type's top-level block as one JSON line, then the JSON of each nested
block, which its parent names by position (:class:`Entry`): a nested block is decoded when
visited (AWS's ``aws_wafv2_web_acl`` entry is 688 KB of nesting, ~25 ms to decode whole).
"""

from __future__ import annotations

import collections
import contextlib
import difflib
import functools
import gzip
import itertools
import json
import operator
import os
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infraleash.terraform.hcl_parse import parse_file

# the package's data files (a directory beside the code; importlib.resources costs start-up for nothing here)
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

BUNDLED_AWS_VERSION = "5.100.0"
AWS_SOURCE = "registry.terraform.io/hashicorp/aws"
_INDEX_VERSION = 4  # in the index file's name too (see _cache_path): an older cache is never opened


def cache_dir() -> Path:
    env = os.environ.get("INFRALEASH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "infraleash"


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Attribute:
    name: str
    type: Any
    required: bool = False
    optional: bool = False
    computed: bool = False
    deprecated: bool = False
    sensitive: bool = False

    @property
    def object_fields(self) -> set[str] | None:
        """For a list/set of objects (writable with block syntax): the object's field names."""
        t = self.type
        if isinstance(t, list) and len(t) == 2 and t[0] in ("list", "set") and isinstance(t[1], list) \
                and t[1][:1] == ["object"]:
            return set(t[1][1])
        return None

    @property
    def is_object(self) -> bool:
        return isinstance(self.type, list) and self.type[:1] == ["object"]


@dataclass(frozen=True)
class BlockType:
    """A nested block type; its own schema (``block``) is built from its index entry on first use.

    Lazily, because a type's nesting can be large and is mostly not visited: AWS's
    ``aws_wafv2_web_acl`` nests ~10,000 blocks, a configuration writes a handful of them.
    """

    name: str
    nesting: str  # single | list | set | map | group
    min_items: int
    max_items: int | None
    index: dict[str, Any] | list[int] = field(repr=False)  # its compact index (_index_block) or its span in entry
    entry: Entry | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def block(self) -> BlockSchema:
        if isinstance(self.index, dict):  # inline (the provider block's nesting)
            return _block_from_index(self.index)
        assert self.entry is not None
        return _block_from_index(self.entry.nested(self.index), self.entry)


@dataclass(frozen=True)
class BlockSchema:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    block_types: dict[str, BlockType] = field(default_factory=dict)
    deprecated: bool = False

    def exported(self) -> set[str]:
        """Names a reference ``type.name.X`` may use: every attribute and nested block."""
        return set(self.attributes) | set(self.block_types)

    def required(self) -> list[str]:
        return [a.name for a in self.attributes.values() if a.required]

    @functools.cached_property
    def required_attributes(self) -> tuple[Attribute, ...]:
        """The required attributes, in schema order (worked out once: checked against every block of the type)."""
        return tuple(a for a in self.attributes.values() if a.required)

    @functools.cached_property
    def required_blocks(self) -> tuple[BlockType, ...]:
        """The nested block types with ``min_items`` > 0, in schema order."""
        return tuple(bt for bt in self.block_types.values() if bt.min_items > 0)


def _block_from_index(idx: dict[str, Any] | Entry, entry: Entry | None = None) -> BlockSchema:
    """The schema of a compact index block; its nested blocks are inline, or spans in ``entry``.

    ``idx`` may be a type's :class:`Entry` itself (its top-level block).
    """
    if isinstance(idx, Entry):
        entry, idx = idx, idx.top()
    attrs = {name: Attribute(name, spec[1], required="r" in spec[0], optional="o" in spec[0],
                             computed="c" in spec[0], deprecated="d" in spec[0], sensitive="s" in spec[0])
             for name, spec in idx.get("a", {}).items()}
    blocks = {name: BlockType(name, spec[0], spec[1], spec[2], spec[3], entry)
              for name, spec in idx.get("b", {}).items()}
    return BlockSchema(attrs, blocks, bool(idx.get("dep")))


class Entry:
    """One type's decompressed entry: its top-level block's JSON line, then its nested blocks' JSON.

    A block names each nested block's JSON by ``[offset, length]`` after the first line
    (:func:`_encode_entry`); only the blocks a configuration visits are decoded.
    """

    __slots__ = ("_data", "_body")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._body = data.index(b"\n") + 1  # ValueError when it is not an entry

    def top(self) -> dict[str, Any]:
        value = json.loads(self._data[:self._body - 1])
        if not isinstance(value, dict):
            raise ValueError("an index entry is a JSON object")
        return value

    def nested(self, span: list[int]) -> dict[str, Any]:
        start = self._body + span[0]
        try:
            value = json.loads(self._data[start:start + span[1]])
        except ValueError:  # a damaged entry: a block with nothing in it
            return {}
        return value if isinstance(value, dict) else {}


def _encode_entry(block: dict[str, Any]) -> bytes:
    """A type's entry (see :class:`Entry`): nested blocks are written first, each parent then names their spans."""
    body = bytearray()
    top = _out_of_line(_index_block(block), body)
    return _compact(top) + b"\n" + bytes(body)


def _out_of_line(idx: dict[str, Any], body: bytearray) -> dict[str, Any]:
    for spec in idx.get("b", {}).values():
        doc = _compact(_out_of_line(spec[3], body))
        spec[3] = [len(body), len(doc)]
        body += doc
    return idx


def _index_block(block: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    attrs = {}
    for name, a in (block.get("attributes") or {}).items():
        flags = "".join(f for f, key in (("r", "required"), ("o", "optional"), ("c", "computed"),
                                         ("d", "deprecated"), ("s", "sensitive")) if a.get(key))
        attrs[name] = [flags, a.get("type", "dynamic")]
    if attrs:
        out["a"] = attrs
    blocks = {}
    for name, b in (block.get("block_types") or {}).items():
        blocks[name] = [b.get("nesting_mode", "list"), int(b.get("min_items", 0) or 0),
                        b.get("max_items"), _index_block(b.get("block") or {})]
    if blocks:
        out["b"] = blocks
    if block.get("deprecated"):
        out["dep"] = 1
    return out


def index_provider(provider_json: dict[str, Any]) -> TypeIndex:
    """Reduce one provider's ``providers schema -json`` entry to the compact per-type index (in memory)."""
    entries: dict[str, dict[str, bytes]] = {
        "r": {t: _encode_entry(s.get("block") or {})
              for t, s in (provider_json.get("resource_schemas") or {}).items()},
        "d": {t: _encode_entry(s.get("block") or {})
              for t, s in (provider_json.get("data_source_schemas") or {}).items()},
    }
    return TypeIndex(_index_block((provider_json.get("provider") or {}).get("block") or {}), entries)


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class TypeIndex:
    """A provider's types: names known up front, each type's entry decoded on first use.

    In memory (just built from a schema) or backed by an index file (:func:`_read_index`),
    whose entries are read with ``os.pread`` one type at a time.
    """

    def __init__(self, provider: dict[str, Any], entries: dict[str, dict[str, bytes]] | None = None,
                 path: Path | None = None, spans: dict[str, dict[str, list[int]]] | None = None,
                 body: int = 0) -> None:
        self.provider = provider
        self._entries = entries
        self._path = path
        self._spans = spans
        self._body = body

    def names(self, kind: str) -> dict[str, Any]:
        """Type names of ``kind`` ("r" resources, "d" data sources), as a dict for fast membership."""
        if self._entries is not None:
            return self._entries[kind]
        return (self._spans or {}).get(kind, {})

    def get(self, kind: str, type_name: str) -> Entry | None:
        if self._entries is not None:
            raw = self._entries[kind].get(type_name)
            return Entry(raw) if raw is not None else None
        span = (self._spans or {}).get(kind, {}).get(type_name)
        if span is None or self._path is None:
            return None
        try:
            fd = os.open(self._path, os.O_RDONLY)
            try:
                data = os.pread(fd, span[1], self._body + span[0])
            finally:
                os.close(fd)
            return Entry(zlib.decompress(data))
        except (OSError, ValueError, zlib.error):
            return None

    def write(self, path: Path) -> None:
        """Write this (in-memory) index as an index file: header line, then one compressed entry per type."""
        assert self._entries is not None
        blobs: list[bytes] = []
        spans: dict[str, dict[str, list[int]]] = {"r": {}, "d": {}}
        offset = 0
        for kind in ("r", "d"):
            for name, raw in self._entries[kind].items():
                blob = zlib.compress(raw, 6)
                spans[kind][name] = [offset, len(blob)]
                blobs.append(blob)
                offset += len(blob)
        header = json.dumps({"v": _INDEX_VERSION, "provider": self.provider, **spans}, separators=(",", ":"))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(header.encode() + b"\n")
            f.writelines(blobs)
        os.replace(tmp, path)


class ProviderSchema:
    """One provider at one version (``registry.terraform.io/hashicorp/aws`` 5.100.0)."""

    def __init__(self, source: str, version: str | None, index: TypeIndex, origin: str) -> None:
        self.source = source
        self.version = version
        self.origin = origin  # "bundled" | "terraform" | "cache"
        self._index = index
        self._resources: dict[str, BlockSchema] = {}
        self._data: dict[str, BlockSchema] = {}
        self._suggested: dict[tuple[str, str], str | None] = {}
        self._provider_config: BlockSchema | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.source.rsplit("/", 1)[-1]

    def resource_types(self) -> list[str]:
        return list(self._index.names("r"))

    def suggest_type(self, kind: str, type_name: str) -> str | None:
        """The closest resource (``kind`` "r") or data source ("d") type, remembered per name."""
        key = (kind, type_name)
        if key not in self._suggested:
            self._suggested[key] = suggest(type_name, self._index.names(kind))
        return self._suggested[key]

    def data_source_types(self) -> list[str]:
        return list(self._index.names("d"))

    def resource(self, type_name: str) -> BlockSchema | None:
        return self._get("r", self._resources, type_name)

    def data_source(self, type_name: str) -> BlockSchema | None:
        return self._get("d", self._data, type_name)

    def provider_config(self) -> BlockSchema:
        """The provider block's schema, built once (AWS's has hundreds of endpoint arguments)."""
        if self._provider_config is None:
            block = _block_from_index(self._index.provider or {})
            with self._lock:
                self._provider_config = block
        return self._provider_config

    def _get(self, key: str, memo: dict[str, BlockSchema], type_name: str) -> BlockSchema | None:
        hit = memo.get(type_name)
        if hit is not None:
            return hit
        raw = self._index.get(key, type_name)
        if raw is None:
            return None
        try:
            block = _block_from_index(raw)
        except ValueError:  # a damaged entry: the type is not known (as a damaged file is)
            return None
        with self._lock:
            memo[type_name] = block
        return block


@dataclass
class SchemaSet:
    """The provider schemas a configuration is checked against, found by type prefix."""

    providers: dict[str, ProviderSchema] = field(default_factory=dict)  # local name (aws) -> schema
    notes: list[str] = field(default_factory=list)  # where each schema came from, what was not available

    def provider_for(self, type_name: str) -> ProviderSchema | None:
        prefix = type_name.split("_", 1)[0]
        return self.providers.get(prefix)

    def resource(self, type_name: str) -> BlockSchema | None:
        p = self.provider_for(type_name)
        return p.resource(type_name) if p else None

    def data_source(self, type_name: str) -> BlockSchema | None:
        p = self.provider_for(type_name)
        return p.data_source(type_name) if p else None

    def suggest_resource(self, type_name: str) -> str | None:
        p = self.provider_for(type_name)
        return p.suggest_type("r", type_name) if p else None

    def suggest_data_source(self, type_name: str) -> str | None:
        p = self.provider_for(type_name)
        return p.suggest_type("d", type_name) if p else None


def suggest(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest real name ("did you mean ...?"), or None when nothing is close.

    The same answer as ``difflib.get_close_matches(name, candidates, n=1, cutoff=cutoff)``
    (the best ``(ratio, name)``), but the full ratio is computed only for candidates whose
    upper bounds can still beat the best so far: difflib's ``quick_ratio`` (shared
    characters), then the longest common subsequence (the matching blocks ``ratio`` counts
    are a common subsequence, so ``2 * LCS / total`` bounds it too).  Over the ~1,500 AWS
    resource types that is a handful instead of hundreds.  Answers are remembered: the
    same module checked from several roots asks the same questions.
    """
    return _closest(name, frozenset(candidates), cutoff)


@functools.lru_cache(maxsize=4096)
def _closest(name: str, candidates: frozenset[str], cutoff: float) -> str | None:
    la = len(name)
    bounded = _quick_bounded(name, candidates, cutoff)
    masks = _char_masks(name)
    sm = difflib.SequenceMatcher()
    sm.set_seq2(name)
    best: tuple[float, str] | None = None
    for q, x in bounded:
        if best is not None and q < best[0]:
            break  # ratio <= quick_ratio: nothing further down can win
        total = la + len(x)
        if total:
            bound = 2.0 * _lcs_length(x, masks, la) / total
            if bound < cutoff or (best is not None and bound < best[0]):
                continue  # ratio <= 2 * LCS / total: this one cannot win (ties still go to the ratio)
        sm.set_seq1(x)
        r = sm.ratio()
        if r >= cutoff and (best is None or (r, x) > best):
            best = (r, x)
    return best[1] if best else None


def _quick_bounded(name: str, candidates: frozenset[str], cutoff: float) -> list[tuple[float, str]]:
    """``(quick_ratio, candidate)`` for the candidates whose quick ratio reaches ``cutoff``, best first.

    difflib's quick_ratio, computed as it computes it (``real_quick_ratio``, the lengths,
    is never above it and needs no separate test).
    """
    la = len(name)
    columns = _columns(candidates)
    bounded: list[tuple[float, str]] = []
    for x, shared, lx in zip(columns.names, columns.shared(collections.Counter(name)), columns.lengths, strict=True):
        total = la + lx
        q = 2.0 * shared / total if total else 1.0
        if q >= cutoff:
            bounded.append((q, x))
    bounded.sort(reverse=True)
    return bounded


class _Columns:
    """A candidate set as columns: its names, their lengths and, per character, each name's count of it.

    Counting the characters a name shares with every candidate is then one ``map()`` over
    the candidates per distinct character of the name (C loops), instead of a Python loop
    over the name's characters per candidate: over the ~1,500 AWS resource types ~7x faster.
    """

    def __init__(self, candidates: frozenset[str]) -> None:
        self.names = tuple(candidates)
        self.lengths = tuple(map(len, self.names))
        self._counts: dict[str, list[int]] = {ch: [0] * len(self.names) for ch in set().union(*self.names)}
        for i, x in enumerate(self.names):
            for ch in x:
                self._counts[ch][i] += 1
        self._capped: dict[tuple[str, int], tuple[int, ...]] = {}

    def shared(self, bag: collections.Counter[str]) -> list[int]:
        """For each candidate, how many characters of the name whose counts are ``bag`` it has."""
        shared = [0] * len(self.names)
        for ch, n in bag.items():
            capped = self._capped_counts(ch, n)
            if capped is not None:
                shared = list(map(operator.add, shared, capped))
        return shared

    def _capped_counts(self, ch: str, n: int) -> tuple[int, ...] | None:
        """``min(count of ch, n)`` per candidate (None when no candidate has ``ch``), remembered."""
        hit = self._capped.get((ch, n))
        if hit is None:
            counts = self._counts.get(ch)
            if counts is None:
                return None
            hit = self._capped[(ch, n)] = tuple(map(min, counts, itertools.repeat(n)))
        return hit


@functools.lru_cache(maxsize=256)
def _columns(candidates: frozenset[str]) -> _Columns:
    """The ~1,500 resource types' columns are built once per process."""
    return _Columns(candidates)


def _char_masks(name: str) -> dict[str, int]:
    """For each character of ``name``, the bit set of its positions (for :func:`_lcs_length`)."""
    masks: dict[str, int] = {}
    for i, ch in enumerate(name):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    return masks


def _lcs_length(a: str, masks: dict[str, int], lb: int) -> int:
    """The length of the longest common subsequence of ``a`` and the ``lb``-character string of ``masks``.

    Bit-parallel (Hyyrö 2004): one add and a few bit operations per character of ``a``,
    instead of the ``len(a) * lb`` table of the textbook algorithm.
    """
    v = -1  # all ones; the zero bits of the low lb bits count the subsequence
    for ch in a:
        m = masks.get(ch)
        if m:
            u = v & m
            v = (v + u) | (v - u)
    return lb - (v & ((1 << lb) - 1)).bit_count()


# --------------------------------------------------------------------------- loading

_memo: dict[tuple[str, str], ProviderSchema] = {}
_memo_lock = threading.Lock()


def _cache_path(source: str, version: str) -> Path:
    return cache_dir() / "schemas" / source / f"{version}.v{_INDEX_VERSION}.idx"


def _read_index(path: Path) -> TypeIndex | None:
    """The index file's header (type names and where each entry is); None when absent or stale."""
    try:
        with open(path, "rb") as f:
            line = f.readline()
        header = json.loads(line)
    except (OSError, ValueError):
        return None
    if not (isinstance(header, dict) and header.get("v") == _INDEX_VERSION and line.endswith(b"\n")):
        return None
    return TypeIndex(header.get("provider") or {}, path=path, spans={"r": header.get("r") or {},
                                                                    "d": header.get("d") or {}},
                     body=len(line))


def _write_index(path: Path, index: TypeIndex) -> None:
    with contextlib.suppress(OSError):  # a read-only home: the index is rebuilt in memory next time
        index.write(path)


def bundled_snapshot_path() -> Path:
    return DATA_DIR / "provider-schemas" / f"aws-{BUNDLED_AWS_VERSION}.json.gz"


def bundled_aws() -> ProviderSchema:
    """The AWS provider 5.100.0 schema shipped with the package (loaded once, lazily)."""
    key = (AWS_SOURCE, BUNDLED_AWS_VERSION)
    with _memo_lock:
        if key in _memo:
            return _memo[key]
    cached = _cache_path(AWS_SOURCE, BUNDLED_AWS_VERSION)
    index = _read_index(cached)
    if index is None:
        with gzip.open(bundled_snapshot_path(), "rt", encoding="utf-8") as f:
            full = json.load(f)
        index = index_provider(full["provider_schemas"][AWS_SOURCE])
        _write_index(cached, index)
    schema = ProviderSchema(AWS_SOURCE, BUNDLED_AWS_VERSION, index, "bundled")
    with _memo_lock:
        _memo[key] = schema
    return schema


@dataclass(frozen=True)
class LockedProvider:
    source: str  # registry.terraform.io/hashicorp/aws
    version: str | None
    constraints: str | None
    file: str
    line: int


def read_lock_file(directory: Path) -> dict[str, LockedProvider] | None:
    """``.terraform.lock.hcl`` entries by full source address, or None when there is no lock file."""
    if not os.path.isfile(os.path.join(directory, ".terraform.lock.hcl")):  # os.path: a third of pathlib's cost
        return None
    path = directory / ".terraform.lock.hcl"
    parsed = parse_file(path, ".terraform.lock.hcl")
    out: dict[str, LockedProvider] = {}
    for block in parsed.blocks:
        if block.type != "provider" or not block.labels:
            continue
        values = {name: _literal(attr.text) for name, attr in block.attrs.items()}
        selected = block.attrs.get("version")  # findings about the selected version point at its line
        out[block.labels[0]] = LockedProvider(block.labels[0], values.get("version"), values.get("constraints"),
                                              ".terraform.lock.hcl", selected.line if selected else block.line)
    return out


def _literal(text: str) -> str | None:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return None


def full_source(source: str | None, local_name: str) -> str:
    """``hashicorp/aws`` -> ``registry.terraform.io/hashicorp/aws`` (the lock file's form)."""
    if not source:
        return f"registry.terraform.io/hashicorp/{local_name}"
    parts = source.lower().split("/")
    if len(parts) == 2:
        return f"registry.terraform.io/{parts[0]}/{parts[1]}"
    if len(parts) == 1:
        return f"registry.terraform.io/hashicorp/{parts[0]}"
    return "/".join(parts)


def _from_terraform(directory: Path, timeout: float,
                    env: dict[str, str] | None) -> dict[str, dict[str, Any]] | None:
    """Run ``terraform providers schema -json`` in an initialized directory (None when it fails)."""
    try:
        from infraleash.errors import ExecutionError
        from infraleash.terraform.runner import TerraformRunner
    except ImportError:
        return None
    try:
        result = TerraformRunner(directory, env=env, timeout=timeout).providers_schema()
    except ExecutionError:
        return None
    if not result.ok or not isinstance(result.json, dict):
        return None
    schemas = result.json.get("provider_schemas")
    return schemas if isinstance(schemas, dict) else None


def load_schemas(directory: Path | None = None, *, use_terraform: bool = True,
                 timeout: float = 120.0, env: dict[str, str] | None = None) -> SchemaSet:
    """The schemas to check ``directory`` against (see the module docstring for the order)."""
    out = SchemaSet()
    locked = read_lock_file(directory) if directory is not None else None
    if locked:
        initialized = directory is not None and (directory / ".terraform" / "providers").is_dir()
        missing: list[LockedProvider] = []
        for lp in locked.values():
            if not lp.version:
                continue
            key = (lp.source, lp.version)
            with _memo_lock:
                schema = _memo.get(key)
            if schema is None:
                index = _read_index(_cache_path(lp.source, lp.version))
                if index is not None:
                    schema = ProviderSchema(lp.source, lp.version, index, "cache")
            if schema is None and lp.source == AWS_SOURCE and lp.version == BUNDLED_AWS_VERSION:
                schema = bundled_aws()
            if schema is None:
                missing.append(lp)
                continue
            with _memo_lock:
                _memo[key] = schema
            out.providers[schema.name] = schema
        if missing and initialized and use_terraform and directory is not None:
            fetched = _from_terraform(directory, timeout, env)
            for lp in missing:
                pj = (fetched or {}).get(lp.source)
                if pj is None:
                    continue
                index = index_provider(pj)
                _write_index(_cache_path(lp.source, lp.version or "unknown"), index)
                schema = ProviderSchema(lp.source, lp.version, index, "terraform")
                with _memo_lock:
                    _memo[(lp.source, lp.version or "")] = schema
                out.providers[schema.name] = schema
        for lp in missing:
            name = lp.source.rsplit("/", 1)[-1]
            if name not in out.providers:
                how = "run `terraform init` so infraleash can read it" if not initialized else \
                    "`terraform providers schema -json` did not provide it"
                out.notes.append(f"schema of {lp.source} {lp.version} (locked) is not available: {how}")
    if "aws" not in out.providers:
        out.providers["aws"] = bundled_aws()
    origins = {"bundled": "the schema snapshot bundled with infraleash",
               "terraform": "read from the working directory's providers",
               "cache": "cached from the working directory's providers"}
    for name, schema in out.providers.items():
        out.notes.append(f"{name} resources checked against {schema.source} {schema.version} "
                         f"({origins.get(schema.origin, schema.origin)})")
    return out
