"""``gcm.StructuralCausalModel``: DoWhy's model object over a
:class:`causalgrad.Model`."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pandas as pd

from .._causalgrad import ModelError, RawModel
from .._model import GraphLike, Model, _raw_from_graph
from . import _mechanisms
from .auto import AssignmentQuality

#: The mechanism of a variable with parents for each quality.
_QUALITY_MECHANISM = {
    AssignmentQuality.GOOD: "mlp",
    AssignmentQuality.BETTER: "mlp(32, 32)",
    AssignmentQuality.BEST: "mlp(32, 32)",
}


def _declaration(node: str, mechanism: Any) -> Tuple[str, Optional[str]]:
    """The (mechanism, noise) a DoWhy-style mechanism object declares."""
    if isinstance(mechanism, str):
        return mechanism, None
    if isinstance(mechanism, _mechanisms.Regressor):
        return mechanism.mechanism, None
    if isinstance(
        mechanism,
        (_mechanisms.AdditiveNoiseModel, _mechanisms.EmpiricalDistribution, _mechanisms.ClassifierFCM),
    ):
        return mechanism.mechanism, mechanism.noise
    raise ModelError(
        f"the mechanism {mechanism!r} for `{node}` is not one causalgrad fits; use gcm.AdditiveNoiseModel("
        f"gcm.ml.create_linear_regressor()), gcm.EmpiricalDistribution(), gcm.ClassifierFCM(), or a "
        f"causalgrad mechanism name such as 'linear' or 'mlp(32, 32)'"
    )


def _is_continuous(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(series.dtype):
        return False
    if not pd.api.types.is_numeric_dtype(series.dtype):
        return False
    return not bool(series.isin([0, 1]).all())


class StructuralCausalModel:
    """A structural causal model on a causal graph, as DoWhy's
    ``gcm.StructuralCausalModel`` (also ``InvertibleStructuralCausalModel``
    and ``ProbabilisticCausalModel``): every variable is a function of its
    parents and its own noise.

    ``graph`` is a ``networkx.DiGraph``, DOT, dagitty or GML text, or a
    list of ``(cause, effect)`` edges. Assign mechanisms with
    :func:`causalgrad.gcm.auto.assign_causal_mechanisms` or
    :meth:`set_causal_mechanism`, then :func:`causalgrad.gcm.fit`.
    """

    def __init__(self, graph: GraphLike = None) -> None:
        if graph is None:
            raise ModelError("a StructuralCausalModel needs a graph, e.g. networkx.DiGraph([('X', 'Y')])")
        raw = _raw_from_graph(graph)
        self._source = graph
        self._variables: List[str] = raw.variables()
        self._edges: List[Tuple[str, str]] = raw.edges()
        self._mechanisms: Dict[str, Any] = {}
        self._model: Optional[Model] = None

    @property
    def graph(self) -> Any:
        """The graph: the ``networkx.DiGraph`` given, or one built from
        the edges (a list of edges when networkx is not installed)."""
        if hasattr(self._source, "nodes") and hasattr(self._source, "edges"):
            return self._source
        try:
            import networkx as nx
        except ImportError:
            return list(self._edges)
        graph = nx.DiGraph()
        graph.add_nodes_from(self._variables)
        graph.add_edges_from(self._edges)
        return graph

    def set_causal_mechanism(self, node: Any, mechanism: Any) -> None:
        """Declares ``node``'s mechanism: a DoWhy-style object
        (``gcm.AdditiveNoiseModel(gcm.ml.create_linear_regressor())``,
        ``gcm.EmpiricalDistribution()``) or a causalgrad mechanism name."""
        node = str(node)
        if node not in self._variables:
            raise ModelError(f"`{node}` is not a variable of the graph: {', '.join(self._variables)}")
        _declaration(node, mechanism)
        self._mechanisms[node] = mechanism
        self._model = None

    def causal_mechanism(self, node: Any) -> Any:
        """The mechanism declared for ``node`` (``None`` when none is)."""
        return self._mechanisms.get(str(node))

    def clone(self) -> "StructuralCausalModel":
        """A copy with the same graph and mechanisms, not fitted."""
        copy = StructuralCausalModel.__new__(StructuralCausalModel)
        copy._source = self._source
        copy._variables = list(self._variables)
        copy._edges = list(self._edges)
        copy._mechanisms = dict(self._mechanisms)
        copy._model = None
        return copy

    @property
    def model(self) -> Model:
        """The fitted :class:`causalgrad.Model` (for intervals, saving, and
        everything :mod:`causalgrad.gcm` does not name)."""
        if self._model is None:
            raise ModelError("the causal model is not fitted yet: call gcm.fit(causal_model, data) first")
        return self._model

    def _assign(self, data: pd.DataFrame, quality: AssignmentQuality, override: bool) -> None:
        if not isinstance(quality, AssignmentQuality):
            raise ModelError(f"quality must be a gcm.auto.AssignmentQuality, got {quality!r}")
        parents = {v: [a for a, b in self._edges if b == v] for v in self._variables}
        for node in self._variables:
            if node in self._mechanisms and not override:
                continue
            noise = None
            if quality is AssignmentQuality.BEST and node in data.columns and _is_continuous(data[node]):
                noise = "mixture"
            if parents[node]:
                self._mechanisms[node] = _mechanisms.AdditiveNoiseModel(
                    _mechanisms.Regressor(_QUALITY_MECHANISM[quality]), noise
                )
            else:
                self._mechanisms[node] = _mechanisms.EmpiricalDistribution("linear", noise)
        self._model = None

    def _fit(self, data: pd.DataFrame, members: int, **settings: Any) -> Any:
        model = Model(RawModel.from_edges(self._variables, self._edges))
        for node, mechanism in self._mechanisms.items():
            name, noise = _declaration(node, mechanism)
            model.declare(node, mechanism=name, noise=noise)
        summary = model.fit(data, members=members, **settings)
        self._model = model
        return summary

    def __repr__(self) -> str:
        state = "fitted" if self._model is not None else "not fitted"
        return f"<causalgrad.gcm.StructuralCausalModel of {len(self._variables)} variables, {state}>"


def random_seed() -> int:
    """A seed from numpy's global generator, so ``np.random.seed(..)``
    makes the gcm functions reproducible, as in DoWhy."""
    return int(np.random.randint(0, 2**31 - 1))


ProbabilisticCausalModel = StructuralCausalModel
InvertibleStructuralCausalModel = StructuralCausalModel
