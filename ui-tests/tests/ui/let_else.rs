#![allow(irrefutable_let_patterns)]

use causalgrad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y = x * 2.0 else { return 0.0 };
    y
}

fn main() {}
