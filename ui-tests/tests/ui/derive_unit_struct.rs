use causalgrad::Differentiable;

#[derive(Differentiable)]
struct Nothing;

fn main() {}
