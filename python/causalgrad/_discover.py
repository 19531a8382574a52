"""Structure learning: a causal graph learned from a DataFrame
(``causalgrad::discover``: DAGMA's log-det acyclicity with linear or MLP
mechanisms, as ``causalgrad discover`` runs it; docs/discover.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _frame
from ._causalgrad import GraphError

EdgeLike = Union[str, Tuple[Any, Any]]


@dataclass(frozen=True)
class DiscoveredEdge:
    """One edge of a learned graph."""

    #: The cause.
    source: str
    #: The effect.
    target: str
    #: Its strength: the linear weight (signed, in standardised units by
    #: default), or the norm of the MLP's first-layer weights from the cause.
    weight: float
    #: The share of bootstrap resamples whose graph has the edge
    #: (``None`` without ``bootstrap``).
    stability: Optional[float]
    #: Whether the edge was required.
    required: bool


@dataclass(frozen=True)
class Discovery:
    """What :func:`causalgrad.discover` found."""

    #: The variables, in the data's column order.
    variables: List[str]
    #: The learned graph's edges, strongest first (required ones first of all).
    edges: List[DiscoveredEdge]
    #: The continuous solution: ``weights.loc[a, b]`` for ``a -> b``.
    weights: pd.DataFrame
    #: ``stability.loc[a, b]``: the share of bootstrap resamples with
    #: ``a -> b`` (``None`` without ``bootstrap``).
    stability: Optional[pd.DataFrame]
    #: The graph as DOT, with ``weight`` (and ``stability``) attributes, as
    #: ``causalgrad discover --out`` writes it.
    dot: str

    def edge(self, source: str, target: str) -> Optional[DiscoveredEdge]:
        """The learned edge ``source -> target``, or ``None``."""
        return next((e for e in self.edges if e.source == source and e.target == target), None)


def _edges(what: str, given: Optional[Iterable[EdgeLike]]) -> List[Tuple[str, str]]:
    edges = []
    for edge in given or []:
        if isinstance(edge, str):
            if "->" not in edge:
                raise GraphError(f"{what}: `{edge}` is not an edge; write it as 'a -> b' or ('a', 'b')")
            a, b = edge.split("->", 1)
            a, b = a.strip(), b.strip()
        else:
            try:
                a, b = edge
            except (TypeError, ValueError):
                raise GraphError(f"{what}: {edge!r} is not an edge; write it as 'a -> b' or ('a', 'b')") from None
        if not str(a) or not str(b):
            raise GraphError(f"{what}: `{edge}` is not an edge; write it as 'a -> b' or ('a', 'b')")
        edges.append((str(a), str(b)))
    return edges


def settings(
    method: str,
    *,
    require: Optional[Iterable[EdgeLike]],
    forbid: Optional[Iterable[EdgeLike]],
    tiers: Optional[Sequence[Sequence[Any]]],
    bootstrap: Optional[int],
    hidden: int,
    score: str,
    lambda1: Optional[float],
    lambda2: Optional[float],
    threshold: float,
    standardize: bool,
    seed: int,
) -> Dict[str, Any]:
    """The compiled module's settings dict."""
    if bootstrap is not None and (not isinstance(bootstrap, (int, np.integer)) or bootstrap < 1):
        raise GraphError(f"bootstrap is a number of resamples, at least 1; got {bootstrap!r}")
    return {
        "method": str(method),
        "hidden": int(hidden),
        "score": str(score),
        "lambda1": None if lambda1 is None else float(lambda1),
        "lambda2": None if lambda2 is None else float(lambda2),
        "threshold": float(threshold),
        "standardize": bool(standardize),
        "seed": int(seed),
        "require": _edges("require", require),
        "forbid": _edges("forbid", forbid),
        "tiers": [[str(v) for v in tier] for tier in (tiers or [])],
        "bootstrap": None if bootstrap is None else int(bootstrap),
    }


def columns(data: pd.DataFrame) -> List[_frame.Column]:
    """Every column of ``data``, checked as a fit checks them."""
    if not isinstance(data, pd.DataFrame):
        from ._causalgrad import DataError

        raise DataError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    names = [str(c) for c in data.columns]
    frame = data.set_axis(names, axis=1)
    cols, _ = _frame.to_columns(frame, names)
    return cols


def from_dict(found: Dict[str, Any]) -> Discovery:
    """The result from the compiled module's dict."""
    variables = list(found["variables"])
    weights = pd.DataFrame(np.asarray(found["weights"], dtype=float), index=variables, columns=variables)
    stability = None
    if found["stability"] is not None:
        stability = pd.DataFrame(np.asarray(found["stability"], dtype=float), index=variables, columns=variables)
    edges = [DiscoveredEdge(**edge) for edge in found["edges"]]
    return Discovery(variables=variables, edges=edges, weights=weights, stability=stability, dot=found["dot"])
