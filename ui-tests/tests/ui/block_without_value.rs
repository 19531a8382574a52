use causalgrad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let _unit = {
        let _y = x * x;
    };
    x
}

fn main() {}
