"""ANN -> SNN conversion: neuron models, batched emulator, conversion, calibration."""
from .calibrate import MODES as CALIBRATION_MODES
from .calibrate import calibrate, layer_mismatch
from .convert import convert
from .emulator import SpikeStats, emulate
from .network import SpikingLayer, SpikingNetwork
from .neurons import NEURON_MODELS, get_neuron_model

__all__ = ["CALIBRATION_MODES", "NEURON_MODELS", "SpikeStats", "SpikingLayer", "SpikingNetwork",
           "calibrate", "convert", "emulate", "get_neuron_model", "layer_mismatch"]
