use causalgrad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y = x;
    let _unit = y *= x;
    y
}

fn main() {}
