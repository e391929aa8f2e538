"""Shared fixtures: fixed seeds, and a guard against tests that leak grad-mode state."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

import autograd_lite as al

settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile("thorough" if __import__("os").environ.get("AUTOGRAD_LITE_THOROUGH")
                      else "ci")


@pytest.fixture(autouse=True)
def _grad_mode_is_restored():
    assert al.is_grad_enabled(), "a previous test left grad mode off"
    yield
    assert al.is_grad_enabled(), "this test left grad mode off (no_grad not exited)"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
