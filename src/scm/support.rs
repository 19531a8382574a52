//! The support sample: a seeded subset of the rows a model was fitted to
//! (at most [`SUPPORT_ROWS`], in model units), kept with the model and
//! saved in its file, so a query can tell whether it asks about parent
//! values the data cover ([`Scm::extrapolation`]). A model file thus holds
//! up to that many of the training rows. The region each parent set's
//! support rows cover ([`SupportRegion`]) is built the first time a query
//! asks about it and kept with the sample.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::region::SupportRegion;
use super::{Scm, ScmError};
use crate::data::Dataset;
#[cfg(feature = "burn")]
use crate::pack::Pack;
#[cfg(feature = "burn")]
use crate::scm::file::{finite_vector, ModelFileError};

/// The most training rows a model keeps as its support sample.
pub const SUPPORT_ROWS: usize = 2000;

/// The support sample and the regions built from it so far.
#[derive(Debug)]
pub(crate) struct Support {
    /// The columns (model units, topological order).
    pub(crate) columns: Vec<Vec<f32>>,
    /// Each parent set's region, by the parents' topological positions.
    regions: Mutex<HashMap<Vec<usize>, Arc<SupportRegion>>>,
}

impl Support {
    pub(crate) fn new(columns: Vec<Vec<f32>>) -> Self {
        Support {
            columns,
            regions: Mutex::new(HashMap::new()),
        }
    }

    /// The region the support rows of `parents` (topological positions)
    /// cover, built on first use. Two threads asking at once may both
    /// build it; they build the same region.
    pub(crate) fn region(&self, parents: &[usize]) -> Arc<SupportRegion> {
        let known = |regions: &Mutex<HashMap<Vec<usize>, Arc<SupportRegion>>>| {
            let regions = regions
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            regions.get(parents).cloned()
        };
        if let Some(region) = known(&self.regions) {
            return region;
        }
        let columns: Vec<&[f32]> = parents
            .iter()
            .map(|&p| self.columns[p].as_slice())
            .collect();
        let region = Arc::new(SupportRegion::new(&columns));
        let mut regions = self
            .regions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        regions.entry(parents.to_vec()).or_insert(region).clone()
    }
}

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
        self.support = Some(Arc::new(Support::new(columns)));
        Ok(())
    }

    /// The support sample, if the model has one.
    pub(crate) fn support(&self) -> Option<&Support> {
        self.support.as_deref()
    }

    /// Rows in the support sample (0 without one).
    pub fn support_rows(&self) -> usize {
        self.support()
            .and_then(|s| s.columns.first())
            .map_or(0, Vec::len)
    }

    /// Writes the support sample into `pack` as `support.<variable>`.
    #[cfg(feature = "burn")]
    pub(crate) fn support_to_pack(&self, pack: &mut Pack) {
        if let Some(support) = self.support() {
            for (node, column) in self.nodes.iter().zip(&support.columns) {
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
    ) -> Result<Option<Arc<Support>>, ModelFileError> {
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
        Ok(Some(Arc::new(Support::new(columns))))
    }
}
