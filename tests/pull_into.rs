//! `Pullback::pull_into`, which adds a pullback's cotangents into a
//! gradient the caller holds, and the stack tapes of loops with a constant
//! trip count: over random points, `pull_into(seed, g)` must leave
//! `g + pull(seed)`, and the gradients must match central finite
//! differences (f64: rel 1e-6, abs 1e-8). The functions cover the shapes the
//! generated code distinguishes: borrowed and by-value aggregates, scalars,
//! loops whose tapes live on the stack (constant trip counts, nested,
//! inclusive, with an early exit) or on the heap (more than 128 entries, a
//! trip count known only at run time), methods and custom derivatives.

// Index loops are the construct under test.
#![allow(clippy::needless_range_loop)]

use causalgrad::check::GradCheck;
use causalgrad::{differentiable, DiffFn, Differentiable, Pullback, Real, Tangent};
use proptest::prelude::*;

/// A tanh layer of eight units on two inputs.
#[derive(Differentiable, Clone, Debug)]
struct Layer<T: Real> {
    w: [[T; 2]; 8],
    b: [T; 8],
    out: [T; 8],
}

impl<T: Real> Layer<T> {
    fn from_values(values: &[f64]) -> Self {
        let mut values = values.iter().map(|&v| T::from_f64(v));
        let mut next = || values.next().expect("enough values");
        Layer {
            w: core::array::from_fn(|_| [next(), next()]),
            b: core::array::from_fn(|_| next()),
            out: core::array::from_fn(|_| next()),
        }
    }

    /// `out . tanh(w x + b)`, as a method.
    #[differentiable]
    fn apply(&self, x0: T, x1: T) -> T {
        let mut total = T::from_f64(0.0);
        for j in 0..8 {
            total += self.out[j] * (self.w[j][0] * x0 + self.w[j][1] * x1 + self.b[j]).tanh();
        }
        total
    }
}

const LAYER_SIZE: usize = 32;

/// A tangent of `p`'s shape holding `values`, in visiting order.
fn tangent_of(p: &Layer<f64>, values: &[f64]) -> LayerTangent<f64> {
    let mut tangent = p.zero_tangent();
    let mut values = values.iter();
    tangent.for_each_scalar_mut(&mut |value| *value = *values.next().expect("enough values"));
    tangent
}

fn flat<G: Tangent<Scalar = f64>>(tangent: &G) -> Vec<f64> {
    let mut values = Vec::new();
    tangent.for_each_scalar(&mut |value| values.push(value));
    values
}

/// A borrowed struct and a by-value array through a constant loop.
#[differentiable]
fn layer<T: Real>(p: &Layer<T>, x: [T; 2]) -> T {
    let mut total = T::from_f64(0.0);
    for j in 0..8 {
        let h = (p.w[j][0] * x[0] + p.w[j][1] * x[1] + p.b[j]).tanh();
        total += p.out[j] * h;
    }
    total
}

/// Nested constant loops (4 x 4 = 16 entries per tape), one inclusive.
#[differentiable]
fn grid<T: Real>(a: [T; 4], b: [T; 4], s: T) -> T {
    let mut total = T::from_f64(0.0);
    for i in 0..4 {
        for j in 0..=3 {
            total += (a[i] * b[j] + s).sin();
        }
    }
    total
}

/// 200 iterations: more than a stack tape holds, so the tapes are on the heap.
#[differentiable]
fn long_run<T: Real>(k: T, x0: T) -> T {
    let mut x = x0;
    for _ in 0..200 {
        x = x - T::from_f64(0.01) * k * x.sin();
    }
    x
}

/// A trip count known only at run time.
#[differentiable]
fn run_time_count<T: Real>(k: T, x0: T, steps: usize) -> T {
    let mut x = x0;
    for _ in 0..steps {
        x = x - T::from_f64(0.01) * k * x.cos();
    }
    x
}

/// A constant loop left early: its exit codes are taped too.
#[differentiable]
fn early_exit<T: Real>(v: [T; 6], limit: T) -> T {
    let mut total = T::from_f64(0.0);
    for i in 0..6 {
        if total > limit {
            break;
        }
        total += v[i] * v[i];
    }
    total * limit
}

/// `x * y`, with a hand-written pullback.
fn product(p: &[f64; 2], y: f64) -> f64 {
    p[0] * p[1] * y
}

#[causalgrad::derivative(of = product)]
fn product_vjp(p: &[f64; 2], y: f64) -> (f64, impl Fn(f64) -> ([f64; 2], f64) + Clone) {
    let (a, b) = (p[0], p[1]);
    (a * b * y, move |g| ([g * b * y, g * a * y], g * a * b))
}

fn check(f: impl Fn(&[f64]) -> f64, x: &[f64], g: &[f64]) {
    if let Err(error) = GradCheck::f64().check(f, x, g) {
        panic!("{error}");
    }
}

/// `pull_into(seed, start)` equals `start + pull(seed)`, element by element.
fn assert_adds<P, G>(pullback: &P, seed: f64, start: G, flatten: impl Fn(&G) -> Vec<f64>)
where
    P: Pullback<Seed = f64, Grad = G>,
    G: Clone,
{
    let mut into = start.clone();
    pullback.pull_into(seed, &mut into);
    let pulled = flatten(&pullback.pull(seed));
    let (start, into) = (flatten(&start), flatten(&into));
    assert_eq!(start.len(), pulled.len());
    for (index, ((s, p), got)) in start.iter().zip(&pulled).zip(&into).enumerate() {
        let want = s + p;
        assert!(
            (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
            "entry {index}: pull_into gave {got}, start + pull gives {want}"
        );
    }
}

fn values(len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1.5f64..1.5, len)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn borrowed_struct_and_array_through_a_constant_loop(
        v in values(LAYER_SIZE + 2), start in values(LAYER_SIZE + 2), seed in -2.0f64..2.0
    ) {
        let p = Layer::<f64>::from_values(&v);
        let x = [v[LAYER_SIZE], v[LAYER_SIZE + 1]];
        let (value, (dp, dx)) = layer::value_and_grad(&p, x);
        prop_assert_eq!(value, layer(&p, x));
        let mut g = flat(&dp);
        g.extend(dx);
        check(
            |w| layer(&Layer::from_values(w), [w[LAYER_SIZE], w[LAYER_SIZE + 1]]),
            &v,
            &g,
        );
        let (_, pullback) = layer::pullback(&p, x);
        let start = (tangent_of(&p, &start), [start[LAYER_SIZE], start[LAYER_SIZE + 1]]);
        assert_adds(&pullback, seed, start, |(p, x)| {
            let mut all = flat(p);
            all.extend(x);
            all
        });
    }

    #[test]
    fn nested_and_inclusive_constant_loops(
        v in values(9), start in values(9), seed in -2.0f64..2.0
    ) {
        let (a, b) = ([v[0], v[1], v[2], v[3]], [v[4], v[5], v[6], v[7]]);
        let (value, (da, db, ds)) = grid::value_and_grad(a, b, v[8]);
        prop_assert_eq!(value, grid(a, b, v[8]));
        let mut g = da.to_vec();
        g.extend(db);
        g.push(ds);
        check(
            |w| grid([w[0], w[1], w[2], w[3]], [w[4], w[5], w[6], w[7]], w[8]),
            &v,
            &g,
        );
        let (_, pullback) = grid::pullback(a, b, v[8]);
        let start = (
            [start[0], start[1], start[2], start[3]],
            [start[4], start[5], start[6], start[7]],
            start[8],
        );
        assert_adds(&pullback, seed, start, |(a, b, s)| {
            let mut all = a.to_vec();
            all.extend(b);
            all.push(*s);
            all
        });
    }

    #[test]
    fn heap_tapes_past_the_stack_bound_and_at_run_time(
        k in 0.1f64..2.0, x0 in -1.5f64..1.5, steps in 0usize..80,
        start in values(2), seed in -2.0f64..2.0
    ) {
        let (value, (dk, dx0)) = long_run::value_and_grad(k, x0);
        prop_assert_eq!(value, long_run(k, x0));
        check(|w| long_run(w[0], w[1]), &[k, x0], &[dk, dx0]);
        let (_, pullback) = long_run::pullback(k, x0);
        assert_adds(&pullback, seed, (start[0], start[1]), |g| vec![g.0, g.1]);

        let (value, (dk, dx0)) = run_time_count::value_and_grad(k, x0, steps);
        prop_assert_eq!(value, run_time_count(k, x0, steps));
        check(|w| run_time_count(w[0], w[1], steps), &[k, x0], &[dk, dx0]);
        let (_, pullback) = run_time_count::pullback(k, x0, steps);
        assert_adds(&pullback, seed, (start[0], start[1]), |g| vec![g.0, g.1]);
    }

    #[test]
    fn constant_loop_with_an_early_exit(
        v in values(6), limit in 0.2f64..3.0, start in values(7), seed in -2.0f64..2.0
    ) {
        let v: [f64; 6] = core::array::from_fn(|i| v[i]);
        let (value, (dv, dlimit)) = early_exit::value_and_grad(v, limit);
        prop_assert_eq!(value, early_exit(v, limit));
        let mut point = v.to_vec();
        point.push(limit);
        let mut g = dv.to_vec();
        g.push(dlimit);
        // Away from the branch points, where the function is smooth.
        let margins = (1..=6).map(|n| (v[..n].iter().map(|x| x * x).sum::<f64>() - limit).abs());
        if margins.fold(f64::INFINITY, f64::min) > 1e-3 {
            check(
                |w| early_exit(core::array::from_fn(|i| w[i]), w[6]),
                &point,
                &g,
            );
        }
        let (_, pullback) = early_exit::pullback(v, limit);
        let start = (core::array::from_fn(|i| start[i]), start[6]);
        assert_adds(&pullback, seed, start, |(v, l): &([f64; 6], f64)| {
            let mut all = v.to_vec();
            all.push(*l);
            all
        });
    }

    #[test]
    fn methods_on_a_borrowed_self(
        v in values(LAYER_SIZE + 2), start in values(LAYER_SIZE + 2), seed in -2.0f64..2.0
    ) {
        let p = Layer::<f64>::from_values(&v);
        let (x0, x1) = (v[LAYER_SIZE], v[LAYER_SIZE + 1]);
        let (value, (dp, d0, d1)) = p.apply_value_and_grad(x0, x1);
        prop_assert_eq!(value, p.apply(x0, x1));
        prop_assert_eq!(value, layer(&p, [x0, x1]));
        let mut g = flat(&dp);
        g.extend([d0, d1]);
        check(
            |w| Layer::from_values(w).apply(w[LAYER_SIZE], w[LAYER_SIZE + 1]),
            &v,
            &g,
        );
        let (_, pullback) = p.apply_pullback(x0, x1);
        let start = (tangent_of(&p, &start), start[LAYER_SIZE], start[LAYER_SIZE + 1]);
        assert_adds(&pullback, seed, start, |(p, a, b)| {
            let mut all = flat(p);
            all.extend([*a, *b]);
            all
        });
    }

    #[test]
    fn custom_derivatives(
        a in -2.0f64..2.0, b in -2.0f64..2.0, y in -2.0f64..2.0,
        start in values(3), seed in -2.0f64..2.0
    ) {
        let (value, (dp, dy)) = product::value_and_grad(&[a, b], y);
        prop_assert_eq!(value, product(&[a, b], y));
        check(|w| product(&[w[0], w[1]], w[2]), &[a, b, y], &[dp[0], dp[1], dy]);
        let p = [a, b];
        let (_, pullback) = product::Function.pullback((&p, y));
        let start = ([start[0], start[1]], start[2]);
        assert_adds(&pullback, seed, start, |(p, y)| vec![p[0], p[1], *y]);
    }
}
