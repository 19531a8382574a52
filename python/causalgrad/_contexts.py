"""``causalgrad.ContextGraph``: data sets from several contexts
(environments, experimental conditions), each with the interventions
active in it, for one model fitted jointly over all of them
(:meth:`causalgrad.Model.fit_contexts`; ``causalgrad fit --contexts`` on
the command line, docs/contexts.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import pandas as pd

from . import _causalgrad, _frame
from ._causalgrad import DataError, ModelError

Tie = Tuple[str, str, float]


@dataclass(frozen=True)
class ContextFitSummary:
    """What :meth:`Model.fit_contexts` did."""

    #: Optimisation steps taken.
    steps: int
    #: ``"completed"`` or ``"early_stopped"``.
    stop: str
    #: Whether the objective had stopped falling.
    converged: bool
    #: Wall-clock seconds, ensemble members included.
    seconds: float
    #: Ensemble members fitted.
    members: int
    #: Each context's mean negative log-likelihood per row at the end (on
    #: its held-out rows when there is a validation split).
    losses: Dict[str, float] = field(default_factory=dict)
    #: The objective at the end: the contexts' losses weighted, plus the ties' penalty.
    objective: Optional[float] = None


def _by_context(what: str, given: Optional[Mapping[str, Any]], names: Sequence[str]) -> Dict[str, Any]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise ModelError(f"{what} must be a dict keyed by context name; got {type(given).__name__}")
    unknown = [str(k) for k in given if str(k) not in names]
    if unknown:
        raise ModelError(
            f"{what} names the context `{unknown[0]}`, which is not one of the data's: {', '.join(names)}"
        )
    return {str(k): v for k, v in given.items()}


class ContextGraph:
    """Data sets observed in several contexts, with what each context does
    to the variables, for :meth:`Model.fit_contexts`.

    ``data`` maps each context's name to its DataFrame (a column per
    variable; every context has every variable). Per context (keyed by its
    name):

    * ``do``: hard interventions active there, ``{"clamped": {"x": 1.0}}``
      (a label for a categorical variable): the variable's own mechanism
      learns nothing from that context's rows;
    * ``shift``: known shifts of a mechanism's mean, ``{"warm": {"y": 0.5}}``;
    * ``changed``: variables whose mechanism changed in an unknown way,
      ``{"site_b": ["y"]}``: the context gets its own parameters for them.

    ``ties`` are ``(context_a, context_b, strength)``: a penalty
    ``strength · ‖θ_a − θ_b‖²`` pulls two contexts' own parameters
    together. ``weighting`` is ``"proportional"`` (each context by its rows)
    or ``"equal"`` (each context alike).

    >>> import causalgrad, numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=500)
    >>> obs = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=500)})
    >>> clamped = pd.DataFrame({"x": np.full(500, 1.5), "y": 3 + rng.normal(size=500)})
    >>> contexts = causalgrad.ContextGraph({"obs": obs, "clamped": clamped}, do={"clamped": {"x": 1.5}})
    >>> model = causalgrad.Model([("x", "y")], mechanisms={"y": "linear"})
    >>> summary = model.fit_contexts(contexts)
    >>> model.contexts
    ['obs', 'clamped']
    """

    def __init__(
        self,
        data: Mapping[str, pd.DataFrame],
        *,
        do: Optional[Mapping[str, Mapping[str, Any]]] = None,
        shift: Optional[Mapping[str, Mapping[str, float]]] = None,
        changed: Optional[Mapping[str, Iterable[str]]] = None,
        ties: Optional[Iterable[Tie]] = None,
        weighting: str = "proportional",
    ) -> None:
        if not isinstance(data, Mapping) or not data:
            raise DataError(
                "a ContextGraph needs a dict of DataFrames, one per context, e.g. {'obs': df, 'treated': df2}"
            )
        for name, frame in data.items():
            if not isinstance(frame, pd.DataFrame):
                raise DataError(f"the data of context `{name}` must be a pandas DataFrame; got {type(frame).__name__}")
        self._data: Dict[str, pd.DataFrame] = {str(k): v for k, v in data.items()}
        names = list(self._data)
        self._do = {k: dict(v) for k, v in _by_context("do", do, names).items()}
        self._shift = {
            k: {str(v): float(d) for v, d in dict(s).items()} for k, s in _by_context("shift", shift, names).items()
        }
        self._changed = {k: [str(v) for v in vs] for k, vs in _by_context("changed", changed, names).items()}
        self._ties: List[Tie] = []
        for tie in ties or []:
            try:
                a, b, strength = tie
                self._ties.append((str(a), str(b), float(strength)))
            except (TypeError, ValueError):
                raise ModelError(f"a tie is (context_a, context_b, strength), e.g. ('obs', 'site_b', 10.0); got {tie!r}") from None
        if weighting not in ("proportional", "equal"):
            raise ModelError(f"weighting must be 'proportional' or 'equal', got {weighting!r}")
        self._weighting = weighting

    @classmethod
    def from_toml(cls, path: Union[str, "os.PathLike[str]"]) -> "ContextGraph":
        """The context graph of a TOML file, as ``causalgrad fit --contexts``
        reads it (docs/contexts.md): each ``[[context]]``'s CSV (relative to
        the file) read by the same reader, its ``do``, ``shift`` and
        ``shifted`` (here ``changed``), the ``[[tie]]`` entries and the
        ``weighting``. A text column comes back as a pandas categorical.
        Errors name the file, line and column. Time steps (``time``,
        ``observed_at``) are not supported here yet.

        >>> import causalgrad
        >>> contexts = causalgrad.ContextGraph.from_toml("data/scm5/contexts.toml")  # doctest: +SKIP
        >>> contexts.interventions("x2-clamped")["do"]  # doctest: +SKIP
        {'x2': 1.0}
        """
        read = _causalgrad.read_contexts(os.fspath(path))
        frames = {c["name"]: _frame.to_frame(c["columns"], {}) for c in read["contexts"]}
        return cls(
            frames,
            do={c["name"]: dict(c["do"]) for c in read["contexts"] if c["do"]},
            shift={c["name"]: dict(c["shift"]) for c in read["contexts"] if c["shift"]},
            changed={c["name"]: list(c["changed"]) for c in read["contexts"] if c["changed"]},
            ties=[tuple(t) for t in read["ties"]],
            weighting=read["weighting"],
        )

    @property
    def contexts(self) -> List[str]:
        """The contexts' names, in the order given."""
        return list(self._data)

    @property
    def weighting(self) -> str:
        """``"proportional"`` or ``"equal"``."""
        return self._weighting

    def data(self, context: str) -> pd.DataFrame:
        """The DataFrame of ``context``."""
        if context not in self._data:
            raise ModelError(f"`{context}` is not a context: {', '.join(self._data)}")
        return self._data[context]

    def interventions(self, context: str) -> Dict[str, Any]:
        """What ``context`` does: ``{"do": .., "shift": .., "changed": ..}``."""
        self.data(context)
        return {
            "do": dict(self._do.get(context, {})),
            "shift": dict(self._shift.get(context, {})),
            "changed": list(self._changed.get(context, [])),
        }

    def _aligned(self, variables: Sequence[str]) -> Dict[str, pd.DataFrame]:
        """The frames with every categorical or text column of the model
        turned into a categorical of the same categories in every context
        (so the labels are coded alike)."""
        frames = dict(self._data)
        for name in variables:
            columns = [f[name] for f in frames.values() if name in f.columns]
            labelled = [
                c for c in columns
                if isinstance(c.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(c.dtype)
                or pd.api.types.is_string_dtype(c.dtype)
            ]
            if not labelled:
                continue
            categories: List[Any] = []
            for column in columns:
                values = column.cat.categories if isinstance(column.dtype, pd.CategoricalDtype) else pd.unique(column.dropna())
                categories += [v for v in values if v not in categories]
            for context, frame in frames.items():
                if name in frame.columns:
                    frame = frame.copy() if frame is self._data[context] else frame
                    frame[name] = pd.Categorical(frame[name], categories=categories)
                    frames[context] = frame
        return frames

    def _payload(self, variables: Sequence[str]) -> Tuple[List[Any], Dict[str, _frame.ColumnType], List[str]]:
        """The contexts for the compiled module, the first context's column
        types and order (for results)."""
        contexts = []
        types: Dict[str, _frame.ColumnType] = {}
        order: List[str] = []
        for context, frame in self._aligned(variables).items():
            columns, _ = _frame.to_columns(frame, variables, f"the data of context `{context}`")
            if not types:
                # The results take the first context's own dtypes (text stays text).
                _, types = _frame.to_columns(self._data[context], variables, f"the data of context `{context}`")
                order = [str(c) for c in frame.columns if str(c) in types]
            do = [(str(v), value if isinstance(value, str) else float(value)) for v, value in self._do.get(context, {}).items()]
            shift = list(self._shift.get(context, {}).items())
            contexts.append((context, columns, do, shift, list(self._changed.get(context, []))))
        return contexts, types, order

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k} ({len(v)} rows)" for k, v in self._data.items())
        return f"<causalgrad.ContextGraph of {len(self._data)} contexts: {sizes}>"
