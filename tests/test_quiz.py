"""The concept drills: cards parse and validate, every computed answer is recomputed here and
checked against independent oracles (scipy, NumPy), and a quiz run scores and records correctly."""
from __future__ import annotations

import io
import json
import math
import shutil
import tomllib
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from rich.console import Console
from scipy.special import logsumexp, softmax

from harness import cli
from quiz import engine as quiz
from harness import record as records
from harness.leaderboard import best, frame
from quiz.formulas import FORMULAS

DECK = quiz.load()
CARDS = DECK.cards()
RAW = [(path.stem, raw) for path in sorted((quiz.CARDS_DIR / "cards").glob("*.toml"))
       for raw in tomllib.loads(path.read_text(encoding="utf-8"))["card"]]
COMPUTED = [(topic, raw) for topic, raw in RAW if "formula" in raw]
EXAMPLE = [[0, 0, 0, 0], [0, 5, 0, 0], [0, 0, 0, 7], [0, 0, 0, 0]]


def right(card: quiz.Card):
    """The right answer in the form a person would give it."""
    if card.kind == "choice":
        return "abcdefghijklmnopqrstuvwxyz"[card.choices.index(card.answer)]
    if card.kind == "numeric":
        return card.answer
    return "all"


def wrong(card: quiz.Card):
    if card.kind == "choice":
        return next(c for c in card.choices if c != card.answer)
    return card.answer * 3 + 7


# -- the cards --------------------------------------------------------------------------
def test_deck_covers_the_topics_with_enough_cards():
    assert list(DECK.topics) == ["formats", "matmul", "routing", "tradeoffs", "expert-parallel",
                                 "deepseek-ep", "weight-sparsity", "seed-note", "moe-systems", "sparse-attention",
                                 "structured-sparsity"]
    assert len(CARDS) >= 40
    assert all(len(t.cards) >= 5 for t in DECK.topics.values())
    assert set(Counter(c.kind for c in CARDS)) == set(quiz.KINDS)


def test_card_ids_are_unique_and_every_card_is_complete():
    ids = [raw["id"] for _, raw in RAW]
    assert len(ids) == len(set(ids)) == len(CARDS)
    for c in CARDS:
        assert c.question and c.explanation and c.sources, c.id
        assert all(s in DECK.sources for s in c.sources), c.id
        if c.kind == "choice":
            assert c.answer in c.choices and len(set(c.choices)) == len(c.choices), c.id
        elif c.kind == "text":
            assert isinstance(c.answer, str) and len(c.checklist) >= 2, c.id
        if c.problem:
            assert c.problem in DECK.problems, c.id


def test_right_choices_are_spread_over_positions():
    positions = Counter(c.choices.index(c.answer) for c in CARDS if c.kind == "choice")
    assert max(positions.values()) <= sum(positions.values()) / 2, positions


def test_every_numeric_card_is_computed_and_every_formula_is_used():
    assert all("formula" in raw for _, raw in RAW if raw["kind"] == "numeric")
    assert {raw["formula"] for _, raw in COMPUTED} == set(FORMULAS)


@pytest.mark.parametrize("topic,raw", COMPUTED, ids=[raw["id"] for _, raw in COMPUTED])
def test_stored_answer_agrees_with_its_formula(topic, raw):
    """Read the card file directly (not through the loader) and recompute the answer."""
    value, working = FORMULAS[raw["formula"]](**raw.get("params", {}))
    card = DECK.by_id()[raw["id"]]
    if raw["kind"] == "choice":
        assert raw["answer"] == value
        return
    assert quiz.show_number(raw["answer"]) == quiz.show_number(value)
    assert math.isclose(raw["answer"], value, rel_tol=max(raw.get("tolerance", 0.0) / 10, 1e-4))
    assert quiz.show_number(value) in working and quiz.show_number(value) in card.explanation
    assert quiz.check(card, value).status == "correct"
    assert quiz.check(card, value * 1.05 + 1).status == "wrong"  # the tolerance is not so loose anything passes


# -- the formulas against independent oracles -------------------------------------------
def _nbytes(m) -> int:
    if m.format == "coo":
        return m.row.nbytes + m.col.nbytes + m.data.nbytes
    return m.indptr.nbytes + m.indices.nbytes + m.data.nbytes


def test_format_byte_counts_match_scipy_arrays():
    a = sp.csr_array(np.array(EXAMPLE, dtype=np.float64))
    a.indptr, a.indices = a.indptr.astype(np.int32), a.indices.astype(np.int32)
    assert FORMULAS["csr_bytes"](rows=4, nnz=2, index_bytes=4, value_bytes=8).value == _nbytes(a) == 44
    coo = a.tocoo()
    coo.row, coo.col = coo.row.astype(np.int32), coo.col.astype(np.int32)
    assert FORMULAS["coo_bytes"](nnz=2, index_bytes=4, value_bytes=8).value == _nbytes(coo)
    rng = np.random.default_rng(0)
    m = sp.random_array((300, 200), density=0.05, format="csc", dtype=np.float64, rng=rng)
    m.indptr, m.indices = m.indptr.astype(np.int32), m.indices.astype(np.int32)
    assert FORMULAS["csc_bytes"](cols=200, nnz=m.nnz, index_bytes=4, value_bytes=8).value == _nbytes(m)
    blocks = sp.random_array((64 // 4, 64 // 4), density=0.2, format="coo", rng=rng)
    dense = np.kron(blocks.toarray() != 0, np.ones((4, 4)))
    b = sp.bsr_array(dense, blocksize=(4, 4))
    b.indptr, b.indices = b.indptr.astype(np.int32), b.indices.astype(np.int32)
    assert FORMULAS["bsr_bytes"](rows=64, block_rows=4, block_cols=4, blocks=blocks.nnz, index_bytes=4,
                                 value_bytes=8).value == _nbytes(b)


def test_csr_arrays_and_triplets_match_scipy():
    a = sp.csr_array(np.array(EXAMPLE))
    text = FORMULAS["csr_arrays"](dense=EXAMPLE).value
    assert text == f"indptr={a.indptr.tolist()}, indices={a.indices.tolist()}, data={a.data.tolist()}"
    c = a.tocoo()
    assert FORMULAS["coo_triplets"](dense=EXAMPLE).value == ", ".join(
        f"({i},{j},{v})" for i, j, v in zip(c.row, c.col, c.data))


def test_breakeven_density_is_where_csr_and_dense_sizes_cross():
    d = FORMULAS["csr_breakeven_density"](rows=1000, cols=1000, index_bytes=4, value_bytes=8).value
    csr = lambda nnz: FORMULAS["csr_bytes"](rows=1000, nnz=nnz, index_bytes=4, value_bytes=8).value  # noqa: E731
    dense = FORMULAS["dense_bytes"](rows=1000, cols=1000, value_bytes=8).value
    nnz = int(d * 1e6)
    assert csr(nnz) <= dense < csr(nnz + 1)


def test_ell_padding_matches_a_built_ell_array():
    lengths = np.array([5] * 999 + [50])
    width = lengths.max()
    slots = np.zeros((len(lengths), width), dtype=bool)
    for i, n in enumerate(lengths):
        slots[i, :n] = True
    assert math.isclose(FORMULAS["ell_padding_fraction"](rows=1000, typical=5, longest=50).value,
                        1 - slots.mean())


def test_gustavson_products_match_a_brute_force_count():
    rng = np.random.default_rng(1)
    a = sp.random_array((40, 30), density=0.1, format="csr", rng=rng)
    b = sp.random_array((30, 50), density=0.1, format="csr", rng=rng)
    brute = sum(b.indptr[k + 1] - b.indptr[k] for k in a.indices)  # each A[i,k] meets row k of B
    col_counts = np.bincount(a.indices, minlength=30).tolist()
    row_counts = np.diff(b.indptr).tolist()
    assert FORMULAS["gustavson_products"](a_col_counts=col_counts, b_row_counts=row_counts).value == brute


def test_seed_counterexample_against_numpy_and_the_transcription():
    """One reading of the note everywhere: j runs below len(B[0]) = 3 (a triplet's length), as
    in problems/spgemm/examples/seed_note.py and the spgemm editorial."""
    a = np.array(EXAMPLE, dtype=float)
    note = np.zeros((4, 4))
    for i, k in zip(*np.nonzero(a)):  # the note's loop: k matched against B's *column*, added to j < 3
        for m, n in zip(*np.nonzero(a)):
            if k == n:
                note[i, :3] += a[i, k] * a[m, n]
    trips = [[int(i), int(j), a[i, j]] for i, j in zip(*np.nonzero(a))]
    worked = FORMULAS["seed_q3_wrong_entries"](a=trips, b=trips, shape=[4, 4])
    assert worked.value == np.count_nonzero(note != a @ a) == 5
    from harness import ROOT
    from harness.problems import load_module
    from harness.types import CSR
    seed_note = load_module(ROOT / "problems/spgemm/examples/seed_note.py")
    m = sp.csr_array(a)
    A = CSR(m.indptr.astype(np.int32), m.indices.astype(np.int32), m.data, (4, 4))
    got = seed_note.spgemm(A, A)
    dense = sp.csr_array((got.data, got.indices, got.indptr), shape=got.shape).toarray()
    np.testing.assert_array_equal(dense, note)


def test_seed_loop_count_matches_counting_the_loops():
    rng = np.random.default_rng(2)
    rows, a_per_row, b_per_row = 30, 3, 4
    a = [(i, int(j)) for i in range(rows) for j in rng.choice(rows, a_per_row, replace=False)]
    b = [(i, int(j)) for i in range(rows) for j in rng.choice(rows, b_per_row, replace=False)]
    tests = sum(1 for _ in a for _ in range(3) for _ in b)  # the note's three loops, j < len(B[0]) = 3
    products = sum(b_per_row for _ in a)  # Gustavson: each A[i,k] meets the b_per_row entries of row k
    worked = FORMULAS["seed_loop_vs_gustavson"](rows=rows, a_per_row=a_per_row, b_per_row=b_per_row, j_steps=3)
    assert worked.value == tests // products == 3 * rows


def test_experts_touched_matches_exact_enumeration():
    """E·(1 − (1 − k/E)^B) against the mean number of distinct experts over every way B tokens
    can each pick k of E experts (all equally likely)."""
    import itertools
    for E, k, B in [(4, 2, 3), (5, 1, 4), (6, 3, 2), (8, 2, 1)]:
        choices = list(itertools.combinations(range(E), k))
        counts = [len(set().union(*picks)) for picks in itertools.product(choices, repeat=B)]
        assert FORMULAS["experts_touched"](experts=E, top_k=k, batch=B).value == pytest.approx(np.mean(counts))
    assert round(FORMULAS["experts_touched"](experts=8, top_k=2, batch=8).value, 1) == 7.2  # Mixtral, batch 8


def test_moe_parameter_counts_against_numpy_shapes():
    d, h, e, k = 64, 96, 8, 2
    experts = [np.empty((d, h)), np.empty((d, h)), np.empty((h, d))]  # SwiGLU: gate, up, down
    router = np.empty((d, e))
    total = e * sum(w.size for w in experts) + router.size
    active = k * sum(w.size for w in experts) + router.size
    assert FORMULAS["moe_ffn_total_params"](d_model=d, d_ff=h, experts=e, matrices=3).value == total
    assert FORMULAS["moe_ffn_active_params"](d_model=d, d_ff=h, experts=e, top_k=k, matrices=3).value == active
    assert FORMULAS["moe_ffn_flops_per_token"](d_model=d, d_ff=h, experts=e, top_k=k, matrices=3).value == 2 * active
    with pytest.raises(ValueError):
        FORMULAS["moe_ffn_total_params"](d_model=d, d_ff=h, experts=e, matrices=4)


def test_mixtral_counts_match_the_published_figures():
    mx = dict(layers=32, d_model=4096, d_ff=14336, experts=8, top_k=2, heads=32, kv_heads=8, vocab=32000)
    assert round(FORMULAS["decoder_moe_total_params"](**mx).value / 1e9, 1) == 46.7  # Mixtral paper: 47B
    assert round(FORMULAS["decoder_moe_active_params"](**mx).value / 1e9, 1) == 12.9  # 13B active
    dense = FORMULAS["naive_nx_params"](copies=1, **{k: v for k, v in mx.items() if k not in ("experts", "top_k")})
    assert round(dense.value / 1e9, 2) == 7.24  # Mistral 7B


def test_routing_formulas_against_scipy():
    logits = np.array([[2.0, 0.0, -1.0], [10.0, 9.0, 8.0]])
    expected = np.mean(logsumexp(logits, axis=1) ** 2)
    assert math.isclose(FORMULAS["router_z_loss"](logits=logits.tolist()).value, expected)
    row = np.array([1.0, 2.0, 0.5, -1.0])
    p = softmax(row)
    assert math.isclose(FORMULAS["top1_gate"](logits=row.tolist()).value, p.max())
    top2 = np.sort(p)[-2:]
    assert math.isclose(FORMULAS["topk_renormalised_gate"](logits=row.tolist(), top_k=2).value, top2[1] / top2.sum())
    assert FORMULAS["switch_aux_loss"](fractions=[0.25] * 4, mean_probs=[0.25] * 4).value == 1.0  # balanced
    assert FORMULAS["expert_capacity"](tokens=1000, experts=6, top_k=2, capacity_factor=1.25).value == 417
    loads = np.array([40, 10, 25, 5])
    assert FORMULAS["dropped_assignments"](loads=loads.tolist(), capacity_factor=1.0).value == \
        np.maximum(loads - math.ceil(loads.sum() / 4), 0).sum()


def test_weight_sparsity_formulas():
    w = np.array([0.8, -0.05, 0.3, 0.02, -0.6, 0.09])
    prox = np.sign(w) * np.maximum(np.abs(w) - 0.1, 0)
    assert FORMULAS["l1_prox_zeros"](weights=w.tolist(), threshold=0.1).value == np.count_nonzero(prox == 0)
    dense = FORMULAS["dense_bytes"](rows=4096, cols=4096, value_bytes=2).value
    assert FORMULAS["nm_sparse_bytes"](rows=4096, cols=4096, n_keep=2, m_group=4, value_bytes=2).value == \
        dense // 2 + dense // 2 // 2 // 8 * 2  # half the values, plus 2 bits for each kept value


# -- checking answers -------------------------------------------------------------------
def _card(cid):
    return DECK.by_id()[cid]


def test_choice_answers_by_letter_or_text():
    c = _card("formats-csc-wins")
    assert quiz.check(c, "c").status == "correct" and quiz.check(c, "C").status == "correct"
    assert quiz.check(c, " csc ").status == "correct"
    assert quiz.check(c, "a").status == "wrong"
    for bad in ("e", "CSX", 3):
        with pytest.raises(quiz.AnswerError):
            quiz.check(c, bad)


@pytest.mark.parametrize("text", ["44", "44 bytes", " 44.0 ", "4.4e1", 44, 44.0])
def test_numeric_answer_forms(text):
    assert quiz.check(_card("formats-csr-bytes-example"), text).status == "correct"


def test_numeric_suffixes_separators_and_tolerance():
    assert quiz.check(_card("matmul-spmv-bytes"), "140,000,004").status == "correct"
    assert quiz.check(_card("matmul-spmv-bytes"), "140M").status == "wrong"  # exact answer required
    assert quiz.check(_card("tradeoffs-mixtral-total"), "46.7G").status == "correct"  # within 2%
    assert quiz.check(_card("formats-csr-breakeven"), "66.6%").status == "correct"
    assert quiz.check(_card("formats-csr-breakeven"), "0.5").status == "wrong"
    for bad in ("forty-four", "44 parsecs", "nan", "inf", [44]):
        with pytest.raises(quiz.AnswerError):
            quiz.check(_card("formats-csr-bytes-example"), bad)


def test_text_cards_are_self_graded_by_checklist():
    c = next(c for c in CARDS if c.kind == "text")
    n = len(c.checklist)
    assert quiz.check(c, "all").credit == 1.0 and quiz.check(c, "none").status == "wrong"
    partial = quiz.check(c, [1, 2])
    assert partial.status == "partial" and partial.credit == 2 / n
    assert quiz.check(c, "1, 2").credit == quiz.check(c, {"answer": "...", "covered": [2, 1, 1]}).credit == 2 / n
    for bad in ([0], [n + 1], "one", {"answer": "no covered key"}, 3):
        with pytest.raises(quiz.AnswerError):
            quiz.check(c, bad)


def test_skipped_cards_score_zero():
    assert quiz.check(_card("formats-csc-wins"), None).credit == 0.0


# -- the loader rejects broken cards ----------------------------------------------------
def _deck_with(tmp_path: Path, card_toml: str) -> Path:
    tmp_path.mkdir()
    shutil.copy(quiz.CARDS_DIR / "formulas.py", tmp_path / "formulas.py")
    shutil.copy(quiz.CARDS_DIR / "references.toml", tmp_path / "references.toml")
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "t.toml").write_text('[topic]\ntitle = "T"\n' + card_toml, encoding="utf-8")
    return tmp_path


GOOD = '''
[[card]]
id = "t-csr"
kind = "numeric"
question = "rows {rows}, nnz {nnz}, {index_bytes} and {value_bytes}?"
params = { rows = 4, nnz = 2, index_bytes = 4, value_bytes = 8 }
formula = "csr_bytes"
answer = 44
explanation = "{working}"
source = ["scipy-sparse"]
'''


@pytest.mark.parametrize("change,message", [
    (("answer = 44", "answer = 45"), "disagrees with csr_bytes"),
    (("formula = \"csr_bytes\"", "formula = \"csr_bites\""), "unknown formula"),
    (("nnz {nnz}, ", ""), "must state every input"),
    (("explanation = \"{working}\"", "explanation = \"it is big\""), "must state the answer"),
    (("source = [\"scipy-sparse\"]", "source = [\"wikipedia\"]"), "source must be"),
    (("kind = \"numeric\"", "kind = \"essay\""), "kind must be"),
    (("id = \"t-csr\"", "id = \"T CSR\""), "id must be"),
    (("answer = 44", "answer = 44\nproblem = \"no-such-problem\""), "not in references.toml"),
    (("answer = 44", "answer = 44\nchoices = [\"a\"]"), "unknown field"),
    (("params = { rows = 4,", "params = { rows = -4, width = 1,"), "failed"),
])
def test_loader_names_each_fault(tmp_path, change, message):
    quiz.load(_deck_with(tmp_path / "ok", GOOD))  # the unbroken card loads
    with pytest.raises(quiz.QuizError, match=message):
        quiz.load(_deck_with(tmp_path / "bad", GOOD.replace(*change)))


def test_loader_rejects_duplicate_ids_and_bad_choices(tmp_path):
    dup = GOOD + GOOD
    with pytest.raises(quiz.QuizError, match="used twice"):
        quiz.load(_deck_with(tmp_path / "dup", dup))
    choice = '''
[[card]]
id = "t-choice"
kind = "choice"
question = "q"
choices = ["one", "two"]
answer = "three"
explanation = "e"
source = ["saad"]
'''
    with pytest.raises(quiz.QuizError, match="not one of the choices"):
        quiz.load(_deck_with(tmp_path / "choice", choice))


# -- sessions: answers file, records, list ----------------------------------------------
def _run(tmp_path, *argv):
    return cli.main(["quiz", *argv, "--results", str(tmp_path / "results"), "--author", "tester"])


def _records(tmp_path):
    recs, problems = records.scan(tmp_path / "results" / "runs")
    assert not problems
    return recs


def test_answers_file_all_right_scores_one_and_records(tmp_path):
    cards = DECK.cards("seed-note")
    answers = tmp_path / "answers.toml"
    answers.write_text("\n".join(f"{c.id} = {json.dumps(right(c))}" for c in cards), encoding="utf-8")
    assert _run(tmp_path, "seed-note", "--answers", str(answers)) == 0
    (rec,) = _records(tmp_path)
    assert rec["kind"] == "quiz" and rec["problem"] == "quiz/seed-note" and rec["author"] == "tester"
    assert rec["score"] == 1.0 and rec["verdict"] == "pass" and rec["asked"] == len(cards)
    assert [o["id"] for o in rec["cards"]] == [c.id for c in cards]
    assert all(o["status"] == "correct" for o in rec["cards"])
    assert not best(frame(_records(tmp_path))).shape[0]  # quiz records are never ranked as grades


def test_answers_file_mixed_score_is_the_fraction_correct(tmp_path):
    cards = DECK.cards("routing")
    auto = [c for c in cards if c.kind != "text"]
    text = next(c for c in cards if c.kind == "text")
    answers = {c.id: right(c) for c in auto}
    answers[auto[0].id] = wrong(auto[0])
    answers[auto[1].id] = wrong(auto[1])
    del answers[auto[2].id]  # unanswered: counts as skipped
    half = len(text.checklist) // 2
    answers[text.id] = {"answer": "my words", "covered": list(range(1, half + 1))}
    (tmp_path / "a.json").write_text(json.dumps(answers), encoding="utf-8")
    assert _run(tmp_path, "routing", "--answers", str(tmp_path / "a.json")) == 0
    (rec,) = _records(tmp_path)
    expected = (len(auto) - 3 + half / len(text.checklist)) / len(cards)
    assert rec["score"] == round(expected, 4) and rec["verdict"] == "fail"
    status = {o["id"]: o["status"] for o in rec["cards"]}
    assert status[auto[0].id] == status[auto[1].id] == "wrong" and status[auto[2].id] == "skipped"
    assert status[text.id] == "partial"


def test_all_topics_write_one_record_per_topic(tmp_path):
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps({c.id: right(c) for c in CARDS}), encoding="utf-8")
    assert _run(tmp_path, "--answers", str(answers)) == 0
    recs = _records(tmp_path)
    assert sorted(r["problem"] for r in recs) == sorted(f"quiz/{t}" for t in DECK.topics)
    assert all(r["score"] == 1.0 for r in recs)


@pytest.mark.parametrize("content,name,message", [
    ('{"no-such-card": "a"}', "a.json", "'no-such-card' is not a card id"),
    ('{"formats-csr-bytes-example": "lots"}', "a.json", "formats-csr-bytes-example: 'lots' is not a number"),
    ('{"formats-csc-wins": "z"}', "a.json", "formats-csc-wins: 'z' is not one of the letters"),
    ('["a", "b"]', "a.json", "must be a mapping"),
    ("formats-csc-wins = ", "a.toml", "not valid TOML"),
    ("{", "a.json", "not valid JSON"),
    ("formats-csc-wins: c", "a.yaml", "name it .toml or .json"),
])
def test_bad_answers_file_is_one_clear_error(tmp_path, capsys, content, name, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert _run(tmp_path, "formats", "--answers", str(path)) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and message in " ".join(err.split()), err
    assert not (tmp_path / "results" / "runs").exists()


def test_missing_answers_file_and_unknown_topic(tmp_path, capsys):
    assert _run(tmp_path, "formats", "--answers", str(tmp_path / "nope.toml")) == 2
    assert "cannot read it" in " ".join(capsys.readouterr().err.split())
    assert _run(tmp_path, "nosuchtopic", "--answers", str(tmp_path / "nope.toml")) == 2
    assert "no quiz topic 'nosuchtopic'" in " ".join(capsys.readouterr().err.split())


def test_list_shows_topics_and_best_quiz_scores(tmp_path, monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=screen, width=200))
    assert _run(tmp_path, "--list") == 0
    out = screen.getvalue()
    assert all(t in out for t in DECK.topics) and f"{len(CARDS)} cards" in out
    cards = DECK.cards("matmul")
    half = {c.id: right(c) for c in cards[: len(cards) // 2]}
    every = {c.id: right(c) for c in cards}
    for i, answers in enumerate((half, every, half)):
        (tmp_path / f"{i}.json").write_text(json.dumps(answers), encoding="utf-8")
        assert _run(tmp_path, "matmul", "--answers", str(tmp_path / f"{i}.json")) == 0
    screen.seek(0)
    screen.truncate()
    assert cli.main(["list", "--results", str(tmp_path / "results"), "--author", "tester"]) == 0
    out = screen.getvalue()
    assert "quiz topics (best scores for tester)" in out
    row = next(line for line in out.splitlines() if line.startswith("│ matmul "))
    assert [cell.strip() for cell in row.strip("│").split("│")][-2:] == [f"{len(cards)} / {len(cards)} (100%)", "3"]
    row = next(line for line in out.splitlines() if line.startswith("│ formats "))
    assert [cell.strip() for cell in row.strip("│").split("│")][-2:] == ["-", "0"]


def test_shuffle_is_seeded_and_limit_applies():
    a = [c.id for c in quiz.select(DECK, None, True, 7, 10)]
    assert a == [c.id for c in quiz.select(DECK, None, True, 7, 10)] and len(a) == 10
    assert a != [c.id for c in quiz.select(DECK, None, True, 8, 10)]
    assert [c.id for c in quiz.select(DECK, "formats", False, None, 3)] == [c.id for c in DECK.cards("formats")[:3]]


def test_interactive_session_asks_again_skips_and_quits(tmp_path):
    cards = DECK.cards("formats")
    first, second, third = cards[0], cards[1], cards[2]
    replies = iter([str(first.answer), "not a number", str(wrong(second)), "s", "q"])
    assert (first.kind, second.kind) == ("numeric", "numeric")
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=False)
    args = SimpleNamespace(list=False, topic="formats", seed=None, shuffle=False, limit=None, answers=None,
                           author="tester", no_record=False, results=tmp_path / "results")
    assert quiz.command(args, console, ask=lambda prompt: next(replies)) == 0
    text = out.getvalue()
    assert "is not a number" in text and "try again" in text and "wrong: " in text
    (rec,) = _records(tmp_path)
    status = [o["status"] for o in rec["cards"]]
    assert status[:3] == ["correct", "wrong", "skipped"] and set(status[3:]) == {"skipped"}
    assert rec["score"] == round(1 / len(cards), 4) and rec["mode"] == "interactive"
    assert third.id == rec["cards"][2]["id"]


def test_interactive_end_of_input_keeps_the_answers_so_far(tmp_path):
    first = quiz.select(DECK, "seed-note", True, 3, 2)[0]
    replies = iter([right(first)])

    def ask(prompt):
        try:
            return next(replies)
        except StopIteration:
            raise EOFError from None

    args = SimpleNamespace(list=False, topic="seed-note", seed=3, shuffle=False, limit=2, answers=None,
                           author="tester", no_record=False, results=tmp_path / "results")
    quiz.command(args, Console(file=io.StringIO()), ask=ask)
    (rec,) = _records(tmp_path)
    assert rec["shuffle"] is True and rec["seed"] == 3 and rec["asked"] == 2 and rec["score"] == 0.5


def test_list_survives_broken_cards(tmp_path):
    broken = _deck_with(tmp_path / "deck", GOOD.replace("answer = 44", "answer = 45"))
    view = quiz.best_scores_table([], "tester", broken)
    assert "quiz scores not shown" in view.plain and "disagrees" in view.plain
