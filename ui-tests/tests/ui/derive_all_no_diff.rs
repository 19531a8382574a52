use causalgrad::Differentiable;

#[derive(Differentiable)]
struct Config {
    #[no_diff]
    steps: usize,
    #[no_diff]
    rate: f64,
}

fn main() {}
