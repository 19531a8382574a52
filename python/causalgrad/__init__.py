"""causalgrad: structural causal models fitted by gradient descent in Rust.

* :class:`Model`: build a model on a causal graph, fit it to a pandas
  DataFrame, sample under interventions, compute counterfactuals and
  average causal effects with intervals, save and load the model files
  the ``causalgrad`` command line writes. Models pickle (as their model
  file's bytes).
* :mod:`causalgrad.gcm`: DoWhy's ``gcm`` functions with the same names
  and signatures (``from causalgrad import gcm``).

Errors are :class:`CausalGradError` subclasses: :class:`GraphError`,
:class:`DataError`, :class:`ModelError`, :class:`FitError`,
:class:`FileError`.
"""

from ._causalgrad import (
    CausalGradError,
    DataError,
    FileError,
    FitError,
    GraphError,
    ModelError,
    __version__,
)
from ._model import Effect, FitSummary, Model
from . import gcm

__all__ = [
    "CausalGradError",
    "DataError",
    "Effect",
    "FileError",
    "FitError",
    "FitSummary",
    "GraphError",
    "Model",
    "ModelError",
    "gcm",
    "__version__",
]
