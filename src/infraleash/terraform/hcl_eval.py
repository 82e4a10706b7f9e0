"""Evaluate HCL expressions (:mod:`infraleash.terraform.hcl_tree` trees) statically, inside one module's scope.

Values are Python values or :class:`~infraleash.terraform.config.Unknown` (with why).
Variables, locals, interpolations, operators, conditionals, ``for`` expressions,
splats, built-in functions (:mod:`infraleash.terraform.hcl_functions`), heredoc and
``file()`` JSON (decoded), ``jsonencode`` (kept as the structure), references to other
resources' arguments where statically known (else ``Unknown("known after apply: ...")``),
module outputs of local modules, and ``data "aws_iam_policy_document"`` rendered to the
policy document it produces.

Evaluation spends the scope's :class:`~infraleash.terraform.hcl_budget.Budget` (steps, value size,
time): a value past it is ``Unknown`` and an event on the budget (an ``HCL-EVAL-BUDGET`` finding).
The file functions (``file``, ``templatefile``, ``fileexists``, ``filebase64``, ``filemd5`` ...) read only
regular files of at most ``MAX_READ_BYTES`` inside the scope's ``confine`` directories (symlinks
resolved); any other path is ``Unknown`` and an ``HCL-FILE-REFUSED`` event, and no content of it is read.
"""

from __future__ import annotations

import base64
import json
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infraleash.terraform import hcl_functions
from infraleash.terraform.config import Unknown
from infraleash.terraform.hcl_budget import (
    MAX_DYNAMIC_BLOCKS,
    MAX_NUMBER_BITS,
    STEP_TIME_MASK,
    Budget,
    BudgetExceeded,
)
from infraleash.terraform.hcl_parse import MAX_NESTING, RawAttr, RawBlock, parse_expression
from infraleash.terraform.hcl_tree import Token, Tree
from infraleash.terraform.hcl_tree import name_of as _name_of

MAX_READ_BYTES = 1_000_000  # what a file function reads at most
FILE_FUNCTIONS = frozenset({"file", "templatefile", "fileexists", "fileset", "filebase64", "filemd5", "filesha1",
                             "filesha256", "filesha512", "filebase64sha256", "filebase64sha512"})
_FILE_DIGESTS = {"filemd5": ("md5", False), "filesha1": ("sha1", False), "filesha256": ("sha256", False),
                 "filesha512": ("sha512", False), "filebase64sha256": ("sha256", True),
                 "filebase64sha512": ("sha512", True)}
_META_ARGS = {"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"}

# --------------------------------------------------------------------------- evaluation


@dataclass
class ModuleScope:
    """One module instance being evaluated: its raw blocks and scope."""

    path: str  # "" or "module.x"
    directory: Path
    variables: dict[str, Any] = field(default_factory=dict)
    local_exprs: dict[str, tuple[RawAttr, str]] = field(default_factory=dict)  # name -> (attr, file)
    local_values: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, tuple[RawBlock, str]] = field(default_factory=dict)  # "type.name" -> (block, file)
    data: dict[str, tuple[RawBlock, str]] = field(default_factory=dict)  # "type.name"
    children: dict[str, ModuleScope] = field(default_factory=dict)
    outputs: dict[str, tuple[RawAttr, str]] = field(default_factory=dict)
    evaluating: set[str] = field(default_factory=set)
    attr_memo: dict[tuple[str, str], Any] = field(default_factory=dict)
    budget: Budget = field(default_factory=Budget)  # shared by every module of one configuration
    confine: tuple[Path, ...] = ()  # directories the file functions may read (default: ``directory``)
    resolve: Callable[[Path], Path] = Path.resolve  # ``Path.resolve``, or the loader's memo of it (path_facts.py)


_HEREDOC_HEAD = re.compile(r"<<(-?)([A-Za-z][A-Za-z0-9._-]*)\r?\n")
_INTERP = re.compile(r"(?<!\$)\$\{")


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    return hcl_functions_unescape(s)


_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(?:([nrt\"\\])|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))")


def _escape(m: re.Match[str]) -> str:
    if m.group(1):
        return _SIMPLE_ESCAPES[m.group(1)]
    code = int(m.group(2) or m.group(3), 16)
    try:
        return chr(code)
    except ValueError:  # beyond U+10FFFF: kept as written
        return m.group(0)


def hcl_functions_unescape(s: str) -> str:
    """Resolve HCL's escapes in a quoted template's literal text, in one pass (``\\\\n`` is ``\\`` + ``n``).

    An unknown escape is kept as written (Terraform rejects it; the checks read on).
    """
    return _ESCAPE.sub(_escape, s)


def _heredoc_body(raw: str) -> tuple[bool, str] | None:
    """(``<<-``?, the body) of a heredoc token: the text between its first line and the closing marker.

    Read from both ends (a regex with a lazy body and ``[ \\t]*`` before the marker took minutes on a body
    of spaces)."""
    m = _HEREDOC_HEAD.match(raw)
    if not m:
        return None
    marker = m.group(2)
    rest = raw[m.end():].rstrip("\n")
    rest = rest[:-1] if rest.endswith("\r") else rest
    if not rest.endswith(marker):
        return None
    rest = rest[:-len(marker)].rstrip(" \t")
    rest = rest[:-1] if rest.endswith("\n") else rest
    rest = rest[:-1] if rest.endswith("\r") else rest
    return bool(m.group(1)), rest


class Evaluator:
    """Evaluates expression trees inside one module's scope."""

    def __init__(self, module: ModuleScope, file: str, env: dict[str, Any] | None = None) -> None:
        self.m = module
        self.file = file
        self.env = env or {}
        self.depth = 0
        self.budget = module.budget  # read on every node: one attribute instead of two

    def with_env(self, **bindings: Any) -> Evaluator:
        return Evaluator(self.m, self.file, {**self.env, **bindings})

    # -- entry
    def eval(self, node: Any) -> Any:
        top = self.depth + 1
        if top > _MAX_DEPTH:
            return Unknown("expression nested too deeply")
        self.depth = depth = top
        budget = self.budget
        if top == 1:
            budget.enter()
        try:
            # budget.step() inlined for the usual step (no limit near, no time check due): it runs for every node
            steps = budget.steps + 1
            if steps > budget.max_steps or not steps & STEP_TIME_MASK or budget.spent is not None:
                budget.step()
            else:
                budget.steps = steps
            if isinstance(node, Token):
                return str(node)
            kind = node.data
            # ``expr_term`` wrapping one expression (every other node is one): unwrapped here rather than by
            # a call of eval per wrapper; each still counts as a level and a step, as if it were evaluated.
            while kind == "expr_term":
                children = node.children
                if len(children) != 1 or not isinstance(children[0], Tree) or \
                        children[0].data == "new_line_or_comment":
                    break
                depth += 1
                if depth > _MAX_DEPTH:
                    return Unknown("expression nested too deeply")
                self.depth = depth
                node = children[0]
                steps = budget.steps + 1
                if steps > budget.max_steps or not steps & STEP_TIME_MASK or budget.spent is not None:
                    budget.step()
                else:
                    budget.steps = steps
                kind = node.data
            # one dictionary look-up per node (the handlers by kind, built once below the class)
            handler = _HANDLERS.get(kind)
            if handler is None:
                return Unknown(f"unsupported expression ({kind})")
            return handler(self, node)
        except BudgetExceeded as e:  # recorded at the innermost node reached, as its own eval would
            budget.record(e, self.file, node.meta.line if isinstance(node, Tree) else None)
            return Unknown(str(e))
        except RecursionError:
            return Unknown("expression nested too deeply")
        finally:
            self.depth = top - 1
            if top == 1:
                budget.leave()

    def _subtrees(self, node: Tree) -> list[Tree]:
        """The children that are expressions (not tokens or comments); callers only read the list."""
        children = node.children
        for c in children:  # usually all of them are: the node's own list then, not a copy
            if not isinstance(c, Tree) or c.data == "new_line_or_comment":
                return [c for c in children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
        return children

    # -- literals
    def _e_expr_term(self, node: Tree) -> Any:  # ( expression ): eval unwraps the other expr_terms
        return self.eval(self._subtrees(node)[0])

    def _e_int_lit(self, node: Tree) -> Any:
        text = str(node.children[0])
        if len(text) * 10 > MAX_NUMBER_BITS * 3:  # ~3.3 bits a digit
            raise BudgetExceeded("number", f"an integer literal of {len(text)} digits")
        return int(text)

    def _e_float_lit(self, node: Tree) -> Any:
        return float(str(node.children[0]))

    def _e_literal_value(self, node: Tree) -> Any:
        return {"true": True, "false": False, "null": None}[str(node.children[0])]

    def _e_identifier(self, node: Tree) -> Any:
        name = str(node.children[0])
        if name in self.env:
            return self.env[name]
        return Unknown(name)

    def _e_keyword(self, node: Tree) -> Any:
        return Unknown(str(node.children[0]))

    def _e_template_string(self, node: Tree) -> Any:
        return Unknown("template string")

    def _e_string(self, node: Tree) -> Any:
        children = node.children
        if len(children) == 1:  # the usual "text", one literal run: its text without the loop below
            inner = children[0].children[0] if isinstance(children[0], Tree) else None
            if isinstance(inner, Token) and inner.type == "STRING_CHARS":
                text = _unescape(str(inner))
                self.budget.need(len(text), "a string template")
                return text
        parts: list[Any] = []
        literal = True  # no interpolation: every part is text
        for part in node.children:
            if not isinstance(part, Tree):
                continue
            inner = part.children[0]
            if isinstance(inner, Token):
                text = str(inner)
                if inner.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                    parts.append(text[1:])
                else:
                    parts.append(_unescape(text))
            elif inner.data == "interpolation":
                parts.append(self.eval(self._subtrees(inner)[0]))
                literal = False
            else:
                return Unknown("template directive")
        if literal:  # the common "text": its size checked, then joined (what _joined does, without its checks)
            if len(parts) == 1:
                self.budget.need(len(parts[0]), "a string template")
                return parts[0]
            self.budget.need(sum(map(len, parts)), "a string template")
            return "".join(parts)
        return self._joined(parts, "a string template")

    def _joined(self, parts: list[Any], what: str) -> Any:
        size = 0
        for p in parts:
            if isinstance(p, str):
                size += len(p)
        self.budget.need(size, what)
        return _join_template(parts)

    def _e_interpolation(self, node: Tree) -> Any:
        return self.eval(self._subtrees(node)[0])

    def _e_tuple(self, node: Tree) -> Any:
        return self.budget.value([self.eval(c) for c in self._subtrees(node)], "a tuple")

    def _e_object(self, node: Tree) -> Any:
        out: dict[str, Any] = {}
        for elem in self._subtrees(node):
            key_node, value_node = self._subtrees(elem)
            key = self._object_key(key_node)
            if isinstance(key, Unknown):
                return Unknown(f"object key {key.reason}")
            out[key if key.__class__ is str else hcl_functions.tostring(key)] = self.eval(value_node)
        return self.budget.value(out, "an object")

    def _object_key(self, key_node: Tree) -> Any:
        children = key_node.children
        if len(children) == 1 and isinstance(children[0], Tree) and children[0].data == "expr_term":
            sub = children[0].children  # the usual bare name (``a = 1``), read without the walk below
            if len(sub) == 1 and isinstance(sub[0], Tree) and sub[0].data == "identifier":
                return _name_of(sub[0])
        inner = self._subtrees(key_node)
        if not inner:  # a keyword used as a key
            return _name_of(key_node.children[0])
        expr = inner[0]
        if expr.data == "keyword":
            return _name_of(expr)
        if expr.data == "expr_term":
            sub = self._subtrees(expr)
            if len(sub) == 1 and sub[0].data in ("identifier", "keyword") and \
                    not (isinstance(expr.children[0], Token) and expr.children[0].type == "LPAR"):
                return _name_of(sub[0])
            if len(sub) == 1 and sub[0].data == "literal_value":
                return _name_of(sub[0])
        return self.eval(expr)

    def _e_heredoc_template(self, node: Tree) -> Any:
        return self._heredoc(str(node.children[0]))

    def _e_heredoc_template_trim(self, node: Tree) -> Any:
        return self._heredoc(str(node.children[0]))

    def _heredoc(self, raw: str) -> Any:
        parsed = _heredoc_body(raw)
        if parsed is None:
            return Unknown("heredoc")
        indented, body = parsed
        if indented:  # <<- strips the common leading whitespace
            lines = body.split("\n")
            indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
            cut = min(indents) if indents else 0
            body = "\n".join(ln[cut:] for ln in lines)
        body += "\n"
        return self._template_text(body, decode_json=True)

    def _template_text(self, body: str, *, decode_json: bool) -> Any:
        """A heredoc/file body: interpolations evaluated, JSON decoded into dict/list."""
        if "%{" in body:
            return Unknown("template directive")
        pieces: list[Any] = []
        pos = 0
        for m in _INTERP.finditer(body):
            if m.start() < pos:
                continue
            end = _matching_brace(body, m.end())
            if end < 0:
                return Unknown("unterminated interpolation")
            pieces.append(body[pos:m.start()].replace("$${", "${"))
            pieces.append(self._eval_source(body[m.end():end]))
            pos = end + 1
        pieces.append(body[pos:].replace("$${", "${"))
        stripped = body.strip()
        if decode_json and stripped[:1] in ("{", "["):
            decoded = _decode_json_template(pieces)
            if decoded is not None:
                return self.budget.value(decoded, "a JSON template")
        return self._joined(pieces, "a template")

    def _eval_source(self, source: str) -> Any:
        expr = parse_expression(source)
        if expr is None:
            return Unknown(f"${{{source}}}")
        return self.eval(expr)

    # -- operators
    def _e_unary_op(self, node: Tree) -> Any:
        op = str(node.children[0])
        v = self.eval(node.children[1])
        if isinstance(v, Unknown):
            return v
        try:
            return -v if op == "-" else not v
        except TypeError:
            return Unknown(f"{op}{_short(v)}")

    def _e_binary_op(self, node: Tree) -> Any:
        subs = self._subtrees(node)
        left = self.eval(subs[0])
        term = subs[1]
        term_subs = self._subtrees(term)
        op = str(term_subs[0].children[0])
        right = self.eval(term_subs[1])
        if op == "&&" and left is False or op == "||" and left is True:
            return left
        if isinstance(left, Unknown):
            return left
        if isinstance(right, Unknown):
            return right
        try:
            result = _binary(op, left, right)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return Unknown(f"{_short(left)} {op} {_short(right)}")
        return self.budget.value(result, f"the result of {op}")

    def _e_conditional(self, node: Tree) -> Any:
        cond, yes, no = self._subtrees(node)
        c = self.eval(cond)
        if isinstance(c, Unknown):
            return Unknown(f"condition on {c.reason}")
        return self.eval(yes if c else no)

    # -- functions
    def _e_function_call(self, node: Tree) -> Any:
        names: list[str] = []
        args_node: Tree | None = None
        for c in node.children:  # one pass: the name's parts (provider::aws::f) and the first argument list
            if isinstance(c, Tree):
                if c.data == "identifier":
                    names.append(str(c.children[0]))
                elif c.data == "arguments" and args_node is None:
                    args_node = c
        name = names[0] if len(names) == 1 else "::".join(names)
        arg_nodes: list[Tree] = []
        expand = False
        if args_node is not None:
            for c in args_node.children:
                if isinstance(c, Tree):
                    if c.data != "new_line_or_comment":
                        arg_nodes.append(c)
                elif isinstance(c, Token) and c.type == "ELLIPSIS":
                    expand = True
        if name in ("try", "can"):
            values = [self.eval(a) for a in arg_nodes]
            if name == "can":
                return Unknown("can(...)") if any(isinstance(v, Unknown) for v in values) else True
            return hcl_functions.call("try", values)
        args = [self.eval(a) for a in arg_nodes]
        if expand and args:
            last = args.pop()
            if isinstance(last, Unknown):
                return last
            args.extend(last)
        if name in FILE_FUNCTIONS:
            return self.budget.value(self._file(name, args, node), f"{name}()")
        return self.budget.value(hcl_functions.call(name, args), f"{name}()")

    def _file(self, name: str, args: list[Any], node: Tree) -> Any:
        if not args or not isinstance(args[0], str):
            return args[0] if args and isinstance(args[0], Unknown) else Unknown(f"{name}(...)")
        shown = f"{name}({_short(args[0])})"
        target = self._confined(args[0], shown, node)
        if isinstance(target, Unknown) or name == "fileset":
            return target if isinstance(target, Unknown) else Unknown(f"{shown}: not evaluated")
        if name == "fileexists":
            return target.is_file()
        try:
            st = target.stat()
        except OSError:
            return Unknown(f"{shown}: no such file")
        if not stat.S_ISREG(st.st_mode):  # /dev/zero, a FIFO, a directory: reading would hang or never end
            return self._refused(shown, "not a regular file", node)
        if st.st_size > MAX_READ_BYTES:
            return self._refused(shown, f"{st.st_size:,} bytes, larger than the {MAX_READ_BYTES:,} read", node)
        try:
            with target.open("rb") as f:
                data = f.read(MAX_READ_BYTES + 1)
        except OSError:
            return Unknown(f"{shown}: not readable")
        if len(data) > MAX_READ_BYTES:  # grew since the stat
            return self._refused(shown, f"larger than the {MAX_READ_BYTES:,} bytes read", node)
        if name in _FILE_DIGESTS:
            import hashlib  # here: it loads OpenSSL's libcrypto, which a check without file digests never needs

            algorithm, b64 = _FILE_DIGESTS[name]
            digest = hashlib.new(algorithm, data)
            return base64.b64encode(digest.digest()).decode() if b64 else digest.hexdigest()
        if name == "filebase64":
            return base64.b64encode(data).decode()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return Unknown(f"{shown}: not UTF-8 text")
        if name == "file":
            stripped = text.strip()
            if stripped[:1] in ("{", "["):
                try:
                    return json.loads(stripped)
                except ValueError:
                    pass
            return text
        if len(args) > 1 and isinstance(args[1], dict):
            return self.with_env(**args[1])._template_text(text, decode_json=True)
        return Unknown(f"templatefile({_short(args[0])})")

    def _confined(self, arg: str, shown: str, node: Tree) -> Path | Unknown:
        """The resolved path ``arg`` names when it is inside the scope's directories, else Unknown (refused)."""
        if "\x00" in arg:
            return self._refused(shown, "a NUL byte in the path", node)
        raw = Path(arg)
        target = raw if raw.is_absolute() else self.m.directory / raw
        try:
            real = self.m.resolve(target)
        except (OSError, RuntimeError):  # a symlink loop
            return self._refused(shown, "the path cannot be resolved", node)
        roots = self.m.confine or (self.m.resolve(self.m.directory),)
        if not any(real.is_relative_to(root) for root in roots):
            return self._refused(shown, "outside the configuration (its git repository, else its directory)", node)
        return real

    def _refused(self, shown: str, why: str, node: Tree) -> Unknown:
        self.budget.refuse_file(self.file, node.meta.line, f"{shown}: {why}; file functions read only regular "
                                  f"files of at most {MAX_READ_BYTES:,} bytes inside the configuration")
        return Unknown(f"{shown}: {why}")

    # -- for expressions
    def _for_intro(self, node: Tree) -> tuple[list[str], Any]:
        intro = next(c for c in node.children if isinstance(c, Tree) and c.data == "for_intro")
        names = [str(c.children[0]) for c in intro.children if isinstance(c, Tree) and c.data == "identifier"]
        coll = self.eval(self._subtrees(intro)[-1])
        return names, coll

    def _iterate(self, names: list[str], coll: Any) -> list[Evaluator] | Unknown:
        if isinstance(coll, Unknown):
            return coll
        if isinstance(coll, dict):
            items = list(coll.items())
        elif isinstance(coll, list):
            items = list(enumerate(coll))
        else:
            return Unknown("for over a non-collection")
        m, file, env = self.m, self.file, self.env  # with_env for each element, without its keyword dict
        if len(names) == 2:
            key_name, value_name = names
            return [Evaluator(m, file, {**env, key_name: k, value_name: v}) for k, v in items]
        name = names[0]
        return [Evaluator(m, file, {**env, name: v}) for _, v in items]

    def _e_for_tuple_expr(self, node: Tree) -> Any:
        names, coll = self._for_intro(node)
        subs = [c for c in self._subtrees(node) if c.data != "for_intro"]
        cond = next((c for c in subs if c.data == "for_cond"), None)
        value_expr = [c for c in subs if c.data != "for_cond"][0]
        scopes = self._iterate(names, coll)
        if isinstance(scopes, Unknown):
            return Unknown(f"for over {scopes.reason}")
        out = []
        for ev in scopes:
            if cond is not None:
                keep = ev.eval(self._subtrees(cond)[0])
                if isinstance(keep, Unknown):
                    return Unknown(f"for condition on {keep.reason}")
                if not keep:
                    continue
            out.append(ev.eval(value_expr))
        return self.budget.value(out, "a for expression")

    def _e_for_object_expr(self, node: Tree) -> Any:
        names, coll = self._for_intro(node)
        subs = [c for c in self._subtrees(node) if c.data != "for_intro"]
        cond = next((c for c in subs if c.data == "for_cond"), None)
        key_expr, value_expr = [c for c in subs if c.data != "for_cond"][:2]
        grouping = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in node.children)
        scopes = self._iterate(names, coll)
        if isinstance(scopes, Unknown):
            return Unknown(f"for over {scopes.reason}")
        out: dict[str, Any] = {}
        for ev in scopes:
            if cond is not None:
                keep = ev.eval(self._subtrees(cond)[0])
                if isinstance(keep, Unknown):
                    return Unknown(f"for condition on {keep.reason}")
                if not keep:
                    continue
            key = ev.eval(key_expr)
            if isinstance(key, Unknown):
                return Unknown(f"object key {key.reason}")
            value = ev.eval(value_expr)
            k = hcl_functions.tostring(key)
            if grouping:
                out.setdefault(k, []).append(value)
            else:
                out[k] = value
        return self.budget.value(out, "a for expression")

    # -- traversals (the handler of each traversal kind is _traversal itself: one call less a reference)
    def _traversal(self, node: Tree) -> Any:
        base, steps = flatten_traversal(node)
        if base.data == "identifier":
            root = str(base.children[0])
            env = self.env
            if root in env:
                return self._apply_steps(env[root], steps, root) if steps else env[root]
            return self._resolve_root(root, steps)
        return self._apply_steps(self.eval(base), steps, "expression")

    _e_get_attr_expr_term = _traversal
    _e_index_expr_term = _traversal
    _e_attr_splat_expr_term = _traversal
    _e_full_splat_expr_term = _traversal

    def _step_key(self, step: tuple[str, Any]) -> Any:
        kind, arg = step
        if kind == "attr":
            return arg
        if kind == "index":
            return self.eval(arg) if isinstance(arg, Tree) else arg
        return None

    def _apply_steps(self, value: Any, steps: list[tuple[str, Any]], what: str) -> Any:
        for step in steps:
            if isinstance(value, Unknown):
                return value
            kind = step[0]
            if kind == "splat":
                if value is None:
                    return []
                items = value if isinstance(value, list) else [value]
                return [self._apply_steps(v, step[1], what) for v in items]
            key = self._step_key(step)
            if isinstance(key, Unknown):
                return key
            try:
                if isinstance(value, list):
                    value = value[int(key)]
                elif isinstance(value, dict):
                    value = value[key if key.__class__ is str else hcl_functions.tostring(key)]
                else:
                    return Unknown(f"{what}: cannot index {type(value).__name__}")
            except (KeyError, IndexError, ValueError, TypeError):
                return Unknown(f"{what}: no element {_short(key)}")
        return value

    def _resolve_root(self, root: str, steps: list[tuple[str, Any]]) -> Any:
        first = steps[0][1] if steps and steps[0][0] == "attr" else None
        # var.x and local.x, the most read, without a further step: no slice and no name to build
        if root == "var" and first is not None:
            variables = self.m.variables
            value = variables[first] if first in variables else Unknown(f"var.{first}")
            return self._apply_steps(value, steps[1:], f"var.{first}") if len(steps) > 1 else value
        if root == "local" and first is not None:
            value = self._local(first)
            return self._apply_steps(value, steps[1:], f"local.{first}") if len(steps) > 1 else value
        if root == "path" and first is not None:
            if first in ("module", "root"):
                return str(self.m.directory)
            return Unknown(f"path.{first}")
        if root in ("each", "count", "self", "terraform"):
            return Unknown(f"{root}.{first}" if first else root)
        if root == "data" and len(steps) >= 2 and steps[1][0] == "attr":
            key = f"{first}.{steps[1][1]}"
            return self._resource_value("data", key, steps[2:])
        if root == "module" and first is not None:
            return self._module_output(first, steps[1:])
        if first is not None:
            return self._resource_value("resource", f"{root}.{first}", steps[1:])
        return Unknown(root)

    def _local(self, name: str) -> Any:
        if name in self.m.local_values:
            return self.m.local_values[name]
        entry = self.m.local_exprs.get(name)
        if entry is None:
            return Unknown(f"local.{name} (not defined)")
        marker = f"local.{name}"
        if marker in self.m.evaluating:
            return Unknown(f"local.{name} (cycle)")
        self.m.evaluating.add(marker)
        try:
            value = Evaluator(self.m, entry[1]).eval(entry[0].expr)
        finally:
            self.m.evaluating.discard(marker)
        self.m.local_values[name] = value
        return value

    def _module_output(self, name: str, steps: list[tuple[str, Any]]) -> Any:
        child = self.m.children.get(name)
        if child is None or not steps or steps[0][0] != "attr":
            return Unknown(f"module.{name} output")
        out = child.outputs.get(steps[0][1])
        if out is None:
            return Unknown(f"module.{name}.{steps[0][1]} (no such output)")
        marker = f"output.{steps[0][1]}"
        if marker in child.evaluating:
            return Unknown(f"module.{name}.{steps[0][1]} (cycle)")
        child.evaluating.add(marker)
        try:
            value = Evaluator(child, out[1]).eval(out[0].expr)
        finally:
            child.evaluating.discard(marker)
        return self._apply_steps(value, steps[1:], f"module.{name}")

    def _resource_value(self, kind: str, key: str, steps: list[tuple[str, Any]]) -> Any:
        table = self.m.data if kind == "data" else self.m.resources
        prefix = "data." if kind == "data" else ""
        entry = table.get(key)
        if entry is None:
            return Unknown(f"{prefix}{key} (not in this configuration)")
        block, file = entry
        rest = list(steps)
        if rest and rest[0][0] == "index" and ("count" in block.attrs or "for_each" in block.attrs):
            rest = rest[1:]
        elif rest and rest[0][0] == "splat":
            return Unknown(f"{prefix}{key}[*] (known after apply)")
        if not rest or rest[0][0] != "attr":
            return Unknown(f"{prefix}{key} (known after apply)")
        attr = rest[0][1]
        if kind == "data" and block.labels[:1] == ["aws_iam_policy_document"] and attr in ("json", "minified_json"):
            return self._apply_steps(self._policy_document(block, file, key), rest[1:], f"data.{key}")
        raw = block.attrs.get(attr)
        if raw is None or attr in _META_ARGS:
            return Unknown(f"known after apply: {prefix}{key}.{attr}")
        memo_key = (f"{prefix}{key}", attr)
        if memo_key in self.m.attr_memo:
            value = self.m.attr_memo[memo_key]
        else:
            marker = f"{prefix}{key}.{attr}"
            if marker in self.m.evaluating:
                return Unknown(f"{marker} (cycle)")
            self.m.evaluating.add(marker)
            try:
                value = Evaluator(self.m, file, _instance_env(block)).eval(raw.expr)
            finally:
                self.m.evaluating.discard(marker)
            self.m.attr_memo[memo_key] = value
        return self._apply_steps(value, rest[1:], f"{prefix}{key}.{attr}")

    def _policy_document(self, block: RawBlock, file: str, key: str) -> Any:
        memo_key = (f"data.{key}", "json")
        if memo_key in self.m.attr_memo:
            return self.m.attr_memo[memo_key]
        marker = f"data.{key}.json"
        if marker in self.m.evaluating:
            return Unknown(f"{marker} (cycle)")
        self.m.evaluating.add(marker)
        try:
            value = render_policy_document(block, Evaluator(self.m, file, _instance_env(block)))
        finally:
            self.m.evaluating.discard(marker)
        self.m.attr_memo[memo_key] = value
        return value


_MAX_DEPTH = MAX_NESTING * 4  # evaluator levels (expr_term wrappers included) before "nested too deeply"
_HANDLERS: dict[str, Any] = {name[3:]: fn for name, fn in vars(Evaluator).items() if name.startswith("_e_")}


def _short(value: Any, limit: int = 120) -> str:
    """A value shown in a reason: cut, so no long content travels into messages."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _instance_env(block: RawBlock) -> dict[str, Any]:
    env: dict[str, Any] = {}
    if "count" in block.attrs:
        env["count"] = {"index": Unknown("count.index")}
    if "for_each" in block.attrs:
        env["each"] = {"key": Unknown("each.key"), "value": Unknown("each.value")}
    return env


def flatten_traversal(node: Tree) -> tuple[Tree, list[tuple[str, Any]]]:
    """``a.b[0].c`` -> (identifier a, [("attr","b"), ("index",0), ("attr","c")]).

    Remembered on the node (the reference walk and the evaluator both ask); callers must not modify it.
    """
    hit = node.flat
    if hit is not None:
        return hit
    steps: list[tuple[str, Any]] = []
    cur: Tree = node
    while True:
        if cur.data == "expr_term":
            subs = [c for c in cur.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
            if len(subs) == 1 and not (isinstance(cur.children[0], Token) and cur.children[0].type == "LPAR") \
                    and subs[0].data in ("get_attr_expr_term", "index_expr_term", "attr_splat_expr_term",
                                         "full_splat_expr_term", "identifier"):
                cur = subs[0]
                continue
            break
        if cur.data in ("get_attr_expr_term", "index_expr_term", "attr_splat_expr_term", "full_splat_expr_term"):
            inner, op = cur.children[0], cur.children[1]
            steps[0:0] = _steps_of(op)
            cur = inner
            continue
        break
    node.flat = (cur, steps)
    return cur, steps


def _steps_of(op: Tree) -> list[tuple[str, Any]]:
    if op.data == "get_attr":
        return [("attr", _name_of(op.children[-1]))]
    if op.data == "short_index":
        return [("index", int(str(op.children[-1])))]
    if op.data == "braces_index":
        expr = [c for c in op.children if isinstance(c, Tree) and c.data != "new_line_or_comment"][0]
        return [("index", expr)]
    if op.data in ("attr_splat", "full_splat"):
        sub: list[tuple[str, Any]] = []
        for c in op.children:
            if isinstance(c, Tree):
                sub.extend(_steps_of(c))
        return [("splat", sub)]
    return []


def _join_template(parts: list[Any]) -> Any:
    if len(parts) == 1 and not isinstance(parts[0], str):
        return parts[0]  # "${x}" keeps x's type
    first: Unknown | None = None
    texts: list[str] = []
    for p in parts:  # one pass: a collection anywhere makes the whole unknown
        if p.__class__ is str:
            texts.append(p)
        elif isinstance(p, dict | list):
            return Unknown("collection in a string template")
        elif isinstance(p, Unknown):
            first = p if first is None else first
            texts.append("${…}")
        else:
            texts.append(hcl_functions.tostring(p))
    if first is not None:  # keep what is certain: the literal text around the unknown parts
        return Unknown(first.reason, template="".join(texts))
    return "".join(texts)


def _matching_brace(text: str, start: int) -> int:
    depth = 1
    i = start
    in_str = False
    while i < len(text):
        ch = text[i]
        if ch == '"' and text[i - 1] != "\\":
            in_str = not in_str
        elif not in_str:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return i
        i += 1
    return -1


_SENTINEL = "\x00infraleash-{}\x00"


def _decode_json_template(pieces: list[Any]) -> Any:
    """Decode a JSON heredoc whose interpolated values may be unknown (kept as Unknown leaves)."""
    values: list[Any] = []
    text_parts: list[str] = []
    for i, p in enumerate(pieces):
        if i % 2 == 0:
            text_parts.append(p)
        else:
            values.append(p)
            text_parts.append(_SENTINEL.format(len(values) - 1))
    try:
        data = json.loads("".join(text_parts).replace("\x00", "\\u0000"))
    except ValueError:
        return None
    return _substitute(data, values)


_SENT_RE = re.compile("\x00infraleash-(\\d+)\x00")


def _substitute(data: Any, values: list[Any]) -> Any:
    if isinstance(data, dict):
        return {k: _substitute(v, values) for k, v in data.items()}
    if isinstance(data, list):
        return [_substitute(v, values) for v in data]
    if isinstance(data, str) and "\x00infraleash-" in data:
        parts: list[Any] = []
        pos = 0
        for m in _SENT_RE.finditer(data):
            parts.append(data[pos:m.start()])
            parts.append(values[int(m.group(1))])
            pos = m.end()
        parts.append(data[pos:])
        parts = [p for p in parts if p != ""]
        return _join_template(parts) if parts else ""
    return data


def _binary(op: str, a: Any, b: Any) -> Any:
    if op == "+":
        return hcl_functions._tonumber(a) + hcl_functions._tonumber(b)
    if op == "-":
        return hcl_functions._tonumber(a) - hcl_functions._tonumber(b)
    if op == "*":
        return hcl_functions._tonumber(a) * hcl_functions._tonumber(b)
    if op == "/":
        return hcl_functions._tonumber(a) / hcl_functions._tonumber(b)
    if op == "%":
        return hcl_functions._tonumber(a) % hcl_functions._tonumber(b)
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op in ("<", ">", "<=", ">="):
        x, y = hcl_functions._tonumber(a), hcl_functions._tonumber(b)
        return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]
    if op == "&&":
        return bool(a) and bool(b)
    if op == "||":
        return bool(a) or bool(b)
    raise ValueError(op)


def _as_list(v: Any) -> Any:
    if v is None or isinstance(v, Unknown):
        return v
    return v if isinstance(v, list) else [v]


def render_policy_document(block: RawBlock, ev: Evaluator) -> Any:
    """The JSON an ``aws_iam_policy_document`` data source produces, as a dict."""
    doc: dict[str, Any] = {"Version": "2012-10-17"}
    for name in ("source_policy_documents", "override_policy_documents"):
        if name in block.attrs:
            return Unknown(f"{name} merges other documents")
    if "version" in block.attrs:
        doc["Version"] = ev.eval(block.attrs["version"].expr)
    if "policy_id" in block.attrs:
        doc["Id"] = ev.eval(block.attrs["policy_id"].expr)
    statements: list[Any] = []
    for st in _expanded_blocks(block, "statement", ev):
        s_ev, raw = st
        out: dict[str, Any] = {}
        if "sid" in raw.attrs:
            out["Sid"] = s_ev.eval(raw.attrs["sid"].expr)
        out["Effect"] = s_ev.eval(raw.attrs["effect"].expr) if "effect" in raw.attrs else "Allow"
        for arg, key in (("actions", "Action"), ("not_actions", "NotAction"),
                         ("resources", "Resource"), ("not_resources", "NotResource")):
            if arg in raw.attrs:
                out[key] = _as_list(s_ev.eval(raw.attrs[arg].expr))
        for bname, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
            princ: dict[str, Any] = {}
            for p_ev, p in _expanded_blocks(raw, bname, s_ev):
                ptype = p_ev.eval(p.attrs["type"].expr) if "type" in p.attrs else Unknown("principal type")
                ids = p_ev.eval(p.attrs["identifiers"].expr) if "identifiers" in p.attrs else []
                if isinstance(ptype, Unknown):
                    princ = {}
                    out[key] = ptype
                    break
                so_far = princ.get(str(ptype), [])
                if isinstance(so_far, list) and isinstance(ids, list):
                    princ[str(ptype)] = [*so_far, *ids]
                elif so_far == []:
                    princ[str(ptype)] = ids
                else:  # more identifiers joined to a value not known to be a list: not known either
                    princ[str(ptype)] = Unknown(f"{bname} {ptype} identifiers")
            if princ:
                out[key] = "*" if princ == {"*": ["*"]} else princ
        conds: dict[str, Any] = {}
        for c_ev, c in _expanded_blocks(raw, "condition", s_ev):
            test = c_ev.eval(c.attrs["test"].expr) if "test" in c.attrs else Unknown("condition test")
            var = c_ev.eval(c.attrs["variable"].expr) if "variable" in c.attrs else Unknown("condition variable")
            vals = c_ev.eval(c.attrs["values"].expr) if "values" in c.attrs else []
            if isinstance(test, Unknown) or isinstance(var, Unknown):
                conds = {}
                out["Condition"] = Unknown("condition with unknown test or variable")
                break
            conds.setdefault(str(test), {})[str(var)] = vals
        if conds:
            out["Condition"] = conds
        statements.append(out)
    doc["Statement"] = statements
    return doc


def _expanded_blocks(block: RawBlock, name: str, ev: Evaluator) -> list[tuple[Evaluator, RawBlock]]:
    """Nested blocks called ``name``, with ``dynamic "name"`` expanded where its for_each is known."""
    out: list[tuple[Evaluator, RawBlock]] = []
    for child in block.blocks:
        if child.type == name:
            out.append((ev, child))
        elif child.type == "dynamic" and child.labels and child.labels[0] == name:
            content = next((b for b in child.blocks if b.type == "content"), None)
            if content is None:
                continue
            for env in dynamic_envs(child, ev):
                out.append((ev.with_env(**env), content))
    return out


def dynamic_envs(dyn: RawBlock, ev: Evaluator) -> list[dict[str, Any]]:
    """The iterator bindings of a dynamic block: one per element, or one unknown."""
    iterator = dyn.labels[0]
    if "iterator" in dyn.attrs:
        iterator = _name_of(ev._subtrees(dyn.attrs["iterator"].expr)[0]) \
            if isinstance(dyn.attrs["iterator"].expr, Tree) else iterator
    coll = ev.eval(dyn.attrs["for_each"].expr) if "for_each" in dyn.attrs else Unknown("dynamic for_each")
    if isinstance(coll, dict | list) and len(coll) > MAX_DYNAMIC_BLOCKS:
        refused = BudgetExceeded("blocks", f"dynamic \"{dyn.labels[0]}\" of {len(coll):,} elements")
        ev.m.budget.record(refused, ev.file, dyn.attrs["for_each"].line)
        coll = Unknown(str(refused))
    if isinstance(coll, dict):
        return [{iterator: {"key": k, "value": v}} for k, v in coll.items()]
    if isinstance(coll, list):
        return [{iterator: {"key": i, "value": v}} for i, v in enumerate(coll)]
    reason = coll.reason if isinstance(coll, Unknown) else "dynamic for_each"
    return [{iterator: {"key": Unknown(f"{iterator}.key ({reason})"),
                        "value": Unknown(f"{iterator}.value ({reason})")}}]
