//! Mechanisms: the mean of a variable given its parents.
//!
//! A [`Mechanism`] evaluates a whole batch at once, column by column, with
//! its parameters passed as one flat `f32` slice (the layout the burn bridge
//! trains), through a [`MechanismKernel`]. One file per kind:
//!
//! - `function`: any `#[differentiable]` function
//!   `fn(p: &P, parents: [T; K]) -> T` with a `#[derive(Differentiable)]`
//!   parameter struct ([`Mechanism::from_fn`]), on SIMD lanes when it is
//!   generic over `T: Real` ([`Mechanism::from_generic_fn`]);
//! - `formula`: a formula written at run time, compiled to a tape
//!   ([`Mechanism::formula`]);
//! - `linear`: `b + Σ w_i x_i` ([`Mechanism::linear`]);
//! - `additive`: `b + Σ f_i(x_i)`, each `f_i` a small one-input tanh
//!   network ([`Mechanism::additive`]);
//! - `mlp`: a multi-layer perceptron on SIMD lanes ([`Mechanism::mlp`], the
//!   default for variables with parents);
//! - `neural` and `burn_mlp` (feature `burn`): any burn module
//!   ([`Mechanism::neural`]), such as the built-in [`Mlp`]
//!   ([`Mechanism::burn_mlp`]), differentiated by burn's autodiff through a
//!   [`TensorMechanism`].
//!
//! Batches are split into chunks evaluated in parallel (rayon, `chunks`);
//! gradient sums are combined in a fixed order, so results do not depend on
//! the number of threads.

mod additive;
#[cfg(feature = "burn")]
mod burn_mlp;
mod chunks;
mod formula;
mod function;
mod heads;
mod linear;
mod mlp;
#[cfg(feature = "burn")]
pub(crate) mod neural;
mod one_hot;

use std::fmt;
use std::sync::Arc;

use rayon::prelude::*;

use super::spec::MechanismSpec;

#[cfg(feature = "burn")]
pub use burn_mlp::{Mlp, MlpConfig};
use chunks::map_chunks;
pub use mlp::DEFAULT_HIDDEN;
#[cfg(feature = "burn")]
pub use neural::NeuralMean;

/// A mechanism whose mean is computed with burn tensor operations, so
/// training differentiates it with burn's autodiff on any device.
#[cfg(feature = "burn")]
pub trait TensorMechanism: Send + Sync {
    /// The means of a batch: `theta` is the flat parameter vector, `parents`
    /// is `[k, n]` (one row per parent); the result is `[n]`.
    fn tensor_mean(
        &self,
        theta: burn::tensor::Tensor<1>,
        parents: burn::tensor::Tensor<2>,
    ) -> burn::tensor::Tensor<1>;
}

/// Batched evaluation of a mechanism: what a concrete kind implements.
pub trait MechanismKernel: Send + Sync {
    /// A short description (`"linear"`, `"fn mech_x3"`).
    fn describe(&self) -> String;
    /// Number of parents the mechanism reads.
    fn arity(&self) -> usize;
    /// Number of learnable parameters.
    fn num_params(&self) -> usize;
    /// Outputs per row (1 but for several heads, [`Mechanism::heads`]).
    fn outputs(&self) -> usize {
        1
    }
    /// Writes the mean of each row into `out`; `parents[i]` is parent i's
    /// column. With several outputs, `out` holds output `h` of every row
    /// at `h * n .. (h + 1) * n`.
    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]);
    /// Given `seeds[r] = dL/dmean[r]` (laid out as `out` of
    /// [`MechanismKernel::forward`]), adds `dL/dparams` (summed over rows)
    /// to `dparams` and, when `dparents` is given, writes `dL/dparents`
    /// into it: parent i's column at `i * n .. (i + 1) * n`.
    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        dparents: Option<&mut [f32]>,
    );
    /// `Σ_r (target_r − mean_r)²` over the batch and, when `dparams` is
    /// given, adds `weight · Σ_r (mean_r − target_r) · ∂mean_r/∂params` to
    /// it: the value and parameter gradient of a Gaussian likelihood term.
    /// Kernels made from `#[differentiable]` functions do it in one pass
    /// (each row's pullback is seeded as soon as its mean is known); the
    /// default runs [`MechanismKernel::forward`] and then
    /// [`MechanismKernel::backward`]. Sums are combined in a fixed order.
    fn squared_error(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        weight: f32,
        dparams: Option<&mut [f32]>,
    ) -> f64 {
        let n = target.len();
        let mut mean = vec![0.0f32; n];
        self.forward(params, parents, &mut mean);
        let partial: Vec<f64> = map_chunks(n, |range| {
            range
                .map(|r| f64::from(mean[r] - target[r]).powi(2))
                .sum::<f64>()
        });
        if let Some(dparams) = dparams {
            let seeds: Vec<f32> = mean
                .iter()
                .zip(target)
                .map(|(m, t)| weight * (m - t))
                .collect();
            self.backward(params, parents, &seeds, dparams, None);
        }
        partial.iter().sum()
    }
    /// `Σ_r loss(mean_r, target_r)` over the batch for a likelihood given
    /// row by row ([`RowLoss`]) and, when `dparams` is given, adds
    /// `Σ_r seed_r · ∂mean_r/∂params` to it, `seed_r` being the loss's
    /// derivative with respect to the row's mean; returns the loss's sum
    /// and the sum of its gradients with respect to the loss's own
    /// parameters. The lane MLP does it in one pass (each row's pullback
    /// seeded as soon as its mean is known); the default runs
    /// [`MechanismKernel::forward`] and then
    /// [`MechanismKernel::backward`]. Sums are combined in a fixed order.
    fn row_loss(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        loss: &RowLoss<'_>,
        dparams: Option<&mut [f32]>,
    ) -> (f64, Vec<f64>) {
        let n = target.len();
        let mut mean = vec![0.0f32; n];
        self.forward(params, parents, &mut mean);
        let mut seeds = vec![0.0f32; n];
        let partial: Vec<(f64, Vec<f64>)> = seeds
            .par_chunks_mut(chunks::CHUNK)
            .enumerate()
            .map(|(chunk, seeds)| {
                let rows = chunk * chunks::CHUNK..chunk * chunks::CHUNK + seeds.len();
                let mut d_loss = vec![0.0f64; loss.params];
                let total = (loss.f)(&mean[rows.clone()], &target[rows], seeds, &mut d_loss);
                (total, d_loss)
            })
            .collect();
        if let Some(dparams) = dparams {
            self.backward(params, parents, &seeds, dparams, None);
        }
        RowLoss::combine(partial, loss.params)
    }
    /// What the kernel is, for the built-in kinds (so a saved model can be
    /// rebuilt without code); `None` for kernels made from user code.
    fn spec(&self) -> Option<MechanismSpec> {
        None
    }
    /// Fresh initial parameters drawn from `seed`, for kernels with a
    /// random initialisation (the networks): ensemble members start from
    /// them ([`Scm::fit_members`](crate::scm::Scm::fit_members)). `None`
    /// keeps the current values as the start (linear mechanisms, user
    /// code).
    fn initial_params(&self, seed: u64) -> Option<Vec<f32>> {
        let _ = seed;
        None
    }
    /// The kernel written as burn tensor operations, when it is (neural
    /// mechanisms): training then differentiates it with burn's autodiff
    /// instead of calling [`MechanismKernel::backward`].
    #[cfg(feature = "burn")]
    fn tensor_mechanism(&self) -> Option<&dyn TensorMechanism> {
        None
    }
}

/// `(means, targets, seeds, d_loss) -> loss`: see [`RowLoss`].
pub type RowLossFn<'a> = dyn Fn(&[f32], &[f32], &mut [f32], &mut [f64]) -> f64 + Sync + 'a;

/// A likelihood evaluated on groups of rows, for
/// [`MechanismKernel::row_loss`]: `f(means, targets, seeds, d_loss)`, for
/// slices of equal length (a group of rows: the lane MLP passes one lane
/// group, other kernels a chunk), returns the sum of the rows' losses,
/// writes each row's seed of its mean's pullback (its derivative, already
/// weighted) to `seeds`, and adds the rows' gradient with respect to the
/// loss's `params` parameters to `d_loss`. Taking rows by the group lets
/// a family evaluate its density on SIMD lanes and costs one call per
/// group, not per row.
///
/// ```
/// use causalgrad::scm::{Mechanism, RowLoss};
///
/// // Squared error as a row loss: seed = mean − target.
/// let f = |means: &[f32], targets: &[f32], seeds: &mut [f32], _: &mut [f64]| {
///     let mut total = 0.0;
///     for ((m, t), s) in means.iter().zip(targets).zip(seeds.iter_mut()) {
///         *s = m - t;
///         total += 0.5 * f64::from((m - t) * (m - t));
///     }
///     total
/// };
/// let loss = RowLoss { f: &f, params: 0 };
/// let mechanism = Mechanism::linear(1);
/// let x = [1.0f32, 2.0];
/// let mut grad = vec![0.0f32; 2];
/// let (total, _) = mechanism
///     .kernel()
///     .row_loss(&[0.0, 1.0], &[&x], &[1.0, 3.0], &loss, Some(&mut grad));
/// assert_eq!(total, 0.5); // residuals 0 and −1
/// assert_eq!(grad, vec![-1.0, -2.0]); // Σ seed · (1, x)
/// ```
pub struct RowLoss<'a> {
    /// The row's loss and seed.
    pub f: &'a RowLossFn<'a>,
    /// How many parameters the loss has.
    pub params: usize,
}

impl RowLoss<'_> {
    /// The per-chunk `(loss, d_loss)` sums, added in order.
    pub fn combine(partial: Vec<(f64, Vec<f64>)>, params: usize) -> (f64, Vec<f64>) {
        let mut d_loss = vec![0.0f64; params];
        let mut total = 0.0;
        for (value, d) in partial {
            total += value;
            d_loss.iter_mut().zip(d).for_each(|(t, v)| *t += v);
        }
        (total, d_loss)
    }
}

/// The mean of a variable given its parents, with its current parameters.
#[derive(Clone)]
pub struct Mechanism {
    kernel: Arc<dyn MechanismKernel>,
    params: Vec<f32>,
    /// Whether a kernel from user code asked to see standardised values.
    standardized: bool,
}

impl fmt::Debug for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mechanism")
            .field("kind", &self.kernel.describe())
            .field("params", &self.params.len())
            .finish()
    }
}

impl Mechanism {
    /// A mechanism from a kernel and its initial parameters.
    ///
    /// # Panics
    /// If `params` does not have `kernel.num_params()` entries: a
    /// programming error in the kernel's constructor.
    pub fn from_kernel(kernel: Arc<dyn MechanismKernel>, params: Vec<f32>) -> Self {
        assert_eq!(
            params.len(),
            kernel.num_params(),
            "a mechanism kernel's initial parameters must match its parameter count"
        );
        Mechanism {
            kernel,
            params,
            standardized: false,
        }
    }

    /// A description of the kind of mechanism.
    pub fn describe(&self) -> String {
        self.kernel.describe()
    }

    /// Number of parents the mechanism reads.
    pub fn arity(&self) -> usize {
        self.kernel.arity()
    }

    /// Outputs per row: 1, or the number of heads ([`Mechanism::heads`]).
    pub fn outputs(&self) -> usize {
        self.kernel.outputs()
    }

    /// What the mechanism is, for the built-in kinds; `None` for mechanisms
    /// made from user code.
    pub fn spec(&self) -> Option<MechanismSpec> {
        self.kernel.spec()
    }

    /// Fresh initial parameters from `seed` for a randomly initialised
    /// kind (MLP, additive, their heads and indicator wrappers); `None`
    /// for the others.
    ///
    /// ```
    /// use causalgrad::scm::{Activation, Mechanism};
    ///
    /// let mlp = Mechanism::mlp(2, &[4], Activation::Tanh, 1);
    /// assert_eq!(mlp.initial_params(1).as_deref(), Some(mlp.params()));
    /// assert_ne!(mlp.initial_params(2).as_deref(), Some(mlp.params()));
    /// assert_eq!(Mechanism::linear(2).initial_params(1), None);
    /// ```
    pub fn initial_params(&self, seed: u64) -> Option<Vec<f32>> {
        self.kernel.initial_params(seed)
    }

    /// The current parameters, flattened.
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// Replaces the parameters; `values` must have [`Mechanism::params`]'s length.
    pub fn set_params(&mut self, values: &[f32]) -> Result<(), crate::scm::ScmError> {
        if values.len() != self.params.len() {
            return Err(crate::scm::ScmError::ParamCount {
                expected: self.params.len(),
                found: values.len(),
            });
        }
        self.params.copy_from_slice(values);
        Ok(())
    }

    /// Opts a mechanism from user code into standardised units: the fit
    /// may then standardise its variable and its parents (see
    /// [`Scaling`](crate::scm::Scaling)), and the function sees values of
    /// mean 0 and standard deviation 1 and predicts its variable in those
    /// units. Built-in mechanisms always work on standardised values; user
    /// code sees the data's own units unless it opts in here, since a
    /// formula written for the data (a known coefficient, a threshold) would
    /// otherwise silently change its meaning.
    ///
    /// ```
    /// use causalgrad::scm::Mechanism;
    ///
    /// let mechanism = Mechanism::linear(1).with_standardized_units();
    /// assert!(mechanism.reads_standardized_units());
    /// ```
    pub fn with_standardized_units(mut self) -> Self {
        self.standardized = true;
        self
    }

    /// Whether the fit may standardise this mechanism's variable and
    /// parents: a built-in kind other than a formula (which is written in
    /// the data's units), or user code that opted in
    /// ([`Mechanism::with_standardized_units`]).
    pub fn reads_standardized_units(&self) -> bool {
        self.standardized
            || self
                .kernel
                .spec()
                .is_some_and(|spec| spec.reads_standardized_units())
    }

    /// The kernel, for the burn bridge.
    pub fn kernel(&self) -> &Arc<dyn MechanismKernel> {
        &self.kernel
    }

    /// Means of a batch with the current parameters.
    pub fn forward(&self, parents: &[&[f32]], out: &mut [f32]) {
        self.kernel.forward(&self.params, parents, out);
    }
}
