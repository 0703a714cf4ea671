"""PINN training, per-problem training defaults and checkpoints."""
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .defaults import SHIPPED_DEFAULTS, TrainingDefaults, training_defaults
from .distill import DistillConfig, distill
from .fit import default_model, fit, fit_quantized
from .student import StudentConfig, distill_student
from .trainer import TrainConfig, TrainResult, physics_loss, train

__all__ = ["Checkpoint", "DistillConfig", "SHIPPED_DEFAULTS", "TrainConfig", "TrainResult", "TrainingDefaults",
           "default_model", "distill", "fit", "fit_quantized", "load_checkpoint", "physics_loss", "save_checkpoint",
           "StudentConfig", "distill_student", "train", "training_defaults"]
