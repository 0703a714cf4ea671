"""Loihi 2 fixed point: integer arithmetic and the one run loop, quantization and fixed-point
calibration, and the chip resource model. The neuron dynamics themselves are the models'
(``loihi_pinn.neurons``)."""
from .fixed_point import FixedPointLayer, StateOverflow, run_integers
from .network import QuantizedNetwork
from .quantize import best_weight_max, calibrate_fixed_point, quantize

__all__ = ["FixedPointLayer", "QuantizedNetwork", "StateOverflow", "best_weight_max", "calibrate_fixed_point",
           "quantize", "run_integers"]
