use causalgrad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut grid = vec![vec![x; 2]; 3];
    grid[0][0] = x;
    grid[1][1]
}

fn main() {}
