use causalgrad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    fn twice(t: f64) -> f64 {
        2.0 * t
    }
    x * twice(3.0)
}

fn main() {}
