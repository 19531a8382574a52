//! Categorical parents as indicator columns: a mechanism over a
//! categorical parent with `L` levels reads `L − 1` 0/1 columns (level 0
//! is the reference), built here from the parent's level codes.

use std::sync::Arc;

use super::{Mechanism, MechanismKernel, MechanismSpec, RowLoss};

impl Mechanism {
    /// `inner` reading its parents with the categorical ones expanded:
    /// `levels[i]` is parent `i`'s number of levels (`0` for a numeric
    /// parent, read as it is). `inner` reads `Σ width` columns, where a
    /// numeric parent is 1 column and a categorical one `L − 1`; the result
    /// reads `levels.len()` columns of values and level codes. The builder
    /// applies it for the graph's categorical variables.
    pub(crate) fn with_one_hot(self, levels: Vec<usize>) -> Mechanism {
        if levels.iter().all(|&l| l == 0) {
            return self;
        }
        let standardized = self.standardized;
        let params = self.params().to_vec();
        let kernel = OneHot {
            inner: Arc::clone(self.kernel()),
            levels,
        };
        let mut mechanism = Mechanism::from_kernel(Arc::new(kernel), params);
        mechanism.standardized = standardized;
        mechanism
    }
}

/// `inner` over the expanded parents.
struct OneHot {
    inner: Arc<dyn MechanismKernel>,
    levels: Vec<usize>,
}

impl OneHot {
    /// The expanded columns: numeric parents as they are, each categorical
    /// one as its indicators of levels `1..L`.
    fn expand<'a>(&self, parents: &[&'a [f32]]) -> Vec<std::borrow::Cow<'a, [f32]>> {
        use std::borrow::Cow;
        let mut columns = Vec::new();
        for (&column, &levels) in parents.iter().zip(&self.levels) {
            if levels == 0 {
                columns.push(Cow::Borrowed(column));
                continue;
            }
            for level in 1..levels {
                let level = level as f32;
                columns.push(Cow::Owned(
                    column
                        .iter()
                        .map(|&code| f32::from(u8::from(code == level)))
                        .collect(),
                ));
            }
        }
        columns
    }
}

impl OneHot {
    /// `f` of the expanded columns.
    fn with_expanded<T>(&self, parents: &[&[f32]], f: impl FnOnce(&[&[f32]]) -> T) -> T {
        let expanded = self.expand(parents);
        let columns: Vec<&[f32]> = expanded.iter().map(|c| c.as_ref()).collect();
        f(&columns)
    }
}

impl MechanismKernel for OneHot {
    fn initial_params(&self, seed: u64) -> Option<Vec<f32>> {
        self.inner.initial_params(seed)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn arity(&self) -> usize {
        self.levels.len()
    }

    fn num_params(&self) -> usize {
        self.inner.num_params()
    }

    fn outputs(&self) -> usize {
        self.inner.outputs()
    }

    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]) {
        self.with_expanded(parents, |columns| self.inner.forward(params, columns, out));
    }

    /// A categorical parent gets no gradient (its codes are not a
    /// differentiable input); a numeric one gets the inner mechanism's.
    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        dparents: Option<&mut [f32]>,
    ) {
        let expanded = self.expand(parents);
        let columns: Vec<&[f32]> = expanded.iter().map(|c| c.as_ref()).collect();
        let n = parents.first().map_or(0, |c| c.len());
        let Some(dparents) = dparents else {
            self.inner.backward(params, &columns, seeds, dparams, None);
            return;
        };
        let mut inner = vec![0.0f32; columns.len() * n];
        self.inner
            .backward(params, &columns, seeds, dparams, Some(&mut inner));
        let mut column = 0;
        for (i, &levels) in self.levels.iter().enumerate() {
            let out = &mut dparents[i * n..(i + 1) * n];
            if levels == 0 {
                out.copy_from_slice(&inner[column * n..(column + 1) * n]);
                column += 1;
            } else {
                out.fill(0.0);
                column += levels - 1;
            }
        }
    }

    fn squared_error(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        weight: f32,
        dparams: Option<&mut [f32]>,
    ) -> f64 {
        self.with_expanded(parents, |columns| {
            self.inner
                .squared_error(params, columns, target, weight, dparams)
        })
    }

    /// The inner kernel's own pass (one pass for the lane MLP) over the
    /// expanded columns, built once.
    fn row_loss(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        loss: &RowLoss<'_>,
        dparams: Option<&mut [f32]>,
    ) -> (f64, Vec<f64>) {
        self.with_expanded(parents, |columns| {
            self.inner.row_loss(params, columns, target, loss, dparams)
        })
    }

    fn spec(&self) -> Option<MechanismSpec> {
        self.inner.spec()
    }
}
