# SPDX-License-Identifier: MIT
"""Every public name is documented: the reference manual (docs/) is built
from these docstrings (Sphinx autodoc) and from the doc comments of the
public C headers (Doxygen), so a name without one is a hole in the manual.

- Python: every name axlink exports (``axlink.__all__``, the public
  modules' names) and every public attribute of a public class (methods,
  properties, documented ``__slots__``) has a docstring.
- C: every ``AX_API`` declaration in include/axlink/*.h is preceded by a
  ``/** */`` comment, or sits in a documented member group
  (``/** @name ... @{ */ ... /** @} */``, whose comment Doxygen gives to
  each member).
"""
from __future__ import annotations

import inspect
import re
import types
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import axlink

INCLUDE_DIR = Path(__file__).resolve().parents[2] / "include" / "axlink"


# ---------------------------------------------------------------- Python


def _ours(obj: Any) -> bool:
    mod = obj.__name__ if inspect.ismodule(obj) else getattr(obj, "__module__", None)
    return isinstance(mod, str) and (mod == "axlink" or mod.startswith("axlink."))


def public_names(root: types.ModuleType = axlink) -> Iterator[Tuple[str, Any]]:
    """(qualified name, object) of every public name reachable from @root:
    the module's exports, and the public attributes of its classes."""
    seen = set()

    def visit(qual: str, obj: Any, owner: Any = None) -> Iterator[Tuple[str, Any]]:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        yield qual, obj
        if inspect.ismodule(obj):
            names = getattr(obj, "__all__", None)
            if names is None:
                names = [n for n in vars(obj) if not n.startswith("_")]
            for n in names:
                v = getattr(obj, n)
                if (inspect.ismodule(v) or inspect.isclass(v) or callable(v)) and not _ours(v):
                    continue  # typing helpers, stdlib modules imported by name
                yield from visit(f"{qual}.{n}", v)
        elif inspect.isclass(obj):
            for n, v in vars(obj).items():
                if not n.startswith("_"):
                    yield from visit(f"{qual}.{n}", v, obj)

    yield from visit(root.__name__, root)


def _doc(qual: str, obj: Any) -> str:
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if inspect.ismemberdescriptor(obj):  # a __slots__ attribute: its doc is in __slots__
        slots = getattr(obj.__objclass__, "__slots__", None)
        return (slots.get(obj.__name__) or "") if isinstance(slots, dict) else ""
    return obj.__doc__ or ""


def undocumented_python(root: types.ModuleType = axlink) -> List[str]:
    """Qualified names of @root's public functions, classes, modules,
    methods and properties that have no docstring. Plain values (version
    strings, constants, NamedTuple fields) are documented where defined."""
    missing = []
    for qual, obj in public_names(root):
        if not (inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isroutine(obj)
                or isinstance(obj, (property, staticmethod, classmethod))
                or inspect.ismemberdescriptor(obj)):
            continue
        if inspect.isclass(obj) and obj.__doc__ and obj.__doc__.startswith(obj.__name__ + "("):
            missing.append(qual)  # the text Python makes up for a NamedTuple/dataclass
        elif not _doc(qual, obj).strip():
            missing.append(qual)
    return missing


def test_docstrings__every_public_python_name_has_one():
    assert undocumented_python() == []


def test_docstrings__the_walk_reaches_methods_properties_and_slots():
    names = dict(public_names())
    assert len(names) > 150
    for qual in ("axlink.open", "axlink.Drive.read", "axlink.Drive.uri", "axlink.Register.id",
                 "axlink.Axis.move_to", "axlink.db.Database.path", "axlink.errors.NackError"):
        assert qual in names, qual


def test_docstrings__a_new_undocumented_name_is_caught():
    mod = types.ModuleType("axlink._probe")

    class Good:
        """Documented."""
        __slots__ = {"x": "The x.", "y": None}

        def f(self) -> None:
            """Documented."""

        @property
        def p(self) -> int:
            return 1

        def g(self) -> None:
            pass

    Good.__module__ = "axlink._probe"

    def h() -> None:
        pass

    h.__module__ = "axlink._probe"
    mod.__doc__ = "A probe."
    mod.Good = Good  # type: ignore[attr-defined]
    mod.h = h  # type: ignore[attr-defined]
    mod.__all__ = ["Good", "h"]  # type: ignore[attr-defined]
    assert sorted(undocumented_python(mod)) == [
        "axlink._probe.Good.g", "axlink._probe.Good.p", "axlink._probe.Good.y",
        "axlink._probe.h"]


# ---------------------------------------------------------------- C

_TOKENS = re.compile(r"/\*.*?\*/|//[^\n]*|^AX_API\b[^;]*;", re.S | re.M)


def undocumented_c(text: str) -> List[Tuple[int, str]]:
    """(line, name) of each AX_API declaration of header @text that has no
    doc comment: a ``/** */`` right before it (only blanks between), or a
    documented member group around it (``/** @name ... @{ */`` ...
    ``/** @} */``)."""
    missing = []
    last_doc_end = -1
    groups: List[bool] = []  # open @{ ... @} groups: True for a documented @name group
    for m in _TOKENS.finditer(text):
        tok = m.group(0)
        if tok.startswith("/**") and not tok.startswith("/**/"):
            # A header's @defgroup also opens with @{: only @name groups document members.
            if "@{" in tok:
                groups.append("@name" in tok)
            if "@}" in tok and groups:
                groups.pop()
            # A group's opening or closing comment documents no single declaration.
            last_doc_end = -1 if ("@{" in tok or "@}" in tok) else m.end()
        elif tok.startswith("AX_API"):
            documented = any(groups) or (
                last_doc_end >= 0 and not text[last_doc_end:m.start()].strip())
            if not documented:
                name = re.search(r"(\w+)\s*\(", tok)
                missing.append((text.count("\n", 0, m.start()) + 1,
                                name.group(1) if name else tok.split()[-1].rstrip(";")))
            # A second declaration straight after this one is not covered by its comment.
            last_doc_end = -1
    return missing


def test_docstrings__every_exported_c_function_has_a_doc_comment():
    headers = sorted(INCLUDE_DIR.glob("*.h"))
    assert len(headers) > 10
    declared = 0
    missing = []
    for h in headers:
        text = h.read_text(encoding="utf-8")
        declared += len(re.findall(r"^AX_API\b", text, re.M))
        missing += [f"{h.name}:{line}: {name}" for line, name in undocumented_c(text)]
    assert declared > 200
    assert missing == []


def test_docstrings__a_new_undocumented_c_function_is_caught():
    header = (
        "/** Documented. */\n"
        "AX_API int ax_a(void);\n"
        "AX_API int ax_b(void);\n"          # shares nothing: ax_a's comment is ax_a's
        "/* a plain comment */\n"
        "AX_API int ax_c(void);\n"
        "/** @file\n * @defgroup x X\n * @{\n */\n"
        "/** @name Group\n * Documented group.\n * @{\n */\n"
        "AX_API int ax_d(void);\n"
        "AX_API int ax_e(void);\n"
        "/** @} */\n"
        "\n"
        "AX_API int ax_f(int a,\n"
        "                int b);\n"
        "/** Documented, with a blank line. */\n"
        "\n"
        "AX_API int ax_g(void);\n")
    assert undocumented_c(header) == [(3, "ax_b"), (5, "ax_c"), (18, "ax_f")]


# ---------------------------------------------------------------- the manual

DOCS_DIR = INCLUDE_DIR.parents[1] / "docs" / "reference"


def test_docstrings__every_export_is_in_the_manual():
    """A name added to axlink.__all__ (or a header added to include/axlink)
    must get its place in docs/reference/: autodoc and breathe document
    only what a page names."""
    rst = (DOCS_DIR / "python.rst").read_text(encoding="utf-8")
    named = set(re.findall(r"^\.\. auto(?:class|function|data|module):: (?:axlink\.)?(\w+)",
                           rst, re.M))
    assert {"errors", "db", "open", "Drive"} <= named
    errors_names = {n for n, v in vars(axlink.errors).items() if inspect.isclass(v)}
    missing = [n for n in axlink.__all__ if n not in named and n not in errors_names]
    assert missing == []

    c_rst = (DOCS_DIR / "c.rst").read_text(encoding="utf-8")
    groups = set()
    for h in INCLUDE_DIR.glob("*.h"):
        groups.update(re.findall(r"@defgroup (\w+)", h.read_text(encoding="utf-8")))
    assert len(groups) > 10
    absent = sorted(g for g in groups if f".. doxygengroup:: {g}\n" not in c_rst)
    assert absent == []
