use causalgrad::differentiable;

#[differentiable]
struct S;

fn main() {}
