"""moe-lm-speedrun with the project's tiny sparse LM (tinylm): for
comparison, never ranked (it imports the reference package, which submissions may not).

Trains the default MoE model (8 experts, top-2, dropless: routing never looks across tokens) for
the budget; logprobs slides windows of the context length in half-window strides, so every token
is predicted from at least half a window of context.
"""
import numpy as np

from tinylm import data, model as M, train as T

BUDGET_SHARE = 0.9  # of `seconds` spent in training steps; the rest covers set-up and evaluation


class TinyLM:
    def __init__(self, params, cfg: M.Config):
        self.params, self.cfg = params, cfg

    def logprobs(self, tokens) -> np.ndarray:
        """Row t comes from the window starting at k*half, k = max(0, t // half - 1): a function of
        t alone, so a prefix of the tokens gets the same rows (the grader checks that)."""
        ids = np.asarray(tokens, dtype=np.int64)
        T_, n = self.cfg.block_size, ids.size
        half = T_ // 2
        out = np.empty((n, self.cfg.vocab_size))
        out[:T_] = self._window(ids[:T_])
        for start in range(half, max(n - T_ + half, half), half):
            rows = slice(start + half, min(start + T_, n))
            out[rows] = self._window(ids[start:start + T_])[half:half + rows.stop - rows.start]
        return out

    def _window(self, ids):
        logits, _, _ = M.forward(self.params, self.cfg, ids[None, :])
        return M.log_softmax(logits[0].astype(np.float64))

    def describe(self) -> dict:
        counts = M.param_counts(self.cfg)
        return {"total_params": counts["total"], "active_params": counts["active"]}


def train(text: str, seconds: float, seed: int) -> TinyLM:
    cut = int(len(text) * 0.95)
    corpus = data.from_text("speedrun", text[:cut], text[cut:])
    cfg = T.model_config(corpus)
    tc = T.TrainConfig(seed=seed, minutes=BUDGET_SHARE * seconds / 60, warmup_steps=50, eval_every_s=1e9,
                       final_eval_windows=4)
    result = T.train(cfg, tc, corpus)
    return TinyLM(result["params"], cfg)
