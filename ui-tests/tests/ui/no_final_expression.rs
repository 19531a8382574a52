use causalgrad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let _y = x * x;
    std::process::exit(1);
}

fn main() {}
