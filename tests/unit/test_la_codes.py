"""Which council codes a return may be sent under, on its reference date."""

import datetime as dt

from orchestration.lib.sources import la_codes

SEPT_2023 = dt.date(2023, 9, 30)


def test_a_council_abolished_before_the_reference_date_does_not_exist_on_it() -> None:
    assert la_codes.in_existence("909", dt.date(2022, 9, 30)), "Cumbria reported until 2022"
    assert not la_codes.in_existence("909", SEPT_2023), "Cumbria ended on 31 March 2023"
    assert la_codes.in_existence("942", SEPT_2023) and la_codes.in_existence("943", SEPT_2023)
    assert not la_codes.in_existence("942", dt.date(2022, 9, 30)), "Cumberland began on 1 April 2023"


def test_unknown_codes_and_joint_units_are_not_codes_a_return_is_sent_under() -> None:
    assert not la_codes.in_existence("999", SEPT_2023)
    assert "940 / 941" not in la_codes.codes()
    assert len(la_codes.codes()) == len(set(la_codes.codes()))


def test_closest_matches_point_an_abolished_code_to_its_successors_first() -> None:
    suggested = [la.old_la_code for la in la_codes.closest("909", SEPT_2023)]
    assert suggested[:2] == ["942", "943"]
    assert all(la_codes.in_existence(code, SEPT_2023) for code in suggested)


def test_closest_matches_a_misspelt_name_or_a_mistyped_code() -> None:
    assert la_codes.closest("Sunderlnd", SEPT_2023)[0].name == "Sunderland"
    assert "301" in [la.old_la_code for la in la_codes.closest("3011", SEPT_2023)]
