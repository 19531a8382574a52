//! Formula mechanisms: gradients against finite differences over random
//! formulas, against `#[differentiable]` functions written the same way,
//! the fused likelihood passes against forward + backward, and a model
//! file that keeps the formula's text.

use causalgrad::scm::{Mechanism, MechanismKernel, RowLoss};
use causalgrad::{differentiable, Differentiable, Real};
use proptest::prelude::*;

/// Rows of two parents, deterministic, away from zero.
fn columns(n: usize) -> (Vec<f32>, Vec<f32>) {
    (0..n)
        .map(|r| {
            let t = r as f32;
            ((t * 0.731).sin() * 1.8, (t * 0.377 + 1.0).cos() * 1.5 + 0.1)
        })
        .unzip()
}

/// Random formulas over `x1, x2, a, b` from smooth pieces.
fn formula() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x1".to_string()),
        Just("x2".to_string()),
        Just("a".to_string()),
        Just("b".to_string()),
        (-2.0f64..2.0).prop_map(|v| format!("{v:.3}")),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| format!("({l} + {r})")),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| format!("({l} - {r})")),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| format!("{l} * {r}")),
            // Parenthesised: `1 + -b^2` would be `1 - b^2`, which has a pole.
            (inner.clone(), inner.clone()).prop_map(|(l, r)| format!("{l} / (1 + ({r})^2)")),
            inner.clone().prop_map(|e| format!("-{e}")),
            inner.clone().prop_map(|e| format!("({e})^2")),
            inner.clone().prop_map(|e| format!("sin({e})")),
            inner.clone().prop_map(|e| format!("tanh({e})")),
            inner.clone().prop_map(|e| format!("sigmoid({e})")),
            inner.clone().prop_map(|e| format!("softplus({e})")),
            inner.clone().prop_map(|e| format!("atan({e})")),
            inner.clone().prop_map(|e| format!("exp(-({e})^2)")),
            inner.clone().prop_map(|e| format!("sqrt(1 + ({e})^2)")),
            (inner.clone(), inner).prop_map(|(l, r)| format!("hypot({l}, 0.5 + ({r})^2)")),
        ]
    })
}

/// `Σ_r seed_r · mean_r` in f64 for finite differences.
fn weighted(mechanism: &Mechanism, params: &[f32], parents: &[&[f32]], seeds: &[f32]) -> f64 {
    let mut mean = vec![0.0f32; seeds.len()];
    mechanism.kernel().forward(params, parents, &mut mean);
    mean.iter()
        .zip(seeds)
        .map(|(m, s)| f64::from(*m) * f64::from(*s))
        .sum()
}

/// Central difference of `f` at `x`, step scaled to `x`.
fn difference(f: impl Fn(f32) -> f64, x: f32) -> f64 {
    let h = 1e-2 * (1.0 + x.abs());
    (f(x + h) - f(x - h)) / f64::from(2.0 * h)
}

fn close(analytic: f64, numeric: f64, scale: f64) -> bool {
    (analytic - numeric).abs() <= 2e-2 * analytic.abs().max(numeric.abs()) + 2e-3 * scale
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn gradients_match_finite_differences(text in formula(), a in -1.0f32..1.0, b in -1.0f32..1.0) {
        let mechanism = Mechanism::formula(&text, &["x1", "x2"], &[("a", a), ("b", b)]).unwrap();
        let (x1, x2) = columns(3);
        let seeds = [0.7f32, -1.3, 0.4];
        let params = [a, b];
        let mut dparams = vec![0.0f32; 2];
        let mut dparents = vec![0.0f32; 6];
        mechanism.kernel().backward(&params, &[&x1, &x2], &seeds, &mut dparams, Some(&mut dparents));
        let scale = seeds.len() as f64;
        for j in 0..2 {
            let numeric = difference(|v| {
                let mut p = params;
                p[j] = v;
                weighted(&mechanism, &p, &[&x1, &x2], &seeds)
            }, params[j]);
            prop_assert!(close(f64::from(dparams[j]), numeric, scale), "{text}: d/dparam {j} = {} vs {numeric}", dparams[j]);
        }
        for row in 0..3 {
            for (i, column) in [&x1, &x2].into_iter().enumerate() {
                let numeric = difference(|v| {
                    let mut moved = column.clone();
                    moved[row] = v;
                    let parents: [&[f32]; 2] = if i == 0 { [&moved, &x2] } else { [&x1, &moved] };
                    weighted(&mechanism, &params, &parents, &seeds)
                }, column[row]);
                let analytic = f64::from(dparents[i * 3 + row]);
                prop_assert!(close(analytic, numeric, 1.0), "{text}: d/d{} row {row} = {analytic} vs {numeric}", ["x1", "x2"][i]);
            }
        }
    }
}

#[derive(Differentiable, Clone, Debug)]
struct Abc<T: Real> {
    a: T,
    b: T,
    c: T,
}

#[differentiable]
fn x2_mean<T: Real>(p: &Abc<T>, x: [T; 1]) -> T {
    p.a * x[0] + p.b * (p.c * x[0]).tanh()
}

#[differentiable]
fn x3_mean<T: Real>(p: &Abc<T>, x: [T; 2]) -> T {
    p.a * x[0] * x[1] + p.b * x[1].sin() + p.c
}

#[differentiable]
fn bump<T: Real>(p: &Abc<T>, x: [T; 2]) -> T {
    p.a * (-(p.b * x[0] * x[0])).exp() + p.c * x[1]
}

#[differentiable]
fn gates<T: Real>(p: &Abc<T>, x: [T; 2]) -> T {
    p.a * (p.b * x[0]).sigmoid() + (p.c + x[1]).softplus() / (T::one() + x[0].powi(2))
}

#[differentiable]
fn elementary<T: Real>(p: &Abc<T>, x: [T; 2]) -> T {
    p.a * x[0].atan2(x[1] + T::from_f64(3.0)) + p.b.hypot(x[1]) * x[0].cos()
        - (p.c * x[1]).max(x[0]) * (x[0] * x[0] + T::one()).ln()
        + x[1].abs().sqrt() * p.a.powf(T::from_f64(2.0))
}

/// The same function as a formula and as a `#[differentiable]` one: equal
/// means, parameter gradients and parent gradients.
fn agree(formula: &str, inputs: &[&str], macro_made: Mechanism) {
    let params = [0.8f32, 1.4, -0.6];
    let n = 1100; // two chunks, and a partial group of lanes
    let (x1, x2) = columns(n);
    let parents: Vec<&[f32]> = [&x1[..], &x2[..]][..inputs.len()].to_vec();
    let named: Vec<(&str, f32)> = ["a", "b", "c"].into_iter().zip(params).collect();
    let written = Mechanism::formula(formula, inputs, &named).unwrap();
    let (mut ma, mut mb) = (vec![0.0; n], vec![0.0; n]);
    written.kernel().forward(&params, &parents, &mut ma);
    macro_made.kernel().forward(&params, &parents, &mut mb);
    for (a, b) in ma.iter().zip(&mb) {
        assert!(
            (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
            "{formula}: {a} vs {b}"
        );
    }
    let seeds: Vec<f32> = (0..n).map(|r| ((r as f32) * 0.13).cos()).collect();
    let k = inputs.len();
    let (mut pa, mut pb) = (vec![0.0; 3], vec![0.0; 3]);
    let (mut da, mut db) = (vec![0.0; k * n], vec![0.0; k * n]);
    written
        .kernel()
        .backward(&params, &parents, &seeds, &mut pa, Some(&mut da));
    macro_made
        .kernel()
        .backward(&params, &parents, &seeds, &mut pb, Some(&mut db));
    for (a, b) in pa.iter().zip(&pb) {
        assert!(
            (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
            "{formula}: dparams {pa:?} vs {pb:?}"
        );
    }
    for (a, b) in da.iter().zip(&db) {
        assert!(
            (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
            "{formula}: dparents {a} vs {b}"
        );
    }
}

#[test]
fn formulas_agree_with_the_macro() {
    let p = Abc {
        a: 0.0f32,
        b: 0.0,
        c: 0.0,
    };
    agree(
        "a * x1 + b * tanh(c * x1)",
        &["x1"],
        Mechanism::from_generic_fn(x2_mean::Function, p.clone()),
    );
    agree(
        "a * x1 * x2 + b * sin(x2) + c",
        &["x1", "x2"],
        Mechanism::from_generic_fn(x3_mean::Function, p.clone()),
    );
    agree(
        "a * exp(-b * x1^2) + c * x2",
        &["x1", "x2"],
        Mechanism::from_generic_fn(bump::Function, p.clone()),
    );
    agree(
        "a * sigmoid(b * x1) + softplus(c + x2) / (1 + powi(x1, 2))",
        &["x1", "x2"],
        Mechanism::from_generic_fn(gates::Function, p.clone()),
    );
    agree(
        "a * atan2(x1, x2 + 3) + hypot(b, x2) * cos(x1) - max(c * x2, x1) * ln(x1 * x1 + 1) + sqrt(abs(x2)) * pow(a, 2)",
        &["x1", "x2"],
        Mechanism::from_fn(elementary::Function, p),
    );
}

/// The fused passes (squared error, a row-wise likelihood) give what
/// forward + backward give, on a two-output formula too.
#[test]
fn fused_passes_match_forward_and_backward() {
    let mechanism = Mechanism::formula(
        "a * exp(-b * x1^2) + c * if(x2 > 0, x2, sqrt(-x2) - 1)",
        &["x1", "x2"],
        &[("a", 2.0), ("b", 0.5), ("c", -0.7)],
    )
    .unwrap();
    let kernel = mechanism.kernel();
    let params = mechanism.params().to_vec();
    let n = 2100;
    let (x1, x2) = columns(n);
    let target: Vec<f32> = x1.iter().map(|v| v * 0.3 + 1.0).collect();
    let mut mean = vec![0.0; n];
    kernel.forward(&params, &[&x1, &x2], &mut mean);
    let weight = 0.37f32;
    let seeds: Vec<f32> = mean
        .iter()
        .zip(&target)
        .map(|(m, t)| weight * (m - t))
        .collect();
    let mut expected = vec![0.0; 3];
    kernel.backward(&params, &[&x1, &x2], &seeds, &mut expected, None);
    let mut fused = vec![0.0; 3];
    let squares = kernel.squared_error(&params, &[&x1, &x2], &target, weight, Some(&mut fused));
    let direct: f64 = mean
        .iter()
        .zip(&target)
        .map(|(m, t)| f64::from(m - t).powi(2))
        .sum();
    assert!((squares - direct).abs() <= 1e-4 * direct);
    for (a, b) in fused.iter().zip(&expected) {
        assert!(
            (a - b).abs() <= 1e-3 * (1.0 + b.abs()),
            "{fused:?} vs {expected:?}"
        );
        assert!(a.is_finite());
    }
    // A Laplace-like loss with one parameter of its own.
    let f = |means: &[f32], targets: &[f32], seeds: &mut [f32], d: &mut [f64]| {
        let mut total = 0.0;
        for ((&m, &t), seed) in means.iter().zip(targets).zip(seeds.iter_mut()) {
            let e = f64::from(m - t);
            d[0] += e.abs();
            total += e.abs();
            *seed = (m - t).signum();
        }
        total
    };
    let loss = RowLoss { f: &f, params: 1 };
    let mut fused = vec![0.0; 3];
    let (total, d_loss) = kernel.row_loss(&params, &[&x1, &x2], &target, &loss, Some(&mut fused));
    let seeds: Vec<f32> = mean
        .iter()
        .zip(&target)
        .map(|(m, t)| (m - t).signum())
        .collect();
    let mut expected = vec![0.0; 3];
    kernel.backward(&params, &[&x1, &x2], &seeds, &mut expected, None);
    let direct: f64 = mean
        .iter()
        .zip(&target)
        .map(|(m, t)| f64::from(m - t).abs())
        .sum();
    assert!((total - direct).abs() <= 1e-4 * direct && (d_loss[0] - direct).abs() <= 1e-4 * direct);
    for (a, b) in fused.iter().zip(&expected) {
        assert!(
            (a - b).abs() <= 1e-3 * (1.0 + b.abs()),
            "{fused:?} vs {expected:?}"
        );
    }
    let two = Mechanism::formulas(
        &["a * x1", "b + c * x2"],
        &["x1", "x2"],
        &[("a", 2.0), ("b", 1.0), ("c", 3.0)],
    )
    .unwrap();
    assert_eq!(two.outputs(), 2);
    let mut out = vec![0.0; 2 * n];
    two.forward(&[&x1, &x2], &mut out);
    assert_eq!(out[5], 2.0 * x1[5]);
    assert_eq!(out[n + 1500], 1.0 + 3.0 * x2[1500]);
}

/// The kernel's trait is object-safe and public: a formula is one more
/// kernel behind `Arc<dyn MechanismKernel>`.
#[test]
fn a_formula_describes_itself_and_keeps_its_spec() {
    let mechanism = Mechanism::formula("a * x1", &["x1"], &[("a", 1.0)]).unwrap();
    let kernel: &dyn MechanismKernel = mechanism.kernel().as_ref();
    assert_eq!(kernel.describe(), "formula a * x1");
    assert!(!mechanism.reads_standardized_units());
    assert!(mechanism.spec().is_some());
}
