//! Gradients with respect to `#[derive(Differentiable)]` parameter structs:
//! a 2-16-1 tanh MLP written as plain loops, methods on `&self`, nested
//! structs and calls that pass sub-structs, checked against finite
//! differences (f64: rel 1e-6, abs 1e-8; f32: rel 1e-2, abs 1e-3).

use causalgrad::check::GradCheck;
use causalgrad::{differentiable, Differentiable, Real, Tangent};
use proptest::prelude::*;

/// The weights of a 2-16-1 tanh network.
#[derive(Differentiable, Clone, Debug)]
struct Mlp<T: Real> {
    w1: [[T; 2]; 16],
    b1: [T; 16],
    w2: [T; 16],
    b2: T,
    #[no_diff]
    hidden: usize,
}

impl<T: Real> Mlp<T> {
    fn from_seed(seed: u64) -> Self {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            T::from_f64(((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5)
        };
        Mlp {
            w1: core::array::from_fn(|_| [next(), next()]),
            b1: core::array::from_fn(|_| next()),
            w2: core::array::from_fn(|_| next()),
            b2: next(),
            hidden: 16,
        }
    }

    #[differentiable]
    fn forward(&self, x2: T, x3: T) -> T {
        let mut out = self.b2;
        for j in 0..self.hidden {
            let h = (self.w1[j][0] * x2 + self.w1[j][1] * x3 + self.b1[j]).tanh();
            out += self.w2[j] * h;
        }
        out
    }
}

#[differentiable]
fn mlp<T: Real>(p: &Mlp<T>, x2: T, x3: T) -> T {
    let mut out = p.b2;
    for (row, (b, w)) in p.w1.iter().zip(p.b1.iter().zip(p.w2.iter())) {
        let h = (row[0] * x2 + row[1] * x3 + *b).tanh();
        out += *w * h;
    }
    out
}

/// Flattens the parameters, then the inputs, into one vector.
fn flat<T: Real + Into<f64>>(p: &Mlp<T>) -> Vec<f64> {
    let mut p = p.clone();
    let mut out = Vec::new();
    p.for_each_scalar_mut(&mut |value| out.push((*value).into()));
    out
}

fn rebuild(template: &Mlp<f64>, values: &[f64]) -> Mlp<f64> {
    let mut p = template.clone();
    let mut index = 0;
    p.for_each_scalar_mut(&mut |value| {
        *value = values[index];
        index += 1;
    });
    p
}

fn check_f64(p: &Mlp<f64>, x2: f64, x3: f64, grad: &MlpTangent<f64>, dx2: f64, dx3: f64) {
    let mut analytic = Vec::new();
    grad.for_each_scalar(&mut |value| analytic.push(value));
    analytic.extend([dx2, dx3]);
    let mut point = flat(p);
    point.extend([x2, x3]);
    let n = point.len() - 2;
    let result = GradCheck::f64().check(
        |v| mlp(&rebuild(p, &v[..n]), v[n], v[n + 1]),
        &point,
        &analytic,
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn mlp_parameter_gradient_matches_finite_differences(
        seed in 0u64..1000, x2 in -2.0f64..2.0, x3 in -2.0f64..2.0,
    ) {
        let p = Mlp::<f64>::from_seed(seed);
        let (value, (grad, dx2, dx3)) = mlp::value_and_grad(&p, x2, x3);
        prop_assert_eq!(value, mlp(&p, x2, x3));
        check_f64(&p, x2, x3, &grad, dx2, dx3);
    }

    #[test]
    fn method_and_free_function_agree(seed in 0u64..1000, x2 in -2.0f64..2.0, x3 in -2.0f64..2.0) {
        let p = Mlp::<f64>::from_seed(seed);
        let (value, (grad, dx2, dx3)) = p.forward_value_and_grad(x2, x3);
        let (expected, (egrad, edx2, edx3)) = mlp::value_and_grad(&p, x2, x3);
        prop_assert!((value - expected).abs() < 1e-12);
        prop_assert!((dx2 - edx2).abs() < 1e-12 && (dx3 - edx3).abs() < 1e-12);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        grad.for_each_scalar(&mut |v| a.push(v));
        egrad.for_each_scalar(&mut |v| b.push(v));
        for (x, y) in a.iter().zip(&b) {
            prop_assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn mlp_f32_gradient_matches_f64(seed in 0u64..1000, x2 in -2.0f64..2.0, x3 in -2.0f64..2.0) {
        let p32 = Mlp::<f32>::from_seed(seed);
        let p64 = Mlp::<f64>::from_seed(seed);
        let (_, (g32, d32, _)) = mlp::value_and_grad(&p32, x2 as f32, x3 as f32);
        let (_, (g64, d64, _)) = mlp::value_and_grad(&p64, x2, x3);
        prop_assert!((f64::from(d32) - d64).abs() < 1e-3 * (1.0 + d64.abs()));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        g32.for_each_scalar(&mut |v| a.push(f64::from(v)));
        g64.for_each_scalar(&mut |v| b.push(v));
        for (x, y) in a.iter().zip(&b) {
            prop_assert!((x - y).abs() < 1e-3 * (1.0 + y.abs()));
        }
    }
}

/// A model made of two networks and a scale.
#[derive(Differentiable, Clone, Debug)]
struct Pair {
    first: Mlp<f64>,
    second: Mlp<f64>,
    scale: f64,
}

#[differentiable]
fn pair(p: &Pair, x: f64) -> f64 {
    let a = mlp(&p.first, x, x * x);
    let b = p.second.forward(a, x);
    p.scale * b
}

#[test]
fn calls_passing_sub_structs_accumulate_into_the_right_fields() {
    let p = Pair {
        first: Mlp::from_seed(1),
        second: Mlp::from_seed(2),
        scale: 1.7,
    };
    let x = 0.4;
    let (value, (grad, dx)) = pair::value_and_grad(&p, x);
    assert_eq!(value, pair(&p, x));
    // d/dscale = b.
    let b = p.second.forward(mlp(&p.first, x, x * x), x);
    assert!((grad.scale - b).abs() < 1e-12);
    // Every parameter against finite differences.
    let mut template = p.clone();
    let mut point = Vec::new();
    template.for_each_scalar_mut(&mut |v| point.push(*v));
    point.push(x);
    let mut analytic = Vec::new();
    grad.for_each_scalar(&mut |v| analytic.push(v));
    analytic.push(dx);
    let n = point.len() - 1;
    let evaluate = |v: &[f64]| {
        let mut q = p.clone();
        let mut index = 0;
        q.for_each_scalar_mut(&mut |value| {
            *value = v[index];
            index += 1;
        });
        pair(&q, v[n])
    };
    if let Err(error) = GradCheck::f64().check(evaluate, &point, &analytic) {
        panic!("{error}");
    }
    assert_eq!(grad.num_scalars(), 2 * (16 * 2 + 16 + 16 + 1) + 1);
}

#[differentiable]
fn weighted_sum(weights: [f64; 3], xs: Vec<f64>) -> f64 {
    let mut total = 0.0;
    for (i, x) in xs.iter().enumerate() {
        total += weights[i % 3] * x * x;
    }
    total
}

#[test]
fn arrays_and_vecs_by_value() {
    let weights = [0.5, -1.0, 2.0];
    let xs = vec![0.1, 0.2, 0.3, 0.4];
    let (_, (dw, dxs)) = weighted_sum::value_and_grad(weights, xs);
    assert_eq!(dw, [0.1 * 0.1 + 0.4 * 0.4, 0.2 * 0.2, 0.3 * 0.3]);
    assert_eq!(
        dxs,
        vec![
            2.0 * 0.5 * 0.1,
            -2.0 * 0.2,
            2.0 * 2.0 * 0.3,
            2.0 * 0.5 * 0.4
        ]
    );
}

/// Two summaries of a point, returned as a struct.
#[derive(Differentiable, Clone, Debug, PartialEq)]
struct Summary {
    mean: f64,
    energy: f64,
}

#[differentiable]
fn summarise(x: f64, y: f64) -> Summary {
    let energy = x * x + y * y;
    Summary {
        mean: (x + y) / 2.0,
        energy,
    }
}

#[test]
fn struct_outputs_take_seeds_of_their_tangent() {
    let (value, pullback) = summarise::pullback(0.5, -1.5);
    assert_eq!(value, summarise(0.5, -1.5));
    let seed = SummaryTangent {
        mean: 1.0,
        energy: 0.0,
    };
    assert_eq!(pullback.pull(seed), (0.5, 0.5));
    let seed = SummaryTangent {
        mean: 0.0,
        energy: 2.0,
    };
    assert_eq!(pullback.pull(seed), (2.0, -6.0));
}
