"""The registry of neuron models: every stage finds a model here by the name stored in its files.

It holds no model itself (``loihi_pinn.neurons`` registers the shipped ones on import), so any
stage module can import it without import cycles.
"""
from __future__ import annotations

from loihi_pinn.errors import InputError

NEURON_MODELS: dict = {}
"""Registered models by name (``NeuronModel`` instances), in registration order."""
_ALIASES: dict[str, str] = {}


def register_neuron(model) -> object:
    """Add ``model`` (a ``NeuronModel`` instance) under its ``name`` and ``aliases``; returns it.
    A name already taken is refused (unregister it first to replace it)."""
    for name in (model.name, *model.aliases):
        if name in NEURON_MODELS or name in _ALIASES:
            raise InputError(f"a neuron model named {name!r} is already registered")
    NEURON_MODELS[model.name] = model
    _ALIASES.update({alias: model.name for alias in model.aliases})
    return model


def unregister_neuron(name: str) -> None:
    """Remove a registered model (and its aliases)."""
    model = get_neuron(name)
    del NEURON_MODELS[model.name]
    for alias in model.aliases:
        del _ALIASES[alias]


def get_neuron(name: str):
    """The model registered as ``name`` (or one of its aliases); an unknown name gets an
    ``InputError`` listing the valid ones."""
    model = NEURON_MODELS.get(_ALIASES.get(name, name))
    if model is None:
        raise InputError(f"unknown neuron model {name!r}; choose one of: {', '.join(neuron_choices())}")
    return model


def neuron_choices() -> list[str]:
    """Every name the command line accepts for ``--neuron``: model names, then aliases."""
    return [*NEURON_MODELS, *_ALIASES]
