"""The compiled module's type stubs name every function and class it has,
with the same parameters."""

from __future__ import annotations

import ast
import inspect
import pathlib

import causalgrad
from causalgrad import _causalgrad

STUB = pathlib.Path(causalgrad.__file__).with_name("_causalgrad.pyi")


def stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text())


def parameters(function: ast.FunctionDef) -> list[str]:
    names = [a.arg for a in function.args.posonlyargs + function.args.args + function.args.kwonlyargs]
    return [n for n in names if n not in ("self", "cls")]


def test_the_stub_is_installed_beside_the_module() -> None:
    assert STUB.exists(), STUB
    assert pathlib.Path(causalgrad.__file__).with_name("py.typed").exists()


def test_every_public_name_has_a_stub() -> None:
    tree = stub_tree()
    stubbed = {node.name for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    stubbed |= {
        t.id for node in tree.body if isinstance(node, (ast.AnnAssign, ast.Assign))
        for t in ([node.target] if isinstance(node, ast.AnnAssign) else node.targets)
        if isinstance(t, ast.Name)
    }
    public = {name for name in dir(_causalgrad) if not name.startswith("_")} | {"__version__"}
    assert public <= stubbed, public - stubbed


def test_method_signatures_match_the_module() -> None:
    classes = {node.name: node for node in stub_tree().body if isinstance(node, ast.ClassDef)}
    raw = classes["RawModel"]
    methods = {node.name: node for node in raw.body if isinstance(node, ast.FunctionDef)}
    runtime = {
        name for name in dir(_causalgrad.RawModel) if not name.startswith("_")
    }
    assert runtime == set(methods), runtime ^ set(methods)
    for name, node in methods.items():
        signature = inspect.signature(getattr(_causalgrad.RawModel, name))
        names = [p for p in signature.parameters if p not in ("self", "cls", "$self", "$cls")]
        assert names == parameters(node), (name, names, parameters(node))
    for error in ("GraphError", "DataError", "ModelError", "FitError", "FileError"):
        bases = [b.id for b in classes[error].bases if isinstance(b, ast.Name)]
        assert bases == ["CausalGradError"]
        assert getattr(_causalgrad, error).__mro__[1] is _causalgrad.CausalGradError
