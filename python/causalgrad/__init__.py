"""causalgrad: structural causal models fitted by gradient descent in Rust.

* :class:`Model`: build a model on a causal graph, fit it to a pandas
  DataFrame, sample under interventions, compute counterfactuals and
  average causal effects with intervals, save and load the model files
  the ``causalgrad`` command line writes. Models pickle (as their model
  file's bytes).
* :class:`ContextGraph`: data sets from several contexts (environments,
  conditions) with their interventions, for :meth:`Model.fit_contexts`.
* :func:`discover`: learn the causal graph from data (:meth:`Model.discover`).
* :class:`Formula`: a mechanism written as a formula of the parents.
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
from ._contexts import ContextFitSummary, ContextGraph
from ._discover import DiscoveredEdge, Discovery
from ._formula import Formula
from ._model import Effect, FitSummary, Model, discover
from ._select import Selection, VariableChoice
from . import gcm

__all__ = [
    "CausalGradError",
    "ContextFitSummary",
    "ContextGraph",
    "DataError",
    "DiscoveredEdge",
    "Discovery",
    "Effect",
    "FileError",
    "FitError",
    "FitSummary",
    "Formula",
    "GraphError",
    "Model",
    "ModelError",
    "Selection",
    "VariableChoice",
    "discover",
    "gcm",
    "__version__",
]
