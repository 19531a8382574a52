"""``gcm.StructuralCausalModel``: DoWhy's model object over a
:class:`causalgrad.Model`."""

from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pandas as pd

from .._causalgrad import ModelError, RawModel
from .._model import GraphLike, Model, _raw_from_graph
from . import _mechanisms, auto
from .auto import AssignmentQuality

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


def _assigned(model: Model, node: str, has_parents: bool, mechanism: Optional[str], noise: str) -> Any:
    """The DoWhy-style object for a node's selected mechanism and noise."""
    kind = model.kind(node)
    own_noise = noise if kind == "continuous" and noise != "gaussian" else None
    if not has_parents:
        return _mechanisms.EmpiricalDistribution("linear", own_noise)
    regressor = _mechanisms.Regressor(mechanism or "mlp")
    if kind in ("binary", "categorical"):
        return _mechanisms.ClassifierFCM(regressor)
    return _mechanisms.AdditiveNoiseModel(regressor, own_noise)


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
        self._assigned_fit: Optional[_AssignedFit] = None

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
        copy._assigned_fit = None
        return copy

    @property
    def model(self) -> Model:
        """The fitted :class:`causalgrad.Model` (for intervals, saving, and
        everything :mod:`causalgrad.gcm` does not name)."""
        if self._model is None:
            raise ModelError("the causal model is not fitted yet: call gcm.fit(causal_model, data) first")
        return self._model

    def _assign(
        self, data: pd.DataFrame, quality: AssignmentQuality, override: bool, settings: Dict[str, Any]
    ) -> auto.AutoAssignmentSummary:
        if not isinstance(quality, AssignmentQuality):
            raise ModelError(f"quality must be a gcm.auto.AssignmentQuality, got {quality!r}")
        families, noises = auto.CANDIDATES[quality]
        model = Model(RawModel.from_edges(self._variables, self._edges))
        kept = set(self._mechanisms) if not override else set()
        for node in kept:
            name, noise = _declaration(node, self._mechanisms[node])
            model.declare(node, mechanism=name, noise=noise)
        selection = model.select(data, families=families, noises=noises, **settings)
        self._assigned_fit = _AssignedFit(model, selection.fit, _fingerprint(data, self._variables), settings)
        parents = {v: [a for a, b in self._edges if b == v] for v in self._variables}
        nodes: Dict[str, auto.NodeAssignment] = {}
        for node in self._variables:
            choice = selection.choices[node]
            if node not in kept:
                self._mechanisms[node] = _assigned(model, node, bool(parents[node]), choice.mechanism, choice.noise)
            nodes[node] = auto.NodeAssignment(
                node=node,
                mechanism=self._mechanisms[node],
                chosen=choice.chosen,
                score=choice.score,
                kept=node in kept,
                scores=dict(choice.scores),
            )
        self._model = None
        self._assigned_fit.declarations = self._declarations()
        return auto.AutoAssignmentSummary(quality, selection, nodes)

    def _declarations(self) -> Dict[str, Tuple[str, Optional[str]]]:
        return {node: _declaration(node, mechanism) for node, mechanism in self._mechanisms.items()}

    def _fit(self, data: pd.DataFrame, members: int, **settings: Any) -> Any:
        assigned = self._assigned_fit
        if assigned is not None and assigned.fits(data, self._variables, self._declarations(), settings):
            # The assignment fitted the selected model to these very rows
            # with these settings: fitting again would only change the
            # initial weights. Its members are fitted now if asked for.
            self._model = assigned.model
            if members:
                return assigned.model.fit_members(data, members, **settings)
            return assigned.summary
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


class _AssignedFit:
    """The model :func:`gcm.auto.assign_causal_mechanisms` selected and
    fitted, kept for a :func:`gcm.fit` on the same rows with the same
    settings and mechanisms."""

    def __init__(self, model: Model, summary: Any, fingerprint: str, settings: Dict[str, Any]) -> None:
        self.model = model
        self.summary = summary
        self.fingerprint = fingerprint
        self.settings = dict(settings)
        self.declarations: Dict[str, Tuple[str, Optional[str]]] = {}

    def fits(
        self,
        data: pd.DataFrame,
        variables: List[str],
        declarations: Dict[str, Tuple[str, Optional[str]]],
        settings: Dict[str, Any],
    ) -> bool:
        return (
            declarations == self.declarations
            and dict(settings) == self.settings
            and _fingerprint(data, variables) == self.fingerprint
        )


def _fingerprint(data: pd.DataFrame, variables: List[str]) -> str:
    """A digest of the model's columns of ``data``: names, types and
    every value, in order."""
    if not isinstance(data, pd.DataFrame):
        return ""
    names = [c for c in data.columns if str(c) in set(variables)]
    digest = hashlib.sha256(repr([(str(c), str(data[c].dtype)) for c in names]).encode())
    digest.update(pd.util.hash_pandas_object(data[names], index=False).to_numpy().tobytes())
    return digest.hexdigest()


def random_seed() -> int:
    """A seed from numpy's global generator, so ``np.random.seed(..)``
    makes the gcm functions reproducible, as in DoWhy."""
    return int(np.random.randint(0, 2**31 - 1))


ProbabilisticCausalModel = StructuralCausalModel
InvertibleStructuralCausalModel = StructuralCausalModel
