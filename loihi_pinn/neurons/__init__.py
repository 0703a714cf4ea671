"""Neuron models, one module each, and the registry through which every stage uses them.

| model | module | netx type | stock Loihi 2 | spikes |
|---|---|---|---|---|
| ``sigma_delta`` | ``sigma_delta.py`` | SDNN | yes | graded (24 bit) |
| ``if_hard`` | ``integrate_fire.py`` | CUBA | yes | binary |
| ``signed_if`` (alias ``qcfs-if``) | ``integrate_fire.py`` | SIGNED_IF (ours) | custom microcode | ternary |
| ``bitserial`` | ``bitserial.py`` | BITSERIAL (ours) | custom microcode | ternary |
| ``ttfs`` (alias ``time-to-first-spike``) | ``ttfs.py`` | TTFS (ours) | custom microcode | binary, one a neuron |

A new model subclasses ``NeuronModel`` (``base.py``) and is added with ``register_neuron``; the
contract tests (``sim_tests/test_neuron_contract.py``) then check it with no other change.
"""
from .base import NeuronModel
from .bitserial import BitSerial
from .integrate_fire import IFHardReset, SignedIF
from .registry import NEURON_MODELS, get_neuron, neuron_choices, register_neuron, unregister_neuron
from .sigma_delta import SigmaDelta
from .ttfs import TTFS

for _model in (SigmaDelta(), IFHardReset(), SignedIF(), BitSerial(), TTFS()):
    register_neuron(_model)

__all__ = ["NEURON_MODELS", "NeuronModel", "get_neuron", "neuron_choices", "register_neuron", "unregister_neuron"]
