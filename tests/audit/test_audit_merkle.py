"""RFC 6962 hashing and proofs against published vectors, a naive oracle and hypothesis."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import merkle
from audit.errors import ProofError
from audit.proof import verify_consistency, verify_inclusion

# transparency-dev/merkle testonly/constants.go (also google/certificate-transparency).
LEAVES = [
    bytes.fromhex(h)
    for h in (
        *("", "00", "10", "2021", "3031", "40414243", "5051525354555657"),
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
H = bytes.fromhex
# transparency-dev/merkle proof/verify_test.go: (leaf number, size, proof) and (m, n, proof).
INCLUSION = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip


# --- a naive transcription of RFC 6962 §2.1, kept as the oracle --------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: Sequence[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return subproof(m, d, True) if 0 < m < len(d) else []


# --- published vectors --------------------------------------------------------------------------


def test_roots_match_published_vectors() -> None:
    """The root of the first n vector leaves is the published root for n = 1..8."""
    hashes = [merkle.leaf_hash(e) for e in LEAVES]
    assert [merkle.root(hashes[:n]) for n in range(1, 9)] == ROOTS
    assert merkle.root([]) == H("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


@pytest.mark.parametrize(("leaf", "size", "expected"), INCLUSION)
def test_inclusion_proofs_match_published_vectors(
    leaf: int, size: int, expected: list[str]
) -> None:
    """Built inclusion proofs equal the published ones, and verify."""
    hashes = [merkle.leaf_hash(e) for e in LEAVES[:size]]
    built = merkle.inclusion_proof(leaf - 1, hashes)
    assert built == [H(h) for h in expected]
    verify_inclusion(hashes[leaf - 1], leaf - 1, size, built, ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY)
def test_consistency_proofs_match_published_vectors(
    old: int, new: int, expected: list[str]
) -> None:
    """Built consistency proofs equal the published ones, and verify."""
    hashes = [merkle.leaf_hash(e) for e in LEAVES[:new]]
    built = merkle.consistency_proof(old, hashes)
    assert built == [H(h) for h in expected]
    verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], built)


# --- the oracle, exhaustively for small trees ---------------------------------------------------


def _data(n: int) -> list[bytes]:
    return [b"leaf %d" % i for i in range(n)]


def test_everything_matches_the_naive_oracle_up_to_70() -> None:
    """Roots, audit paths and consistency proofs equal the RFC transcription for sizes ≤ 70."""
    for n in range(71):
        d, hashes = _data(n), [merkle.leaf_hash(e) for e in _data(n)]
        assert merkle.root(hashes) == mth(d)
        for m in range(n):
            assert merkle.inclusion_proof(m, hashes) == path(m, d)
        for m in range(n + 1):
            assert merkle.consistency_proof(m, hashes) == proof(m, d)


def test_every_proof_up_to_70_verifies() -> None:
    """Every inclusion and consistency proof for every size ≤ 70 verifies."""
    for n in range(1, 71):
        d = _data(n)
        hashes, roots = [merkle.leaf_hash(e) for e in d], [mth(d[:i]) for i in range(n + 1)]
        for m in range(n):
            verify_inclusion(hashes[m], m, n, path(m, d), roots[n])
        for m in range(n + 1):
            verify_consistency(m, n, roots[m], roots[n], proof(m, d))


def test_compact_range_emits_every_perfect_subtree() -> None:
    """Appending leaves completes exactly the perfect nodes, with their MTH."""
    d = _data(13)
    tree, done = merkle.CompactRange(), dict[merkle.NodeId, bytes]()
    for e in d:
        done.update(tree.append(merkle.leaf_hash(e)))
    expected = {
        (lv, i): mth(d[i << lv : (i + 1) << lv]) for lv in range(4) for i in range(13 >> lv)
    }
    assert done == expected
    assert tree.root() == mth(d)


# --- corruption must fail -----------------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=70)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=sizes)
def test_inclusion_corruption_fails(data: st.DataObject, n: int) -> None:
    """Changing the leaf, a proof step, the index, the size or the root makes inclusion fail.

    Sizes are changed as transparency-dev's probes do (doubled, halved): a size whose audit path
    has the same shape is indistinguishable without its root, which a checkpoint binds to it.
    """
    d = _data(n)
    m = data.draw(st.integers(0, n - 1))
    leaf, good, root = merkle.leaf_hash(d[m]), path(m, d), mth(d)
    bad: list[tuple[bytes, int, int, list[bytes], bytes]] = [
        (merkle.leaf_hash(b"other"), m, n, good, root),
        (leaf, m, n, good, mth(d[:-1])),
        (leaf, m, n, [*good, root], root),
        (leaf, m, n * 2, good, root),
    ]
    if m < n // 2:
        bad.append((leaf, m, n // 2, good, root))
    if n > 1:
        other = data.draw(st.integers(0, n - 1).filter(lambda i: i != m))
        bad.append((leaf, other, n, good, root))
        bad.append((leaf, m, n, good[:-1], root))
    if good:
        i = data.draw(st.integers(0, len(good) - 1))
        flipped = [bytes([h[0] ^ 1]) + h[1:] if j == i else h for j, h in enumerate(good)]
        bad.append((leaf, m, n, flipped, root))
    for args in bad:
        with pytest.raises(ProofError):
            verify_inclusion(*args)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=st.integers(min_value=2, max_value=70))
def test_consistency_corruption_fails(data: st.DataObject, n: int) -> None:
    """Changing a root, a proof step or a size makes a non-trivial consistency proof fail."""
    d = _data(n)
    m = data.draw(st.integers(1, n - 1))
    good, r1, r2 = proof(m, d), mth(d[:m]), mth(d)
    i = data.draw(st.integers(0, len(good) - 1))
    flipped = [bytes([h[0] ^ 1]) + h[1:] if j == i else h for j, h in enumerate(good)]
    bad: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
        (m, n, r2, r2, good),
        (m, n, r1, r1, good),
        (m, n, r1, r2, flipped),
        (m, n, r1, r2, good[:-1]),
        (m, n, r1, r2, [*good, r1]),
        (m, n * 2, r1, r2, good),
        (m, n // 2, r1, r2, good),
        (m - 1, n, r1, r2, good),
        (m + 1, n, r1, r2, good),
        (m ^ 2, n, r1, r2, good),
        (n, m, r2, r1, good),
    ]
    for args in bad:
        with pytest.raises(ProofError):
            verify_consistency(*args)


def test_proof_errors_say_what_was_expected_and_found() -> None:
    """A failing inclusion proof names the leaf, the size and both roots."""
    d = _data(5)
    with pytest.raises(ProofError, match=r"leaf 2 of 5: computed root [0-9a-f]+…, expected"):
        verify_inclusion(merkle.leaf_hash(b"x"), 2, 5, path(2, d), mth(d))


def test_trivial_consistency_cases() -> None:
    """Size 0 and equal sizes need an empty proof; equal sizes need equal roots."""
    r = mth(_data(3))
    verify_consistency(0, 3, merkle.EMPTY_ROOT, r, [])
    verify_consistency(3, 3, r, r, [])
    for args in [
        (3, 3, r, merkle.EMPTY_ROOT, []),
        (0, 3, merkle.EMPTY_ROOT, r, [r]),
        (2, 3, r, r, []),
    ]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
