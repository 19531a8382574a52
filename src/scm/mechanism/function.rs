//! Mechanisms from `#[differentiable]` functions: row by row through the
//! generated pullback ([`Mechanism::from_fn`]), or several rows at a time on
//! SIMD lanes for functions generic over `T: Real`
//! ([`Mechanism::from_generic_fn`]).

use std::sync::Arc;

use crate::diff::{DiffFn, Differentiable, Pullback, Rescale, Tangent};
use crate::lanes::BatchLanes;

use super::chunks::{
    add_partials, combine_chunks, flatten_totals, for_each_chunk_mut, map_chunks, CHUNK,
};
use super::{Mechanism, MechanismKernel};

impl Mechanism {
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
        Mechanism::from_kernel(Arc::new(kernel), flat)
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
        Mechanism::from_kernel(Arc::new(LaneKernel { rows }), flat)
    }
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
