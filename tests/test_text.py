"""Captions → token ids: every world caption round-trips, unknown words are named, empty captions refused."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from generative.data.shapes import caption, sample_scene, vocabulary
from generative.text import CaptionError, Tokenizer, split_caption


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer.of(vocabulary())


def test_every_caption_of_the_world_encodes_and_decodes_back(tokenizer):
    rng = np.random.default_rng(0)
    for _ in range(500):
        text = caption(sample_scene(rng, "train"), rng)
        assert tokenizer.decode(tokenizer.encode(text)) == text


def test_case_and_punctuation_do_not_matter_but_commas_are_words(tokenizer):
    assert tokenizer.encode("A Red circle, on the LEFT.") == tokenizer.encode("a red circle , on the left")
    assert split_caption("a red circle,small") == ["a", "red", "circle", ",", "small"]


@pytest.mark.parametrize("text, unknown", [
    ("a red hexagon on the left", ["hexagon"]),
    ("a pink star, a pink star", ["pink", "star"]),  # each named once, in order
    ("3 red circles", ["3", "circles"]),
    ("a red circle ☺", ["☺"]),
    ("a red circle in the centré", ["centré"]),  # a word with an accent is named whole, not as 'centr', 'é'
    ("a red circle in the centre\u0301", ["centré"]),  # the same accent typed as a combining mark
    ("ein rotes Quadrat, größer", ["ein", "rotes", "quadrat", "größer"]),
])
def test_unknown_words_are_named_with_the_known_ones(tokenizer, text, unknown):
    with pytest.raises(CaptionError) as caught:
        tokenizer.encode(text)
    assert caught.value.unknown == unknown
    message = str(caught.value)
    assert all(repr(word) in message for word in unknown) and "triangle" in message and "circle" in message
    known = message.split("The model knows only these ")[1]
    assert ", ," not in known and ": a, " in known and "and the comma" in known  # no bare comma in the list of words


@pytest.mark.parametrize("text", ["", "   ", "...", "\n", ",", ", , ,"])
def test_an_empty_caption_gets_a_clear_message(tokenizer, text):
    with pytest.raises(CaptionError, match="empty"):
        tokenizer.encode(text)


def test_a_batch_is_padded_with_zeros_to_the_longest_caption(tokenizer):
    ids, lengths = tokenizer.batch(["a red circle on the left", "a blue square"])
    assert ids.shape == (2, 6) and lengths.tolist() == [6, 3]
    assert (ids[1, 3:] == 0).all() and (ids[:, :3] > 0).all() and ids.dtype == torch.long
    assert tokenizer.size == len(vocabulary()) + 1
    assert tokenizer.decode(ids[1].tolist()) == "a blue square"  # the padding decodes to nothing


def test_the_refusal_says_word_for_one_unknown_word_and_words_for_several(tokenizer):
    with pytest.raises(CaptionError, match=r"^Unknown word: 'hexagon'\. The model knows only these"):
        tokenizer.encode("a red hexagon on the left")
    with pytest.raises(CaptionError, match=r"^Unknown words: 'pink', 'star'\. "):
        tokenizer.encode("a pink star")


def test_hyphens_and_dashes_typed_between_words_only_separate_them(tokenizer):
    """"top-left" and "a red circle - on the left" are how people write; the hyphen must not become an unknown word."""
    assert split_caption("a large-red circle - on the left") == ["a", "large", "red", "circle", "on", "the", "left"]
    assert tokenizer.encode("a large red circle -- on the left") == tokenizer.encode("a large red circle on the left")
