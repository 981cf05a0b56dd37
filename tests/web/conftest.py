"""The browser tests reuse the end-to-end fleet (real Redis, reference GC, MC processes)."""

from __future__ import annotations

from tests.e2e.conftest import fleet  # noqa: F401  (the fixture, shared)
