//! Generated code under a re-exported crate path (`crate = path`), and the
//! `DiffFn` impl that sits in an anonymous constant.

use causalgrad::{differentiable, DiffFn};

/// A crate re-exporting causalgrad under another name.
mod reexport {
    pub use causalgrad as cg;
}

#[differentiable(crate = reexport::cg, wrt(x))]
fn scaled(x: &[f64], scale: f64) -> f64 {
    let mut total = 0.0;
    for v in x.iter() {
        total += scale * *v * *v;
    }
    total
}

#[test]
fn a_reexported_crate_path_reaches_the_runtime() {
    let x = [1.0, -2.0];
    let (value, dx) = scaled::value_and_grad(&x, 3.0);
    assert_eq!(value, 15.0);
    assert_eq!(dx, vec![6.0, -12.0]);
}

#[differentiable]
fn square(x: f64) -> f64 {
    x * x
}

#[test]
fn the_diff_fn_impl_is_reachable_through_the_trait() {
    let (value, dx) = DiffFn::value_and_grad(&square::Function, (3.0,));
    assert_eq!((value, dx), (9.0, 6.0));
    assert_eq!(DiffFn::call(&scaled::Function, (&[2.0][..], 1.0)), 4.0);
}
