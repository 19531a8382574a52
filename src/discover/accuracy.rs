//! Comparing a learned graph with a known one, counted as DAGMA's
//! `count_accuracy` does.

use std::collections::HashSet;

/// How a learned graph compares with the true one.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Accuracy {
    /// Structural Hamming distance: edges to add, delete or reverse
    /// (a reversed edge counts once).
    pub shd: usize,
    /// True-positive rate: correctly oriented learned edges over true edges.
    pub tpr: f64,
    /// False-discovery rate: learned edges that are reversed or absent in
    /// the truth, over learned edges.
    pub fdr: f64,
    /// Learned edges.
    pub predicted: usize,
    /// Correctly oriented learned edges.
    pub correct: usize,
    /// Learned edges present in the truth the other way round.
    pub reversed: usize,
}

/// Compares `learned` with `truth` (both lists of `(from, to)` names).
///
/// ```
/// use causalgrad::discover::accuracy;
///
/// let truth = [("a", "b"), ("b", "c")];
/// let learned = [("a", "b"), ("c", "b"), ("a", "c")];
/// let acc = accuracy(&learned, &truth);
/// assert_eq!((acc.shd, acc.correct, acc.reversed), (2, 1, 1));
/// assert_eq!(acc.tpr, 0.5);
/// ```
pub fn accuracy<A: AsRef<str>, B: AsRef<str>>(learned: &[(A, A)], truth: &[(B, B)]) -> Accuracy {
    let learned: HashSet<(&str, &str)> = learned
        .iter()
        .map(|(a, b)| (a.as_ref(), b.as_ref()))
        .collect();
    let truth: HashSet<(&str, &str)> = truth
        .iter()
        .map(|(a, b)| (a.as_ref(), b.as_ref()))
        .collect();
    let correct = learned.iter().filter(|e| truth.contains(e)).count();
    let reversed = learned
        .iter()
        .filter(|&&(a, b)| !truth.contains(&(a, b)) && truth.contains(&(b, a)))
        .count();
    let skeleton = |edges: &HashSet<(&str, &str)>| -> HashSet<(String, String)> {
        edges
            .iter()
            .map(|&(a, b)| {
                if a < b {
                    (a.to_string(), b.to_string())
                } else {
                    (b.to_string(), a.to_string())
                }
            })
            .collect()
    };
    let (ls, ts) = (skeleton(&learned), skeleton(&truth));
    let extra = ls.difference(&ts).count();
    let missing = ts.difference(&ls).count();
    Accuracy {
        shd: extra + missing + reversed,
        tpr: correct as f64 / truth.len().max(1) as f64,
        fdr: (learned.len() - correct) as f64 / learned.len().max(1) as f64,
        predicted: learned.len(),
        correct,
        reversed,
    }
}
