"""The package's layout rules, read from the source: what may import streamlit, what may import
the app's glue, and the README's map of the package naming every module."""

from __future__ import annotations

import ast
import re

from mask_detector import app, config

PACKAGE = config.PACKAGE_DIR
#: mask_detector.app modules that may import streamlit, as app/__init__.py's docstring says.
STREAMLIT_MODULES = {"state", "upload", "views"}


def modules() -> dict[str, ast.Module]:
    """Every module of the package by dotted name, parsed."""
    return {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts): ast.parse(
            path.read_text()
        )
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def imported(tree: ast.Module, module: str) -> set[str]:
    """Absolute names of the modules `tree` (the module `module`) imports, anywhere in it."""
    names: set[str] = set()
    is_package = module.endswith(".__init__")
    package = module.removesuffix(".__init__") if is_package else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_only_the_documented_app_modules_import_streamlit() -> None:
    users = {
        name
        for name, tree in modules().items()
        if any(n == "streamlit" or n.startswith("streamlit.") for n in imported(tree, name))
    }
    assert users == {f"mask_detector.app.{m}" for m in STREAMLIT_MODULES}
    doc = app.__doc__ or ""
    said = re.search(r"Only (.+?) import streamlit", doc, re.S)
    assert said and set(re.findall(r"`(\w+)`", said.group(1))) == STREAMLIT_MODULES


def test_the_library_never_imports_the_app_glue() -> None:
    for name, tree in modules().items():
        if not name.startswith("mask_detector.app"):
            assert not any(n.startswith("mask_detector.app") for n in imported(tree, name)), name
