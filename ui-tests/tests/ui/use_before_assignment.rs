use causalgrad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y;
    let z = y * x;
    y = x;
    z + y
}

fn main() {}
