use causalgrad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y = x * dbg!(x);
    y + x
}

fn main() {}
