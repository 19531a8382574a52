use causalgrad::differentiable;

#[differentiable]
fn f(mut xs: [f64; 2], y: f64) -> f64 {
    xs[0] = y * 2.0;
    xs[0] + xs[1]
}

fn main() {}
