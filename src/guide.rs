//! # A guide to `#[differentiable]`, construct by construct
//!
//! Every example below is compiled and run by `cargo test --doc`.
//!
//! ## Straight-line code
//!
//! `let`, reassignment, `+= -= *= /=`, blocks and the elementary functions.
//! Float arguments are active unless `wrt(..)` names the active ones;
//! integers, bools and strings are constants. Anything that does not
//! depend on an active value is evaluated as written.
//!
//! ```
//! use causalgrad::{differentiable, no_grad};
//!
//! #[differentiable(wrt(x))]
//! fn f(x: f64, scale: f64, n: i32) -> f64 {
//!     let mut y = x.powi(n) * scale;
//!     y += { let t = x.sin(); t * t };
//!     y / no_grad(x.abs() + 1.0) // the denominator is held constant
//! }
//! let (value, dx) = f::value_and_grad(0.5, 2.0, 3);
//! assert_eq!(value, f(0.5, 2.0, 3));
//! let expected = (3.0 * 0.25 * 2.0 + 2.0 * 0.5f64.sin() * 0.5f64.cos()) / 1.5;
//! assert!((dx - expected).abs() < 1e-12);
//! ```
//!
//! ## Branches: `if`, `else if`, `if` as a value, `match`
//!
//! Conditions may read active values (they compare primal values); the
//! derivative is that of the branch taken.
//!
//! ```
//! use causalgrad::differentiable;
//!
//! #[differentiable]
//! fn huber(r: f64, delta: f64) -> f64 {
//!     let a = r.abs();
//!     if a <= delta { 0.5 * r * r } else { delta * (a - 0.5 * delta) }
//! }
//! assert_eq!(huber::value_and_grad(0.5, 1.0).1, (0.5, 0.0));
//! assert_eq!(huber::value_and_grad(3.0, 1.0).1, (1.0, 2.0));
//!
//! #[differentiable]
//! fn piecewise(x: f64, kind: u8) -> f64 {
//!     match kind {
//!         0 => x.exp(),
//!         1 | 2 => x * x,
//!         k if k > 10 => x.sin(),
//!         _ => -x,
//!     }
//! }
//! assert_eq!(piecewise::value_and_grad(1.0, 2).1, 2.0);
//! ```
//!
//! ## Loops: `for`, `while`, `loop`, `break`, `continue`, early `return`
//!
//! Loops over ranges, and over slices, arrays and `Vec`s with `.iter()`,
//! `.zip(..)` and `.enumerate()`. Values the reverse sweep needs are saved
//! per iteration and replayed backwards; straight-line code allocates
//! nothing.
//!
//! ```
//! use causalgrad::{differentiable, Real};
//!
//! /// Explicit Euler for dx/dt = -k sin(x), stopping early if x gets small.
//! #[differentiable]
//! fn settle<T: Real>(k: T, x0: T, steps: usize) -> T {
//!     let dt = T::from_f64(0.1);
//!     let mut x = x0;
//!     for _ in 0..steps {
//!         if x.abs() < T::from_f64(1e-3) {
//!             break;
//!         }
//!         x -= dt * k * x.sin();
//!     }
//!     x
//! }
//! let (x, (dk, dx0)) = settle::value_and_grad(0.5, 1.0, 20);
//! assert_eq!(x, settle(0.5, 1.0, 20));
//! assert!(dk < 0.0 && dx0 > 0.0);
//!
//! #[differentiable]
//! fn dot_until_negative(xs: &[f64], ys: &[f64]) -> f64 {
//!     let mut total = 0.0;
//!     for (i, (x, y)) in xs.iter().zip(ys.iter()).enumerate() {
//!         if i == 0 {
//!             continue;
//!         }
//!         if *y < 0.0 {
//!             return total;
//!         }
//!         total += x * y;
//!     }
//!     total * 2.0
//! }
//! let (value, (dxs, dys)) = dot_until_negative::value_and_grad(&[1.0, 2.0, 3.0], &[4.0, 5.0, -6.0]);
//! assert_eq!(value, 10.0);
//! assert_eq!(dxs, vec![0.0, 5.0, 0.0]);
//! assert_eq!(dys, vec![0.0, 2.0, 0.0]);
//! ```
//!
//! ## Arrays, slices and `Vec`s
//!
//! As active inputs (the gradient has the same shape: `[T; N]` for an
//! array, `Vec<T>` for a slice or a `Vec`) and as local arrays written
//! element by element.
//!
//! ```
//! use causalgrad::differentiable;
//!
//! #[differentiable]
//! fn smooth(w: [f64; 3], x: f64) -> f64 {
//!     let mut h = [0.0; 3];
//!     for j in 0..3 {
//!         h[j] = (w[j] * x).tanh();
//!     }
//!     h[0] * h[1] + h[2]
//! }
//! let (_, (dw, dx)) = smooth::value_and_grad([0.1, 0.2, 0.3], 1.0);
//! assert_eq!(dw.len(), 3);
//! assert!(dx > 0.0);
//! ```
//!
//! ## Parameter structs: `#[derive(Differentiable)]`
//!
//! A struct of floats, arrays and nested differentiable structs gets a
//! tangent type with the same field names (`MlpTangent` below).
//! `#[no_diff]` fields are constants. Optimisers update any parameter
//! struct through [`Differentiable::move_along`](crate::Differentiable) and
//! [`Tangent`](crate::Tangent)'s scaling and visitors.
//!
//! ```
//! use causalgrad::{differentiable, Differentiable, Real, Tangent};
//!
//! #[derive(Differentiable, Clone, Debug)]
//! struct Mlp<T: Real> {
//!     w1: [[T; 2]; 4],
//!     b1: [T; 4],
//!     w2: [T; 4],
//!     b2: T,
//!     #[no_diff]
//!     hidden: usize,
//! }
//!
//! #[differentiable]
//! fn mlp<T: Real>(p: &Mlp<T>, x: [T; 2]) -> T {
//!     let mut out = p.b2;
//!     for j in 0..p.hidden {
//!         let h = (p.w1[j][0] * x[0] + p.w1[j][1] * x[1] + p.b1[j]).tanh();
//!         out += p.w2[j] * h;
//!     }
//!     out
//! }
//!
//! let mut p = Mlp { w1: [[0.1, -0.2]; 4], b1: [0.0; 4], w2: [0.5; 4], b2: 0.0, hidden: 4 };
//! let (y, (grad, dx)): (f64, (MlpTangent<f64>, [f64; 2])) = mlp::value_and_grad(&p, [1.0, 2.0]);
//! assert_eq!(grad.b2, 1.0);
//! assert_eq!(grad.num_scalars(), 4 * 2 + 4 + 4 + 1);
//! // One gradient-descent step of rate 0.1 lowers y.
//! let mut step = grad.clone();
//! step.scale(-0.1);
//! p.move_along(&step);
//! assert!(mlp(&p, [1.0, 2.0]) < y);
//! # let _ = dx;
//! ```
//!
//! ## Methods and calls between differentiable functions
//!
//! A call to another `#[differentiable]` function (by name or path, generic
//! or not) composes its pullback; so does a method `fn f(&self, ..)`, which
//! gets `self.f_value_and_grad(..)` and `self.f_pullback(..)`. Passing `&p.field`
//! sends the callee's gradient to that field.
//!
//! ```
//! use causalgrad::{differentiable, Differentiable};
//!
//! #[derive(Differentiable, Clone, Debug)]
//! struct Line { slope: f64, offset: f64 }
//!
//! impl Line {
//!     #[differentiable]
//!     fn at(&self, x: f64) -> f64 {
//!         self.slope * x + self.offset
//!     }
//! }
//!
//! #[derive(Differentiable, Clone, Debug)]
//! struct Model { inner: Line, outer: Line }
//!
//! #[differentiable]
//! fn square(x: f64) -> f64 {
//!     x * x
//! }
//!
//! #[differentiable]
//! fn model(m: &Model, x: f64) -> f64 {
//!     let h = m.inner.at(x);
//!     square(m.outer.at(h))
//! }
//!
//! let m = Model { inner: Line { slope: 2.0, offset: 1.0 }, outer: Line { slope: 0.5, offset: 0.0 } };
//! let (value, (grad, dx)) = model::value_and_grad(&m, 1.0);
//! assert_eq!(value, 2.25);               // (0.5 * (2 * 1 + 1))^2
//! assert_eq!(grad.outer.slope, 2.0 * 1.5 * 3.0);
//! assert_eq!(grad.inner.offset, 2.0 * 1.5 * 0.5);
//! assert_eq!(dx, 2.0 * 1.5 * 0.5 * 2.0);
//! let (_, (dslope, dx)) = m.inner.at_value_and_grad(3.0);
//! assert_eq!((dslope.slope, dx), (3.0, 2.0));
//! ```
//!
//! ## Several outputs: tuples and structs
//!
//! The pullback takes a seed of the output's shape (a tuple, or the
//! struct's tangent).
//!
//! ```
//! use causalgrad::differentiable;
//!
//! #[differentiable]
//! fn polar(x: f64, y: f64) -> (f64, f64) {
//!     ((x * x + y * y).sqrt(), y.atan2(x))
//! }
//! let ((r, _), pullback) = polar::pullback(3.0, 4.0);
//! assert_eq!(r, 5.0);
//! let (dx, dy) = pullback.pull((1.0, 0.0)); // d r / d(x, y)
//! assert!((dx - 0.6).abs() < 1e-15 && (dy - 0.8).abs() < 1e-15);
//! ```
//!
//! ## Custom derivatives
//!
//! For numerically delicate functions, or code the macro cannot see:
//! `#[derivative(of = f)]` on a function with `f`'s arguments that returns
//! the value and a pullback. Calls of `f` in differentiable code use it.
//!
//! ```
//! use causalgrad::{derivative, differentiable};
//!
//! fn log1pexp(x: f64) -> f64 {
//!     if x > 30.0 { x } else { x.exp().ln_1p() }
//! }
//!
//! #[derivative(of = log1pexp)]
//! fn log1pexp_vjp(x: f64) -> (f64, impl Fn(f64) -> f64 + Clone) {
//!     let sigmoid = 1.0 / (1.0 + (-x).exp());
//!     (log1pexp(x), move |g| g * sigmoid)
//! }
//!
//! #[differentiable]
//! fn loss(x: f64) -> f64 {
//!     log1pexp(x * 100.0)
//! }
//! assert_eq!(loss::value_and_grad(10.0), (1000.0, 100.0));
//! ```
//!
//! ## Second order: Hessian-vector products
//!
//! A function generic over `T: Real` runs on [`Dual`](crate::Dual) numbers,
//! so its gradient can be differentiated forward: `f::hvp(args.., v)` is
//! `H v`, and [`hessian`](crate::hessian) assembles a small Hessian.
//!
//! ```
//! use causalgrad::{differentiable, hessian, Dual, Real};
//!
//! #[differentiable]
//! fn rosenbrock<T: Real>(x: T, y: T) -> T {
//!     let a = T::one() - x;
//!     let b = y - x * x;
//!     a * a + T::from_f64(100.0) * b * b
//! }
//! let (hx, hy) = rosenbrock::hvp(1.0, 1.0, (1.0, 0.0));
//! assert_eq!((hx, hy), (802.0, -400.0));
//! let h = hessian(&[1.0, 1.0], |v: &[Dual<f64>]| {
//!     let (_, (dx, dy)) = rosenbrock::value_and_grad(v[0], v[1]);
//!     vec![dx, dy]
//! });
//! assert_eq!(h, vec![vec![802.0, -400.0], vec![-400.0, 200.0]]);
//! ```
//!
//! ## What it rejects, and what to do instead
//!
//! Each is a compile error at the offending span (`tests/ui/` has one test
//! per error): macros and `unsafe` in the body; items inside the body;
//! `let` patterns other than a name; closures; `as` casts of active values
//! to floats (casts to integers are constants); the `%` operator on active
//! values; `if let` / `while let` (use `match`); `match` on an active
//! value; a loop used as a value (`break value`); iterators over active
//! data other than `.iter()`, `.zip(..)`, `.enumerate()` and index ranges;
//! assignment to arguments, fields or through references; methods of
//! floats that are not elementary functions (`x.floor()`: wrap the value in
//! `no_grad(..)`). A call of a function that is neither `#[differentiable]`
//! nor given a `#[derivative(..)]`, with an active argument, fails to
//! resolve `helper::__vjp` at the call ("`helper` is not a crate or
//! module"): annotate `helper`, give it a custom derivative, or wrap the
//! value in `no_grad(..)`.
//!
//! ## How it works
//!
//! The body is lowered to A-normal form (one primitive per binding, every
//! intermediate named). Straight-line code reverses into plain `let`s: no
//! tape, no allocation, no zero ever added. A variable assigned inside a
//! branch or loop becomes a mutable *cell* with copy-in/copy-out
//! semantics. Values the reverse sweep needs that are defined inside a loop
//! are pushed on a per-value tape (a `Vec`) and read back by index; inside a
//! branch they go to an `Option` slot. `break`, `continue` and `return` set
//! an *exit code* per loop, so the reverse sweep skips exactly the part of an
//! iteration that did not run. The pullback is a `move` closure that
//! captures only what its sweep reads, and can be applied any number of
//! times.
