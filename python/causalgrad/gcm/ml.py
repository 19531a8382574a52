"""``gcm.ml``: the prediction models a mechanism can use, named as DoWhy
names them; each stands for a causalgrad mechanism."""

from ._mechanisms import (
    Regressor,
    create_hist_gradient_boost_classifier,
    create_hist_gradient_boost_regressor,
    create_linear_regressor,
    create_linear_regressor_with_given_parameters,
    create_logistic_regression_classifier,
    create_mlp,
    create_polynom_regressor,
    create_random_forest_regressor,
)

__all__ = [
    "Regressor",
    "create_hist_gradient_boost_classifier",
    "create_hist_gradient_boost_regressor",
    "create_linear_regressor",
    "create_linear_regressor_with_given_parameters",
    "create_logistic_regression_classifier",
    "create_mlp",
    "create_polynom_regressor",
    "create_random_forest_regressor",
]
