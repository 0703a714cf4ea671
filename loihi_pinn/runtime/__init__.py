"""Runner: one interface to run an exported network on the emulator, the Lava simulator or Loihi 2."""
from .runner import BACKENDS, HardwareUnavailable, Runner, RunStats

__all__ = ["BACKENDS", "HardwareUnavailable", "RunStats", "Runner"]
