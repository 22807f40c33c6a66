"""Captions → vectors: the recurrent encoder that both the text-to-image GAN and the image–text matcher train."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


class CaptionEncoder(nn.Module):
    """Token ids (N, L) and lengths (N,) → (N, dim) in (−1, 1): word embeddings, a bidirectional GRU, a linear layer."""

    def __init__(self, vocabulary_size: int, dim: int = 128, word_dim: int = 64, hidden: int = 128):
        super().__init__()
        self.words = nn.Embedding(vocabulary_size, word_dim, padding_idx=0)
        self.gru = nn.GRU(word_dim, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Sequential(nn.Linear(2 * hidden, dim), nn.Tanh())

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(self.words(ids), lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, last = self.gru(packed)  # (2, N, hidden): the forward pass's last state, the backward pass's first
        return self.out(torch.cat([last[0], last[1]], dim=1))
