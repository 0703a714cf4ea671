"""loihi-pinn: physics-informed neural networks from a laptop to Intel's Loihi 2.

The package reads as the pipeline: ``problems`` -> ``models`` -> ``training`` -> ``conversion``
-> ``loihi`` -> ``export`` -> ``runtime``; ``neurons`` holds one module per neuron model and the
registry every stage uses. The public surface the README uses is re-exported here.
"""
from loihi_pinn.conversion import SpikingNetwork, calibrate, convert, convert_checkpoint, convert_model_file, emulate
from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import error_report, predict_model, relative_l2
from loihi_pinn.export import export_converted, read_netx, write_netx
from loihi_pinn.loihi import QuantizedNetwork, calibrate_fixed_point, quantize
from loihi_pinn.models import PINN, build_mlp, describe_mlp
from loihi_pinn.neurons import NEURON_MODELS, NeuronModel, get_neuron, register_neuron
from loihi_pinn.problems import PROBLEM_NAMES, Problem, get_problem
from loihi_pinn.runtime import Runner
from loihi_pinn.training import TrainConfig, fit, load_checkpoint, save_checkpoint, train

__all__ = ["InputError", "NEURON_MODELS", "NeuronModel", "PINN", "PROBLEM_NAMES", "Problem", "QuantizedNetwork",
           "Runner", "SpikingNetwork", "TrainConfig", "build_mlp", "calibrate", "calibrate_fixed_point", "convert",
           "convert_checkpoint", "convert_model_file", "describe_mlp", "emulate", "error_report", "export_converted", "fit",
           "get_neuron", "get_problem", "load_checkpoint", "predict_model", "quantize", "read_netx",
           "register_neuron", "relative_l2", "save_checkpoint", "train", "write_netx"]
