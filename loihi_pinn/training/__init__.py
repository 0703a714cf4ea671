"""PINN training and checkpoints."""
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .distill import DistillConfig, distill
from .fit import default_model, fit, fit_quantized
from .trainer import TrainConfig, TrainResult, physics_loss, train

__all__ = ["Checkpoint", "DistillConfig", "TrainConfig", "TrainResult", "default_model", "distill", "fit",
           "fit_quantized", "load_checkpoint", "physics_loss", "save_checkpoint", "train"]
