"""Fixtures for the ml_endpoints tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    """A fresh MODEL_DIR for in-process models."""
    directory = tmp_path / "model"
    directory.mkdir()
    monkeypatch.setenv("MODEL_DIR", str(directory))
    return directory
