"""Client secrets are stored salted and hashed, and checked in constant time."""

import pytest

from services.gateway.credentials import hash_secret, new_client_secret, verify_secret

pytestmark = pytest.mark.unit


def test_a_secret_verifies_against_its_hash_and_a_wrong_one_does_not() -> None:
    secret = new_client_secret()
    stored = hash_secret(secret)
    assert secret not in stored
    assert verify_secret(secret, stored)
    assert not verify_secret(secret + "x", stored)


def test_two_hashes_of_one_secret_differ_by_their_salt() -> None:
    assert hash_secret("same") != hash_secret("same")


def test_a_corrupt_stored_hash_never_verifies() -> None:
    assert not verify_secret("anything", "plain-text")
    assert not verify_secret("anything", "md5$1$2$3$abc$def")
