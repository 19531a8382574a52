use causalgrad::differentiable;

pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[differentiable(wrt(x))]
fn f(x: f64, mut p: Point) -> f64 {
    p.x = x * 2.0;
    p.x + p.y
}

fn main() {}
