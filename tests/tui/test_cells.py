"""Compact number formatting in the run table's cells."""

import pytest

from tui.widgets.cells import count


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, ""), (30, "30"), (9_999, "9,999"), (10_700, "10.7k"), (112_522, "112.5k"), (2_500_000, "2.5M"), (3e9, "3.0G")],
)
def test_count_keeps_the_magnitude(value, shown):
    assert count(value) == shown


def test_a_badged_count_fits_its_cell():
    assert count(1_843, short=True) == "1.8k" and count(999, short=True) == "999"
    assert len("⇈+" + count(1_843, short=True)) <= 6  # the ΔRows column
