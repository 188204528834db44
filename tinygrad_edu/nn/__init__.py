"""tinygrad_edu.nn mirrors torch.nn: Module, Parameter, layers, losses, and the submodules
``functional`` (import it as F) and ``init``. Weights move to and from PyTorch with
``{k: v.numpy() for k, v in model.state_dict().items()}``; ``nn.save`` / ``nn.load`` (also
``tg.save`` / ``tg.load``) use .npz.

>>> import tinygrad_edu as tg
>>> from tinygrad_edu import nn
>>> model = nn.MLP([4, 8, 3])
>>> loss = nn.CrossEntropyLoss()(model(tg.randn(5, 4)), tg.tensor([0, 1, 2, 0, 1]))
>>> loss.backward()
>>> model[0].weight.grad.shape
tg.Size([8, 4])
"""

from . import functional, init
from .containers import ModuleList, Sequential
from .conv import AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, MaxPool2d
from .layers import (
    GELU,
    MLP,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    Perceptron,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from ..serialization import load, save
from .module import IncompatibleKeys, Module
from .parameter import Parameter

__all__ = [
    "GELU",
    "MLP",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "Perceptron",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
    "load",
    "save",
]
