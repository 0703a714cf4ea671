"""Loihi 2 fixed point: quantization, the bit-exact emulator, and the chip resource model."""
from .fixed_point import FixedPointLayer, FixedPointStats, StateOverflow, run_fixed_point
from .network import QuantizedNetwork
from .quantize import calibrate_fixed_point, quantize

__all__ = ["FixedPointLayer", "FixedPointStats", "QuantizedNetwork", "StateOverflow", "calibrate_fixed_point",
           "quantize", "run_fixed_point"]
