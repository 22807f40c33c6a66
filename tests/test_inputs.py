"""The tabs' shared input checks: bounds are inclusive, and a bool is not a number (JSON true would pass as 1)."""
import gradio as gr
import pytest

from demos.inputs import MAX_SEED, checked_int, checked_seed, is_number, new_seed


def test_the_bounds_are_part_of_the_range():
    assert checked_seed(0) == 0 and checked_seed(MAX_SEED) == MAX_SEED  # new_seed() may draw either end
    assert checked_int(2, "Steps", 2, 24) == 2 and checked_int(24.0, "Steps", 2, 24) == 24
    for outside in (-1, MAX_SEED + 1):
        with pytest.raises(gr.Error, match="The seed must be a whole number from 0 to"):
            checked_seed(outside)
    assert 0 <= new_seed() <= MAX_SEED


def test_a_bool_is_not_a_number():
    assert not is_number(True) and not is_number(False)
    assert is_number(3) and is_number(10**400) and is_number(0.5) and not is_number(float("nan"))
    with pytest.raises(gr.Error, match="got True"):
        checked_seed(True)
