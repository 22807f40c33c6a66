"""The text-to-image tab's note on held-out pairs names only the pairs that never appeared in training."""
from demos.text2img import held_out_note
from generative.data.shapes import HELD_OUT, parse_caption


def test_the_note_names_only_the_held_out_pair_of_a_caption_that_mixes_it_with_a_seen_one():
    scene = parse_caption("a red triangle above a blue square")
    assert scene is not None and ("red", "triangle") in HELD_OUT and ("blue", "square") not in HELD_OUT
    note = held_out_note(scene)
    assert note == " The red triangle never appeared in training: this measures composition."
    assert held_out_note(parse_caption("a large red circle in the centre")) == ""  # a seen pair: no note
    assert held_out_note(None) == ""
