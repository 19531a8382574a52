"""DoWhy's mechanism objects, as far as they name a causalgrad mechanism."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Regressor:
    """A prediction model for a non-root variable (``gcm.ml.create_*``)."""

    #: The causalgrad mechanism it stands for.
    mechanism: str


@dataclass(frozen=True)
class AdditiveNoiseModel:
    """``Y = f(parents) + noise``, DoWhy's ``AdditiveNoiseModel``: ``f`` is
    ``prediction_model``'s mechanism, the noise Gaussian (or ``noise``,
    a causalgrad noise family name)."""

    prediction_model: Regressor
    noise: Optional[str] = None

    @property
    def mechanism(self) -> str:
        return self.prediction_model.mechanism


@dataclass(frozen=True)
class EmpiricalDistribution:
    """A root's distribution. causalgrad models a root by a learned mean
    and a three-component Gaussian mixture, which follows skewed and
    multimodal data."""

    mechanism: str = "linear"
    noise: Optional[str] = "mixture"


@dataclass(frozen=True)
class ClassifierFCM:
    """A categorical or binary variable's mechanism (DoWhy's
    ``ClassifierFCM``): logits of the parents (``classifier_model``'s
    mechanism)."""

    classifier_model: Regressor = Regressor("mlp")
    noise: Optional[str] = None

    @property
    def mechanism(self) -> str:
        return self.classifier_model.mechanism


def create_linear_regressor() -> Regressor:
    """A linear mechanism."""
    return Regressor("linear")


def create_linear_regressor_with_given_parameters(*_args: object, **_kwargs: object) -> Regressor:
    """A linear mechanism (fitted; given parameters are not kept)."""
    return Regressor("linear")


def create_logistic_regression_classifier() -> Regressor:
    """A linear mechanism on the logit scale."""
    return Regressor("linear")


def create_hist_gradient_boost_regressor() -> Regressor:
    """A flexible mechanism: an MLP of 32 × 32 tanh units."""
    return Regressor("mlp(32, 32)")


def create_hist_gradient_boost_classifier() -> Regressor:
    """A flexible mechanism on the logit scale: an MLP of 32 × 32 tanh units."""
    return Regressor("mlp(32, 32)")


def create_random_forest_regressor() -> Regressor:
    """A flexible mechanism: an MLP of 32 × 32 tanh units."""
    return Regressor("mlp(32, 32)")


def create_polynom_regressor(degree: int = 2) -> Regressor:
    """A smooth non-linear mechanism: one small network per parent, summed."""
    return Regressor("additive")


def create_mlp(hidden: tuple = (16,)) -> Regressor:
    """A tanh MLP with these hidden widths."""
    return Regressor("mlp(" + ", ".join(str(int(w)) for w in hidden) + ")")
