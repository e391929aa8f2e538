"""``python -m autograd_lite.ops``: print the op table as Markdown (the README's copy of it)."""

import autograd_lite  # noqa: F401  (registers the ops defined outside the ops package too)
from autograd_lite.ops import table

print(table())
