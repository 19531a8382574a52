use causalgrad::differentiable;

#[differentiable]
fn f(x: f64, k: Option<i32>) -> f64 {
    if let Some(n) = k {
        x.powi(n)
    } else {
        x
    }
}

fn main() {}
