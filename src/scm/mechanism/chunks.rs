//! The batch layout every kernel shares: fixed chunks of rows evaluated in
//! parallel (rayon) and combined in a fixed order, so results do not
//! depend on the number of threads, and sums kept in lane accumulators.

use rayon::prelude::*;

use crate::diff::Tangent;
use crate::lanes::BatchLanes;

/// Rows per parallel chunk: small enough that a batch of 10k rows makes ten
/// chunks, which two threads share evenly (three chunks of 4096 left one
/// thread idle a third of the time), large enough that the per-chunk work
/// (zeroing and flattening the gradient) stays a few percent at 100k rows.
pub(crate) const CHUNK: usize = 1024;

/// Adds the chunks' parameter gradients to `dparams` in chunk order and
/// writes their per-row parent gradients into `dparents` (column-major).
pub(super) fn combine_chunks<const K: usize>(
    chunk_results: &[(Vec<f32>, Vec<[f32; K]>)],
    n: usize,
    dparams: &mut [f32],
    dparents: Option<&mut [f32]>,
) {
    for (flat, _) in chunk_results {
        for (total, value) in dparams.iter_mut().zip(flat) {
            *total += value;
        }
    }
    if let Some(dparents) = dparents {
        for (row, grads) in chunk_results.iter().flat_map(|(_, g)| g).enumerate() {
            for (column, value) in grads.iter().enumerate() {
                dparents[column * n + row] = *value;
            }
        }
    }
}

/// A chunk's parameter gradient, flattened: the lane tangent's lanes
/// summed, plus the tail rows' tangent.
pub(super) fn flatten_totals<L, R>(lane_total: &L, row_total: &R) -> Vec<f32>
where
    L: Tangent<Scalar = BatchLanes>,
    R: Tangent<Scalar = f32>,
{
    let mut flat = Vec::new();
    lane_total.for_each_scalar(&mut |value| flat.push(value.sum()));
    let mut index = 0;
    row_total.for_each_scalar(&mut |value| {
        flat[index] += value;
        index += 1;
    });
    flat
}

/// Sums the chunks' squared errors and adds their parameter gradients to
/// `dparams`, in chunk order.
pub(super) fn add_partials(partial: Vec<(f64, Vec<f32>)>, dparams: Option<&mut [f32]>) -> f64 {
    if let Some(dparams) = dparams {
        for (_, flat) in &partial {
            for (total, value) in dparams.iter_mut().zip(flat) {
                *total += value;
            }
        }
    }
    partial.iter().map(|(squares, _)| squares).sum()
}

/// Width of the accumulators of [`lane_sum`] and [`lane_dot`]: sixteen
/// independent partial sums, which the compiler keeps in vector registers
/// (a single running `f32` sum cannot be vectorised, as that would
/// reorder its additions).
pub(super) const SUM_LANES: usize = 16;

/// `Σ a_r`, summed in [`SUM_LANES`] partial sums.
pub(super) fn lane_sum(a: &[f32]) -> f32 {
    let mut acc = [0.0f32; SUM_LANES];
    let mut blocks = a.chunks_exact(SUM_LANES);
    for block in &mut blocks {
        for (total, value) in acc.iter_mut().zip(block) {
            *total += value;
        }
    }
    for (total, value) in acc.iter_mut().zip(blocks.remainder()) {
        *total += value;
    }
    acc.iter().sum()
}

/// `Σ a_r b_r` over the common length, summed in [`SUM_LANES`] partial sums.
pub(super) fn lane_dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; SUM_LANES];
    let (mut blocks_a, mut blocks_b) = (a.chunks_exact(SUM_LANES), b.chunks_exact(SUM_LANES));
    for (block_a, block_b) in (&mut blocks_a).zip(&mut blocks_b) {
        for ((total, x), y) in acc.iter_mut().zip(block_a).zip(block_b) {
            *total += x * y;
        }
    }
    for ((total, x), y) in acc
        .iter_mut()
        .zip(blocks_a.remainder())
        .zip(blocks_b.remainder())
    {
        *total += x * y;
    }
    acc.iter().sum()
}

/// `f` on each of the fixed chunks of `0..n` every kernel uses, results in
/// chunk order: in parallel on rayon's pool, or on the calling thread when
/// there is one chunk. Handing a single small job to the pool costs a
/// worker's wake-up, more than the job itself for a few hundred rows (a
/// context's term, a short mini-batch).
pub(super) fn map_chunks<T: Send>(
    n: usize,
    f: impl Fn(std::ops::Range<usize>) -> T + Sync + Send,
) -> Vec<T> {
    let count = n.div_ceil(CHUNK);
    let range = move |chunk: usize| chunk * CHUNK..((chunk + 1) * CHUNK).min(n);
    if count <= 1 {
        return (0..count).map(|chunk| f(range(chunk))).collect();
    }
    (0..count)
        .into_par_iter()
        .map(|chunk| f(range(chunk)))
        .collect()
}

/// `f(chunk index, chunk)` on each chunk of `out`, like [`map_chunks`]:
/// on the calling thread when there is one chunk.
pub(super) fn for_each_chunk_mut(out: &mut [f32], f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    if out.len() <= CHUNK {
        f(0, out);
    } else {
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(chunk, out)| f(chunk, out));
    }
}
