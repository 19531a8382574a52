//! Several outputs from one set of parents: one mechanism per output (a
//! categorical variable's logits, one per level after the first).

use std::sync::Arc;

use super::{Mechanism, MechanismKernel, MechanismSpec};

impl Mechanism {
    /// A mechanism with one output per head, all reading the same parents;
    /// its parameters are the heads' in order. A categorical variable with
    /// `L` levels and parents has `L − 1` heads (the builder makes them from
    /// one mechanism when given one).
    ///
    /// ```
    /// use causalgrad::scm::Mechanism;
    ///
    /// let logits = Mechanism::heads(vec![Mechanism::linear(2), Mechanism::linear(2)]).unwrap();
    /// assert_eq!(logits.outputs(), 2);
    /// assert_eq!(logits.params().len(), 6);
    /// ```
    ///
    /// # Errors
    /// When there are no heads or they read different numbers of parents.
    pub fn heads(heads: Vec<Mechanism>) -> Result<Mechanism, crate::scm::ScmError> {
        let arity = heads.first().map(Mechanism::arity);
        let uniform = heads
            .iter()
            .all(|head| Some(head.arity()) == arity && head.outputs() == 1);
        if arity.is_none() || !uniform {
            return Err(crate::scm::ScmError::Heads {
                described: heads.iter().map(Mechanism::describe).collect(),
            });
        }
        if heads.len() == 1 {
            return Ok(heads.into_iter().next().expect("one head"));
        }
        let standardized = heads.iter().all(Mechanism::reads_standardized_units);
        let params = heads.iter().flat_map(|h| h.params().to_vec()).collect();
        let kernel = Heads {
            sizes: heads.iter().map(|h| h.params().len()).collect(),
            kernels: heads.iter().map(|h| Arc::clone(h.kernel())).collect(),
        };
        let mechanism = Mechanism::from_kernel(Arc::new(kernel), params);
        Ok(if standardized && mechanism.spec().is_none() {
            mechanism.with_standardized_units()
        } else {
            mechanism
        })
    }
}

/// The heads' kernels and parameter counts.
struct Heads {
    kernels: Vec<Arc<dyn MechanismKernel>>,
    sizes: Vec<usize>,
}

impl Heads {
    /// Each head's kernel with its slice of `params`.
    fn split<'a>(
        &'a self,
        params: &'a [f32],
    ) -> impl Iterator<
        Item = (
            &'a Arc<dyn MechanismKernel>,
            &'a [f32],
            std::ops::Range<usize>,
        ),
    > {
        let mut start = 0;
        self.kernels.iter().zip(&self.sizes).map(move |(k, &size)| {
            let range = start..start + size;
            start += size;
            (k, &params[range.clone()], range)
        })
    }
}

impl MechanismKernel for Heads {
    /// Each head from its own seed (`seed + h`), when every head has a
    /// random initialisation.
    fn initial_params(&self, seed: u64) -> Option<Vec<f32>> {
        let mut params = Vec::new();
        for (h, kernel) in self.kernels.iter().enumerate() {
            params.extend(kernel.initial_params(seed.wrapping_add(h as u64))?);
        }
        Some(params)
    }

    fn describe(&self) -> String {
        format!("{} × {}", self.kernels.len(), self.kernels[0].describe())
    }

    fn arity(&self) -> usize {
        self.kernels[0].arity()
    }

    fn num_params(&self) -> usize {
        self.sizes.iter().sum()
    }

    fn outputs(&self) -> usize {
        self.kernels.len()
    }

    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]) {
        let n = out.len() / self.kernels.len();
        for ((kernel, theta, _), out) in self.split(params).zip(out.chunks_mut(n.max(1))) {
            kernel.forward(theta, parents, out);
        }
    }

    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        mut dparents: Option<&mut [f32]>,
    ) {
        let n = seeds.len() / self.kernels.len();
        let mut head_dparents = dparents.as_ref().map(|d| vec![0.0f32; d.len()]);
        for ((kernel, theta, range), seeds) in self.split(params).zip(seeds.chunks(n.max(1))) {
            kernel.backward(
                theta,
                parents,
                seeds,
                &mut dparams[range],
                head_dparents.as_deref_mut(),
            );
            if let (Some(total), Some(head)) = (dparents.as_deref_mut(), head_dparents.as_mut()) {
                for (t, h) in total.iter_mut().zip(head.iter_mut()) {
                    *t += *h;
                    *h = 0.0;
                }
            }
        }
    }

    /// The heads' common spec, when they are one built-in kind.
    fn spec(&self) -> Option<MechanismSpec> {
        let first = self.kernels[0].spec()?;
        self.kernels
            .iter()
            .all(|k| k.spec().as_ref() == Some(&first))
            .then_some(first)
    }
}
