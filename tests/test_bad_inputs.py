"""Bad-input fuzzing of every public function, driven by the table in ``bad_inputs_table.py``.

Each row either must raise its exception — a builtin ``TypeError``/``ValueError``/
``IndexError``/``MemoryError`` (or the library's own subclass), whose message contains the
expected fragment naming the function and what was wrong — or, for inputs that are legitimate
(NaN propagating through arithmetic, empty and 0-d arrays, dtype promotion), must return a result
passing the row's check. No row may fail with an unrelated exception from deep inside NumPy.
"""

from __future__ import annotations

import re

import pytest

from tests.bad_inputs_table import TABLE, Case


def test_the_table_has_unique_labels():
    labels = [case.label for case in TABLE]
    assert len(labels) == len(set(labels)), [x for x in labels if labels.count(x) > 1]


@pytest.mark.parametrize("case", TABLE, ids=[case.label for case in TABLE])
def test_bad_input(case: Case):
    if case.error is None:
        result = case.call()
        assert case.check(result), f"{case.label}: unexpected result {result!r:.200}"
        return
    with pytest.raises(case.error, match=re.escape(case.match)) as info:
        case.call()
    # a message a user can act on: not empty, not a bare repr of NumPy internals
    assert str(info.value).strip(), f"{case.label}: empty error message"
    assert info.type.__module__ in ("builtins", "autograd_lite.gradcheck"), info.type
