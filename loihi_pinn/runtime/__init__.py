"""Runner: one interface to run an exported network on the emulator, the Lava simulator or Loihi 2."""
from .runner import BACKEND_TYPES, BACKENDS, Backend, HardwareUnavailable, Runner, RunStats, make_backend

__all__ = ["BACKENDS", "BACKEND_TYPES", "Backend", "HardwareUnavailable", "RunStats", "Runner", "make_backend"]
