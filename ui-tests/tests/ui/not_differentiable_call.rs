use causalgrad::differentiable;

fn helper(x: f64) -> f64 {
    x.sqrt()
}

#[differentiable]
fn f(x: f64) -> f64 {
    helper(x) * x
}

fn main() {}
