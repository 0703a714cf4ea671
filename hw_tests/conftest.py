"""Hardware tests run only where Loihi 2 is reachable: the lava-loihi extension is installed
(``lava.utils.loihi.is_installed()``) and a board is selected through SLURM (INRC). Everywhere
else every test in this folder is skipped, with the reason."""
import os

import pytest


def loihi2_unavailable_reason() -> str | None:
    """Why Loihi 2 cannot be used here, or None when it can."""
    from lava.utils import loihi

    if not loihi.is_installed():
        return "lava-loihi extension not installed (INRC members only; see hw_tests/README.md)"
    if not os.environ.get("SLURM") and not os.environ.get("LOIHI_GEN"):
        return "no Loihi 2 board selected: set SLURM=1, PARTITION and LOIHI_GEN (see hw_tests/README.md)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = loihi2_unavailable_reason()
    if reason is None:
        return
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.skip(reason=reason))
