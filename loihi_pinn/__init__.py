"""loihi-pinn: physics-informed neural networks from a laptop to Intel's Loihi 2.

The package reads as the pipeline: ``problems`` -> ``models`` -> ``training`` -> ``conversion``
(-> loihi -> export -> runtime, to come). The small public surface is re-exported here.
"""
from loihi_pinn.conversion import SpikingNetwork, calibrate, convert, convert_checkpoint, emulate
from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import error_report, predict_model, relative_l2
from loihi_pinn.models import PINN, build_mlp, describe_mlp
from loihi_pinn.problems import PROBLEM_NAMES, Problem, get_problem
from loihi_pinn.training import TrainConfig, fit, load_checkpoint, save_checkpoint, train

__all__ = ["InputError", "PINN", "PROBLEM_NAMES", "Problem", "SpikingNetwork", "TrainConfig", "build_mlp",
           "calibrate", "convert", "convert_checkpoint", "describe_mlp", "emulate", "error_report", "fit",
           "get_problem", "load_checkpoint", "predict_model", "relative_l2", "save_checkpoint", "train"]
