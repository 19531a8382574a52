//! Mechanisms: the mean of a variable given its parents.
//!
//! A [`Mechanism`] evaluates a whole batch at once, column by column, with
//! its parameters passed as one flat `f32` slice (the layout the burn bridge
//! trains). Three kinds are built in:
//!
//! - [`Mechanism::from_fn`]: any `#[differentiable]` function
//!   `fn(p: &P, parents: [T; K]) -> T` with a `#[derive(Differentiable)]`
//!   parameter struct `P`; its generated pullback gives the gradients;
//! - [`Mechanism::from_generic_fn`]: the same for a function generic over
//!   `T: Real`, evaluated several rows at a time on SIMD lanes
//!   ([`BatchLanes`]) when it has no data-dependent branch;
//! - [`Mechanism::linear`]: `b + Σ w_i x_i`;
//! - [`Mechanism::additive`]: `b + Σ f_i(x_i)`, each `f_i` a small
//!   one-input tanh network.
//!
//! Batches are split into chunks evaluated in parallel (rayon); gradient
//! sums are combined in a fixed order, so results do not depend on the
//! number of threads.

use std::fmt;
use std::sync::Arc;

use rayon::prelude::*;

use crate::diff::{DiffFn, Differentiable, Pullback, Rescale, Tangent};
use crate::differentiable;
use crate::lanes::BatchLanes;

use super::spec::MechanismSpec;

/// Rows per parallel chunk: small enough that a batch of 10k rows makes ten
/// chunks, which two threads share evenly (three chunks of 4096 left one
/// thread idle a third of the time), large enough that the per-chunk work
/// (zeroing and flattening the gradient) stays a few percent at 100k rows.
pub(super) const CHUNK: usize = 1024;

/// Batched evaluation of a mechanism: what a concrete kind implements.
pub trait MechanismKernel: Send + Sync {
    /// A short description (`"linear"`, `"fn mech_x3"`).
    fn describe(&self) -> String;
    /// Number of parents the mechanism reads.
    fn arity(&self) -> usize;
    /// Number of learnable parameters.
    fn num_params(&self) -> usize;
    /// Writes the mean of each row into `out`; `parents[i]` is parent i's column.
    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]);
    /// Given `seeds[r] = dL/dmean[r]`, adds `dL/dparams` (summed over rows)
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
    /// What the kernel is, for the built-in kinds (so a saved model can be
    /// rebuilt without code); `None` for kernels made from user code.
    fn spec(&self) -> Option<MechanismSpec> {
        None
    }
    /// The kernel written as burn tensor operations, when it is (neural
    /// mechanisms): training then differentiates it with burn's autodiff
    /// instead of calling [`MechanismKernel::backward`].
    #[cfg(feature = "burn")]
    fn tensor_mechanism(&self) -> Option<&dyn super::neural::TensorMechanism> {
        None
    }
}

/// The mean of a variable given its parents, with its current parameters.
#[derive(Clone)]
pub struct Mechanism {
    kernel: Arc<dyn MechanismKernel>,
    params: Vec<f32>,
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
        Mechanism { kernel, params }
    }

    /// A mechanism from a `#[differentiable]` function of a parameter struct
    /// and an array of `K` parents, starting from `params`.
    ///
    /// ```
    /// use causalgrad::scm::Mechanism;
    /// use causalgrad::{differentiable, Differentiable, Real};
    ///
    /// #[derive(Differentiable, Clone, Debug)]
    /// struct X3<T: Real> { d: T, e: T }
    ///
    /// #[differentiable]
    /// fn x3_mean<T: Real>(p: &X3<T>, x: [T; 2]) -> T {
    ///     p.d * x[0] * x[1] + p.e * x[1].sin()
    /// }
    ///
    /// let mechanism = Mechanism::from_fn(x3_mean::Function, X3 { d: 0.5, e: 1.2 });
    /// assert_eq!(mechanism.arity(), 2);
    /// assert_eq!(mechanism.params(), [0.5, 1.2]);
    /// let mut mean = [0.0; 1];
    /// mechanism.forward(&[&[1.0], &[2.0]], &mut mean);
    /// assert!((mean[0] - (1.0 + 1.2 * 2.0f32.sin())).abs() < 1e-6);
    /// ```
    pub fn from_fn<F, P, const K: usize>(function: F, params: P) -> Self
    where
        F: for<'a> DiffFn<(&'a P, [f32; K]), Output = f32, Grad = (P::Tangent, [f32; K])>
            + Send
            + Sync
            + 'static,
        P: Differentiable + Clone + Send + Sync + 'static,
        P::Tangent: Tangent<Scalar = f32> + Send,
    {
        let flat = flatten(&params);
        let kernel = FnKernel::<F, P, K> {
            function,
            template: params,
            name: short_name::<F>(),
        };
        Mechanism {
            kernel: Arc::new(kernel),
            params: flat,
        }
    }

    /// Like [`Mechanism::from_fn`], for a function generic over `T: Real`
    /// with a parameter struct generic over one `T: Real`: batches are
    /// evaluated several rows at a time on SIMD lanes ([`BatchLanes`]), the
    /// remainder row by row. Falls back to rows alone when the function
    /// branches on its values (`DiffFn::BRANCH_FREE` is false).
    ///
    /// ```
    /// use causalgrad::scm::Mechanism;
    /// use causalgrad::{differentiable, Differentiable, Real};
    ///
    /// #[derive(Differentiable, Clone, Debug)]
    /// struct X3<T: Real> { d: T, e: T }
    ///
    /// #[differentiable]
    /// fn x3_mean<T: Real>(p: &X3<T>, x: [T; 2]) -> T {
    ///     p.d * x[0] * x[1] + p.e * x[1].sin()
    /// }
    ///
    /// let lanes = Mechanism::from_generic_fn(x3_mean::Function, X3 { d: 0.5f32, e: 1.2 });
    /// let rows = Mechanism::from_fn(x3_mean::Function, X3 { d: 0.5f32, e: 1.2 });
    /// let (x1, x2): (Vec<f32>, Vec<f32>) = (0..11).map(|i| (i as f32 * 0.1, 1.0 - i as f32 * 0.2)).unzip();
    /// let (mut a, mut b) = (vec![0.0; 11], vec![0.0; 11]);
    /// lanes.forward(&[&x1, &x2], &mut a);
    /// rows.forward(&[&x1, &x2], &mut b);
    /// for (a, b) in a.iter().zip(&b) {
    ///     assert!((a - b).abs() < 1e-6);
    /// }
    /// ```
    pub fn from_generic_fn<F, P, L, const K: usize>(function: F, params: P) -> Self
    where
        F: for<'a> DiffFn<(&'a P, [f32; K]), Output = f32, Grad = (P::Tangent, [f32; K])>
            + for<'a> DiffFn<
                (&'a L, [BatchLanes; K]),
                Output = BatchLanes,
                Grad = (L::Tangent, [BatchLanes; K]),
            > + Send
            + Sync
            + 'static,
        P: Differentiable
            + Rescale<BatchLanes, Scalar = f32, Output = L>
            + Clone
            + Send
            + Sync
            + 'static,
        P::Tangent: Tangent<Scalar = f32> + Send,
        L: Differentiable + Send + Sync + 'static,
        L::Tangent: Tangent<Scalar = BatchLanes> + Send,
    {
        if !<F as DiffFn<(&'static P, [f32; K])>>::BRANCH_FREE {
            return Mechanism::from_fn(function, params);
        }
        let flat = flatten(&params);
        let rows = FnKernel::<F, P, K> {
            function,
            template: params,
            name: short_name::<F>(),
        };
        Mechanism {
            kernel: Arc::new(LaneKernel { rows }),
            params: flat,
        }
    }

    /// `b + Σ w_i x_i` over `arity` parents, starting at zero.
    pub fn linear(arity: usize) -> Self {
        Mechanism {
            kernel: Arc::new(Linear { arity }),
            params: vec![0.0; arity + 1],
        }
    }

    /// `b + Σ f_i(x_i)`: one `1 → hidden → 1` tanh network per parent,
    /// initialised deterministically from `seed` (small weights, so the
    /// mechanism starts near linear).
    pub fn additive(arity: usize, hidden: usize, seed: u64) -> Self {
        let kernel = Additive { arity, hidden };
        let params = kernel.initial(seed);
        Mechanism {
            kernel: Arc::new(kernel),
            params,
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

    /// What the mechanism is, for the built-in kinds; `None` for mechanisms
    /// made from user code.
    pub fn spec(&self) -> Option<MechanismSpec> {
        self.kernel.spec()
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

    /// The kernel, for the burn bridge.
    pub fn kernel(&self) -> &Arc<dyn MechanismKernel> {
        &self.kernel
    }

    /// Means of a batch with the current parameters.
    pub fn forward(&self, parents: &[&[f32]], out: &mut [f32]) {
        self.kernel.forward(&self.params, parents, out);
    }
}

/// Adds the chunks' parameter gradients to `dparams` in chunk order and
/// writes their per-row parent gradients into `dparents` (column-major).
fn combine_chunks<const K: usize>(
    chunk_results: &[(Vec<f32>, Vec<[f32; K]>)],
    n: usize,
    dparams: &mut [f32],
    dparents: Option<&mut [f32]>,
) {
    for (flat, _) in chunk_results {
        for (total, value) in dparams.iter_mut().zip(flat) {
            *total += value;
        }
    }
    if let Some(dparents) = dparents {
        for (row, grads) in chunk_results.iter().flat_map(|(_, g)| g).enumerate() {
            for (column, value) in grads.iter().enumerate() {
                dparents[column * n + row] = *value;
            }
        }
    }
}

/// A chunk's parameter gradient, flattened: the lane tangent's lanes
/// summed, plus the tail rows' tangent.
fn flatten_totals<L, R>(lane_total: &L, row_total: &R) -> Vec<f32>
where
    L: Tangent<Scalar = BatchLanes>,
    R: Tangent<Scalar = f32>,
{
    let mut flat = Vec::new();
    lane_total.for_each_scalar(&mut |value| flat.push(value.sum()));
    let mut index = 0;
    row_total.for_each_scalar(&mut |value| {
        flat[index] += value;
        index += 1;
    });
    flat
}

/// Sums the chunks' squared errors and adds their parameter gradients to
/// `dparams`, in chunk order.
pub(super) fn add_partials(partial: Vec<(f64, Vec<f32>)>, dparams: Option<&mut [f32]>) -> f64 {
    if let Some(dparams) = dparams {
        for (_, flat) in &partial {
            for (total, value) in dparams.iter_mut().zip(flat) {
                *total += value;
            }
        }
    }
    partial.iter().map(|(squares, _)| squares).sum()
}

/// Width of the accumulators of [`lane_sum`] and [`lane_dot`]: sixteen
/// independent partial sums, which the compiler keeps in vector registers
/// (a single running `f32` sum cannot be vectorised, as that would
/// reorder its additions).
const SUM_LANES: usize = 16;

/// `Σ a_r`, summed in [`SUM_LANES`] partial sums.
fn lane_sum(a: &[f32]) -> f32 {
    let mut acc = [0.0f32; SUM_LANES];
    let mut blocks = a.chunks_exact(SUM_LANES);
    for block in &mut blocks {
        for (total, value) in acc.iter_mut().zip(block) {
            *total += value;
        }
    }
    for (total, value) in acc.iter_mut().zip(blocks.remainder()) {
        *total += value;
    }
    acc.iter().sum()
}

/// `Σ a_r b_r` over the common length, summed in [`SUM_LANES`] partial sums.
fn lane_dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; SUM_LANES];
    let (mut blocks_a, mut blocks_b) = (a.chunks_exact(SUM_LANES), b.chunks_exact(SUM_LANES));
    for (block_a, block_b) in (&mut blocks_a).zip(&mut blocks_b) {
        for ((total, x), y) in acc.iter_mut().zip(block_a).zip(block_b) {
            *total += x * y;
        }
    }
    for ((total, x), y) in acc
        .iter_mut()
        .zip(blocks_a.remainder())
        .zip(blocks_b.remainder())
    {
        *total += x * y;
    }
    acc.iter().sum()
}

/// A parameter struct's scalars, in visiting order.
fn flatten<P: Differentiable + Clone>(params: &P) -> Vec<f32>
where
    P::Tangent: Tangent<Scalar = f32>,
{
    let mut template = params.clone();
    let mut flat = Vec::new();
    template.for_each_scalar_mut(&mut |value| flat.push(*value));
    flat
}

/// The last path segment of a type's name (`x4_mean`).
fn short_name<F>() -> String {
    std::any::type_name::<F>()
        .rsplit("::")
        .next()
        .unwrap_or("fn")
        .to_string()
}

/// `f` on each of the fixed chunks of `0..n` every kernel uses, results in
/// chunk order: in parallel on rayon's pool, or on the calling thread when
/// there is one chunk. Handing a single small job to the pool costs a
/// worker's wake-up, more than the job itself for a few hundred rows (a
/// context's term, a short mini-batch).
pub(super) fn map_chunks<T: Send>(
    n: usize,
    f: impl Fn(std::ops::Range<usize>) -> T + Sync + Send,
) -> Vec<T> {
    let count = n.div_ceil(CHUNK);
    let range = move |chunk: usize| chunk * CHUNK..((chunk + 1) * CHUNK).min(n);
    if count <= 1 {
        return (0..count).map(|chunk| f(range(chunk))).collect();
    }
    (0..count)
        .into_par_iter()
        .map(|chunk| f(range(chunk)))
        .collect()
}

/// `f(chunk index, chunk)` on each chunk of `out`, like [`map_chunks`]:
/// on the calling thread when there is one chunk.
pub(super) fn for_each_chunk_mut(out: &mut [f32], f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    if out.len() <= CHUNK {
        f(0, out);
    } else {
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(chunk, out)| f(chunk, out));
    }
}

/// Runs `row_grads` on every chunk and sums the chunks' parameter
/// gradients in chunk order.
fn sum_chunks(
    n: usize,
    num_params: usize,
    dparams: &mut [f32],
    chunk_grads: impl Fn(std::ops::Range<usize>, &mut [f32]) + Sync,
) {
    let partial: Vec<Vec<f32>> = map_chunks(n, |range| {
        let mut local = vec![0.0f32; num_params];
        chunk_grads(range, &mut local);
        local
    });
    for local in partial {
        for (total, value) in dparams.iter_mut().zip(local) {
            *total += value;
        }
    }
}

/// A `#[differentiable]` function of a parameter struct and `K` parents.
struct FnKernel<F, P, const K: usize> {
    function: F,
    template: P,
    name: String,
}

impl<F, P, const K: usize> FnKernel<F, P, K>
where
    P: Differentiable + Clone,
    P::Tangent: Tangent<Scalar = f32>,
{
    fn unflatten(&self, values: &[f32]) -> P {
        let mut params = self.template.clone();
        let mut index = 0;
        params.for_each_scalar_mut(&mut |value| {
            *value = values[index];
            index += 1;
        });
        params
    }
}

impl<F, P, const K: usize> MechanismKernel for FnKernel<F, P, K>
where
    F: for<'a> DiffFn<(&'a P, [f32; K]), Output = f32, Grad = (P::Tangent, [f32; K])> + Send + Sync,
    P: Differentiable + Clone + Send + Sync,
    P::Tangent: Tangent<Scalar = f32> + Send,
{
    fn describe(&self) -> String {
        format!("fn {}", self.name)
    }

    fn arity(&self) -> usize {
        K
    }

    fn num_params(&self) -> usize {
        let mut template = self.template.clone();
        let mut count = 0;
        template.for_each_scalar_mut(&mut |_| count += 1);
        count
    }

    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]) {
        let params = self.unflatten(params);
        for_each_chunk_mut(out, |chunk, out| {
            let start = chunk * CHUNK;
            for (offset, value) in out.iter_mut().enumerate() {
                let row = start + offset;
                let x: [f32; K] = core::array::from_fn(|i| parents[i][row]);
                *value = self.function.call((&params, x));
            }
        });
    }

    fn squared_error(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        weight: f32,
        dparams: Option<&mut [f32]>,
    ) -> f64 {
        let structured = self.unflatten(params);
        let want = dparams.is_some();
        let partial: Vec<(f64, Vec<f32>)> = map_chunks(target.len(), |range| {
            // The pullbacks add into one running gradient; its parent
            // entries are not read.
            let mut total = (structured.zero_tangent(), [0.0f32; K]);
            let mut squares = 0.0f64;
            for row in range {
                let x: [f32; K] = core::array::from_fn(|i| parents[i][row]);
                if want {
                    let (mean, pullback) = self.function.pullback((&structured, x));
                    let error = mean - target[row];
                    squares += f64::from(error * error);
                    pullback.pull_into(weight * error, &mut total);
                } else {
                    let error = self.function.call((&structured, x)) - target[row];
                    squares += f64::from(error * error);
                }
            }
            let mut flat = Vec::new();
            if want {
                total.0.for_each_scalar(&mut |value| flat.push(value));
            }
            (squares, flat)
        });
        add_partials(partial, dparams)
    }

    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        dparents: Option<&mut [f32]>,
    ) {
        let structured = self.unflatten(params);
        let n = seeds.len();
        // One pullback per row gives both gradients; chunks run in
        // parallel and are combined in chunk order.
        let want_parents = dparents.is_some();
        let chunk_results: Vec<(Vec<f32>, Vec<[f32; K]>)> = map_chunks(n, |range| {
            // Parameter cotangents add up over the rows; the parents'
            // are each row's own, so they restart at zero.
            let mut total = (structured.zero_tangent(), [0.0f32; K]);
            let mut parent_grads = Vec::with_capacity(if want_parents { range.len() } else { 0 });
            for row in range {
                let x: [f32; K] = core::array::from_fn(|i| parents[i][row]);
                let (_, pullback) = self.function.pullback((&structured, x));
                total.1 = [0.0; K];
                pullback.pull_into(seeds[row], &mut total);
                if want_parents {
                    parent_grads.push(total.1);
                }
            }
            let mut flat = Vec::with_capacity(dparams.len());
            total.0.for_each_scalar(&mut |value| flat.push(value));
            (flat, parent_grads)
        });
        combine_chunks(&chunk_results, n, dparams, dparents);
    }
}

/// A generic `#[differentiable]` function evaluated several rows at a time on
/// [`BatchLanes`]; the rows past the last full group of lanes go through
/// the row kernel.
struct LaneKernel<F, P, const K: usize> {
    rows: FnKernel<F, P, K>,
}

/// The lanes of rows `start..start + 8` of each parent.
#[inline(always)]
fn lanes<const K: usize>(parents: &[&[f32]], start: usize) -> [BatchLanes; K] {
    core::array::from_fn(|i| BatchLanes::from_slice(&parents[i][start..]))
}

const LANES: usize = BatchLanes::LANES;

impl<F, P, const K: usize> MechanismKernel for LaneKernel<F, P, K>
where
    F: for<'a> DiffFn<(&'a P, [f32; K]), Output = f32, Grad = (P::Tangent, [f32; K])>
        + for<'a> DiffFn<
            (&'a <P as Rescale<BatchLanes>>::Output, [BatchLanes; K]),
            Output = BatchLanes,
            Grad = (
                <<P as Rescale<BatchLanes>>::Output as Differentiable>::Tangent,
                [BatchLanes; K],
            ),
        > + Send
        + Sync,
    P: Differentiable + Rescale<BatchLanes, Scalar = f32> + Clone + Send + Sync,
    P::Tangent: Tangent<Scalar = f32> + Send,
    <P as Rescale<BatchLanes>>::Output: Differentiable + Send + Sync,
    <<P as Rescale<BatchLanes>>::Output as Differentiable>::Tangent:
        Tangent<Scalar = BatchLanes> + Send,
{
    fn describe(&self) -> String {
        format!("{} ({LANES} lanes)", self.rows.describe())
    }

    fn arity(&self) -> usize {
        K
    }

    fn num_params(&self) -> usize {
        self.rows.num_params()
    }

    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]) {
        let scalar = self.rows.unflatten(params);
        let lifted = scalar.rescale(&mut BatchLanes::splat);
        for_each_chunk_mut(out, |chunk, out| {
            let start = chunk * CHUNK;
            let full = out.len() / LANES * LANES;
            for offset in (0..full).step_by(LANES) {
                let y = self
                    .rows
                    .function
                    .call((&lifted, lanes(parents, start + offset)));
                out[offset..offset + LANES].copy_from_slice(&y.to_array());
            }
            for (offset, value) in out.iter_mut().enumerate().skip(full) {
                let row = start + offset;
                let x: [f32; K] = core::array::from_fn(|i| parents[i][row]);
                *value = self.rows.function.call((&scalar, x));
            }
        });
    }

    fn squared_error(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        weight: f32,
        dparams: Option<&mut [f32]>,
    ) -> f64 {
        let scalar = self.rows.unflatten(params);
        let lifted = scalar.rescale(&mut BatchLanes::splat);
        let want = dparams.is_some();
        let lane_weight = BatchLanes::splat(weight);
        let partial: Vec<(f64, Vec<f32>)> = map_chunks(target.len(), |range| {
            // The pullbacks add into running gradients; their parent
            // entries are not read.
            let mut lane_total = (lifted.zero_tangent(), [BatchLanes::splat(0.0); K]);
            let mut row_total = (scalar.zero_tangent(), [0.0f32; K]);
            let mut lane_squares = BatchLanes::splat(0.0);
            let mut squares = 0.0f64;
            let full = range.start + range.len() / LANES * LANES;
            for start in (range.start..full).step_by(LANES) {
                let goal = BatchLanes::from_slice(&target[start..]);
                let x = lanes(parents, start);
                if want {
                    let (mean, pullback) = self.rows.function.pullback((&lifted, x));
                    let error = mean - goal;
                    lane_squares += error * error;
                    pullback.pull_into(lane_weight * error, &mut lane_total);
                } else {
                    let error = self.rows.function.call((&lifted, x)) - goal;
                    lane_squares += error * error;
                }
            }
            for row in full..range.end {
                let x: [f32; K] = core::array::from_fn(|i| parents[i][row]);
                let (mean, pullback) = self.rows.function.pullback((&scalar, x));
                let error = mean - target[row];
                squares += f64::from(error * error);
                if want {
                    pullback.pull_into(weight * error, &mut row_total);
                }
            }
            squares += lane_squares
                .to_array()
                .iter()
                .map(|&v| f64::from(v))
                .sum::<f64>();
            let flat = if want {
                flatten_totals(&lane_total.0, &row_total.0)
            } else {
                Vec::new()
            };
            (squares, flat)
        });
        add_partials(partial, dparams)
    }

    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        dparents: Option<&mut [f32]>,
    ) {
        let scalar = self.rows.unflatten(params);
        let lifted = scalar.rescale(&mut BatchLanes::splat);
        let n = seeds.len();
        let want_parents = dparents.is_some();
        let chunk_results: Vec<(Vec<f32>, Vec<[f32; K]>)> = map_chunks(n, |range| {
            // Parameter cotangents add up over the rows; the parents'
            // are each group's own, so they restart at zero.
            let mut lane_total = (lifted.zero_tangent(), [BatchLanes::splat(0.0); K]);
            let mut row_total = (scalar.zero_tangent(), [0.0f32; K]);
            let mut parent_grads = Vec::with_capacity(if want_parents { range.len() } else { 0 });
            let full = range.start + range.len() / LANES * LANES;
            for start in (range.start..full).step_by(LANES) {
                let seed = BatchLanes::from_slice(&seeds[start..]);
                let (_, pullback) = self
                    .rows
                    .function
                    .pullback((&lifted, lanes(parents, start)));
                lane_total.1 = [BatchLanes::splat(0.0); K];
                pullback.pull_into(seed, &mut lane_total);
                if want_parents {
                    let dx = lane_total.1.map(BatchLanes::to_array);
                    parent_grads
                        .extend((0..LANES).map(|lane| core::array::from_fn(|i| dx[i][lane])));
                }
            }
            for row in full..range.end {
                let x: [f32; K] = core::array::from_fn(|i| parents[i][row]);
                let (_, pullback) = self.rows.function.pullback((&scalar, x));
                row_total.1 = [0.0; K];
                pullback.pull_into(seeds[row], &mut row_total);
                if want_parents {
                    parent_grads.push(row_total.1);
                }
            }
            (flatten_totals(&lane_total.0, &row_total.0), parent_grads)
        });
        combine_chunks(&chunk_results, n, dparams, dparents);
    }
}

/// `b + Σ w_i x_i`; parameters `[b, w_1, .., w_k]`.
struct Linear {
    arity: usize,
}

impl MechanismKernel for Linear {
    fn describe(&self) -> String {
        "linear".to_string()
    }

    fn spec(&self) -> Option<MechanismSpec> {
        Some(MechanismSpec::Linear { arity: self.arity })
    }

    fn arity(&self) -> usize {
        self.arity
    }

    fn num_params(&self) -> usize {
        self.arity + 1
    }

    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]) {
        out.fill(params[0]);
        for (weight, column) in params[1..].iter().zip(parents) {
            for (value, x) in out.iter_mut().zip(column.iter()) {
                *value += weight * x;
            }
        }
    }

    /// One pass per chunk: the chunk's errors column by column, then
    /// their squares and their products with each parent summed in lanes.
    fn squared_error(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        weight: f32,
        dparams: Option<&mut [f32]>,
    ) -> f64 {
        let want = dparams.is_some();
        let partial: Vec<(f64, Vec<f32>)> = map_chunks(target.len(), |range| {
            let mut error: Vec<f32> = target[range.clone()]
                .iter()
                .map(|t| params[0] - t)
                .collect();
            for (w, column) in params[1..].iter().zip(parents) {
                for (e, x) in error.iter_mut().zip(&column[range.clone()]) {
                    *e += w * x;
                }
            }
            let squares = f64::from(lane_dot(&error, &error));
            let flat = if want {
                let mut flat = vec![weight * lane_sum(&error)];
                flat.extend(
                    parents
                        .iter()
                        .map(|column| weight * lane_dot(&error, &column[range.clone()])),
                );
                flat
            } else {
                Vec::new()
            };
            (squares, flat)
        });
        add_partials(partial, dparams)
    }

    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        dparents: Option<&mut [f32]>,
    ) {
        dparams[0] += seeds.iter().map(|&s| f64::from(s)).sum::<f64>() as f32;
        for (i, column) in parents.iter().enumerate() {
            let dot: f64 = seeds
                .iter()
                .zip(column.iter())
                .map(|(&s, &x)| f64::from(s) * f64::from(x))
                .sum();
            dparams[i + 1] += dot as f32;
        }
        if let Some(dparents) = dparents {
            let n = seeds.len();
            for i in 0..self.arity {
                for (value, s) in dparents[i * n..(i + 1) * n].iter_mut().zip(seeds) {
                    *value = s * params[i + 1];
                }
            }
        }
    }
}

/// A `1 → H → 1` tanh network: the additive mechanism's building block.
#[derive(crate::Differentiable, Clone, Debug)]
struct Univariate {
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
}

#[differentiable]
fn univariate(p: &Univariate, x: f32) -> f32 {
    let mut out = 0.0;
    for ((w1, b1), w2) in p.w1.iter().zip(p.b1.iter()).zip(p.w2.iter()) {
        out += *w2 * (*w1 * x + *b1).tanh();
    }
    out
}

/// `b + Σ f_i(x_i)`; parameters `[b, net_1.., net_k..]`, each net
/// `[w1 (H), b1 (H), w2 (H)]`.
struct Additive {
    arity: usize,
    hidden: usize,
}

impl Additive {
    fn net_size(&self) -> usize {
        3 * self.hidden
    }

    fn net(&self, params: &[f32], i: usize) -> Univariate {
        let h = self.hidden;
        let start = 1 + i * self.net_size();
        Univariate {
            w1: params[start..start + h].to_vec(),
            b1: params[start + h..start + 2 * h].to_vec(),
            w2: params[start + 2 * h..start + 3 * h].to_vec(),
        }
    }

    /// Net `i`'s `(w1, b1, w2)` within `params`, read in place by the
    /// reverse pass, which is written out by hand for this `1 → H → 1` tanh
    /// network (no per-row tape or tangent allocation; checked against
    /// `univariate::pullback` in the tests below).
    fn net_slices<'p>(&self, params: &'p [f32], i: usize) -> (&'p [f32], &'p [f32], &'p [f32]) {
        let h = self.hidden;
        let start = 1 + i * self.net_size();
        (
            &params[start..start + h],
            &params[start + h..start + 2 * h],
            &params[start + 2 * h..start + 3 * h],
        )
    }

    fn initial(&self, seed: u64) -> Vec<f32> {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut params = vec![0.0f32];
        let scale = 1.0 / (self.hidden as f32).sqrt();
        for _ in 0..self.arity {
            params.extend((0..self.hidden).map(|_| rng.random_range(-1.0f32..1.0)));
            params.extend((0..self.hidden).map(|_| rng.random_range(-0.5f32..0.5)));
            params.extend((0..self.hidden).map(|_| scale * rng.random_range(-1.0f32..1.0)));
        }
        params
    }
}

impl MechanismKernel for Additive {
    fn describe(&self) -> String {
        format!("additive ({} tanh units per parent)", self.hidden)
    }

    fn spec(&self) -> Option<MechanismSpec> {
        Some(MechanismSpec::Additive {
            arity: self.arity,
            hidden: self.hidden,
        })
    }

    fn arity(&self) -> usize {
        self.arity
    }

    fn num_params(&self) -> usize {
        1 + self.arity * self.net_size()
    }

    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]) {
        out.fill(params[0]);
        for (i, column) in parents.iter().enumerate() {
            let net = self.net(params, i);
            out.par_iter_mut()
                .zip(column.par_iter())
                .for_each(|(value, &x)| *value += univariate(&net, x));
        }
    }

    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        mut dparents: Option<&mut [f32]>,
    ) {
        dparams[0] += seeds.iter().map(|&s| f64::from(s)).sum::<f64>() as f32;
        let n = seeds.len();
        let size = self.net_size();
        for (i, column) in parents.iter().enumerate() {
            let start = 1 + i * size;
            let (w1, b1, w2) = self.net_slices(params, i);
            sum_chunks(
                n,
                size,
                &mut dparams[start..start + size],
                |range, local| {
                    let (dw1, rest) = local.split_at_mut(w1.len());
                    let (db1, dw2) = rest.split_at_mut(b1.len());
                    for row in range {
                        let (x, seed) = (column[row], seeds[row]);
                        for h in 0..w1.len() {
                            let t = (w1[h] * x + b1[h]).tanh();
                            let da = seed * w2[h] * (1.0 - t * t);
                            dw1[h] += da * x;
                            db1[h] += da;
                            dw2[h] += seed * t;
                        }
                    }
                },
            );
            if let Some(dparents) = dparents.as_deref_mut() {
                dparents[i * n..(i + 1) * n]
                    .par_iter_mut()
                    .enumerate()
                    .for_each(|(row, value)| {
                        let x = column[row];
                        let slope: f32 = (0..w1.len())
                            .map(|h| {
                                let t = (w1[h] * x + b1[h]).tanh();
                                w2[h] * (1.0 - t * t) * w1[h]
                            })
                            .sum();
                        *value = seeds[row] * slope;
                    });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written reverse pass of the additive mechanism agrees with
    /// the macro-generated pullback of `univariate`, row by row.
    #[test]
    fn the_additive_reverse_pass_matches_the_generated_pullback() {
        let additive = Additive {
            arity: 2,
            hidden: 5,
        };
        let params = additive.initial(7);
        let n = 300;
        let x0: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
        let x1: Vec<f32> = (0..n).map(|i| (i as f32 * 0.13).cos() - 0.5).collect();
        let seeds: Vec<f32> = (0..n).map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0).collect();
        let parents = [x0.as_slice(), x1.as_slice()];
        let mut dparams = vec![0.0f32; additive.num_params()];
        let mut dparents = vec![0.0f32; 2 * n];
        additive.backward(&params, &parents, &seeds, &mut dparams, Some(&mut dparents));

        let mut expected = vec![0.0f64; additive.num_params()];
        expected[0] = seeds.iter().map(|&s| f64::from(s)).sum();
        for (i, column) in parents.iter().enumerate() {
            let net = additive.net(&params, i);
            let start = 1 + i * additive.net_size();
            for row in 0..n {
                let (_, pullback) = univariate::pullback(&net, column[row]);
                let (tangent, dx) = pullback.pull(seeds[row]);
                let mut index = start;
                tangent.for_each_scalar(&mut |value| {
                    expected[index] += f64::from(value);
                    index += 1;
                });
                let got = dparents[i * n + row];
                assert!(
                    (got - dx).abs() <= 1e-5 * (1.0 + dx.abs()),
                    "d x{i}[{row}]: {got} vs {dx}"
                );
            }
        }
        for (k, (&got, &want)) in dparams.iter().zip(&expected).enumerate() {
            assert!(
                (f64::from(got) - want).abs() <= 1e-4 * (1.0 + want.abs()),
                "parameter {k}: {got} vs {want}"
            );
        }
    }
}
