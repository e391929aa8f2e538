"""Doctest namespace: every docstring example may use ``al`` and ``np`` (and ``Tensor``)."""

import numpy as np
import pytest

import autograd_lite as al


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict) -> None:
    doctest_namespace.update(al=al, np=np, Tensor=al.Tensor)
