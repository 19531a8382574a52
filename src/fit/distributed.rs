//! Data-parallel fitting: every step's batch shared out over several
//! devices.
//!
//! Each step splits its batch (all training rows, or the mini-batch) into
//! one contiguous shard per device, balanced to within one row. Every
//! device gets a fork of the parameters (`Module::fork`), builds its
//! shard's loss weighted by its share of the rows, `n_k / n`, and runs
//! burn's backward pass on its own thread. burn's optimiser stack combines
//! the gradients: `GradientsParams::to_device` brings each device's
//! gradients to the first device and `GradientsAccumulator` sums them, so
//! the combined gradient is the full batch's (a sum of shard means weighted
//! by their shares is the batch mean). One optimiser step on the first
//! device updates the parameters, and the next step forks them again, so
//! every device always computes with the same parameters. Validation,
//! checkpoints and early stopping run on the first device, as in a
//! single-device fit.
//!
//! These are burn-optim's parts for combining gradients from several
//! devices, with the optimiser on the first device. burn 0.22's collective
//! gradient synchronisation (`DistributedContext`, parameters marked with
//! `set_distributed`, an all-reduce during the backward pass) needs a
//! backend with collective operations, which is CUDA through NCCL only;
//! `docs/distributed.md` says why, with the places in burn's sources.

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::Device;

use super::batch::Batch;
use super::config::FitError;
use super::params::ScmParams;
use crate::scm::Scm;

/// The devices of a data-parallel fit and each one's shard of the full
/// training batch.
pub(super) struct Replicas {
    devices: Vec<Device>,
    full: Vec<Batch>,
}

/// `rows` in `parts` contiguous runs whose lengths differ by at most one.
fn shards(rows: &[usize], parts: usize) -> impl Iterator<Item = &[usize]> {
    let n = rows.len();
    (0..parts).map(move |i| &rows[i * n / parts..(i + 1) * n / parts])
}

impl Replicas {
    /// Shares the rows of `full` out over `devices`, refusing an empty device list
    /// and batches of `batch_rows` rows that leave a device without one.
    pub(super) fn new(
        full: &Batch,
        devices: &[Device],
        batch_rows: usize,
    ) -> Result<Self, FitError> {
        if devices.is_empty() {
            return Err(FitError::NoDevices);
        }
        if batch_rows < devices.len() {
            return Err(FitError::FewerRowsThanDevices {
                rows: batch_rows,
                devices: devices.len(),
            });
        }
        let n = full.rows;
        let parts = devices.len();
        let full = devices
            .iter()
            .enumerate()
            .map(|(i, device)| {
                let (start, end) = (i * n / parts, (i + 1) * n / parts);
                full.slice(start, end - start, device)
            })
            .collect();
        Ok(Replicas {
            devices: devices.to_vec(),
            full,
        })
    }

    /// The loss over `rows` of `columns` (all rows when `None`) and its
    /// gradient with respect to `params`, on the first device: each device
    /// computes its shard's share on its own thread.
    pub(super) fn loss_and_grads(
        &self,
        scm: &Scm,
        params: &ScmParams,
        columns: &[Vec<f32>],
        rows: Option<&[usize]>,
    ) -> (f64, GradientsParams) {
        let batches: Vec<Batch> = match rows {
            Some(rows) => shards(rows, self.devices.len())
                .zip(&self.devices)
                .map(|(rows, device)| Batch::new(scm, columns, Some(rows), device))
                .collect(),
            None => self.full.clone(),
        };
        let total = batches.iter().map(|batch| batch.rows).sum::<usize>() as f32;
        let main = &self.devices[0];
        let parts: Vec<(f64, GradientsParams)> = std::thread::scope(|scope| {
            let workers: Vec<_> = batches
                .into_iter()
                .zip(&self.devices)
                .map(|(batch, device)| {
                    let replica = params.clone();
                    scope.spawn(move || {
                        let replica = replica.fork(device);
                        let share = batch.rows as f32 / total;
                        let loss = batch.nll(&replica, scm).mul_scalar(share);
                        let value = f64::from(loss.clone().into_scalar::<f32>());
                        let grads = GradientsParams::from_grads(loss.backward(), &replica)
                            .to_device(main, &replica);
                        (value, grads)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| {
                    worker
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        let mut accumulator = GradientsAccumulator::new();
        let mut value = 0.0;
        for (loss, grads) in parts {
            value += loss;
            accumulator.accumulate(params, grads);
        }
        (value, accumulator.grads())
    }
}
