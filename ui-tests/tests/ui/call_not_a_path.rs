use causalgrad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    (f64::sin)(x)
}

fn main() {}
