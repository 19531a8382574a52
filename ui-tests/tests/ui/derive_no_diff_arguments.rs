use causalgrad::Differentiable;

#[derive(Differentiable)]
struct Params {
    x: f64,
    #[no_diff(always)]
    steps: usize,
}

fn main() {}
