//! Ties between contexts' parameter sets: the penalty's pairs and strengths.

use burn::tensor::{Device, Tensor};

use super::prepare::{tensor1, Prepared};

/// The tied pairs of parameter sets and each value's tie strength.
pub(super) struct Ties {
    /// The sets of each tie, per variable where the two contexts read
    /// different sets.
    pub(super) pairs: Vec<(usize, usize)>,
    /// The strength of each value of the pairs' sets laid end to end.
    pub(super) strengths: Tensor<1>,
}

impl Ties {
    /// The pairs of `ties` (context positions and strengths), or `None`
    /// when no tie has sets that differ; `sizes[j]` is the length of
    /// variable `j`'s set (its mechanism's and its noise's parameters).
    pub(super) fn new(
        ties: &[(usize, usize, f64)],
        contexts: &[Prepared],
        sizes: &[usize],
        device: &Device,
    ) -> Option<Ties> {
        let mut pairs = Vec::new();
        let mut strengths = Vec::new();
        for &(a, b, strength) in ties {
            let (a, b) = (&contexts[a], &contexts[b]);
            for (j, (&sa, &sb)) in a.slots.iter().zip(&b.slots).enumerate() {
                if sa != sb {
                    pairs.push((sa, sb));
                    strengths.extend(std::iter::repeat_n(strength as f32, sizes[j]));
                }
            }
        }
        (!pairs.is_empty()).then(|| Ties {
            pairs,
            strengths: tensor1(strengths, device),
        })
    }
}
