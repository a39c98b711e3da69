import math

import numpy as np
import pytest

from harness import codec
from harness.types import COO, CSR


def roundtrip(tmp_path, value):
    codec.save(tmp_path / "v.npz", value)
    return codec.load(tmp_path / "v.npz")


def test_nested_values_roundtrip(tmp_path):
    value = (np.arange(5, dtype=np.int32), {"k": 3, "cf": None, "x": [1.5, "s", True]}, -math.inf, np.float32(2.5))
    got = roundtrip(tmp_path, value)
    assert got[0].dtype == np.int32 and np.array_equal(got[0], value[0])
    assert got[1] == {"k": 3, "cf": None, "x": [1.5, "s", True]}
    assert got[2] == -math.inf and got[3] == 2.5


def test_shared_namedtuples_come_back_as_themselves(tmp_path):
    A = CSR(np.array([0, 1]), np.array([0]), np.array([2.0]), (1, 1))
    got = roundtrip(tmp_path, (A, COO(np.zeros(0), np.zeros(0), np.zeros(0), (0, 3))))
    assert isinstance(got[0], CSR) and isinstance(got[1], COO)
    assert got[0].shape == (1, 1) and got[1].shape == (0, 3)


def test_unknown_namedtuple_becomes_a_lookalike(tmp_path):
    from collections import namedtuple

    Routing = namedtuple("Routing", "expert gate")
    got = roundtrip(tmp_path, Routing(np.arange(2), 0.5))
    assert got.gate == 0.5 and type(got).__name__ == "Routing" and got._fields == ("expert", "gate")


def test_loaded_arrays_are_writeable_copies(tmp_path):
    got = roundtrip(tmp_path, (np.arange(3.0),))
    got[0][0] = 9.0
    assert got[0].flags.writeable and got[0][0] == 9.0


@pytest.mark.parametrize("bad", [np.array([object()], dtype=object), {1: 2}, (x for x in ()), {1, 2}])
def test_non_data_is_refused(tmp_path, bad):
    with pytest.raises(codec.CodecError):
        codec.save(tmp_path / "v.npz", bad)


def test_digest_sees_any_change():
    a = (np.arange(10.0), np.arange(3))
    b = (np.arange(10.0), np.arange(3))
    assert codec.digest(a) == codec.digest(b)
    b[0][7] = -1.0
    assert codec.digest(a) != codec.digest(b)
    assert codec.digest((np.zeros(2, np.int32),)) != codec.digest((np.zeros(2, np.int64),))
