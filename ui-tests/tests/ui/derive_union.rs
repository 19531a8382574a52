use causalgrad::Differentiable;

#[derive(Differentiable)]
union Bits {
    x: f64,
    y: u64,
}

fn main() {}
