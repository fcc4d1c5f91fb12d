"""The type stub ``_native.pyi`` and the native module's docstrings cannot drift apart.

The docstrings of ``messagedb._native`` come from the Rust ``///`` comments (PyO3); the stub repeats
them for editors and type checkers, which read the stub, not the module. Every class, function,
method and property is compared both ways: each docstring in the stub must be the runtime one, and
each public runtime object with a docstring must carry it in the stub too. The Rust comments are
the source of truth: a mismatch is fixed in the stub (or in the Rust comment, when that is wrong).
"""

from __future__ import annotations

import ast
import difflib
import functools
import inspect
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import messagedb
import messagedb._native as native

_Def = Union[ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef]

# What CPython's PyO3 docs may start with when a text signature is embedded in the raw doc
# (``name(args)\n--\n\n``); ``__doc__`` normally drops it already, this is a safety net.
_TEXT_SIGNATURE = re.compile(r"\A[A-Za-z_][\w.]*\(.*\)\n--\n\n?")

_MISSING = "<not there>"
_UNDOCUMENTED = "<no docstring>"


def _normalise(doc: Optional[str], *, runtime: bool) -> Optional[str]:
    if doc is None:
        return None
    if runtime:
        doc = _TEXT_SIGNATURE.sub("", doc, count=1)
    doc = inspect.cleandoc(doc).strip()
    return doc or None


def _stub_path() -> Path:
    return Path(messagedb.__file__).parent / "_native.pyi"


def _definitions(body: List[ast.stmt]) -> List[_Def]:
    """The classes and functions of a module or class body, including those under ``if``."""
    found: List[_Def] = []
    for node in body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(node)
        elif isinstance(node, ast.If):
            found.extend(_definitions(node.body) + _definitions(node.orelse))
    return found


def _stub_docs() -> Dict[str, Optional[str]]:
    """Every class, function and method of the stub by qualified name -> its normalised docstring
    (``None`` when it has none). Overloads and property setters share a name: any docstring wins."""
    tree = ast.parse(_stub_path().read_text(encoding="utf-8"), filename=str(_stub_path()))
    docs: Dict[str, Optional[str]] = {}

    def add(name: str, node: _Def) -> None:
        doc = _normalise(ast.get_docstring(node, clean=False), runtime=False)
        docs[name] = docs.get(name) or doc

    for node in _definitions(tree.body):
        add(node.name, node)
        if isinstance(node, ast.ClassDef):
            for member in _definitions(node.body):
                if not isinstance(member, ast.ClassDef):
                    add(f"{node.name}.{member.name}", member)
    return docs


def _is_api(obj: Any) -> bool:
    """A class, function, method or property (not a plain data attribute such as a constant)."""
    return (
        inspect.isclass(obj)
        or inspect.isroutine(obj)
        or inspect.isdatadescriptor(obj)
        or inspect.isgetsetdescriptor(obj)
        or inspect.ismemberdescriptor(obj)
    )


def _runtime_public() -> List[str]:
    """The qualified names of the native module's public classes, functions, methods and
    properties."""
    names: List[str] = []
    for name in sorted(vars(native)):
        obj = getattr(native, name)
        if name.startswith("_") or not _is_api(obj):
            continue
        names.append(name)
        if inspect.isclass(obj):
            for member in sorted(vars(obj)):
                if not member.startswith("_") and _is_api(getattr(obj, member)):
                    names.append(f"{name}.{member}")
    return names


def _runtime_doc(qualname: str) -> Tuple[bool, Optional[str]]:
    """Whether ``messagedb._native.<qualname>`` exists, and its normalised ``__doc__``."""
    obj: Any = native
    for part in qualname.split("."):
        if not hasattr(obj, part):
            return False, None
        obj = getattr(obj, part)
    return True, _normalise(getattr(obj, "__doc__", None), runtime=True)


def _report(
    name: str, stub: Optional[str], in_stub: bool, runtime: Optional[str], at_runtime: bool
) -> str:
    stub_text = stub if stub is not None else (_UNDOCUMENTED if in_stub else _MISSING)
    runtime_text = runtime if runtime is not None else (_UNDOCUMENTED if at_runtime else _MISSING)
    diff = difflib.unified_diff(
        stub_text.splitlines(), runtime_text.splitlines(), "stub", "runtime", lineterm=""
    )

    def indent(text: str) -> str:
        return "\n".join("    " + line if line else "" for line in text.splitlines())

    return (
        f"--- {name}\n"
        f"  stub (_native.pyi):\n{indent(stub_text)}\n"
        f"  runtime (Rust doc comment):\n{indent(runtime_text)}\n"
        f"  diff:\n{indent(chr(10).join(list(diff)[2:]))}"
    )


@functools.lru_cache(maxsize=None)
def _compare() -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """The names compared and a report of each mismatch."""
    stub = _stub_docs()
    names = {name for name, doc in stub.items() if doc is not None}
    names.update(name for name in _runtime_public() if _runtime_doc(name)[1] is not None)
    compared: List[str] = []
    mismatches: List[str] = []
    for name in sorted(names):
        exists, runtime = _runtime_doc(name)
        compared.append(name)
        if stub.get(name) != runtime:
            mismatches.append(_report(name, stub.get(name), name in stub, runtime, exists))
    return tuple(compared), tuple(mismatches)


def test_the_stub_has_the_docstrings_of_the_native_module() -> None:
    compared, mismatches = _compare()
    if mismatches:
        raise AssertionError(
            f"{len(mismatches)} of {len(compared)} docstrings differ between {_stub_path()} and "
            "messagedb._native (the Rust /// comments, the source of truth):\n\n"
            + "\n\n".join(mismatches)
        )


def test_the_comparison_covers_the_api() -> None:
    compared, _ = _compare()
    assert len(compared) > 20, f"only {len(compared)} docstrings compared: {compared}"
    # The main entry points are among them, so that a broken walk of the stub or the module fails.
    for name in ("Store", "Store.open", "Namespace.write", "AsyncSubscription.closed", "serve"):
        assert name in compared, name
