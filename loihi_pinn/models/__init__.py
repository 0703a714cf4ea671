"""Torch networks for PINNs."""
from .mlp import ACTIVATIONS, PINN, Sine, build_mlp, describe_mlp
from .quantized import SlipReLU, qcfs

__all__ = ["ACTIVATIONS", "PINN", "Sine", "SlipReLU", "build_mlp", "describe_mlp", "qcfs"]
