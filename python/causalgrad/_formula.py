"""Formula mechanisms: a variable's mean written as a formula of its
parents and named parameters, fitted with the rest of the model (the
``formula`` mechanism of a model file; see docs/formulas.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ._causalgrad import ModelError


@dataclass(frozen=True)
class Formula:
    """A mechanism written as a formula.

    ``formula`` reads the variable's parents by name and the parameters
    ``init`` gives starting values (``Formula("a * x + b", init={"a": 1.0,
    "b": 0.0})``) or ``params`` declares (each starting at 0.1); both may be
    given, ``init`` then setting some of the declared ones. The formula is
    in the data's own units: a coefficient keeps its meaning. Functions
    include ``exp``, ``ln``, ``sqrt``, ``tanh``, ``sigmoid``, ``softplus``,
    ``abs``, ``sin``, ``cos``, and ``^`` for powers (docs/formulas.md lists
    them all).
    For a binary variable the formula is the logit of 1, for a count the
    log of its rate; for a categorical variable give one formula per level
    after the first in ``formulas``, or one for all.

    >>> import causalgrad
    >>> model = causalgrad.Model([("x", "y")])
    >>> model.set_mechanism("y", formula="a * x + b", init={"a": 1.0, "b": 0.0})
    """

    #: The formula (or the first of ``formulas``).
    formula: Optional[str] = None
    #: Starting values of the parameters, by name.
    init: Mapping[str, float] = field(default_factory=dict)
    #: Parameters declared without a starting value (they start at 0.1).
    params: Sequence[str] = ()
    #: One formula per output of a categorical variable.
    formulas: Optional[Sequence[str]] = None

    def texts(self, variable: str) -> List[str]:
        """The formulas to compile."""
        if self.formulas is not None and self.formula is not None:
            raise ModelError(f"give `{variable}` either formula= or formulas=, not both")
        texts = list(self.formulas) if self.formulas is not None else [self.formula] if self.formula else []
        if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
            raise ModelError(
                f"`{variable}`'s formula mechanism needs its formula as text, e.g. formula=\"a * x + b\""
            )
        return texts

    def declared(self, variable: str) -> List[Tuple[str, Optional[float]]]:
        """The parameters in declaration order, each with its starting
        value (``None``: the default)."""
        init: Dict[str, float] = {}
        for name, value in dict(self.init).items():
            try:
                init[str(name)] = float(value)
            except (TypeError, ValueError):
                raise ModelError(
                    f"the starting value of `{name}` in `{variable}`'s formula must be a number, got {value!r}"
                ) from None
        names = [str(p) for p in self.params]
        if not names:
            return [(name, value) for name, value in init.items()]
        unknown = [n for n in init if n not in names]
        if unknown:
            raise ModelError(
                f"init gives `{unknown[0]}`, which params does not declare for `{variable}`; "
                f"add it to params or drop it from init"
            )
        return [(name, init.get(name)) for name in names]


MechanismLike = Union[str, Formula, Mapping[str, Any]]


def as_formula(variable: str, mechanism: Mapping[str, Any]) -> Formula:
    """A formula from a dict as a model file writes it:
    ``{"formula": "a * x + b", "init": {"a": 1.0}}``."""
    keys = set(mechanism)
    allowed = {"formula", "formulas", "init", "params"}
    if not keys <= allowed or not keys & {"formula", "formulas"}:
        raise ModelError(
            f"the mechanism of `{variable}` as a dict is a formula, with keys formula (or formulas), "
            f"init and params; got {sorted(map(str, keys))}"
        )
    return Formula(
        formula=mechanism.get("formula"),
        init=mechanism.get("init") or {},
        params=tuple(mechanism.get("params") or ()),
        formulas=mechanism.get("formulas"),
    )
