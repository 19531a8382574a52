use causalgrad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y: f64 = unsafe { std::ptr::read(&x) };
    x * y
}

fn main() {}
