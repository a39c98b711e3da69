"""moe-lm-loss: the tiny sparse LM's mean cross-entropy, aux loss and z-loss.

Read the statement: `sparsebench show moe-lm-loss`. Grade: `sparsebench grade moe-lm-loss THIS_FILE`.
"""
import math

import numpy as np


def moe_lm_loss(params: dict, idx: np.ndarray, targets: np.ndarray, config: dict) -> tuple[float, float, float]:
    B, T = idx.shape
    n_layer = len({name.split(".")[1] for name in params if name.startswith("blocks.")})
    # 1. x = wte[idx] + wpe[:T]
    # 2. each block: x += attention(LayerNorm1(x)) (causal, config["n_head"] heads)
    #                x += moe(LayerNorm2(x))  (route the B*T tokens as one group: softmax, top-k with
    #                     ties to the lower index, gates, capacity; sum aux and z over blocks)
    #                     or the dense ffn when the block has ffn.* weights
    # 3. logits = LayerNorm_f(x) @ head; ce = mean of -log softmax(logits)[targets]
    raise NotImplementedError("write moe_lm_loss")
