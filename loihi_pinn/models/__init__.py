"""Torch networks for PINNs."""
from .mlp import ACTIVATIONS, PINN, Sine, build_mlp, describe_mlp

__all__ = ["ACTIVATIONS", "PINN", "Sine", "build_mlp", "describe_mlp"]
