"""moe-lm-grad: the gradient of the tiny sparse LM's training loss with respect to every weight.

Read the statement: `sparsebench show moe-lm-grad`. Grade: `sparsebench grade moe-lm-grad THIS_FILE`.
"""
import math

import numpy as np


def moe_lm_grad(params: dict, idx: np.ndarray, targets: np.ndarray, config: dict) -> dict:
    # loss = ce + config["aux_coef"] * sum of aux + config["z_coef"] * sum of z (see moe-lm-loss)
    # 1. forward pass, keeping what the backward pass needs (LayerNorm's xhat and 1/std, attention
    #    probabilities, each expert's tokens, hidden activations and outputs, router probabilities)
    # 2. backward pass in reverse order; the routing decisions (chosen experts, kept mask, f) are
    #    constants, the gates and the router probabilities are not
    # 3. return {name: gradient} with the same keys and shapes as params
    raise NotImplementedError("write moe_lm_grad")
