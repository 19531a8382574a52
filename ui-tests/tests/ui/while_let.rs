use causalgrad::differentiable;

#[differentiable]
fn f(x: f64, mut n: Option<i32>) -> f64 {
    let mut y = x;
    while let Some(k) = n {
        y = y * x;
        n = if k > 0 { Some(k - 1) } else { None };
    }
    y
}

fn main() {}
