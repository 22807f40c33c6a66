"""Accuracy of a digit classifier, or of a generator judged by one: overall, per class, and the confusion matrix."""
from __future__ import annotations

import torch
from torch import nn


@torch.inference_mode()
def predict_all(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    device = next(model.parameters()).device
    return torch.cat([model(images[i:i + batch_size].to(device)).argmax(1).cpu() for i in range(0, len(images), batch_size)])


def accuracy_report(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> dict:
    predicted = predict_all(model, images)
    confusion = torch.zeros(10, 10, dtype=torch.long)
    confusion.index_put_((labels, predicted), torch.ones_like(labels), accumulate=True)
    per_class = (confusion.diag() / confusion.sum(1)).tolist()
    return {"n_images": len(labels), "accuracy": (predicted == labels).float().mean().item(),
            "errors": int((predicted != labels).sum()), "per_class_accuracy": per_class,
            "confusion_matrix": confusion.tolist()}
