"""``causalgrad.Model``: a structural causal model with pandas in and out."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _contexts, _discover, _frame, _interventions, _select
from ._causalgrad import GraphError, ModelError, RawModel
from ._contexts import ContextFitSummary, ContextGraph
from ._discover import Discovery, EdgeLike
from ._formula import Formula, MechanismLike, as_formula
from ._select import DEFAULT_FAMILIES, DEFAULT_NOISES, DEFAULT_TOLERANCE, Selection

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
    small network per parent, summed), ``"mlp"`` (``"mlp(32, 32)"``), or a
    formula of the parents (:class:`Formula`, or a dict
    ``{"formula": "a * x + b", "init": {"a": 1.0, "b": 0.0}}``);
    :meth:`select` chooses them from the data instead;
    noise families ``"gaussian"``, ``"laplace"``, ``"student_t"``,
    ``"mixture"``, ``"heteroscedastic"`` and, for discrete variables,
    ``"bernoulli"``, ``"poisson"``, ``"negative_binomial"``; kinds
    ``"continuous"``, ``"binary"``, ``"categorical"``, ``"count"``.
    """

    def __init__(
        self,
        graph: GraphLike,
        *,
        mechanisms: Optional[Mapping[str, MechanismLike]] = None,
        noise: Optional[Mapping[str, str]] = None,
        kinds: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._raw = _raw_from_graph(graph)
        self._types: Dict[str, _frame.ColumnType] = {}
        self._order: Optional[List[str]] = None
        self._discovery: Optional[Discovery] = None
        for variable, mechanism in (mechanisms or {}).items():
            self.set_mechanism(str(variable), mechanism)
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

    def set_mechanism(
        self,
        variable: str,
        mechanism: Optional[MechanismLike] = None,
        *,
        formula: Optional[str] = None,
        formulas: Optional[Sequence[str]] = None,
        init: Optional[Mapping[str, float]] = None,
        params: Optional[Sequence[str]] = None,
    ) -> None:
        """Sets ``variable``'s mechanism: a name (``"linear"``,
        ``"mlp(32, 32)"``), a :class:`Formula`, or a formula given here,
        ``set_mechanism("y", formula="a * x + b", init={"a": 1.0, "b": 0.0})``
        (see :class:`Formula`). A formula that does not parse, or reads a
        name that is neither a parent nor a parameter, raises
        :class:`ModelError` at the fit, naming the column. The model must be
        fitted again."""
        variable = str(variable)
        given_formula = formula is not None or formulas is not None
        if mechanism is not None and given_formula:
            raise ModelError(f"give `{variable}` a mechanism or a formula, not both")
        if given_formula or init is not None or params is not None:
            mechanism = Formula(formula=formula, init=init or {}, params=tuple(params or ()), formulas=formulas)
        if isinstance(mechanism, Mapping):
            mechanism = as_formula(variable, mechanism)
        if isinstance(mechanism, Formula):
            self._raw.declare_formula(variable, mechanism.texts(variable), mechanism.declared(variable))
        elif isinstance(mechanism, str):
            self._raw.declare(variable, mechanism=mechanism)
        else:
            raise ModelError(
                f"the mechanism of `{variable}` must be a name such as 'linear' or 'mlp(32, 32)', "
                f"a causalgrad.Formula, or formula='...'; got {type(mechanism).__name__}"
            )

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

    def fit_members(
        self,
        data: pd.DataFrame,
        members: int,
        *,
        steps: int = 3000,
        learning_rate: float = 0.01,
        seed: int = 0,
        validation: float = 0.1,
        patience: int = 10,
        batch_size: Optional[int] = None,
    ) -> FitSummary:
        """Fits ``members`` ensemble members around the fitted model, as
        :meth:`fit` does after the model itself (bootstrap refits from fresh
        weights, in parallel), replacing any it had: for intervals on a model
        fitted without members, or selected by :meth:`select`. The model's own
        parameters do not change. The summary's ``steps`` are 0 and its
        ``seconds`` the members'."""
        if members < 1:
            raise ModelError(f"members must be at least 1, got {members}")
        columns, _ = _frame.to_columns(data, self.variables)
        settings = self._settings(steps, learning_rate, seed, validation, patience, batch_size, members)
        return FitSummary(**self._raw.fit_members(columns, settings))

    def select(
        self,
        data: pd.DataFrame,
        *,
        families: Sequence[str] = DEFAULT_FAMILIES,
        noises: Sequence[str] = DEFAULT_NOISES,
        tolerance: float = DEFAULT_TOLERANCE,
        steps: int = 3000,
        learning_rate: float = 0.01,
        seed: int = 0,
        validation: float = 0.1,
        patience: int = 10,
        batch_size: Optional[int] = None,
        members: int = 0,
    ) -> Selection:
        """Chooses each variable's mechanism from the data, then fits the
        model (as ``causalgrad fit --select``): one candidate model per
        family in ``families`` (simplest first) is fitted, in parallel, and
        each variable with parents keeps the first family whose mean
        log-likelihood on the held-out rows (``validation``) is within
        ``tolerance`` nats of the best; then each noise family in
        ``noises`` is tried on the continuous variables. Variables whose
        mechanism (or noise) is declared keep it. The choices are declared
        on the model, so a later :meth:`fit` keeps them. Returns the
        :class:`Selection`: each variable's choice and scores."""
        if validation <= 0:
            raise ModelError("mechanism selection compares held-out scores: give validation above 0, e.g. 0.1")
        columns, types = _frame.to_columns(data, self.variables)
        settings = self._settings(steps, learning_rate, seed, validation, patience, batch_size, members)
        outcome = self._raw.select(columns, settings, list(families), list(noises), float(tolerance))
        self._types = types
        self._order = [str(c) for c in data.columns if str(c) in types]
        return _select.from_dict(outcome, FitSummary(**outcome["fit"]))

    @staticmethod
    def _settings(
        steps: int, learning_rate: float, seed: int, validation: float, patience: int,
        batch_size: Optional[int], members: int,
    ) -> Dict[str, Any]:
        return {
            "steps": int(steps),
            "learning_rate": float(learning_rate),
            "seed": int(seed),
            "validation": float(validation),
            "patience": int(patience),
            "batch_size": None if batch_size is None else int(batch_size),
            "members": int(members),
        }

    def fit_contexts(
        self,
        contexts: ContextGraph,
        *,
        steps: int = 3000,
        learning_rate: float = 0.01,
        seed: int = 0,
        validation: float = 0.1,
        patience: int = 10,
        batch_size: Optional[int] = None,
        members: int = 0,
    ) -> ContextFitSummary:
        """Fits the model jointly over the contexts of a
        :class:`ContextGraph` (``causalgrad fit --contexts``): one set of
        shared mechanisms, each context's interventions applied where it
        was observed, its own parameters for the variables it changed. Each
        variable's kind comes from all contexts' rows. Then
        :meth:`in_context` gives each context's model (for its effects and
        samples); this model answers with the shared mechanisms.
        :meth:`save` writes the contexts too (``causalgrad effect --context``
        reads them)."""
        if not isinstance(contexts, ContextGraph):
            raise ModelError(f"fit_contexts takes a causalgrad.ContextGraph; got {type(contexts).__name__}")
        payload, types, order = contexts._payload(self.variables)
        settings = self._settings(steps, learning_rate, seed, validation, patience, batch_size, members)
        summary = self._raw.fit_contexts(payload, contexts._ties, contexts.weighting, settings)
        self._types = types
        self._order = order
        return ContextFitSummary(**{**summary, "losses": dict(summary["losses"])})

    @property
    def contexts(self) -> List[str]:
        """The contexts the model was fitted over (empty for a fit to one data set)."""
        return self._raw.context_names()

    def in_context(self, *contexts: str) -> "Model":
        """The fitted model in a context of :meth:`fit_contexts` (its
        interventions applied, its own parameters where it has them); with
        several names, a new context combining their interventions and
        changed mechanisms. Its :meth:`effect`, :meth:`sample` and
        :meth:`counterfactual` answer there."""
        if not contexts:
            raise ModelError(f"name a context: {', '.join(self.contexts) or '(none: use fit_contexts)'}")
        model = Model.__new__(Model)
        model._raw = self._raw.in_context([str(c) for c in contexts])
        model._types = dict(self._types)
        model._order = self._order
        model._discovery = None
        return model

    @classmethod
    def discover(
        cls,
        data: Union[pd.DataFrame, ContextGraph],
        method: str = "linear",
        *,
        require: Optional[Iterable[EdgeLike]] = None,
        forbid: Optional[Iterable[EdgeLike]] = None,
        tiers: Optional[Sequence[Sequence[Any]]] = None,
        bootstrap: Optional[int] = None,
        hidden: int = 10,
        score: str = "least_squares",
        lambda1: Optional[float] = None,
        lambda2: Optional[float] = None,
        threshold: float = 0.3,
        standardize: bool = True,
        seed: int = 0,
    ) -> "Model":
        """Learns the causal graph over ``data``'s columns (``causalgrad
        discover``; DAGMA: a weighted DAG by gradient under a log-det
        acyclicity constraint) and returns an unfitted model on it, its
        :attr:`discovery` holding the edges' weights (and stabilities).

        ``method`` is ``"linear"`` or ``"mlp"`` (``hidden`` units per
        variable); ``require`` and ``forbid`` are edges (``"a -> b"`` or
        ``("a", "b")``), ``tiers`` lists of variables, earliest first (no
        edge into an earlier tier); ``bootstrap=K`` refits on K resamples
        (in parallel) for each edge's stability. ``score`` is
        ``"least_squares"`` or ``"likelihood"``; ``lambda1`` the L1 penalty
        (default 0.03 linear, 0.02 mlp), ``threshold`` the weakest edge kept.
        Every column is standardised first unless ``standardize=False``.

        ``data`` may be a :class:`ContextGraph` (``causalgrad discover
        --contexts``): the variables are the first context's columns, a
        context's ``do`` targets drop out of their own likelihood terms
        there and its ``changed`` variables get their own mechanisms, so
        interventions tell apart directions observational data cannot."""
        settings = _discover.settings(
            method, require=require, forbid=forbid, tiers=tiers, bootstrap=bootstrap, hidden=hidden,
            score=score, lambda1=lambda1, lambda2=lambda2, threshold=threshold, standardize=standardize,
            seed=seed,
        )
        if isinstance(data, ContextGraph):
            variables = [str(c) for c in data.data(data.contexts[0]).columns]
            payload, _, _ = data._payload(variables)
            raw, found = RawModel.discover_contexts(payload, data._ties, data.weighting, settings)
        else:
            raw, found = RawModel.discover(_discover.columns(data), settings)
        model = cls.__new__(cls)
        model._raw = raw
        model._types = {}
        model._order = None
        model._discovery = _discover.from_dict(found)
        return model

    @property
    def discovery(self) -> Optional[Discovery]:
        """What :meth:`discover` found (edges with weights and
        stabilities); ``None`` for a model on a given graph."""
        return getattr(self, "_discovery", None)

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

    def params(self, variable: str) -> Union[Dict[str, float], np.ndarray]:
        """The fitted parameters of ``variable``'s mechanism: by name for a
        formula (in the data's units, as the formula reads them), else the
        parameter vector (a network's weights, in standardised units)."""
        values, names = self._raw.params(str(variable))
        if names is not None:
            return {name: float(v) for name, v in zip(names, values)}
        return np.asarray(values, dtype=np.float64)

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
        """Loads a model file written by ``causalgrad fit`` or :meth:`save`.
        The model keeps its structure: a later :meth:`fit` refits the same
        mechanisms (a formula from its fitted values), noise families and
        kinds, as if they had been declared."""
        model = cls.__new__(cls)
        model._raw = RawModel.load(os.fspath(path))
        model._types = {}
        model._order = None
        model._discovery = None
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
        model._discovery = None
        return model

    def __getstate__(self) -> Dict[str, Any]:
        state = {"types": self._types, "order": self._order, "discovery": self.discovery}
        if not self.is_fitted:
            return {"dot": self.to_dot(), "declarations": self._raw.declarations(), **state}
        return {"bytes": self.to_bytes(), **state}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        if "bytes" in state:
            self._raw = RawModel.from_bytes(state["bytes"])
        else:
            self._raw = RawModel.from_text(state["dot"])
            for entry in state.get("declarations", []):
                variable = entry["variable"]
                if "formulas" in entry:
                    self._raw.declare_formula(variable, entry["formulas"], [(n, float(v)) for n, v in entry["params"]])
                self._raw.declare(variable, mechanism=entry["mechanism"], noise=entry["noise"], kind=entry["kind"])
        self._types = state["types"]
        self._order = state["order"]
        self._discovery = state.get("discovery")

    def __repr__(self) -> str:
        state = "fitted" if self.is_fitted else "not fitted"
        return f"<causalgrad.Model of {len(self.variables)} variables, {len(self.edges)} edges, {state}>"


#: :meth:`Model.discover` as a function: ``causalgrad.discover(data, method="linear", ...)``
#: returns an unfitted :class:`Model` on the learned graph.
discover = Model.discover
