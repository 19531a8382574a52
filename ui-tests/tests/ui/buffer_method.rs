use causalgrad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut buffer = vec![0.0; 3];
    buffer[0] = x;
    buffer.clear();
    x
}

fn main() {}
