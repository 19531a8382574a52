use causalgrad::differentiable;

#[differentiable]
fn f(n: i32) -> i32 {
    n * n
}

fn main() {}
