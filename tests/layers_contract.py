"""The import contract of the packages, checked over the source's AST (no imports executed).

Layers, bottom up: the pure platform code (``connectors``) and the platform stand-in
(``sandbox``) know nothing of the runtime; inside ``consumer``, the base modules (codec and its
generated reader, registry, config, contract, storage, kafka/, observability/) import only each
other; the relay's wiring (``consumer.app``) and the command line (``consumer.cli``) are
imported by nothing below them; the delivery ledger does not depend on the click-ID store. And
no error is recognised by its class name (``type(exc).__name__``): callers import the exception
they mean.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("consumer", "connectors", "sandbox")
BASE = (
    "consumer.codec",
    "consumer.config",
    "consumer.config_errors",
    "consumer.contract",
    "consumer.fastdec",
    "consumer.registry",
    "consumer.storage",
    "consumer.kafka",
    "consumer.observability",
)
TOP = ("consumer.app", "consumer.cli")
TOP_IMPORTERS = ("consumer.cli", "consumer.demo")  # commands that run the relay


@dataclass(frozen=True)
class Violation:
    """One import (or name match) that breaks the contract."""

    module: str
    line: int
    detail: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.detail}"


def _within(name: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST, module: str) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = module.split(".")[: -node.level] if node.level else []
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:  # "from consumer import contract" imports consumer.contract
                yield node.lineno, f"{target}.{alias.name}" if alias.name != "*" else target


def check_module(module: str, source: str) -> list[Violation]:
    """The contract's violations in one module's source."""
    tree = ast.parse(source)
    out: list[Violation] = []
    for line, target in _imports(tree, module):
        if not _within(target, PACKAGES):
            continue
        if _within(module, ("connectors", "sandbox")) and _within(target, "consumer"):
            out.append(
                Violation(module, line, f"imports {target}: connectors/sandbox know nothing of consumer")
            )
        elif (
            _within(module, BASE)
            and _within(target, "consumer")
            and not _within(target, BASE)
            and target != "consumer"
        ):
            out.append(Violation(module, line, f"base module imports {target} from above it"))
        if _within(target, TOP) and not _within(module, TOP_IMPORTERS) and not _within(module, target):
            out.append(Violation(module, line, f"imports {target}: nothing imports upward into app/cli"))
        if _within(module, "consumer.ledger") and _within(target, "consumer.enrich"):
            out.append(
                Violation(module, line, f"imports {target}: the ledger does not depend on the click-ID store")
            )
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "__name__"
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "type"
        ):
            parent_compares = [
                c for c in ast.walk(tree) if isinstance(c, ast.Compare) and node in (c.left, *c.comparators)
            ]
            if parent_compares:
                out.append(Violation(module, node.lineno, "matches an exception by class name; import it"))
    return out


def check_tree(root: Path) -> list[Violation]:
    """Every violation under ``root`` (the repository)."""
    out: list[Violation] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            out.extend(check_module(_module_name(root, path), path.read_text(encoding="utf-8")))
    return out
