"""Hardware tests run only where Loihi 2 is reachable: the lava-loihi extension is installed and
a board is selected (INRC: SLURM=1, PARTITION, LOIHI_GEN). Everywhere else every test in this
folder is skipped with the reason the runtime's loihi2 backend gives."""
import os

import pytest


def loihi2_unavailable_reason() -> str | None:
    """Why Loihi 2 cannot be used here, or None when it can."""
    from loihi_pinn.runtime import HardwareUnavailable, make_backend

    try:
        make_backend("loihi2").check_available()
    except HardwareUnavailable as err:
        return str(err)
    return None


def pytest_collection_modifyitems(config, items):
    reason = loihi2_unavailable_reason()
    if reason is None:
        return
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.skip(reason=reason))
