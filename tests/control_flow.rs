//! Gradients through control flow, loops, aggregates and calls, checked
//! against central finite differences (f64: rel 1e-6, abs 1e-8).

// Index loops are the construct under test.
#![allow(clippy::needless_range_loop)]

use causalgrad::check::GradCheck;
use causalgrad::{differentiable, Real};

fn check(f: impl Fn(&[f64]) -> f64, x: &[f64], g: &[f64]) {
    if let Err(error) = GradCheck::f64().check(f, x, g) {
        panic!("{error}");
    }
}

#[differentiable]
fn branchy(x: f64, y: f64) -> f64 {
    let mut z = x * y;
    if x > 0.5 {
        z *= x.sin();
    } else if y < 0.0 {
        z += y.exp();
    } else {
        z -= x * x;
    }
    let w = if z > 0.0 { z.sqrt() } else { -z };
    w + z
}

#[test]
fn if_else_chains_and_if_expressions() {
    for &(x, y) in &[(0.9, 0.7), (0.2, -0.4), (0.1, 0.3), (-0.3, 2.0)] {
        let (value, (dx, dy)) = branchy::value_and_grad(x, y);
        assert_eq!(value, branchy(x, y));
        check(|v| branchy(v[0], v[1]), &[x, y], &[dx, dy]);
    }
}

#[differentiable]
fn polynomial(coefficients: &[f64], x: f64) -> f64 {
    let mut acc = 0.0;
    for c in coefficients.iter() {
        acc = acc * x + c;
    }
    acc
}

#[test]
fn horner_over_a_slice() {
    let cs = [0.5, -1.0, 2.0, 0.25];
    let (value, (dc, dx)) = polynomial::value_and_grad(&cs, 0.7);
    assert_eq!(value, polynomial(&cs, 0.7));
    let mut g = dc.clone();
    g.push(dx);
    check(
        |v| polynomial(&v[..4], v[4]),
        &[0.5, -1.0, 2.0, 0.25, 0.7],
        &g,
    );
}

#[differentiable]
fn euler<T: Real>(k: T, x0: T, steps: usize) -> T {
    let dt = T::from_f64(0.01);
    let mut x = x0;
    let mut i = 0;
    while i < steps {
        x = x - dt * k * x.sin();
        i += 1;
    }
    x
}

#[test]
fn while_loop_euler() {
    let (value, (dk, dx0)) = euler::value_and_grad(1.3, 0.8, 100);
    assert_eq!(value, euler(1.3, 0.8, 100));
    check(|v| euler(v[0], v[1], 100), &[1.3, 0.8], &[dk, dx0]);
}

#[differentiable]
fn early(x: f64, n: i32) -> f64 {
    let mut acc = x;
    for i in 0..n {
        if acc > 10.0 {
            return acc * 2.0;
        }
        if i % 2 == 0 {
            continue;
        }
        acc = acc * x + 1.0;
    }
    acc.tanh()
}

#[test]
fn early_return_and_continue() {
    for &(x, n) in &[(1.5, 7), (0.3, 5), (3.1, 9), (1.1, 0)] {
        let (value, dx) = early::value_and_grad(x, n);
        assert_eq!(value, early(x, n));
        check(|v| early(v[0], n), &[x], &[dx]);
    }
}

#[differentiable]
fn matched(x: f64, k: u8) -> f64 {
    let y = match k {
        0 => x.sin(),
        1 | 2 => x * x,
        other if other > 10 => x.exp(),
        _ => -x,
    };
    y * x
}

#[test]
fn match_on_integers() {
    for k in [0u8, 1, 2, 11, 5] {
        let (value, dx) = matched::value_and_grad(0.4, k);
        assert_eq!(value, matched(0.4, k));
        check(|v| matched(v[0], k), &[0.4], &[dx]);
    }
}

#[differentiable]
fn nested(xs: &[f64], ys: &[f64]) -> f64 {
    let mut total = 0.0;
    'outer: for (i, (a, b)) in xs.iter().zip(ys.iter()).enumerate() {
        let mut inner = *a;
        for j in 0..3 {
            if inner * b > 5.0 {
                break 'outer;
            }
            if j == i {
                continue;
            }
            inner = inner * b + 0.1;
        }
        total += inner;
    }
    total
}

#[test]
fn nested_loops_with_labels() {
    let xs = [0.5, 1.2, -0.3, 2.0];
    let ys = [1.1, 0.9, 1.7, 3.0];
    let (value, (dxs, dys)) = nested::value_and_grad(&xs, &ys);
    assert_eq!(value, nested(&xs, &ys));
    let mut g = dxs.clone();
    g.extend(dys);
    let mut point = xs.to_vec();
    point.extend(ys);
    check(|v| nested(&v[..4], &v[4..]), &point, &g);
}

#[differentiable]
fn local_array(x: f64, y: f64) -> f64 {
    let mut h = [0.0; 4];
    for j in 0..4 {
        h[j] = (x * (j as f64) + y).tanh();
    }
    let mut out = 0.0;
    for j in 0..4 {
        out += h[j] * h[3 - j];
    }
    out
}

#[test]
fn local_arrays_written_element_wise() {
    let (value, (dx, dy)) = local_array::value_and_grad(0.3, -0.2);
    assert_eq!(value, local_array(0.3, -0.2));
    check(|v| local_array(v[0], v[1]), &[0.3, -0.2], &[dx, dy]);
}

#[differentiable]
fn square(x: f64) -> f64 {
    x * x
}

#[differentiable]
fn calls(x: f64, y: f64) -> f64 {
    let a = square(x) + square(x * y);
    euler(a, y, 3) * polynomial(&[1.0, 2.0], x)
}

#[test]
fn calls_compose_pullbacks() {
    let (value, (dx, dy)) = calls::value_and_grad(0.6, 0.4);
    assert_eq!(value, calls(0.6, 0.4));
    check(|v| calls(v[0], v[1]), &[0.6, 0.4], &[dx, dy]);
}

#[differentiable]
fn two_outputs(x: f64, y: f64) -> (f64, f64) {
    (x * y, x.sin() + y)
}

#[test]
fn tuple_outputs_take_tuple_seeds() {
    let (value, pullback) = two_outputs::pullback(0.3, 0.8);
    assert_eq!(value, two_outputs(0.3, 0.8));
    let (dx, dy) = pullback.pull((1.0, 0.0));
    assert_eq!((dx, dy), (0.8, 0.3));
    let (dx, dy) = pullback.pull((0.0, 2.0));
    assert!((dx - 2.0 * 0.3f64.cos()).abs() < 1e-15 && dy == 2.0);
}

#[differentiable]
fn rosen<T: Real>(x: T, y: T) -> T {
    let a = T::one() - x;
    let b = y - x * x;
    a * a + T::from_f64(100.0) * b * b
}

#[test]
fn hessian_vector_product() {
    let (x, y) = (0.5, 0.2);
    let (hx, hy) = rosen::hvp(x, y, (1.0, 0.0));
    // Hessian of Rosenbrock: [[2 - 400(y - 3x^2), -400x], [-400x, 200]].
    assert!((hx - (2.0 - 400.0 * (y - 3.0 * x * x))).abs() < 1e-9);
    assert!((hy - (-400.0 * x)).abs() < 1e-9);
}

/// `ln(e^a + e^b)`, computed stably; its derivative is written by hand.
fn logaddexp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

#[causalgrad::derivative(of = logaddexp)]
fn logaddexp_vjp(a: f64, b: f64) -> (f64, impl Fn(f64) -> (f64, f64) + Clone) {
    let y = logaddexp(a, b);
    (y, move |g| (g * (a - y).exp(), g * (b - y).exp()))
}

#[differentiable]
fn uses_custom(x: f64, y: f64) -> f64 {
    logaddexp(x * 800.0, y * 800.0) / 800.0 + x
}

#[test]
fn custom_derivatives_are_used_by_callers() {
    // Large arguments: the naive formula would overflow.
    let (value, (dx, dy)) = uses_custom::value_and_grad(1.0, 1.001);
    assert!(value.is_finite() && dx.is_finite() && dy.is_finite());
    check(|v| uses_custom(v[0], v[1]), &[1.0, 1.001], &[dx, dy]);
    let (value, (da, db)) = logaddexp::value_and_grad(0.3, -0.2);
    assert_eq!(value, logaddexp(0.3, -0.2));
    assert!((da + db - 1.0).abs() < 1e-15);
}

#[differentiable]
fn curvy<T: Real>(x: T, y: T, z: T) -> T {
    let mut total = x * y.sin();
    for k in 1..4 {
        total += (x * T::from_f64(f64::from(k)) + z).tanh() * y;
    }
    total + (z * z * x).exp()
}

#[test]
fn hessian_vector_products_match_finite_differences_of_gradients() {
    let point = [0.3, -0.4, 0.2];
    let direction = (0.7, -0.2, 0.5);
    let hv = curvy::hvp(point[0], point[1], point[2], direction);
    let grad = |p: [f64; 3]| curvy::value_and_grad(p[0], p[1], p[2]).1;
    let h = 1e-5;
    let shifted = |sign: f64| {
        grad([
            point[0] + sign * h * direction.0,
            point[1] + sign * h * direction.1,
            point[2] + sign * h * direction.2,
        ])
    };
    let (plus, minus) = (shifted(1.0), shifted(-1.0));
    let fd = (
        (plus.0 - minus.0) / (2.0 * h),
        (plus.1 - minus.1) / (2.0 * h),
        (plus.2 - minus.2) / (2.0 * h),
    );
    for (a, b) in [(hv.0, fd.0), (hv.1, fd.1), (hv.2, fd.2)] {
        assert!(
            (a - b).abs() < 1e-6 * (1.0 + b.abs()),
            "hvp {a} vs finite differences {b}"
        );
    }
}

/// Calls a `#[differentiable]` function of another crate by path, with a
/// parameter struct borrowed from this one.
#[differentiable]
fn cross_crate(p: &causalgrad::models::scm5::X5<f64>, x3: f64, x4: f64) -> f64 {
    let mean = causalgrad::models::scm5::x5_mean(p, [x3, x4]);
    mean * mean
}

#[test]
fn calls_across_crates_compose() {
    use causalgrad::models::scm5::X5;
    let p = X5 {
        f: 2.0,
        g: 0.5,
        h: -0.7,
    };
    let (value, (dp, dx3, dx4)) = cross_crate::value_and_grad(&p, 0.3, 1.1);
    let mean = causalgrad::models::scm5::x5_mean(&p, [0.3, 1.1]);
    assert_eq!(value, mean * mean);
    assert!((dp.h - 2.0 * mean * 1.1).abs() < 1e-12);
    assert!((dx4 - 2.0 * mean * -0.7).abs() < 1e-12);
    check(
        |v| {
            cross_crate(
                &X5 {
                    f: v[0],
                    g: v[1],
                    h: v[2],
                },
                v[3],
                v[4],
            )
        },
        &[2.0, 0.5, -0.7, 0.3, 1.1],
        &[dp.f, dp.g, dp.h, dx3, dx4],
    );
}
