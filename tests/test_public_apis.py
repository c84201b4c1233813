"""serving/ and models/ use other libraries' public names only, so an upgrade cannot break them silently."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("serving", "models")
OURS = frozenset({"features", "training", "models", "serving", "benchmarks", "tests"})
# Modules without an underscore that their projects still treat as internal (undocumented, may change).
INTERNAL_MODULES = ("uvicorn.protocols", "uvicorn.lifespan", "uvicorn.loops", "uvicorn.supervisors")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _third_party(module: str) -> bool:
    top = module.split(".")[0]
    return bool(top) and top not in OURS and top not in sys.stdlib_module_names


def _internal_module(module: str) -> bool:
    return any(_private(part) for part in module.split(".")) or module.startswith(INTERNAL_MODULES)


def violations(source: str, filename: str = "<source>") -> list[str]:
    """Private names of other libraries that `source` imports, reads or subclasses, one line each."""
    tree = ast.parse(source, filename)
    origins: dict[str, str] = {}  # local name -> dotted origin, for third-party imports
    found: list[str] = []

    def report(node: ast.AST, what: str) -> None:
        found.append(f"{filename}:{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _third_party(alias.name):
                    continue
                top = alias.name.split(".")[0]
                origins[alias.asname or top] = alias.name if alias.asname else top
                if any(_private(part) for part in alias.name.split(".")):
                    report(node, f"imports private module {alias.name}")
        elif isinstance(node, ast.ImportFrom) and not node.level and _third_party(node.module or ""):
            assert node.module is not None
            if any(_private(p) for p in node.module.split(".")):
                report(node, f"imports from private module {node.module}")
            for alias in node.names:
                origins[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                if _private(alias.name):
                    report(node, f"imports private name {alias.name} from {node.module}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            if not (isinstance(base, ast.Name) and base.id in ("self", "cls")):
                report(node, f"reads private attribute .{node.attr} of another object")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and not (isinstance(node.args[0], ast.Name) and node.args[0].id in ("self", "cls"))
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            report(node, f"{node.func.id}(..., {node.args[1].value!r})")
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                origin = _origin(base, origins)
                if origin and _internal_module(origin.rsplit(".", 1)[0]):
                    report(node, f"class {node.name} subclasses {origin}, internal to its library")
                elif origin and _private(origin.rsplit(".", 1)[-1]):
                    report(node, f"class {node.name} subclasses private {origin}")
    return found


def _origin(expr: ast.expr, origins: dict[str, str]) -> str | None:
    """The dotted third-party name a base-class expression refers to, if it came from an import."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name) or expr.id not in origins:
        return None
    return ".".join([origins[expr.id], *reversed(parts)])


def _sources() -> list[Path]:
    return sorted(p for package in SCANNED for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_names_of_other_libraries(path: Path) -> None:
    assert violations(path.read_text(), str(path.relative_to(ROOT))) == []


@pytest.mark.parametrize(
    "source",
    [
        "from lightgbm.basic import _LIB\n",
        "from lightgbm import basic\nbasic._safe_call(1)\n",
        "def f(booster):\n    return booster._handle\n",
        "class A:\n    def f(self):\n        return self.booster._handle\n",
        "x = getattr(obj, '_handle')\n",
        "from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as H\nclass P(H): ...\n",
        "import uvicorn.protocols.http.h11_impl as h\nclass P(h.H11Protocol): ...\n",
        "from starlette._utils import X\n",
        "from pydantic.main import _Private\nclass M(_Private): ...\n",
    ],
)
def test_the_scan_finds_each_kind_of_private_use(source: str) -> None:
    assert violations(source)


def test_the_scan_allows_own_attributes_and_public_extension_points() -> None:
    source = (
        "from fastapi.routing import APIRoute\nfrom pydantic import BaseModel\nimport threading\n"
        "class R(APIRoute): ...\nclass M(BaseModel): ...\n"
        "class A:\n    def __init__(self):\n        self._lock = threading.Lock()\n"
        "    def __repr__(self):\n        return self.__class__.__name__ + str(self._lock)\n"
    )
    assert violations(source) == []
