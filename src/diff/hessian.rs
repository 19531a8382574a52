//! Second derivatives by forward over reverse: a gradient evaluated on
//! [`Dual`] numbers gives one Hessian-vector product per evaluation.

use crate::Dual;

/// The Hessian of a scalar function at `point`, from its gradient.
///
/// `gradient` maps a point (as dual numbers) to the gradient there; it is
/// typically a closure calling the generated gradient of a generic
/// `#[differentiable]` function, `f::value_and_grad::<Dual<f64>>(..)`, which
/// then runs its reverse sweep on dual numbers (forward over reverse). Column
/// `j` is the `eps` part of `gradient` evaluated at
/// `Dual::new(point[i], (i == j) as f64)`: the derivative of the gradient
/// along the `j`-th unit vector. The result is indexed `h[i][j] = ∂²f /
/// ∂x_i ∂x_j` (it costs `point.len()` gradient evaluations).
///
/// ```
/// use causalgrad::{diff::hessian, differentiable, Dual, Real};
///
/// #[differentiable]
/// fn rosenbrock<T: Real>(x: T, y: T) -> T {
///     let a = T::one() - x;
///     let b = y - x * x;
///     a * a + T::from_f64(100.0) * b * b
/// }
///
/// // The generated gradient, run on dual numbers.
/// let h = hessian(&[1.0, 1.0], |p: &[Dual<f64>]| {
///     let (_, (dx, dy)) = rosenbrock::value_and_grad::<Dual<f64>>(p[0], p[1]);
///     vec![dx, dy]
/// });
/// assert_eq!(h, [[802.0, -400.0], [-400.0, 200.0]]);
/// ```
///
/// Any gradient written generically over [`Real`](crate::Real) works the
/// same way:
///
/// ```
/// use causalgrad::{diff::hessian, Dual, Real};
///
/// // The gradient of f(x, y) = x² y + sin(y), by hand.
/// fn grad<T: Real>(x: T, y: T) -> [T; 2] {
///     [T::from_f64(2.0) * x * y, x * x + y.cos()]
/// }
/// let h = hessian(&[3.0, 0.5], |p: &[Dual<f64>]| grad(p[0], p[1]).to_vec());
/// assert_eq!(h[0], [1.0, 6.0]);
/// assert_eq!(h[1], [6.0, -0.5f64.sin()]);
/// ```
///
/// # Panics
///
/// If `gradient` returns a vector whose length is not `point.len()`.
pub fn hessian<F>(point: &[f64], gradient: F) -> Vec<Vec<f64>>
where
    F: Fn(&[Dual<f64>]) -> Vec<Dual<f64>>,
{
    let n = point.len();
    let mut h = vec![vec![0.0; n]; n];
    let mut seeded: Vec<Dual<f64>> = point.iter().map(|&x| Dual::constant(x)).collect();
    for j in 0..n {
        seeded[j].eps = 1.0;
        let column = gradient(&seeded);
        seeded[j].eps = 0.0;
        check_len(column.len(), n);
        for (row, g) in h.iter_mut().zip(&column) {
            row[j] = g.eps;
        }
    }
    h
}

/// The Hessian-vector product `H(point) · direction` with one evaluation of
/// the gradient on dual numbers (see [`hessian`]).
///
/// ```
/// use causalgrad::{diff::hessian_vector_product, Dual, Real};
///
/// fn grad<T: Real>(x: T, y: T) -> [T; 2] {
///     [T::from_f64(2.0) * x * y, x * x] // gradient of x² y
/// }
/// let hv = hessian_vector_product(&[3.0, 0.5], &[1.0, -1.0], |p: &[Dual<f64>]| {
///     grad(p[0], p[1]).to_vec()
/// });
/// assert_eq!(hv, [1.0 - 6.0, 6.0]);
/// ```
///
/// # Panics
///
/// If `direction` or the vector `gradient` returns does not have the length
/// of `point`.
pub fn hessian_vector_product<F>(point: &[f64], direction: &[f64], gradient: F) -> Vec<f64>
where
    F: Fn(&[Dual<f64>]) -> Vec<Dual<f64>>,
{
    assert_eq!(
        point.len(),
        direction.len(),
        "hessian_vector_product: the direction has {} components for a point of {}",
        direction.len(),
        point.len()
    );
    let seeded: Vec<Dual<f64>> = point
        .iter()
        .zip(direction)
        .map(|(&x, &v)| Dual::new(x, v))
        .collect();
    let g = gradient(&seeded);
    check_len(g.len(), point.len());
    g.iter().map(|g| g.eps).collect()
}

fn check_len(got: usize, n: usize) {
    assert_eq!(
        got, n,
        "the gradient has {got} components at a point of {n}: it must have one per coordinate"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Real;

    /// Gradient of the Rosenbrock function
    /// `f(x) = Σ 100 (x_{i+1} - x_i²)² + (1 - x_i)²`, by hand, generic so
    /// that it runs on dual numbers.
    fn rosenbrock_grad<T: Real>(x: &[T]) -> Vec<T> {
        let (c2, c200, c400) = (T::from_f64(2.0), T::from_f64(200.0), T::from_f64(400.0));
        let mut g = vec![T::zero(); x.len()];
        for i in 0..x.len() - 1 {
            let r = x[i + 1] - x[i] * x[i];
            g[i] -= c400 * x[i] * r + c2 * (T::one() - x[i]);
            g[i + 1] += c200 * r;
        }
        g
    }

    /// The closed-form Hessian of Rosenbrock: tridiagonal with
    /// `H_ii = 1200 x_i² - 400 x_{i+1} + 2` (no such terms for the last
    /// coordinate) `+ 200` (not for the first), `H_{i,i+1} = -400 x_i`.
    fn rosenbrock_hessian(x: &[f64]) -> Vec<Vec<f64>> {
        let n = x.len();
        let mut h = vec![vec![0.0; n]; n];
        for i in 0..n - 1 {
            h[i][i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
            h[i + 1][i + 1] += 200.0;
            h[i][i + 1] = -400.0 * x[i];
            h[i + 1][i] = -400.0 * x[i];
        }
        h
    }

    #[test]
    fn hessian_of_rosenbrock_matches_closed_form() {
        for point in [
            vec![1.0, 1.0],
            vec![-1.2, 1.0],
            vec![0.3, -0.7, 2.0, 1.5, -0.1],
        ] {
            let h = hessian(&point, |x: &[Dual<f64>]| rosenbrock_grad(x));
            let expected = rosenbrock_hessian(&point);
            for (row, want) in h.iter().zip(&expected) {
                for (a, b) in row.iter().zip(want) {
                    assert!(
                        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                        "{h:?} vs {expected:?}"
                    );
                }
            }
        }
        // At the minimum (1, 1): [[802, -400], [-400, 200]].
        let h = hessian(&[1.0, 1.0], |x: &[Dual<f64>]| rosenbrock_grad(x));
        assert_eq!(h, [[802.0, -400.0], [-400.0, 200.0]]);
    }

    #[test]
    fn hessian_vector_product_matches_the_hessian() {
        let point = [0.3, -0.7, 2.0, 1.5];
        let v = [1.0, 0.5, -2.0, 0.25];
        let h = rosenbrock_hessian(&point);
        let hv = hessian_vector_product(&point, &v, |x: &[Dual<f64>]| rosenbrock_grad(x));
        for (i, row) in h.iter().enumerate() {
            let want: f64 = row.iter().zip(&v).map(|(a, b)| a * b).sum();
            assert!((hv[i] - want).abs() <= 1e-12 * want.abs().max(1.0));
        }
    }

    #[test]
    fn empty_point_gives_empty_hessian() {
        let h = hessian(&[], |x: &[Dual<f64>]| x.to_vec());
        assert!(h.is_empty());
    }

    #[test]
    #[should_panic(expected = "the gradient has 1 components at a point of 2")]
    fn wrong_gradient_length_panics() {
        hessian(&[1.0, 2.0], |x: &[Dual<f64>]| vec![x[0]]);
    }
}
