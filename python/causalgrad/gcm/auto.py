"""``gcm.auto``: mechanisms chosen from the data, as DoWhy's
``gcm.auto.assign_causal_mechanisms``."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from ._scm import StructuralCausalModel


class AssignmentQuality(Enum):
    """How flexible the assigned mechanisms are.

    * ``GOOD``: causalgrad's defaults, a tanh MLP of 16 hidden units per
      variable with parents and Gaussian noise (as ``causalgrad fit``).
    * ``BETTER``: MLPs of 32 × 32 units.
    * ``BEST``: MLPs of 32 × 32 units and, for continuous variables, a
      three-component Gaussian mixture noise (skewed and multimodal noise).
    """

    GOOD = "good"
    BETTER = "better"
    BEST = "best"


def assign_causal_mechanisms(
    causal_model: "StructuralCausalModel",
    based_on: pd.DataFrame,
    quality: AssignmentQuality = AssignmentQuality.GOOD,
    override_models: bool = False,
) -> None:
    """Assigns every variable a mechanism for ``quality`` (see
    :class:`AssignmentQuality`); the data's columns give each variable's
    kind (text and categoricals categorical, 0/1 binary, other numbers
    continuous). Variables that already have a mechanism keep it unless
    ``override_models``."""
    causal_model._assign(based_on, quality, override_models)
