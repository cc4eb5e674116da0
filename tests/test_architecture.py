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


def readme_map() -> list[str]:
    """The entries of the README's package map, top to bottom (continued lines joined)."""
    readme = (config.REPO_ROOT / "README.md").read_text()
    section = readme.split("\n## Architecture\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```\n", 2)[1]
    entries: list[str] = []
    for line in block.splitlines():
        if line.startswith(" " * 20) and entries:  # a description carried to the next line
            entries[-1] += " " + line.strip()
        else:
            entries.append(line)
    return entries


def entry_of(module: str, entries: list[str]) -> int:
    """Index of the map entry that names the module's file: where two modules share a file name
    (app/views.py, training/views.py), the one under its own folder's heading."""
    name = module.split(".")[-1] + ".py"
    found = [i for i, entry in enumerate(entries) if re.search(rf"\b{re.escape(name)}\b", entry)]
    assert found, f"README's Architecture map does not name {module} ({name})"
    folder = "/".join(module.split(".")[:-1]) + "/"

    def heading(i: int) -> str:  # the unindented entry an indented one belongs to
        while i > 0 and entries[i].startswith(" "):
            i -= 1
        return entries[i].split()[0] if entries[i].split() else ""

    own = [i for i in found if heading(i) == folder]
    return (own or found)[0]


def test_the_readme_map_names_every_module_callers_above_callees() -> None:
    entries = readme_map()
    tree_of = {m: t for m, t in modules().items() if not m.endswith(("__init__", "__main__"))}
    row = {module: entry_of(module, entries) for module in tree_of}
    for module, tree in tree_of.items():
        for target in imported(tree, module) & set(row):
            assert row[module] <= row[target], f"{module} calls {target}, listed above it"
