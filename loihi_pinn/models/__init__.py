"""Torch networks for PINNs."""
from .mlp import ACTIVATIONS, PINN, Sine, build_mlp, describe_mlp
from .quantized import BitSerialQCFS, SlipReLU, qcfs

__all__ = ["ACTIVATIONS", "PINN", "BitSerialQCFS", "Sine", "SlipReLU", "build_mlp", "describe_mlp", "qcfs"]
