//! Independent errors in the signature and the body are all reported.
use causalgrad::differentiable;

#[differentiable(wrt(x, nope))]
fn f(x: f64, y: f64) -> f64 {
    println!("{x}");
    let double = |t: f64| t * 2.0;
    let r = x % y;
    let mut buffer = vec![0.0; 2];
    buffer[0] = r * double(y);
    buffer.clear();
    x + buffer[0]
}

fn main() {}
