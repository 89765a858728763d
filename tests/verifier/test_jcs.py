"""RFC 8785 canonical JSON and strict JSON reading (`verifier.jcs`), with the rfc8785 package as the oracle."""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest
import rfc8785

from verifier import jcs


def test_es6_numbers_match_rfc8785() -> None:
    rng = random.Random(8785)
    samples = [
        0.0,
        -0.0,
        1.0,
        -1.5,
        0.1,
        1e21,
        1e20,
        1e-6,
        1e-7,
        123456789012345680000.0,
        5e-324,
        1.7976931348623157e308,
        333333333.3333333,
        2.0**53,
        9007199254740991.0,
        0.000001234,
        1e300,
    ]
    samples += [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(3000)]
    samples += [rng.uniform(-1e6, 1e6) for _ in range(1000)]
    checked = 0
    for x in samples:
        if x != x or x in (float("inf"), float("-inf")):
            with pytest.raises(jcs.CanonicalError):
                jcs.es6_number(x)
            continue
        assert jcs.canonicalize(x) == rfc8785.dumps(x), x
        checked += 1
    assert checked > 3500


def test_canonical_values_match_rfc8785() -> None:
    value: dict[str, Any] = {
        "z": [1, "é", None, True, False, {"\u20ac": 1, "\r": 2, 'a\u0001"\\': 0.5}],
        "\U0001f600": "x",
        "\ufb01": "lig",
        "weight": 1.25e-9,
        "n": -9007199254740991,
    }
    assert jcs.canonicalize(value) == rfc8785.dumps(value)
    with pytest.raises(jcs.CanonicalError):
        jcs.canonicalize(2**53)
    with pytest.raises(jcs.CanonicalError):
        jcs.canonicalize("\ud800")


def test_canonicalize_refuses_what_has_no_canonical_form() -> None:
    for value in ({1: "x"}, (1, 2), {"a": {1, 2}}, float("nan")):
        with pytest.raises(jcs.CanonicalError):
            jcs.canonicalize(value)
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(jcs.CanonicalError, match="nested too deeply"):
        jcs.canonicalize(deep)


def test_encode_plain_is_the_fast_path_of_canonicalize() -> None:
    value: dict[str, Any] = {"b": [1, "ü", None], "a": {"\u20ac": True}}
    assert jcs.is_plain(value) and not jcs.is_plain({"x": 0.5})
    assert jcs.encode_plain(value).encode("utf-8") == jcs.canonicalize(value) == rfc8785.dumps(value)


def test_load_json_is_strict() -> None:
    assert jcs.load_json(b'{"a": [1, 2.5, "\\u00e9"]}') == {"a": [1, 2.5, "é"]}
    assert jcs.load_json('{"a": 1}') == {"a": 1}
    with pytest.raises(jcs.JSONError, match="the member 'a' appears twice") as info:
        jcs.load_json(b'{"a": 1, "b": {}, "a": 2}')
    assert info.value.key == "a"
    for bad, why in [
        (b'{"n": NaN}', "NaN is not a JSON number"),
        (b'{"n": -Infinity}', "-Infinity is not a JSON number"),
        (b"\xef\xbb\xbf{}", "BOM"),
        (b'{"s": "\xff"}', "not UTF-8"),
        ('{"a": 1}'.encode("utf-16"), "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"1" * 5000, "digits"),
        (b"{", "Expecting property name"),
    ]:
        with pytest.raises(jcs.JSONError, match=why):
            jcs.load_json(bad)
