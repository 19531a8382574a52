use causalgrad::differentiable;

#[differentiable]
fn f(xs: &[f64]) -> f64 {
    let mut copy = xs.to_vec();
    copy[0] = xs[1];
    copy[0]
}

fn main() {}
