"""The store's tests run on both engines in every run: the store is one contract with two engines."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "dynamodb"])
def engine(request) -> str:
    return request.param
