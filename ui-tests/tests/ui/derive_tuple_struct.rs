use causalgrad::Differentiable;

#[derive(Differentiable)]
struct Pair(f64, f64);

fn main() {}
