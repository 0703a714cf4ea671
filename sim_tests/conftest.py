"""Strict, repeatable numerics for the simulation tests."""
import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def float64():
    """Run a test with torch's default dtype at float64 (exact-solution residual checks)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)
