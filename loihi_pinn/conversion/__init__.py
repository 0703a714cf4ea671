"""ANN -> SNN conversion through the neuron registry: batched emulator, conversion, calibration, metrics."""
from .calibrate import MODES as CALIBRATION_MODES
from .calibrate import OBJECTIVES as CALIBRATION_OBJECTIVES
from .calibrate import calibrate, layer_mismatch
from .convert import convert
from .activity import Activity
from .emulator import emulate
from .metrics import conversion_report, lowpass_smooth, theorem1_terms
from .network import SpikingLayer, SpikingNetwork
from .workflow import calibration_points, convert_checkpoint, convert_model_file, convert_pinn

__all__ = ["Activity", "CALIBRATION_MODES", "CALIBRATION_OBJECTIVES", "SpikingLayer", "SpikingNetwork",
           "calibrate", "calibration_points", "conversion_report", "convert", "convert_checkpoint", "convert_model_file", "convert_pinn", "emulate",
           "layer_mismatch", "lowpass_smooth", "theorem1_terms"]
