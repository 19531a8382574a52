use causalgrad::Differentiable;

#[derive(Differentiable)]
enum Params {
    A { x: f64 },
    B { y: f64 },
}

fn main() {}
