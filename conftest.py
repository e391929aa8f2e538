"""Doctests: every docstring example may use ``al`` and ``np`` (and ``Tensor``); modules whose
examples need an optional package (PyTorch, ONNX) are skipped when it is not installed."""

import importlib.util

import numpy as np
import pytest

import autograd_lite as al

# Helper modules of the tests are imported by the tests that use them, never collected alone
# (their table of rows is assembled on import); package modules whose examples need an optional
# package are skipped without it.
collect_ignore_glob = ["tests/bad_inputs_*.py", "tests/spec*.py"] + [
    path for path, needs in (("autograd_lite/onnx/*", "onnxruntime"),
                             ("autograd_lite/interop.py", "torch"))
    if importlib.util.find_spec(needs) is None
]


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict) -> None:
    doctest_namespace.update(al=al, np=np, Tensor=al.Tensor)
