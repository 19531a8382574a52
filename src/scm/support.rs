//! The support sample: a seeded subset of the rows a model was fitted to
//! (at most [`SUPPORT_ROWS`], in model units), kept with the model and
//! saved in its file, so a query can tell whether it asks about parent
//! values the data cover ([`Scm::extrapolation`]). A model file thus holds
//! up to that many of the training rows.

use std::sync::Arc;

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::{Scm, ScmError};
use crate::data::Dataset;
#[cfg(feature = "burn")]
use crate::pack::Pack;
#[cfg(feature = "burn")]
use crate::scm::file::{finite_vector, ModelFileError};

/// The most training rows a model keeps as its support sample.
pub const SUPPORT_ROWS: usize = 2000;

impl Scm {
    /// Keeps up to [`SUPPORT_ROWS`] rows of `data` (a seeded random subset)
    /// as the support sample; fits call it with their training data.
    pub fn remember_support(&mut self, data: &Dataset) -> Result<(), ScmError> {
        let mut rows: Vec<usize> = (0..data.n_rows()).collect();
        if rows.len() > SUPPORT_ROWS {
            rows.shuffle(&mut rand::rngs::StdRng::seed_from_u64(0x5EED));
            rows.truncate(SUPPORT_ROWS);
            rows.sort_unstable();
        }
        let columns = self.columns_of(&data.take_rows(&rows))?;
        self.support = Some(Arc::new(columns));
        Ok(())
    }

    /// The support sample's columns (model units, topological order), if
    /// the model has one.
    pub(crate) fn support(&self) -> Option<&[Vec<f32>]> {
        self.support.as_deref().map(Vec::as_slice)
    }

    /// Rows in the support sample (0 without one).
    pub fn support_rows(&self) -> usize {
        self.support().and_then(|s| s.first()).map_or(0, Vec::len)
    }

    /// Writes the support sample into `pack` as `support.<variable>`.
    #[cfg(feature = "burn")]
    pub(crate) fn support_to_pack(&self, pack: &mut Pack) {
        if let Some(support) = self.support() {
            for (node, column) in self.nodes.iter().zip(support) {
                pack.vectors
                    .insert(format!("support.{}", node.name), column.clone());
            }
        }
    }

    /// Reads a support sample of `rows` rows written by
    /// [`Scm::support_to_pack`] (`None` for none).
    #[cfg(feature = "burn")]
    pub(crate) fn support_from_pack(
        &self,
        path: &std::path::Path,
        pack: &Pack,
        rows: usize,
    ) -> Result<Option<Arc<Vec<Vec<f32>>>>, ModelFileError> {
        if rows == 0 {
            return Ok(None);
        }
        let columns = self
            .nodes
            .iter()
            .map(|node| {
                finite_vector(path, pack, &format!("support.{}", node.name), rows)
                    .map(<[f32]>::to_vec)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Arc::new(columns)))
    }
}
