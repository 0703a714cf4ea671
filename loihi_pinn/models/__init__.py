"""Torch networks for PINNs."""
from .mlp import ACTIVATIONS, PINN, Sine, build_mlp, describe_mlp, to_unit_box
from .quantized import BitSerialQCFS, SlipReLU, qcfs
from .separable import SPINN, GridField, combine
from .operator import build_operator, operator_sizes

__all__ = ["ACTIVATIONS", "GridField", "PINN", "SPINN", "combine", "BitSerialQCFS", "Sine", "SlipReLU", "build_mlp", "build_operator", "operator_sizes", "describe_mlp", "qcfs", "to_unit_box"]
