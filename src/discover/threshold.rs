//! From the continuous solution to a graph that is a DAG by construction.
//!
//! The central path ends near, not at, `h = 0`, and a fixed threshold can
//! leave a cycle of weak edges. Edges are therefore added greedily: the
//! required ones first (acyclic, checked with the knowledge), then every
//! allowed edge whose strength reaches the threshold, strongest first,
//! skipping any edge that would close a cycle. The result is acyclic
//! whatever the optimiser returned, and on an acyclic thresholded matrix
//! it is exactly DAGMA's thresholding.

use ndarray::Array2;

use super::knowledge::Masks;

/// The edges `(from, to, weight)` kept from `weights` (`weights[[i, j]]`
/// for `i -> j`), in the order they were added.
pub(crate) fn to_dag(
    weights: &Array2<f64>,
    threshold: f64,
    masks: &Masks,
) -> Vec<(usize, usize, f64)> {
    let d = weights.nrows();
    let mut kept = Array2::from_elem((d, d), false);
    let mut edges = Vec::new();
    for ((i, j), &required) in masks.required.indexed_iter() {
        if required {
            kept[[i, j]] = true;
            edges.push((i, j, weights[[i, j]]));
        }
    }
    let mut candidates: Vec<(usize, usize, f64)> = weights
        .indexed_iter()
        .filter(|&((i, j), w)| {
            masks.allowed[[i, j]]
                && !masks.required[[i, j]]
                && w.abs() >= threshold
                && w.abs() > 0.0
        })
        .map(|((i, j), &w)| (i, j, w))
        .collect();
    candidates.sort_by(|a, b| {
        b.2.abs()
            .total_cmp(&a.2.abs())
            .then((a.0, a.1).cmp(&(b.0, b.1)))
    });
    for (i, j, w) in candidates {
        if !reaches(&kept, j, i) {
            kept[[i, j]] = true;
            edges.push((i, j, w));
        }
    }
    edges
}

/// Whether `to` is reachable from `from` along the edges of `kept`.
fn reaches(kept: &Array2<bool>, from: usize, to: usize) -> bool {
    let d = kept.nrows();
    let mut seen = vec![false; d];
    let mut stack = vec![from];
    while let Some(v) = stack.pop() {
        if v == to {
            return true;
        }
        if std::mem::replace(&mut seen[v], true) {
            continue;
        }
        stack.extend((0..d).filter(|&w| kept[[v, w]] && !seen[w]));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::knowledge::find_cycle;
    use ndarray::array;

    #[test]
    fn a_cycle_loses_its_weakest_edge() {
        let w = array![[0.0, 0.9, 0.0], [0.0, 0.0, -0.8], [0.5, 0.0, 0.0]];
        let edges = to_dag(&w, 0.3, &Masks::none(3));
        assert_eq!(edges, vec![(0, 1, 0.9), (1, 2, -0.8)]);
    }

    #[test]
    fn any_matrix_gives_an_acyclic_graph_with_the_required_edges() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..50 {
            let d = 6;
            let w = Array2::from_shape_fn((d, d), |_| rng.random_range(-1.0..1.0));
            let mut masks = Masks::none(d);
            masks.required[[2, 4]] = true;
            masks.allowed[[4, 2]] = false;
            let edges = to_dag(&w, 0.2, &masks);
            let mut kept = Array2::from_elem((d, d), false);
            for &(i, j, _) in &edges {
                assert_ne!(i, j);
                assert!(masks.allowed[[i, j]]);
                kept[[i, j]] = true;
            }
            assert!(kept[[2, 4]]);
            assert!(find_cycle(&kept).is_none());
        }
    }
}
