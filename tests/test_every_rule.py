"""Issue 13's checker rules: every violated rule listed in a failing case (structure and values
first, dtypes after), int32 and int64 indices both accepted (with a note for int64 that int32
could hold), and cause hints shown exactly when their cause is present."""
from __future__ import annotations

import collections
import textwrap

import numpy as np
import pytest

from harness import problems
from harness.grader import grade
from harness.judge import raised_at
from harness.types import CSR, Routing
from problems._common import checks, moe, moe_lm, sparse

GOOD = CSR(np.array([0, 2, 3], np.int32), np.array([0, 2, 1], np.int32), np.array([1.0, 2.0, 3.0]), (2, 3))
SCALE = np.array([3.0, 3.0])


# -- every rule, in order ------------------------------------------------------------------
def test_rules_report_names_the_first_and_counts_the_rest():
    rules = checks.Rules()
    rules.add(checks.DTYPE, "a dtype rule")
    rules.add(checks.VALUES, "values differ\n  (0, 1): got 2, expected 3")
    rules.add(checks.STRUCTURE, "a structure rule")
    rules.add(checks.VALUES, None)
    report = rules.report()
    first, _, rest = report.partition("\n")
    assert first == "a structure rule (+2 more)"
    assert rest.index("1. a structure rule") < rest.index("2. values differ") < rest.index("3. a dtype rule")
    assert "(0, 1): got 2, expected 3" in rest  # each rule's diff follows the list
    single = checks.Rules()
    single.add(checks.DTYPE, "only one")
    assert single.report() == "only one" and checks.Rules().report() is None


def test_a_failing_csr_lists_unsorted_rows_duplicates_values_then_dtypes():
    # row 0 unsorted (2 then 0), row 1 holds a duplicate (1, 1), a wrong value, uint32 indices, float32 data
    got = CSR(np.array([0, 2, 4], np.uint32), np.array([2, 0, 1, 1], np.uint32),
              np.array([2.0, 1.0, 1.0, 1.0], np.float32), (2, 3))
    message = sparse.check_csr_result(got, GOOD, SCALE)
    first, _, rest = message.partition("\n")
    assert "unsorted" in first and "(+4 more)" in first, first
    heads = [line for line in rest.splitlines() if line[:4].strip().rstrip(".").isdigit()]
    order = ["unsorted", "duplicate", "differ", "indptr and indices have dtype uint32", "float64"]
    assert len(heads) == len(order)
    for head, word in zip(heads, order):
        assert word in head, (head, word)


def test_a_broken_indptr_is_reported_with_the_dtype_rules_and_no_value_diff():
    got = GOOD._replace(indptr=np.array([0, 4, 3], np.uint32))
    message = sparse.check_csr_result(got, GOOD, SCALE)
    assert message.startswith("indptr decreases") and "uint32" in message and "differ" not in message


def test_one_rule_alone_reads_as_before():
    got = GOOD._replace(data=np.array([1.0, 2.0, 4.0]))
    message = sparse.check_csr_result(got, GOOD, SCALE)
    assert message.startswith("1 of 3 entries differ") and "more)" not in message


# -- int32 or int64 ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_int32_and_int64_indices_are_both_accepted(dtype):
    got = GOOD._replace(indptr=GOOD.indptr.astype(dtype), indices=GOOD.indices.astype(dtype))
    assert sparse.check_csr_result(got, GOOD, SCALE) is None


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64, np.float64, np.int16])
def test_unsigned_float_and_narrow_indices_are_wrong(dtype):
    got = GOOD._replace(indices=GOOD.indices.astype(dtype))
    message = sparse.check_csr_result(got, GOOD, SCALE)
    assert message and "int32 or int64" in message


def test_int32_is_wrong_when_the_sizes_need_int64():
    wide = 2**31 + 10
    A = CSR(np.array([0, 1], np.int32), np.array([5], np.int32), np.array([1.0]), (1, wide))
    message = sparse.canonical_problems(A)
    assert message and "need int64" in message
    assert sparse.canonical_problems(A._replace(indptr=A.indptr.astype(np.int64),
                                                indices=A.indices.astype(np.int64))) is None


def test_the_int64_note_appears_only_where_int32_suffices():
    wide64 = GOOD._replace(indptr=GOOD.indptr.astype(np.int64), indices=GOOD.indices.astype(np.int64))
    assert sparse.csr_notes((), wide64) == [checks.INT64_NOTE]
    assert sparse.csr_notes((), GOOD) == []
    big = CSR(np.array([0, 1], np.int64), np.array([5], np.int64), np.array([1.0]), (1, 2**31 + 10))
    assert sparse.csr_notes((), big) == []


# -- foreign containers ----------------------------------------------------------------------
def test_scipy_field_order_is_named():
    message = sparse.check_csr_result((GOOD.data, GOOD.indices, GOOD.indptr, GOOD.shape), GOOD, SCALE)
    assert "scipy's constructor order" in message and "CSR(indptr, indices, data, shape)" in message
    message = sparse.check_csr_result((GOOD.data, GOOD.indices, GOOD.indptr), GOOD, SCALE)
    assert "scipy's constructor order" in message


def test_a_dict_is_named():
    message = sparse.check_csr_result(dict(GOOD._asdict()), GOOD, SCALE)
    assert message.startswith("returned a dict (keys data, indices, indptr, shape)") and "CSR(" in message


def test_an_object_with_csr_attributes_is_named():
    import scipy.sparse as sp

    M = sp.csr_array((GOOD.data, GOOD.indices, GOOD.indptr), shape=GOOD.shape)
    message = sparse.check_csr_result(M, GOOD, SCALE)
    assert "csr_array object with .indptr/.indices/.data/.shape" in message and "M.indptr" in message
    Own = collections.namedtuple("CSR", ["data", "indices", "indptr", "shape"])
    message = sparse.check_csr_result(Own(GOOD.data, GOOD.indices, GOOD.indptr, GOOD.shape), GOOD, SCALE)
    assert "fields (data, indices, indptr, shape)" in message and "positional" in message


def test_a_right_container_gets_no_container_hint():
    assert sparse.foreign_container(GOOD) is None
    assert sparse.foreign_container(tuple(GOOD)) is None
    assert sparse.foreign_container((GOOD.indptr, GOOD.indices, GOOD.data)) is None
    assert sparse.explain_foreign("the result is not plain data: value of type csr_matrix")
    assert sparse.explain_foreign("the result is not plain data: value of type Foo") is None


# -- where an exception was raised ---------------------------------------------------------
TRACEBACK = '''Traceback (most recent call last):
  File "/sandbox/harness/child.py", line 240, in _go
    results.append(fn(*args))
  File "/sandbox/work/coo_to_csr.py", line 9, in coo_to_csr
    assert A.row.min() >= 0, "bad index"
AssertionError: bad index
'''


def test_raised_at_names_the_submissions_frame():
    assert raised_at(TRACEBACK) == "coo_to_csr.py, line 9, in coo_to_csr: assert A.row.min() >= 0, \"bad index\""
    inside_numpy = TRACEBACK.replace("AssertionError: bad index\n", "") + (
        '  File "/usr/lib/python3/site-packages/numpy/core/fromnumeric.py", line 88, in _wrapreduction\n'
        '    return ufunc.reduce(obj, axis, dtype, out, **passkwargs)\n')
    assert raised_at(inside_numpy).startswith("coo_to_csr.py, line 9")
    assert raised_at("") is None and raised_at("garbage\n  File nothing") is None


# -- loss hints ------------------------------------------------------------------------------
def _route():
    from harness.problems import load_module

    P = problems.get("moe-router")
    return load_module(P.reference_path("numpy")).route


def test_aux_hint_appears_when_f_counts_all_k_choices():
    logits = np.random.default_rng(4).standard_normal((64, 8)) * 2
    want = _route()(logits, 2, None)
    z = logits - logits.max(axis=1, keepdims=True)
    P = (np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)).mean(axis=0)
    all_k = 8 * float(np.bincount(want.expert.reshape(-1), minlength=8) / (64 * 2) @ P)
    message = moe.check_routing(logits, 2, None, want, want._replace(aux_loss=all_k))
    assert "f_i counts all k choices" in message and "relative error" in message and "tolerance 1e-09" in message


def test_aux_hint_is_absent_for_an_error_of_another_size():
    logits = np.random.default_rng(4).standard_normal((64, 8)) * 2
    want = _route()(logits, 2, None)
    message = moe.check_routing(logits, 2, None, want, want._replace(aux_loss=want.aux_loss * 1.01))
    assert "relative error 0.01" in message and "f_i" not in message


def test_aux_hint_for_counting_after_dropping():
    logits = np.random.default_rng(5).standard_normal((64, 4)) * 2
    want = _route()(logits, 2, 0.25)
    assert not want.kept[:, 0].all()
    z = logits - logits.max(axis=1, keepdims=True)
    P = (np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)).mean(axis=0)
    after = 4 * float(np.bincount(want.expert[:, 0][want.kept[:, 0]], minlength=4) / 64 @ P)
    message = moe.check_routing(logits, 2, 0.25, want, want._replace(aux_loss=after))
    assert "after dropping" in message


def test_a_router_lists_wrong_capacity_and_gates_before_the_gate_dtype():
    logits = np.random.default_rng(5).standard_normal((32, 4)) * 2
    want = _route()(logits, 2, 0.5)
    got = Routing(want.expert, (want.gate * 0.5).astype(np.float32), np.ones_like(want.kept), want.aux_loss,
                  want.z_loss)
    first, _, rest = moe.check_routing(logits, 2, 0.5, want, got).partition("\n")
    assert first.startswith("kept:") and "is the capacity applied?" in first and "(+2 more)" in first
    assert rest.index("gate:") < rest.index("gate has dtype float32")


# -- marked rows in forward/backward diffs --------------------------------------------------
def test_token_marks_find_drops_and_ties():
    logits = np.array([[1.0, 1.0, 0.0], [2.0, 0.0, 1.0], [3.0, 0.0, 1.0], [0.0, 5.0, 1.0]])
    marks = moe.token_marks(logits, 1, 0.75)  # C = ceil(0.75 * 4 * 1 / 3) = 1
    assert marks == {0: "with tied logits", 1: "dropped by capacity", 2: "dropped by capacity"}
    assert moe.token_marks(logits[1:], 1, None) == {}


def test_forward_diff_marks_dropped_rows_only_when_there_are_some():
    rng = np.random.default_rng(0)
    args = moe.forward_args(rng, 32, 8, 8, 4, 2, 0.5)
    P = problems.get("moe-forward")
    from harness.problems import load_module

    y = load_module(P.reference_path("numpy")).moe_forward(*args)
    marks = moe._layer_marks(args)
    dropped = [t for t, why in marks.items() if why == "dropped by capacity"]
    assert dropped
    bad = y.copy()
    bad[dropped[0]] += 1.0
    message = moe.check_layer_forward(args, y, bad)
    assert "[dropped by capacity]" in message and "tokens dropped by capacity" in message
    kept_rows = [t for t in range(32) if t not in marks]
    bad = y.copy()
    bad[kept_rows[0]] += 1.0
    message = moe.check_layer_forward(args, y, bad)
    assert "[" not in message.split("\n", 1)[1] and "tokens dropped" not in message


# -- through the grader ----------------------------------------------------------------------
SOLVER = """
import numpy as np
from harness.types import CSR

def _solve(A, dt):
    rows, cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= rows or A.col.max() >= cols):
        raise ValueError("bad index")
    order = np.lexsort((A.col, A.row))
    r, c, d = A.row[order].astype(np.int64), A.col[order].astype(np.int64), A.data[order]
    if r.size:
        s = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):
            d = np.add.reduceat(d, s)
        r, c = r[s], c[s]
    ip = np.zeros(rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=rows), out=ip[1:])
    return CSR(ip, c.astype(dt), d, (rows, cols))
"""


def _grade(tmp_path, body: str) -> dict:
    path = tmp_path / "coo_to_csr.py"
    path.write_text(textwrap.dedent(SOLVER + body))
    return grade(problems.get("coo-to-csr"), path, plan="off")


def test_int64_everywhere_is_AC_with_the_note(tmp_path):
    rec = _grade(tmp_path, "\ndef coo_to_csr(A):\n    return _solve(A, np.int64)\n")
    assert rec["verdict"] == "AC", rec["reason"]
    assert rec["notes"] == [checks.INT64_NOTE]
    from harness.render import grade_panel
    from rich.console import Console

    console = Console(width=100, record=True)
    console.print(grade_panel(rec))
    assert "int64 indices where int32 suffices" in console.export_text()


def test_index_dtype_by_size_is_AC_without_notes(tmp_path):
    rec = _grade(tmp_path, "from harness.types import index_dtype\n"
                           "def coo_to_csr(A):\n    return _solve(A, index_dtype(*A.shape, A.row.size))\n")
    assert rec["verdict"] == "AC", rec["reason"]
    assert "notes" not in rec


def test_assert_instead_of_value_error_shows_where(tmp_path):
    body = ("\ndef coo_to_csr(A):\n"
            "    assert A.row.size == 0 or A.row.min() >= 0, 'negative row'\n"
            "    assert A.col.size == 0 or A.col.min() >= 0, 'negative col'\n"
            "    assert A.row.size == 0 or (A.row.max() < A.shape[0] and A.col.max() < A.shape[1]), 'outside'\n"
            "    return _solve(A, np.int32)\n")
    rec = _grade(tmp_path, body)
    assert rec["verdict"] == "WA" and "expected ValueError" in rec["reason"]
    assert "got AssertionError" in rec["reason"] and "(raised at coo_to_csr.py, line " in rec["reason"]
    assert ": assert A." in rec["reason"] and "AssertionError" in rec["failure"]["traceback"]


def test_unsorted_rows_and_unsigned_indices_are_both_listed(tmp_path):
    # both mistakes only where a row holds two entries, so the first failing case shows both
    body = ("\nfrom harness.types import index_dtype\n"
            "def coo_to_csr(A):\n    B = _solve(A, index_dtype(*A.shape, A.row.size))\n"
            "    if not (np.diff(B.indptr) > 1).any():\n        return B\n"
            "    ix = B.indices.copy()\n"
            "    for i in range(len(B.indptr) - 1):\n"
            "        ix[B.indptr[i]:B.indptr[i + 1]] = ix[B.indptr[i]:B.indptr[i + 1]][::-1]\n"
            "    d = B.data.copy()\n"
            "    for i in range(len(B.indptr) - 1):\n"
            "        d[B.indptr[i]:B.indptr[i + 1]] = d[B.indptr[i]:B.indptr[i + 1]][::-1]\n"
            "    return CSR(B.indptr.astype(np.uint32), ix.astype(np.uint32), d, B.shape)\n")
    rec = _grade(tmp_path, body)
    assert rec["verdict"] == "WA"
    assert "unsorted" in rec["reason"] and "more)" in rec["reason"], rec["reason"]
    assert "indptr and indices have dtype uint32" in rec["failure"]["diff"]


def test_a_scipy_matrix_result_is_named(tmp_path):
    rec = _grade(tmp_path, "\nclass csr_matrix:\n    pass\n\ndef coo_to_csr(A):\n    return csr_matrix()\n")
    assert rec["verdict"] == "WA" and "not plain data" in rec["reason"]
    assert "scipy.sparse matrix is not a result here" in rec["reason"]


# -- the tiny LM's losses and gradients -----------------------------------------------------
def _lm_case(slug: str, name: str):
    from harness.problems import load_module

    P = problems.get(slug)
    case = next(c for c in P.edge_cases if c.name == name)
    args = case.make(np.random.default_rng(7))
    return P, args, getattr(load_module(P.reference_path("numpy")), P.entry)(*args)


def test_lm_aux_hint_appears_when_f_counts_all_k_choices():
    P, args, (ce, aux, z) = _lm_case("moe-lm-loss", "several layers and heads")
    variants = moe_lm.aux_variants(load_oracle("moe-lm-loss"), args)["aux_loss"]
    all_k = next(v for why, v in variants.items() if "all k" in why)
    assert abs(all_k - aux) > 1e-6  # the mistake is visible in this case
    message = P.check(args, (ce, aux, z), (ce, all_k, z))
    assert message.startswith("wrong aux_loss") and "f_i counts all k choices" in message
    assert "relative error" in message and "tolerance 1e-07" in message


def test_lm_aux_hint_is_absent_for_another_error_and_both_wrong_values_are_listed():
    P, args, (ce, aux, z) = _lm_case("moe-lm-loss", "several layers and heads")
    message = P.check(args, (ce, aux, z), (ce * 1.01, aux * 1.01, z))
    assert message.startswith("wrong ce (+1 more)") and "f_i" not in message
    assert "relative error 0.01" in message


def test_lm_grad_mismatch_shows_relative_error_and_tolerance():
    P, args, grads = _lm_case("moe-lm-grad", "top-1 (Switch) gate")
    got = dict(grads)
    key = next(iter(got))
    got[key] = got[key] * 1.01
    message = P.check(args, grads, got)
    assert f"first {key}" in message and "relative error 0.01" in message and "tolerance 1e-06" in message


def load_oracle(slug: str):
    from harness.problems import load_module

    return load_module(problems.get(slug).reference_path("numpy"))


# -- the honest-mistake examples show their hints ----------------------------------------------
def _grade_example(slug: str, name: str) -> dict:
    from harness import examples

    P = problems.get(slug)
    example = examples.get(P, name)
    with example.file() as path:
        return grade(P, path, plan="off")


def test_example_int64_everywhere_is_AC_with_the_note():
    rec = _grade_example("coo-to-csr", "int64_everywhere")
    assert rec["verdict"] == "AC" and rec["notes"] == [checks.INT64_NOTE]


def test_example_assert_for_bad_index_names_the_line():
    rec = _grade_example("coo-to-csr", "assert_for_bad_index")
    assert rec["verdict"] == "WA" and "got AssertionError" in rec["reason"]
    assert "(raised at assert_for_bad_index.py, line " in rec["reason"]
    assert "in coo_to_csr: assert not row.size" in rec["reason"]


def test_example_aux_counts_all_k_names_the_convention():
    rec = _grade_example("moe-router", "aux_counts_all_k")
    assert rec["verdict"] == "WA" and "aux_loss" in rec["reason"]
    assert "f_i counts all k choices" in rec["reason"] and "relative error" in rec["reason"]


def test_example_aux_after_dropping_names_that_convention_not_all_k():
    rec = _grade_example("moe-router", "aux_after_dropping")
    assert rec["verdict"] == "WA" and "after dropping" in rec["reason"] and "all k" not in rec["reason"]


def test_expert_choice_lists_gate_values_and_unassigned_before_the_gate_dtype():
    from harness.problems import load_module

    P = problems.get("expert-choice")
    args = P.make_random(np.random.default_rng(3), P.random_sizes[0])
    want = getattr(load_module(P.reference_path("numpy")), P.entry)(*args)
    got = (want[0], want[1].astype(np.float32), want[2][:-1] if want[2].size else np.array([0]))
    first, _, rest = P.check(args, want, got).partition("\n")
    assert first.startswith("gates:") and "(+2 more)" in first  # float32 gates are off by rounding too
    assert rest.index("2. unassigned:") < rest.index("3. gates has dtype float32")


def test_deepseek_router_lists_load_and_loss_and_gate_values_before_their_dtype():
    from harness.problems import load_module

    P = problems.get("deepseek-router")
    args = P.make_random(np.random.default_rng(3), P.random_sizes[0])
    want = getattr(load_module(P.reference_path("numpy")), P.entry)(*args)
    got = (want[0], want[1], want[2] + 1, want[3], want[4] * 2)
    first, _, rest = P.check(args, want, got).partition("\n")
    assert first.startswith("load:") and "(+1 more)" in first and "balance_loss" in rest and "relative error 1" in rest
    gate32 = P.check(args, want, (want[0], want[1].astype(np.float32), *want[2:]))
    assert gate32.startswith("gate:") and gate32.index("gate: ") < gate32.index("gate has dtype float32")


def test_csr_to_bsr_names_scipy_order_and_lists_rules():
    from harness.problems import load_module
    from harness.types import BSR

    P = problems.get("csr-to-bsr")
    case = next(c for c in P.edge_cases if c.name == "empty block rows")
    args = case.make(np.random.default_rng(0))
    want = load_module(P.reference_path("numpy")).csr_to_bsr(*args)
    message = P.check(args, want, (want.data, want.indices, want.indptr, want.shape))
    assert "scipy's constructor order" in message and "return BSR(" in message
    assert P.check(args, want, want._replace(indptr=want.indptr.astype(np.int64),
                                             indices=want.indices.astype(np.int64))) is None
    assert P.notes(args, BSR(want.indptr.astype(np.int64), want.indices.astype(np.int64), want.data, want.shape))
    assert P.notes(args, want) == []
    bad = want._replace(indices=want.indices.astype(np.uint32), data=want.data.astype(np.float32) + 1)
    first, _, rest = P.check(args, want, bad).partition("\n")
    assert "block values differ" in first and "indices has dtype uint32" in rest and "float64" in rest


def test_backward_lists_every_wrong_gradient_with_relative_error_and_marks_dx_rows():
    from harness.problems import load_module

    P = problems.get("moe-backward")
    args = moe.backward_args(np.random.default_rng(2), 32, 8, 8, 4, 2, 0.5)
    want = load_module(P.reference_path("numpy")).moe_backward(*args)
    dropped = [t for t, why in moe._layer_marks(args).items() if why == "dropped by capacity"]
    assert dropped
    dx = want[0].copy()
    dx[dropped[0]] += 1.0
    got = (dx, want[1] * 1.5, want[2], want[3].astype(np.float64))
    first, _, rest = P.check(args, want, got).partition("\n")
    assert first.startswith("dx:") and "(+2 more)" in first and "relative error" in first
    assert rest.index("2. dw_router") < rest.index("3. dw2 has dtype float64")
    assert "[dropped by capacity]" in rest


def test_dropless_backward_lists_wrong_values_before_a_float32_dgate():
    from harness.problems import load_module

    P = problems.get("moe-dropless-backward")
    args = P.make_random(np.random.default_rng(1), P.random_sizes[0])
    dx, dgate, dw1, dw2 = getattr(load_module(P.reference_path("numpy")), P.entry)(*args)
    first, _, rest = P.check(args, (dx, dgate, dw1, dw2), (dx, dgate.astype(np.float32), dw1 * 2, dw2)).partition("\n")
    assert first.startswith("dw1:") and "(+1 more)" in first and "2. dgate has dtype float32" in rest
