use causalgrad::differentiable;

#[differentiable]
fn f(xs: &[f64]) -> f64 {
    let mut total = 0.0;
    for x in xs.iter().rev() {
        total = total * 0.5 + x;
    }
    total
}

fn main() {}
