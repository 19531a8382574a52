//! Gradients of composite functions, compared with derivatives worked out by
//! hand (the formulas are written out in each test, not finite differences),
//! plus one property test of a longer function against finite differences.
//!
//! Tolerances:
//!
//! - hand-derived, `f64`: `assert_relative_eq!(.., epsilon = 1e-12,
//!   max_relative = 1e-12)` (the generated code and the formula round
//!   differently, nothing else);
//! - hand-derived, `f32`: `epsilon = 1e-5, max_relative = 1e-5`;
//! - zero gradients and exact identities: `assert_eq!`;
//! - finite differences: `GradCheck::f64()` (step `6e-6`, rel `1e-6`, abs
//!   `1e-8`); the `f32` gradient of the long function is compared with its
//!   `f64` gradient at `epsilon = 1e-3, max_relative = 1e-3`.

use approx::assert_relative_eq;
use causalgrad::check::GradCheck;
use causalgrad::{differentiable, no_grad, stop_gradient, DiffFn, Pullback, Real};
use proptest::prelude::*;

/// `assert_relative_eq!` with the `f64` tolerances above.
macro_rules! close64 {
    ($a:expr, $b:expr) => {
        assert_relative_eq!($a, $b, epsilon = 1e-12, max_relative = 1e-12)
    };
}

/// `assert_relative_eq!` with the `f32` tolerances above.
macro_rules! close32 {
    ($a:expr, $b:expr) => {
        assert_relative_eq!($a, $b, epsilon = 1e-5, max_relative = 1e-5)
    };
}

const POINTS5: [[f64; 5]; 4] = [
    [2.0, 0.5, -0.7, 0.3, 1.1],
    [-1.3, 1.7, 0.4, -1.2, 0.0],
    [0.25, -0.3, 3.0, 2.0, -2.5],
    [1.0, 0.0, 1.0, 0.0, 1.0],
];

// ---------------------------------------------------------------------------
// The causal mechanism f * exp(-g * x3^2) + h * x4
// ---------------------------------------------------------------------------

#[differentiable]
fn mechanism<T: Real>(f: T, g: T, h: T, x3: T, x4: T) -> T {
    f * (-g * x3 * x3).exp() + h * x4
}

#[differentiable(wrt(f, g, h))]
fn mechanism_params<T: Real>(f: T, g: T, h: T, x3: T, x4: T) -> T {
    f * (-g * x3 * x3).exp() + h * x4
}

/// The hand-derived gradient (df, dg, dh, dx3, dx4) with e = exp(-g x3^2):
/// df = e, dg = -f x3^2 e, dh = x4, dx3 = -2 f g x3 e, dx4 = h.
fn mechanism_grad([f, g, h, x3, x4]: [f64; 5]) -> [f64; 5] {
    let e = (-g * x3 * x3).exp();
    [e, -f * x3 * x3 * e, x4, -2.0 * f * g * x3 * e, h]
}

#[test]
fn mechanism_all_arguments_active() {
    for p in POINTS5 {
        let [f, g, h, x3, x4] = p;
        let (y, (df, dg, dh, dx3, dx4)) = mechanism::value_and_grad(f, g, h, x3, x4);
        assert_eq!(y, mechanism(f, g, h, x3, x4));
        let want = mechanism_grad(p);
        close64!(df, want[0]);
        close64!(dg, want[1]);
        close64!(dh, want[2]);
        close64!(dx3, want[3]);
        close64!(dx4, want[4]);
    }
}

#[test]
fn mechanism_all_arguments_active_f32() {
    for p in POINTS5 {
        let q = p.map(|v| v as f32);
        let (y, (df, dg, dh, dx3, dx4)) = mechanism::value_and_grad(q[0], q[1], q[2], q[3], q[4]);
        assert_eq!(y, mechanism(q[0], q[1], q[2], q[3], q[4]));
        let want = mechanism_grad(q.map(f64::from)).map(|v| v as f32);
        close32!(df, want[0]);
        close32!(dg, want[1]);
        close32!(dh, want[2]);
        close32!(dx3, want[3]);
        close32!(dx4, want[4]);
    }
}

#[test]
fn mechanism_parameters_only() {
    for p in POINTS5 {
        let [f, g, h, x3, x4] = p;
        let (y, (df, dg, dh)) = mechanism_params::value_and_grad(f, g, h, x3, x4);
        assert_eq!(y, mechanism_params(f, g, h, x3, x4));
        let want = mechanism_grad(p);
        close64!(df, want[0]);
        close64!(dg, want[1]);
        close64!(dh, want[2]);
    }
}

#[test]
fn mechanism_pullback_scales_the_hand_gradient() {
    let p = POINTS5[0];
    let [f, g, h, x3, x4] = p;
    let want = mechanism_grad(p);
    let (y, pb) = mechanism::pullback(f, g, h, x3, x4);
    assert_eq!(y, mechanism(f, g, h, x3, x4));
    for seed in [1.0, -2.0, 0.125, 10.0] {
        let (df, dg, dh, dx3, dx4) = pb.pull(seed);
        close64!(df, seed * want[0]);
        close64!(dg, seed * want[1]);
        close64!(dh, seed * want[2]);
        close64!(dx3, seed * want[3]);
        close64!(dx4, seed * want[4]);
    }
    let (_, pb) = mechanism_params::pullback(f, g, h, x3, x4);
    let (df, dg, dh) = pb.pull(-3.0);
    close64!(df, -3.0 * want[0]);
    close64!(dg, -3.0 * want[1]);
    close64!(dh, -3.0 * want[2]);
}

// ---------------------------------------------------------------------------
// Rosenbrock (a - x)^2 + b (y - x^2)^2 with a, b held constant
// ---------------------------------------------------------------------------

#[differentiable(wrt(x, y))]
fn rosenbrock(x: f64, y: f64, a: f64, b: f64) -> f64 {
    (a - x) * (a - x) + b * (y - x * x) * (y - x * x)
}

#[differentiable(wrt(x, y))]
fn rosenbrock_powi<T: Real>(x: T, y: T, a: T, b: T) -> T {
    (a - x).powi(2) + b * (y - x * x).powi(2)
}

/// d/dx = -2 (a - x) - 4 b x (y - x^2),  d/dy = 2 b (y - x^2).
fn rosenbrock_grad(x: f64, y: f64, a: f64, b: f64) -> (f64, f64) {
    (
        -2.0 * (a - x) - 4.0 * b * x * (y - x * x),
        2.0 * b * (y - x * x),
    )
}

#[test]
fn rosenbrock_matches_the_hand_gradient() {
    for (x, y) in [
        (-1.2, 1.0),
        (0.0, 0.0),
        (2.0, 3.5),
        (0.5, -0.25),
        (1.1, 1.2),
    ] {
        for (a, b) in [(1.0, 100.0), (2.0, 0.5)] {
            let (value, (dx, dy)) = rosenbrock::value_and_grad(x, y, a, b);
            assert_eq!(value, rosenbrock(x, y, a, b));
            let (wx, wy) = rosenbrock_grad(x, y, a, b);
            close64!(dx, wx);
            close64!(dy, wy);

            let (value, (dx, dy)) = rosenbrock_powi::value_and_grad(x, y, a, b);
            assert_eq!(value, rosenbrock_powi(x, y, a, b));
            close64!(dx, wx);
            close64!(dy, wy);
        }
    }
}

#[test]
fn rosenbrock_gradient_vanishes_at_the_minimum() {
    // The minimum is (a, a^2); every term of the gradient is exactly zero.
    assert_eq!(
        rosenbrock::value_and_grad(1.0, 1.0, 1.0, 100.0),
        (0.0, (0.0, 0.0))
    );
    assert_eq!(
        rosenbrock::value_and_grad(1.5, 2.25, 1.5, 100.0),
        (0.0, (0.0, 0.0))
    );
    let (value, (dx, dy)) = rosenbrock_powi::value_and_grad(1.0f32, 1.0, 1.0, 100.0);
    assert_eq!((value, dx, dy), (0.0, 0.0, 0.0));
}

// ---------------------------------------------------------------------------
// Mutation, compound assignment, nested blocks, shadowing
// ---------------------------------------------------------------------------

#[differentiable]
fn stateful(x: f64, y: f64) -> f64 {
    let mut acc = x * y; // x y
    acc += x; // x y + x
    acc -= 0.5 * y; // x y + x - y/2
    acc *= x; // x^2 y + x^2 - x y/2
    acc /= y; // A = x^2 + x^2/y - x/2
    let sq = {
        let t: f64 = acc - x; // t = A - x
        t * t
    };
    let mut out = acc;
    out = out.sin() + sq; // sin(A) + t^2
    out
}

#[test]
fn stateful_matches_the_hand_gradient() {
    for (x, y) in [(1.3, 0.7), (-0.4, 2.5), (2.0, -1.5), (0.1, 0.3)] {
        let a = x * x + x * x / y - x / 2.0;
        let a_x = 2.0 * x + 2.0 * x / y - 0.5;
        let a_y = -x * x / (y * y);
        let t = a - x;
        // out = sin(A) + (A - x)^2
        let want_x = a.cos() * a_x + 2.0 * t * (a_x - 1.0);
        let want_y = a.cos() * a_y + 2.0 * t * a_y;
        let (value, (dx, dy)) = stateful::value_and_grad(x, y);
        assert_eq!(value, stateful(x, y));
        close64!(value, a.sin() + t * t);
        close64!(dx, want_x);
        close64!(dy, want_y);
    }
}

#[differentiable]
fn shadowed(x: f64, y: f64) -> f64 {
    let x = x * 2.0; // 2x
    let y = x.sin() * y; // sin(2x) y
    let x = x + y; // 2x + sin(2x) y
    x * y
}

#[test]
fn shadowing_matches_the_hand_gradient() {
    for (x, y) in [(0.3, 1.5), (-1.1, 0.2), (2.4, -0.9)] {
        // out = (2x + s y) s y = 2 x s y + s^2 y^2 with s = sin 2x, c = cos 2x.
        let (s, c) = ((2.0 * x).sin(), (2.0 * x).cos());
        let want_x = 2.0 * s * y + 4.0 * x * c * y + 4.0 * s * c * y * y;
        let want_y = 2.0 * x * s + 2.0 * s * s * y;
        let (value, (dx, dy)) = shadowed::value_and_grad(x, y);
        assert_eq!(value, shadowed(x, y));
        close64!(dx, want_x);
        close64!(dy, want_y);
    }
}

// ---------------------------------------------------------------------------
// An integer argument used as an exponent
// ---------------------------------------------------------------------------

#[differentiable]
fn int_power<T: Real>(x: T, n: i32) -> T {
    let m = n + 1;
    x.powi(n) + T::from_f64(3.0) * x.powi(m) - x.powi(2 * n) + x * T::from_f64(f64::from(n))
}

#[test]
fn integer_exponent_matches_the_hand_gradient() {
    for n in -2..=4 {
        for x in [1.3f64, -0.7, 0.5, 2.0] {
            // d/dx = n x^(n-1) + 3 (n+1) x^n - 2n x^(2n-1) + n
            let nf = f64::from(n);
            let want = nf * x.powi(n - 1) + 3.0 * (nf + 1.0) * x.powi(n)
                - 2.0 * nf * x.powi(2 * n - 1)
                + nf;
            let (value, dx) = int_power::value_and_grad(x, n);
            assert_eq!(value, int_power(x, n));
            close64!(dx, want);
            // The pullback and DiffFn see the integer too.
            close64!(int_power::pullback(x, n).1.pull(2.0), 2.0 * want);
            close64!(int_power::Function.value_and_grad((x, n)).1, want);
        }
    }
    let (_, dx) = int_power::value_and_grad(1.5f32, 3);
    close32!(
        dx,
        3.0 * 1.5f32.powi(2) + 12.0 * 1.5f32.powi(3) - 6.0 * 1.5f32.powi(5) + 3.0
    );
}

// ---------------------------------------------------------------------------
// Stopped gradients
// ---------------------------------------------------------------------------

#[differentiable]
fn detached(x: f64, y: f64) -> f64 {
    x * no_grad(x * y) + stop_gradient(y.exp()) * y + causalgrad::no_grad(x.floor())
}

#[test]
fn no_grad_values_are_constants() {
    for (x, y) in [(1.7, 0.4), (-2.3, 1.1), (0.5, -0.8)] {
        // With c1 = x y and c2 = e^y held constant: d/dx = c1, d/dy = c2.
        let (value, (dx, dy)) = detached::value_and_grad(x, y);
        assert_eq!(value, detached(x, y));
        close64!(value, x * x * y + y.exp() * y + x.floor());
        close64!(dx, x * y);
        close64!(dy, y.exp());
    }
}

// ---------------------------------------------------------------------------
// An active argument the output does not depend on
// ---------------------------------------------------------------------------

#[differentiable]
fn ignores_second(x: f64, _unused: f64) -> f64 {
    x.sin()
}

#[differentiable]
fn cancels_second<T: Real>(x: T, y: T) -> T {
    let z = y;
    x.sin() + (y - z) + no_grad(y) * x
}

#[test]
fn independent_argument_has_exactly_zero_gradient() {
    for (x, y) in [(0.3, 4.0), (-1.2, -7.5), (2.0, 0.0)] {
        let (value, (dx, dy)) = ignores_second::value_and_grad(x, y);
        assert_eq!(value, x.sin());
        assert_eq!(dx, x.cos());
        assert_eq!(dy, 0.0);
        assert_eq!(ignores_second::pullback(x, y).1.pull(5.0).1, 0.0);

        // d/dx = cos x + y (y held constant in the last term), d/dy = 1 - 1 = 0.
        let (value, (dx, dy)) = cancels_second::value_and_grad(x, y);
        assert_eq!(value, cancels_second(x, y));
        close64!(dx, x.cos() + y);
        assert_eq!(dy, 0.0);
        let (_, (_, dy32)) = cancels_second::value_and_grad(x as f32, y as f32);
        assert_eq!(dy32, 0.0);
    }
}

// ---------------------------------------------------------------------------
// Generic code through DiffFn and Pullback
// ---------------------------------------------------------------------------

#[differentiable]
fn softplus_scaled<T: Real>(a: T, x: T) -> T {
    a * (T::from_f64(1.0) + x.exp()).ln()
}

/// d/da = ln(1 + e^x), d/dx = a e^x / (1 + e^x).
fn softplus_scaled_grad(a: f64, x: f64) -> (f64, f64) {
    (x.exp().ln_1p(), a * x.exp() / (1.0 + x.exp()))
}

fn value_and_grad_via<Args, D: DiffFn<Args>>(d: &D, args: Args) -> (D::Output, D::Grad) {
    d.value_and_grad(args)
}

fn pull_via<Args, D: DiffFn<Args>>(d: &D, args: Args, seed: D::Output) -> D::Grad {
    let (_, pullback) = d.pullback(args);
    Pullback::pull(&pullback, seed)
}

#[test]
fn generic_function_through_diff_fn() {
    for (a, x) in [(2.0, 0.5), (-0.7, -1.5), (1.0, 3.0)] {
        let (wa, wx) = softplus_scaled_grad(a, x);

        let (value, (da, dx)) = softplus_scaled::Function.value_and_grad((a, x));
        assert_eq!(value, softplus_scaled(a, x));
        assert_eq!(
            softplus_scaled::Function.call((a, x)),
            softplus_scaled(a, x)
        );
        close64!(da, wa);
        close64!(dx, wx);

        let (_, (da, dx)) = value_and_grad_via(&softplus_scaled::Function, (a, x));
        close64!(da, wa);
        close64!(dx, wx);

        let (da, dx) = pull_via(&softplus_scaled::Function, (a, x), -0.5);
        close64!(da, -0.5 * wa);
        close64!(dx, -0.5 * wx);

        // The same Function value at f32.
        let (value, (da, dx)) = softplus_scaled::Function.value_and_grad((a as f32, x as f32));
        assert_eq!(value, softplus_scaled(a as f32, x as f32));
        close32!(da, wa as f32);
        close32!(dx, wx as f32);
        let (da, dx) = pull_via(&softplus_scaled::Function, (a as f32, x as f32), 2.0);
        close32!(da, 2.0 * wa as f32);
        close32!(dx, 2.0 * wx as f32);
    }
}

#[test]
fn function_values_are_copy_and_pullbacks_are_reusable() {
    let (wa, wx) = softplus_scaled_grad(1.5, 0.25);
    // The Function value is Copy; the pullback is Clone and reusable.
    let function = softplus_scaled::Function;
    let copy = function;
    let (_, (da, dx)) = function.value_and_grad((1.5, 0.25));
    close64!(da, wa);
    close64!(dx, wx);
    let (_, pullback) = copy.pullback((1.5, 0.25));
    let again = pullback.clone();
    assert_eq!(Pullback::pull(&pullback, 3.0), Pullback::pull(&again, 3.0));
    close64!(Pullback::pull(&again, 3.0).0, 3.0 * wa);
}

// ---------------------------------------------------------------------------
// A longer function against finite differences
// ---------------------------------------------------------------------------

/// 25 primitive operations over every kind of step.
#[differentiable]
fn long_chain<T: Real>(x: T, y: T, z: T) -> T {
    let one = T::from_f64(1.0);
    let a = x * y + z.sin(); // 3
    let b = (a * a + one).ln(); // 6
    let c = y.exp() / (one + z * z); // 10
    let d = x.atan2(y.hypot(z) + one); // 13
    let e = (b * c).tanh() - d.cos() * (x * x + one).sqrt(); // 21
    e * x.mul_add(y, z).sinh() + b / c // 25
}

/// `relative_eq!` at the hand-derived `f64` tolerances, for `prop_assert!`.
fn close(a: f64, b: f64) -> bool {
    approx::relative_eq!(a, b, epsilon = 1e-12, max_relative = 1e-12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn long_chain_matches_finite_differences_f64(
        x in -2.0f64..2.0,
        y in -2.0f64..2.0,
        z in -2.0f64..2.0,
    ) {
        let (value, (dx, dy, dz)) = long_chain::value_and_grad(x, y, z);
        prop_assert_eq!(value, long_chain(x, y, z));
        let report = GradCheck::f64()
            .check(|v| long_chain(v[0], v[1], v[2]), &[x, y, z], &[dx, dy, dz]);
        prop_assert!(report.is_ok(), "{}", report.unwrap_err());
    }

    #[test]
    fn long_chain_f32_matches_the_f64_gradient(
        x in -2.0f32..2.0,
        y in -2.0f32..2.0,
        z in -2.0f32..2.0,
    ) {
        // Finite differences in f32 are too noisy for this function (the
        // terms cancel), so the f32 gradient is compared with the f64 one,
        // which the test above checks against finite differences:
        // epsilon 1e-3, max_relative 1e-3 (1e-4 held over 10^6 cases).
        let (value, (dx, dy, dz)) = long_chain::value_and_grad(x, y, z);
        prop_assert_eq!(value, long_chain(x, y, z));
        let (_, (wx, wy, wz)) =
            long_chain::value_and_grad(f64::from(x), f64::from(y), f64::from(z));
        for (got, want) in [(dx, wx), (dy, wy), (dz, wz)] {
            prop_assert!(
                approx::relative_eq!(f64::from(got), want, epsilon = 1e-3, max_relative = 1e-3),
                "f32 gradient {} vs f64 gradient {}", got, want
            );
        }
    }

    #[test]
    fn long_chain_pullback_is_linear_in_the_seed(
        x in -2.0f64..2.0,
        y in -2.0f64..2.0,
        z in -2.0f64..2.0,
        s in -5.0f64..5.0,
    ) {
        let (_, (dx, dy, dz)) = long_chain::value_and_grad(x, y, z);
        let (_, pb) = long_chain::pullback(x, y, z);
        let (px, py, pz) = pb.pull(s);
        prop_assert!(close(px, s * dx));
        prop_assert!(close(py, s * dy));
        prop_assert!(close(pz, s * dz));
    }
}
