use causalgrad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let _future = async { 1.0 };
    x * x
}

fn main() {}
