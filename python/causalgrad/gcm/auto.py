"""``gcm.auto``: mechanisms chosen from the data, as DoWhy's
``gcm.auto.assign_causal_mechanisms``, by causalgrad's mechanism
selection (``causalgrad fit --select``): candidate models fitted in
parallel, each node keeping the simplest mechanism whose held-out
log-likelihood is within 0.002 nats per row of the best."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Dict, Tuple

import pandas as pd

if TYPE_CHECKING:
    from .._select import Selection
    from ._scm import StructuralCausalModel


class AssignmentQuality(Enum):
    """Which candidates the selection tries (more candidates: a better
    chance of the right family, a longer selection).

    * ``GOOD``: mechanisms linear, additive (8 units per parent) and a
      tanh MLP of 16 units; then a three-component Gaussian mixture for the
      noise of continuous variables (``causalgrad fit --select``).
    * ``BETTER``: also an MLP of 32 × 32 units; noise also Student-t.
    * ``BEST``: also additive of 16 units and an MLP of 64 × 64; noise
      also Laplace.
    """

    GOOD = "good"
    BETTER = "better"
    BEST = "best"


#: The mechanism families and noise families each quality tries.
CANDIDATES: Dict[AssignmentQuality, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    AssignmentQuality.GOOD: (("linear", "additive(8)", "mlp(16)"), ("mixture",)),
    AssignmentQuality.BETTER: (("linear", "additive(8)", "mlp(16)", "mlp(32, 32)"), ("mixture", "student_t")),
    AssignmentQuality.BEST: (
        ("linear", "additive(8)", "additive(16)", "mlp(16)", "mlp(32, 32)", "mlp(64, 64)"),
        ("mixture", "student_t", "laplace"),
    ),
}


@dataclass(frozen=True)
class NodeAssignment:
    """What one node was assigned."""

    #: The node.
    node: str
    #: Its mechanism object (``gcm.AdditiveNoiseModel(..)``, ``gcm.EmpiricalDistribution(..)``, ..).
    mechanism: Any
    #: The candidate it was chosen from (``"linear"``, ``"mixture noise"``).
    chosen: str
    #: Its mean log-likelihood per held-out row under the chosen candidate.
    score: float
    #: Whether it kept the mechanism it already had (``override_models=False``).
    kept: bool = False
    #: Its score under every candidate.
    scores: Dict[str, float] = field(default_factory=dict)


class AutoAssignmentSummary:
    """What :func:`assign_causal_mechanisms` assigned, as DoWhy's summary:
    ``str(summary)`` lists each node's mechanism with its held-out score
    and the other candidates'; ``summary.nodes[node]`` is a
    :class:`NodeAssignment`; ``summary.selection`` the full
    :class:`causalgrad.Selection`."""

    def __init__(self, quality: AssignmentQuality, selection: "Selection", nodes: Dict[str, NodeAssignment]) -> None:
        self.quality = quality
        self.selection = selection
        self.nodes = nodes

    def __str__(self) -> str:
        lines = [
            f"Mechanisms assigned by causalgrad's mechanism selection (quality {self.quality.name}): "
            f"{len(self.selection.candidates)} candidates ({', '.join(self.selection.candidates)}) fitted in "
            f"{self.selection.seconds:.1f} s, each node scored by its mean log-likelihood per held-out row "
            "(higher is better).",
            "",
        ]
        for node in self.nodes.values():
            lines.append(f"Node: {node.node}")
            lines.append(f"Mechanism: {_describe(node.mechanism)}" + (" (kept, as assigned before)" if node.kept else ""))
            lines.append(f"Held-out score: {node.score:.4f} ({node.chosen})")
            others = ", ".join(
                f"{label} {score:.4f}" for label, score in node.scores.items()
                if label != node.chosen and score != float("-inf")
            )
            if others:
                lines.append(f"Other candidates: {others}")
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def __repr__(self) -> str:
        return f"<causalgrad.gcm.auto.AutoAssignmentSummary of {len(self.nodes)} nodes>"


def _describe(mechanism: Any) -> str:
    from . import _mechanisms

    if isinstance(mechanism, _mechanisms.AdditiveNoiseModel):
        return f"AdditiveNoiseModel using {mechanism.mechanism} with {mechanism.noise or 'gaussian'} noise"
    if isinstance(mechanism, _mechanisms.ClassifierFCM):
        return f"ClassifierFCM using {mechanism.mechanism}"
    if isinstance(mechanism, _mechanisms.EmpiricalDistribution):
        return f"EmpiricalDistribution: a learned mean with {mechanism.noise or 'gaussian'} noise"
    return str(mechanism)


def assign_causal_mechanisms(
    causal_model: "StructuralCausalModel",
    based_on: pd.DataFrame,
    quality: AssignmentQuality = AssignmentQuality.GOOD,
    override_models: bool = False,
    **settings: Any,
) -> AutoAssignmentSummary:
    """Assigns every node the mechanism causalgrad's mechanism selection
    picks on ``based_on`` among ``quality``'s candidates (see
    :class:`AssignmentQuality`): a continuous node with parents an
    ``AdditiveNoiseModel`` of the chosen family and noise, a binary or
    categorical node a ``ClassifierFCM``, a root an
    ``EmpiricalDistribution``. Nodes that already have a mechanism keep it
    unless ``override_models``. ``causal_model.causal_mechanism(node)``
    reads each choice back; fit the model with :func:`causalgrad.gcm.fit`
    afterwards, as in DoWhy. ``settings`` are the selection's fit settings
    (:meth:`causalgrad.Model.select`: ``steps``, ``seed``, ``validation``,
    ...). Returns the :class:`AutoAssignmentSummary`."""
    return causal_model._assign(based_on, quality, override_models, settings)
