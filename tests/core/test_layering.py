"""The package's layers: a numpy-only core, notebook helpers and the CIFAR-10 engine above it."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

LRLIB = Path(__file__).resolve().parents[2] / "lrlib"
CORE = sorted(LRLIB.glob("*.py"))
EVERY_MODULE = sorted(LRLIB.rglob("*.py"))


def test_import_lrlib_pulls_no_torch_matplotlib_or_ipywidgets():
    code = "import lrlib, sys; print(sorted({'torch', 'matplotlib', 'ipywidgets'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node.level, node.module or "", [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield 0, alias.name, []


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_the_core_imports_nothing_above_it(path):
    for level, module, _ in _imports(path):
        absolute = module if level == 0 else "lrlib." + module
        assert not absolute.startswith(("lrlib.notebook", "lrlib.cifar")), f"{path.name} imports {absolute}"
        if level == 0:
            assert module.split(".")[0] not in {"matplotlib", "ipywidgets"}, f"{path.name} imports {module}"


@pytest.mark.parametrize("path", EVERY_MODULE, ids=lambda p: str(p.relative_to(LRLIB)))
def test_no_private_name_is_imported_across_modules(path):
    for _, module, names in _imports(path):
        private = [n for n in names if n.startswith("_")]
        assert not private, f"{path.relative_to(LRLIB)} imports {private} from {module}"


def test_no_module_is_named_after_a_notebook_number():
    assert not [p for p in EVERY_MODULE if re.search(r"\d", p.stem)]
