"""PINN training and checkpoints."""
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .fit import default_model, fit
from .trainer import TrainConfig, TrainResult, physics_loss, train

__all__ = ["Checkpoint", "TrainConfig", "TrainResult", "default_model", "fit", "load_checkpoint", "physics_loss",
           "save_checkpoint", "train"]
