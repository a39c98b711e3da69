"""tinylm: a tiny sparse Mixture-of-Experts character language model in NumPy (seed note Q6).

model.py  the model: config, parameter layout, forward, hand-written backward, sampling
data.py   corpora: pydoc topics (embedded), any UTF-8 file, a synthetic mixture of Markov sources
train.py  AdamW training with warm-up + cosine LR, clipping, checkpoints, evaluation, compare
cli.py    the `sparsebench lm ...` commands (imports the rest only when a command runs)
"""
