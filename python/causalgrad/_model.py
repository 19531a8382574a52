"""``causalgrad.Model``: a structural causal model with pandas in and out."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _frame, _interventions
from ._causalgrad import GraphError, RawModel

GraphLike = Union[str, "os.PathLike[str]", Iterable[Tuple[Any, Any]], Any]


@dataclass(frozen=True)
class FitSummary:
    """What :meth:`Model.fit` did."""

    #: Optimisation steps taken.
    steps: int
    #: ``"completed"`` or ``"early_stopped"`` (the validation loss stopped improving).
    stop: str
    #: Whether the training loss had stopped falling.
    converged: bool
    #: Mean negative log-likelihood per row of the data, after the fit.
    loss: float
    #: The held-out rows' loss at the end (``None`` without a split).
    validation_loss: Optional[float]
    #: Wall-clock seconds, ensemble members included.
    seconds: float
    #: Ensemble members fitted (for :meth:`Model.effect` intervals).
    members: int


@dataclass(frozen=True)
class Effect:
    """An average causal effect with its interval."""

    #: The model's estimate.
    estimate: float
    #: Lower end of the interval.
    low: float
    #: Upper end of the interval.
    high: float
    #: The interval's level, e.g. 0.95.
    level: float
    #: The estimate's Monte-Carlo standard error.
    mc_stderr: float
    #: The ensemble members' standard deviation (0 without members).
    model_stderr: float
    #: ``"ensemble"`` (members and Monte Carlo) or ``"monte_carlo"`` (no members).
    method: str
    #: Each member's estimate.
    members: List[float] = field(default_factory=list)


def _raw_from_graph(graph: GraphLike) -> RawModel:
    if isinstance(graph, RawModel):
        return graph
    if isinstance(graph, os.PathLike):
        with open(graph, encoding="utf-8-sig") as f:
            return RawModel.from_text(f.read())
    if isinstance(graph, str):
        return RawModel.from_text(graph)
    if hasattr(graph, "nodes") and hasattr(graph, "edges"):
        if hasattr(graph, "is_directed") and not graph.is_directed():
            raise GraphError(
                "the networkx graph is undirected; a causal graph is directed: use networkx.DiGraph"
            )
        nodes = [str(n) for n in graph.nodes]
        edges = [(str(a), str(b)) for a, b in graph.edges]
        return RawModel.from_edges(nodes, edges)
    try:
        edges = [(str(a), str(b)) for a, b in graph]
    except (TypeError, ValueError):
        raise GraphError(
            "a graph is a networkx.DiGraph, DOT/dagitty/GML text, a path to such a file, "
            f"or a list of (cause, effect) edges; got {type(graph).__name__}"
        ) from None
    nodes: List[str] = []
    for a, b in edges:
        for n in (a, b):
            if n not in nodes:
                nodes.append(n)
    return RawModel.from_edges(nodes, edges)


class Model:
    """A structural causal model: a causal graph, a mechanism and a noise
    model per variable, fitted to data by maximum likelihood.

    ``graph`` is a ``networkx.DiGraph``, DOT, dagitty or GML text, a path
    to such a file (``pathlib.Path``), or a list of ``(cause, effect)``
    edges. Variables left out of ``mechanisms``, ``noise`` and ``kinds``
    take the defaults of ``causalgrad fit``: a tanh MLP of 16 hidden units
    of the parents (a learned mean for a root), the kind the data suggest
    (text and categoricals are categorical, a column of only 0 and 1
    binary, others continuous) and that kind's noise (Gaussian for a
    continuous variable).

    >>> import causalgrad, numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2000)
    >>> data = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=2000)})
    >>> model = causalgrad.Model([("x", "y")], mechanisms={"y": "linear"})
    >>> summary = model.fit(data, seed=0)
    >>> effect = model.effect("y", {"x": 1.0}, {"x": 0.0})
    >>> round(effect.estimate, 1)
    2.0

    Mechanisms are ``"linear"``, ``"additive"`` (``"additive(8)"``: one
    small network per parent, summed), ``"mlp"`` (``"mlp(32, 32)"``);
    noise families ``"gaussian"``, ``"laplace"``, ``"student_t"``,
    ``"mixture"``, ``"heteroscedastic"`` and, for discrete variables,
    ``"bernoulli"``, ``"poisson"``, ``"negative_binomial"``; kinds
    ``"continuous"``, ``"binary"``, ``"categorical"``, ``"count"``.
    """

    def __init__(
        self,
        graph: GraphLike,
        *,
        mechanisms: Optional[Mapping[str, str]] = None,
        noise: Optional[Mapping[str, str]] = None,
        kinds: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._raw = _raw_from_graph(graph)
        self._types: Dict[str, _frame.ColumnType] = {}
        self._order: Optional[List[str]] = None
        for variable, mechanism in (mechanisms or {}).items():
            self._raw.declare(str(variable), mechanism=mechanism)
        for variable, family in (noise or {}).items():
            self._raw.declare(str(variable), noise=family)
        for variable, kind in (kinds or {}).items():
            self._raw.declare(str(variable), kind=kind)

    # -- building -------------------------------------------------------

    def declare(
        self,
        variable: str,
        *,
        mechanism: Optional[str] = None,
        noise: Optional[str] = None,
        kind: Optional[str] = None,
    ) -> None:
        """Sets ``variable``'s mechanism, noise family or kind (those given);
        the model must be fitted again."""
        self._raw.declare(str(variable), mechanism=mechanism, noise=noise, kind=kind)

    @property
    def variables(self) -> List[str]:
        """The variables, in topological order."""
        return self._raw.variables()

    @property
    def edges(self) -> List[Tuple[str, str]]:
        """The graph's edges, ``(cause, effect)``."""
        return self._raw.edges()

    def parents(self, variable: str) -> List[str]:
        """The parents of ``variable`` in the graph."""
        return self._raw.parents(str(variable))

    def to_dot(self) -> str:
        """The graph as DOT text."""
        return self._raw.to_dot()

    # -- fitting --------------------------------------------------------

    def fit(
        self,
        data: pd.DataFrame,
        *,
        steps: int = 3000,
        learning_rate: float = 0.01,
        seed: int = 0,
        validation: float = 0.1,
        patience: int = 10,
        batch_size: Optional[int] = None,
        members: int = 0,
    ) -> FitSummary:
        """Fits every mechanism and noise scale to ``data`` (a DataFrame with
        a column per variable; other columns are ignored) by maximum
        likelihood, with the settings of ``causalgrad fit`` (the same seed
        gives the same model as the command line). ``members`` ensemble
        members (bootstrap refits, in parallel) give :meth:`effect` its
        interval. Other Python threads run during the fit."""
        columns, types = _frame.to_columns(data, self.variables)
        summary = self._raw.fit(
            columns, steps, learning_rate, seed, validation, patience, batch_size, members
        )
        self._types = types
        self._order = [str(c) for c in data.columns if str(c) in types]
        return FitSummary(**summary)

    @property
    def is_fitted(self) -> bool:
        """Whether the model has been fitted (or loaded)."""
        return self._raw.is_fitted()

    @property
    def members(self) -> int:
        """The ensemble members the fitted model carries."""
        return self._raw.members()

    def kind(self, variable: str) -> str:
        """The fitted kind of ``variable``: continuous, binary, categorical or count."""
        return self._raw.kind(str(variable))[0]

    def levels(self, variable: str) -> Optional[List[str]]:
        """A categorical variable's levels (labels) in code order; ``None`` for others."""
        return self._raw.kind(str(variable))[1]

    def mechanism(self, variable: str) -> str:
        """The fitted mechanism of ``variable``, described."""
        return self._raw.mechanism(str(variable))

    def noise(self, variable: str) -> str:
        """The fitted noise family of ``variable``."""
        return self._raw.noise(str(variable))

    def log_likelihood(self, data: pd.DataFrame) -> float:
        """The mean log-likelihood per row of ``data`` under the model."""
        columns, _ = _frame.to_columns(data, self.variables)
        return self._raw.log_likelihood(columns)

    # -- queries --------------------------------------------------------

    def _frame(self, columns: Any, index: Optional[pd.Index] = None) -> pd.DataFrame:
        return _frame.to_frame(columns, self._types, self._order or self.variables, index)

    def sample(
        self, n: int, interventions: Optional[Mapping[str, Any]] = None, *, seed: int = 0
    ) -> pd.DataFrame:
        """``n`` samples, under ``interventions`` if given: constants
        (``{"t": 1.0}``, a label for a categorical variable) or functions of
        the variable's values (``{"t": lambda x: x + 0.5}``), applied to
        whole columns. Reproducible from ``seed``; the same seed gives the
        same noise under any interventions (paired samples)."""
        constants, functions = _interventions.split(self._raw, interventions)
        return self._frame(self._raw.sample(int(n), int(seed), constants, functions))

    def intervene_observed(
        self, observed: pd.DataFrame, interventions: Mapping[str, Any], *, seed: int = 0
    ) -> pd.DataFrame:
        """The rows of ``observed`` under ``interventions``: variables they
        do not reach keep their observed values; the others are redrawn
        with fresh noise (an intervened root starts from its observed
        value), as DoWhy's ``interventional_samples(.., observed_data=..)``."""
        constants, functions = _interventions.split(self._raw, interventions)
        columns, _ = _frame.to_columns(observed, self.variables, "observed data")
        out = self._raw.sample_from(columns, int(seed), constants, functions)
        return self._frame(out, observed.index)

    def counterfactual(self, observed: pd.DataFrame, interventions: Mapping[str, Any]) -> pd.DataFrame:
        """What the rows of ``observed`` would have been under
        ``interventions``: each row's noise is inferred from its values
        (abduction), then the intervened variables and their descendants
        are recomputed with it."""
        constants, functions = _interventions.split(self._raw, interventions)
        columns, _ = _frame.to_columns(observed, self.variables, "observed data")
        out = self._raw.counterfactual(columns, constants, functions)
        return self._frame(out, observed.index)

    def effect(
        self,
        target: str,
        alternative: Mapping[str, Any],
        reference: Mapping[str, Any],
        *,
        n: int = 10_000,
        seed: int = 0,
        level: float = 0.95,
    ) -> Effect:
        """``E[target | alternative] − E[target | reference]`` from ``n``
        paired samples, with an interval at ``level``: from the ensemble
        members when the model has them (``fit(.., members=8)``), else the
        Monte-Carlo error's only (``method == "monte_carlo"``)."""
        alt = _interventions.split(self._raw, alternative)
        ref = _interventions.split(self._raw, reference)
        result = self._raw.effect(str(target), alt, ref, int(n), int(seed), float(level))
        return Effect(**result)

    # -- files ----------------------------------------------------------

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Saves the fitted model as a causalgrad model file (the format of
        ``causalgrad fit --out``, read by ``causalgrad sample``, ``effect``
        and :meth:`load`)."""
        self._raw.save(os.fspath(path))

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "Model":
        """Loads a model file written by ``causalgrad fit`` or :meth:`save`."""
        model = cls.__new__(cls)
        model._raw = RawModel.load(os.fspath(path))
        model._types = {}
        model._order = None
        return model

    def to_bytes(self) -> bytes:
        """The model file's bytes."""
        return bytes(self._raw.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> "Model":
        """A model from a model file's bytes (:meth:`to_bytes`)."""
        model = cls.__new__(cls)
        model._raw = RawModel.from_bytes(bytes(data))
        model._types = {}
        model._order = None
        return model

    def __getstate__(self) -> Dict[str, Any]:
        if not self.is_fitted:
            return {"dot": self.to_dot(), "types": self._types, "order": self._order}
        return {"bytes": self.to_bytes(), "types": self._types, "order": self._order}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        if "bytes" in state:
            self._raw = RawModel.from_bytes(state["bytes"])
        else:
            self._raw = RawModel.from_text(state["dot"])
        self._types = state["types"]
        self._order = state["order"]

    def __repr__(self) -> str:
        state = "fitted" if self.is_fitted else "not fitted"
        return f"<causalgrad.Model of {len(self.variables)} variables, {len(self.edges)} edges, {state}>"
