"""The oracle stays independent: no simulator imports adapter code and no adapter imports a
simulator, so a bug shared by both cannot cancel out in the tests. And the simulators are a
sandbox feature: no production module imports them (or the sandbox wiring).

The check reads every module's syntax tree (``ast``), not its text: absolute and relative
``import``/``from`` statements (at any depth, including inside functions) and
``importlib.import_module("...")`` with a literal name all count.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RULES = (
    ("bridge/simulators", "bridge.providers"),
    ("bridge/providers", "bridge.simulators"),
)


def module_name(path: Path, root: Path) -> str:
    """The dotted module name of ``path`` relative to the directory holding the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a ``from ... import`` names (relative levels resolved)."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_names(source: str, module: str, is_package: bool = False) -> Iterator[str]:
    """Every module name ``source`` imports (``from a import b`` yields ``a`` and ``a.b``)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, is_package)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def violations(package_dir: Path, forbidden: str, root: Path = REPO) -> list[str]:
    """``"module imports name"`` for each import of ``forbidden`` (or below it) by a module
    under ``package_dir``."""
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        module = module_name(path, root)
        names = imported_names(path.read_text(), module, path.name == "__init__.py")
        for name in sorted(set(names)):
            if name == forbidden or name.startswith(forbidden + "."):
                found.append(f"{module} imports {name}")
    return found


@pytest.mark.parametrize(("package", "forbidden"), RULES)
def test_simulators_and_adapters_do_not_import_each_other(package: str, forbidden: str) -> None:
    modules = list((REPO / package).rglob("*.py"))
    assert len(modules) > 10  # the walk really reaches the packages
    assert violations(REPO / package, forbidden) == []


@pytest.mark.parametrize(
    "statement",
    [
        "from bridge.providers.arlula.ids import item_id",
        "import bridge.providers.arlula.ids",
        "from bridge import providers",
        "from ...providers.arlula import ids",
        "import importlib\nimportlib.import_module('bridge.providers.arlula')",
        "def later() -> None:\n    from bridge.providers.http import send",
    ],
)
def test_the_check_catches_a_simulator_importing_an_adapter(tmp_path: Path, statement: str) -> None:
    package = tmp_path / "bridge" / "simulators" / "fake"
    package.mkdir(parents=True)
    for init in (tmp_path / "bridge", tmp_path / "bridge" / "simulators", package):
        (init / "__init__.py").write_text("")
    (package / "ordering.py").write_text(f'"""A simulator module."""\n{statement}\n')
    found = violations(tmp_path / "bridge" / "simulators", "bridge.providers", root=tmp_path)
    assert found and found[0].startswith("bridge.simulators.fake.ordering imports bridge.providers")


def test_the_check_passes_a_clean_simulator_module(tmp_path: Path) -> None:
    package = tmp_path / "bridge" / "simulators"
    package.mkdir(parents=True)
    (package / "routes.py").write_text(
        "from bridge.simulators.common.app import read_json\nfrom . import auth\nimport httpx\n"
    )
    assert violations(package, "bridge.providers", root=tmp_path) == []


# Production code: what a bridge without sandbox runs. Only the sandbox wiring
# (bridge/sandbox.py, bridge/server.py, the registry's simulator look-ups) reaches simulators.
PRODUCTION = (
    "bridge/app.py",
    "bridge/provider_pool.py",
    "bridge/settings.py",
    "bridge/api",
    "bridge/orders",
    "bridge/core",
    "bridge/auth",
    "bridge/db",
)
SANDBOX_ONLY = ("bridge.simulators", "bridge.sandbox")


def production_violations(root: Path = REPO) -> list[str]:
    """``"module imports name"`` for each import of simulator or sandbox code by a
    production module, at any depth (inside functions too)."""
    found = []
    for entry in PRODUCTION:
        path = root / entry
        if not path.exists():
            continue
        files = [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
        for file in files:
            module = module_name(file, root)
            names = set(imported_names(file.read_text(), module, file.name == "__init__.py"))
            found += [
                f"{module} imports {name}"
                for name in sorted(names)
                for forbidden in SANDBOX_ONLY
                if name == forbidden or name.startswith(forbidden + ".")
            ]
    return found


def test_production_modules_import_no_simulator_or_sandbox_code() -> None:
    assert all((REPO / entry).exists() for entry in PRODUCTION)  # none silently skipped
    assert production_violations() == []


def test_importing_the_production_app_loads_no_simulator_code() -> None:
    # The whole import graph, as Python walks it: a production module reaching a simulator
    # through any chain (settings, registry, a helper) shows up in sys.modules.
    modules = ["bridge.app", "bridge.provider_pool", "bridge.orders.access", "bridge.registry"]
    script = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('bridge.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    loaded = done.stdout.split()
    assert "bridge.app" in loaded and "bridge.providers.base" in loaded  # the walk is real
    leaked = [m for m in loaded if m.startswith(SANDBOX_ONLY)]
    assert leaked == []


def test_the_production_check_catches_a_sandbox_import(tmp_path: Path) -> None:
    orders = tmp_path / "bridge" / "orders"
    orders.mkdir(parents=True)
    for init in (tmp_path / "bridge", orders):
        (init / "__init__.py").write_text("")
    (orders / "access.py").write_text("def later() -> None:\n    from bridge import sandbox\n")
    assert production_violations(tmp_path) == ["bridge.orders.access imports bridge.sandbox"]
