"""What :meth:`causalgrad.Model.select` chose: each variable's mechanism
and noise, with the held-out scores of every candidate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

#: The mechanism families ``Model.select`` tries by default, simplest first
#: (those of ``causalgrad fit --select``).
DEFAULT_FAMILIES = ("linear", "additive(8)", "mlp(16)")
#: The noise families it then tries for continuous variables.
DEFAULT_NOISES = ("mixture",)
#: How much better (nats per held-out row) a later candidate must score.
DEFAULT_TOLERANCE = 0.002


@dataclass(frozen=True)
class VariableChoice:
    """One variable's choice."""

    #: The variable.
    variable: str
    #: The candidate it took its mechanism and noise from (``"linear"``,
    #: ``"mlp(16)"``, ``"mixture noise"``).
    chosen: str
    #: Its mechanism as :meth:`Model.declare` reads it (``"additive(8)"``);
    #: ``None`` for a declared formula.
    mechanism: Optional[str]
    #: Its noise family.
    noise: str
    #: Its mean log-likelihood per held-out row under the chosen candidate
    #: (in the data's units; higher is better).
    score: float
    #: Its score under every candidate (``-inf`` where a noise family was
    #: not tried for it).
    scores: Dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Selection:
    """The outcome of :meth:`Model.select`."""

    #: The candidates, in the order they were tried.
    candidates: List[str]
    #: Each variable's choice, in the model's variable order.
    choices: Dict[str, VariableChoice]
    #: Seconds the selection took (the candidates are fitted in parallel).
    seconds: float
    #: The selected model's mean log-likelihood per held-out row.
    validation_log_likelihood: float
    #: The fit of the selected model that followed (a :class:`FitSummary`).
    fit: Any

    def __str__(self) -> str:
        lines = [
            f"mechanism selection: {len(self.candidates)} candidates in {self.seconds:.1f} s, "
            "by mean log-likelihood per held-out row"
        ]
        for choice in self.choices.values():
            others = [
                (label, score) for label, score in choice.scores.items()
                if label != choice.chosen and score != float("-inf")
            ]
            line = f"  {choice.variable}: {choice.chosen} ({choice.score:.4f}"
            if others:
                label, score = max(others, key=lambda item: item[1])
                line += f"; best other {label} {score:.4f}"
            lines.append(line + f"), {choice.mechanism or 'formula'} with {choice.noise} noise")
        return "\n".join(lines)


def from_dict(outcome: Dict[str, Any], fit: Any) -> Selection:
    """The selection from the compiled module's dict."""
    labels = list(outcome["labels"])
    choices = {
        c["variable"]: VariableChoice(
            variable=c["variable"],
            chosen=c["chosen"],
            mechanism=c["mechanism"],
            noise=c["noise"],
            score=float(c["score"]),
            scores=dict(zip(labels, map(float, c["scores"]))),
        )
        for c in outcome["choices"]
    }
    return Selection(
        candidates=labels,
        choices=choices,
        seconds=float(outcome["seconds"]),
        validation_log_likelihood=float(outcome["validation_log_likelihood"]),
        fit=fit,
    )
