"""What a user of only lava-nc and lava-dl needs to run an exported file: the ``stock_lava``
section of the model card (and ``netx_exports/run_with_stock_lava.py``, which follows it).

Time steps count from 1. A point's input messages enter at the first step of its inference; the
readout holds the answer at the end of step ``steps_per_inference``; sigma-delta states are
zeroed after one idle step, so many points stream through one graph, one every
``steps_per_inference + 1`` steps (``runtime/lava_graph.py`` does the same).
"""
from __future__ import annotations

from loihi_pinn.loihi.network import QuantizedNetwork

RUN_CONFIG = "lava.magma.core.run_configs.Loihi2SimCfg(select_tag='fixed_pt')"


def stock_lava_recipe(qnet: QuantizedNetwork) -> dict:
    """The card's ``stock_lava`` section for ``qnet``: load call, run configuration, input and
    output formulas, the step to read, and how to run many points (stock netx types only; other
    models name the loader they need)."""
    model = qnet.model
    steps = qnet.steps
    recipe = {
        "load": f"lava.lib.dl.netx.hdf5.Network(FILE, {', '.join(f'{k}={v}' for k, v in model.netx_args.items())})",
        "run_config": f"{RUN_CONFIG}: the network is integer; the default Loihi2SimCfg() gives wrong outputs",
        "input": ("m_i = round((2 (x_i - lower_i) / (upper_i - lower_i) - 1) * input_scale) as integers (|m| < 2^23), "
                  "sent to Network.inp at the first step of the inference"
                  + (" and at every step after it" if model.input_every_step else ", zero at the other steps")),
        "output": "u_j = r_j / output_scale + output_offset_j",
        "steps_per_inference": steps,
    }
    if not model.loihi_native:
        recipe["needs"] = f"{model.name} layers ({model.netx_type}) have no stock Lava process; {model.hardware_note}"
        return recipe
    recipe.update(model.stock_lava_steps(steps))
    return recipe
