use causalgrad::differentiable;

#[differentiable]
fn f(x: f32, y: f64) -> f32 {
    x * y as f32
}

fn main() {}
