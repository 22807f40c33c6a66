"""Captions → token ids over a closed vocabulary, refusing unknown words by name instead of dropping them.

A toy text-to-image model knows only the words of its world; a word it has never seen would silently change
nothing, which a user would read as the model ignoring them. So ``Tokenizer.encode`` names every unknown word,
with the words it does know.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import torch

WORD = re.compile(r"[^\W\d_]+|,")  # words (any letters, so an unknown "centré" is named whole) and commas; other punctuation only separates
IGNORED = re.compile(r"[.!?;:'\"()\-\s]+")  # what may stand between words without being one


def split_caption(caption: str) -> list[str]:
    """Lower-cased words and commas; anything that is neither (digits, symbols) comes back as its own token.

    NFC first, so an accent typed as a separate combining mark stays inside its word ("centré", not "centre", "́")."""
    text = unicodedata.normalize("NFC", caption).lower()
    tokens, position = [], 0
    for match in WORD.finditer(text):
        gap = text[position:match.start()]
        tokens.extend(part for part in IGNORED.split(gap) if part)
        tokens.append(match.group())
        position = match.end()
    tokens.extend(part for part in IGNORED.split(text[position:]) if part)
    return tokens


class CaptionError(ValueError):
    """A caption the model cannot read: empty, or with words outside its vocabulary (named in the message)."""

    def __init__(self, message: str, unknown: list[str] | None = None):
        super().__init__(message)
        self.unknown = unknown or []


@dataclass(frozen=True)
class Tokenizer:
    words: tuple[str, ...]  # the vocabulary; id 0 pads short captions, word i is id i + 1

    @classmethod
    def of(cls, vocabulary) -> "Tokenizer":
        return cls(tuple(sorted(set(vocabulary))))

    @property
    def size(self) -> int:
        return len(self.words) + 1

    def encode(self, caption: str) -> list[int]:
        tokens = split_caption(caption)
        if not any(t != "," for t in tokens):  # commas alone describe nothing
            raise CaptionError("The caption is empty: describe a scene, e.g. \"a large red circle on the left\".")
        index = {word: i + 1 for i, word in enumerate(self.words)}
        unknown = list(dict.fromkeys(t for t in tokens if t not in index))
        if unknown:
            words = [w for w in self.words if w != ","]
            comma = " and the comma" if "," in self.words else ""
            raise CaptionError(f"Unknown word{'s' * (len(unknown) > 1)}: {', '.join(repr(w) for w in unknown)}. "
                               f"The model knows only these {len(words)} words{comma}: {', '.join(words)}.", unknown)
        return [index[t] for t in tokens]

    def batch(self, captions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids padded with 0 to the longest caption (N, L), and each caption's length (N,)."""
        encoded = [self.encode(c) for c in captions]
        lengths = torch.tensor([len(e) for e in encoded])
        ids = torch.zeros(len(encoded), int(lengths.max()), dtype=torch.long)
        for row, e in enumerate(encoded):
            ids[row, :len(e)] = torch.tensor(e)
        return ids, lengths

    def decode(self, ids) -> str:
        return " ".join(self.words[i - 1] for i in ids if i > 0)
