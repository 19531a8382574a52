//! What the optimiser needs of a mechanism family: a flat parameter
//! vector, the data-fit score with its penalties and exact gradient, and
//! the non-negative edge matrix `E` the acyclicity is taken of, with the
//! chain rule from `∂h/∂E` back to the parameters.

use ndarray::Array2;

/// The data-fit term of one variable's group of rows, with residual sum
/// of squares `RSS` over `n_g` rows, in a problem of `N` pooled rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Score {
    /// `RSS / (2N)`: least squares, DAGMA's default (equal noise
    /// variances; reads the data's scale).
    #[default]
    LeastSquares,
    /// `n_g / (2N) · ln(RSS / n_g)`: the Gaussian negative log-likelihood
    /// per row with each group's noise variance profiled out, so each
    /// variable (and each context that changed its mechanism) has its own
    /// variance. Invariant to each column's scale.
    GaussianLikelihood,
}

impl Score {
    /// The term and its derivative with respect to `RSS`.
    pub(crate) fn term(self, rss: f64, n_group: usize, n_total: usize) -> (f64, f64) {
        let n = n_total as f64;
        match self {
            Score::LeastSquares => (rss / (2.0 * n), 1.0 / (2.0 * n)),
            Score::GaussianLikelihood => {
                let g = n_group as f64;
                // A floor keeps ln finite on an exactly fitted group.
                let rss = rss.max(1e-12 * g);
                (g / (2.0 * n) * (rss / g).ln(), g / (2.0 * n * rss))
            }
        }
    }
}

/// A mechanism family being searched over.
pub(crate) trait Model: Sync {
    /// Starting values.
    fn initial(&self, seed: u64) -> Vec<f64>;
    /// The score plus penalties at `params`; its gradient is added into `grad`.
    fn score(&self, params: &[f64], grad: &mut [f64]) -> f64;
    /// The edge matrix `E ≥ 0` (`E[[i, j]]` for `i -> j`).
    fn edges(&self, params: &[f64]) -> Array2<f64>;
    /// Adds `Σ ∂h/∂E_ij · ∂E_ij/∂params` into `grad`.
    fn chain_edges(&self, params: &[f64], dh_de: &Array2<f64>, grad: &mut [f64]);
    /// Zeroes the components of `grad` whose parameters are held fixed
    /// (self-loops, forbidden edges).
    fn mask(&self, grad: &mut [f64]);
    /// The learned strength of each edge: the signed weight of a linear
    /// model, the norm of an MLP's first-layer weights.
    fn weights(&self, params: &[f64]) -> Array2<f64>;
    /// The same family seen as a smooth fit plus a weighted L1 norm of
    /// its parameters, when it is one (what the quasi-Newton solver
    /// needs); `None` for families with other non-smooth terms.
    fn separable(&self) -> Option<&dyn Separable> {
        None
    }
}

/// A family whose score is `fit(θ) + Σ_k λ_k |θ_k|` with `fit` smooth,
/// over the free parameters `k` (the others are held at zero).
pub(crate) trait Separable {
    /// `fit(θ)`; its gradient is added into `grad`.
    fn fit(&self, params: &[f64], grad: &mut [f64]) -> f64;
    /// Each free parameter's index and L1 weight `λ_k` (zero for a
    /// required edge).
    fn l1_weights(&self) -> Vec<(usize, f64)>;
    /// A positive estimate of `∂²fit/∂θ_k²` for each free parameter, in
    /// the order of [`Separable::l1_weights`]: the quasi-Newton solver's
    /// diagonal preconditioner (the data's scale of each parameter).
    fn curvature(&self) -> Vec<f64>;
}
