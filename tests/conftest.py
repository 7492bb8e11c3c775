import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One torch thread per process, as in every experiment run (and results stay reproducible)."""
    torch.set_num_threads(1)
    yield
