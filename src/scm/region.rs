//! The region a support sample covers: a point lies outside it when its
//! distance to the nearest support row exceeds the 99th percentile of the
//! support rows' own nearest-neighbour distances (each to the others),
//! every column standardised by the support's mean and standard
//! deviation; so about 1% of points from the data's own distribution lie
//! outside. Built once per parent set and kept with the model's support
//! sample ([`super::Scm::extrapolation`] asks it on every query).
//!
//! The searches are exact, as the all-pairs comparison is, but the
//! support is sorted along its column with the most distinct values and
//! each search scans outward from the point's place in that order,
//! stopping once the gap along that column alone exceeds the best
//! distance found (or, for a query, the threshold): a few hundred
//! distances per point on 2,000 support rows instead of all of them.
//! Queries against a region of at most [`GRID_DIMS`] columns go through
//! a grid of cells as wide as the threshold distance instead: the support
//! rows within it of a point lie in the `3^d` cells around the point's
//! own, a handful of distances per point, and none for a point far
//! outside.

/// The percentile of the support's own nearest-neighbour distances beyond
/// which a point is outside.
const QUANTILE: f64 = 0.99;

/// The most columns a region answers queries through a [`Grid`] for
/// (`3^4 = 81` cells per query).
const GRID_DIMS: usize = 4;

/// The most cells a [`Grid`] may have (4 bytes each).
const GRID_CELLS: usize = 1 << 20;

/// The region covered by the support rows of a few columns (a
/// variable's parents).
#[derive(Debug)]
pub(crate) struct SupportRegion {
    points: SortedPoints,
    /// The squared distance beyond which a point is outside.
    threshold: f64,
    /// The points bucketed for queries, where their columns are few and
    /// the cells not too many.
    grid: Option<Grid>,
}

impl SupportRegion {
    /// The region of `columns` (equal lengths, model units).
    pub(crate) fn new(columns: &[&[f32]]) -> Self {
        let n = columns.first().map_or(0, |c| c.len());
        let points = SortedPoints::new(columns);
        let threshold = if n < 2 {
            f64::INFINITY
        } else {
            let mut own: Vec<f64> = (0..n).map(|i| points.nearest_other(i)).collect();
            let at = ((n - 1) as f64 * QUANTILE).round() as usize;
            *own.select_nth_unstable_by(at, f64::total_cmp).1
        };
        let grid = Grid::new(&points, threshold);
        SupportRegion {
            points,
            threshold,
            grid,
        }
    }

    /// Whether each point of `query` (columns of equal length, in the
    /// order of the region's columns) lies outside the region; a region
    /// of fewer than two rows has nothing outside.
    pub(crate) fn outside(&self, query: &[&[f32]]) -> Vec<bool> {
        let m = query.first().map_or(0, |c| c.len());
        if self.points.len() < 2 {
            return vec![false; m];
        }
        let mut point = vec![0.0; query.len()];
        (0..m)
            .map(|r| {
                for (d, column) in query.iter().enumerate() {
                    point[d] = self.points.standardise(d, column[r]);
                }
                let within = match &self.grid {
                    Some(grid) => grid.any_within(&self.points, &point, self.threshold),
                    None => self.points.any_within(&point, self.threshold),
                };
                !within
            })
            .collect()
    }
}

/// Reference points bucketed into cells of side `side` (at least the
/// search radius), stored cell by cell in one array.
#[derive(Debug)]
struct Grid {
    /// A cell's side, standardised units.
    side: f64,
    /// Per column, the lowest cell coordinate a point occupies.
    origin: Vec<i64>,
    /// Per column, the number of cells from `origin`.
    extent: Vec<usize>,
    /// Cell `c`'s points are `members[start[c]..start[c + 1]]` (cells in
    /// row-major order over the columns).
    start: Vec<u32>,
    /// Places of the points in [`SortedPoints`] order, cell by cell.
    members: Vec<u32>,
}

impl Grid {
    /// The grid of `points` for searches within squared distance
    /// `threshold`; `None` for too many columns, a radius of zero (every
    /// point has a duplicate) or too many cells.
    fn new(points: &SortedPoints, threshold: f64) -> Option<Grid> {
        let dims = points.dims;
        if dims > GRID_DIMS || threshold <= 0.0 || !threshold.is_finite() {
            return None;
        }
        // A hair wider than the radius, so that rounding never puts a
        // point within it two cells away.
        let side = threshold.sqrt() * (1.0 + 1e-9);
        let n = points.len();
        let cell_of = |point: &[f64], d: usize| (point[d] / side).floor() as i64;
        let mut low = vec![i64::MAX; dims];
        let mut high = vec![i64::MIN; dims];
        for at in 0..n {
            for d in 0..dims {
                let c = cell_of(points.point(at), d);
                low[d] = low[d].min(c);
                high[d] = high[d].max(c);
            }
        }
        let mut cells = 1usize;
        let mut extent = Vec::with_capacity(dims);
        for d in 0..dims {
            let width = usize::try_from(high[d] - low[d] + 1).ok()?;
            cells = cells.checked_mul(width).filter(|&c| c <= GRID_CELLS)?;
            extent.push(width);
        }
        let index = |point: &[f64]| {
            (0..dims).fold(0usize, |i, d| {
                i * extent[d] + (cell_of(point, d) - low[d]) as usize
            })
        };
        let mut start = vec![0u32; cells + 1];
        let cell: Vec<usize> = (0..n).map(|at| index(points.point(at))).collect();
        for &c in &cell {
            start[c + 1] += 1;
        }
        for c in 0..cells {
            start[c + 1] += start[c];
        }
        let mut next = start.clone();
        let mut members = vec![0u32; n];
        for (at, &c) in cell.iter().enumerate() {
            members[next[c] as usize] = at as u32;
            next[c] += 1;
        }
        Some(Grid {
            side,
            origin: low,
            extent,
            start,
            members,
        })
    }

    /// Whether some point lies within squared distance `threshold` (the
    /// one the grid was built for) of `point`: the points of the cells
    /// around `point`'s own, each offset by −1, 0 or +1 per column.
    fn any_within(&self, points: &SortedPoints, point: &[f64], threshold: f64) -> bool {
        let dims = self.extent.len();
        let mut centre = [0i64; GRID_DIMS];
        for d in 0..dims {
            centre[d] = (point[d] / self.side).floor() as i64 - self.origin[d];
            // Beyond the grid by more than a cell: nothing is near.
            if centre[d] < -1 || centre[d] > self.extent[d] as i64 {
                return false;
            }
        }
        let mut offset = [-1i64; GRID_DIMS];
        loop {
            let mut index = 0usize;
            let mut inside = true;
            for d in 0..dims {
                let c = centre[d] + offset[d];
                if c < 0 || c >= self.extent[d] as i64 {
                    inside = false;
                    break;
                }
                index = index * self.extent[d] + c as usize;
            }
            if inside {
                let cell = self.start[index] as usize..self.start[index + 1] as usize;
                for &at in &self.members[cell] {
                    if points.squared_distance(at as usize, point) <= threshold {
                        return true;
                    }
                }
            }
            // The next offset, the last column fastest.
            let mut d = dims;
            loop {
                if d == 0 {
                    return false;
                }
                d -= 1;
                if offset[d] < 1 {
                    offset[d] += 1;
                    break;
                }
                offset[d] = -1;
            }
        }
    }
}

/// Reference points, standardised column by column and sorted along one
/// column (the key), for exact nearest-neighbour searches.
#[derive(Debug)]
struct SortedPoints {
    /// Each column's mean and standard deviation.
    scale: Vec<(f64, f64)>,
    /// The column the points are sorted by.
    key: usize,
    /// The points, row-major, `dims` values each, in key order.
    points: Vec<f64>,
    /// Values per point.
    dims: usize,
    /// Each original row's place in key order.
    place: Vec<usize>,
}

impl SortedPoints {
    fn new(columns: &[&[f32]]) -> Self {
        let n = columns[0].len();
        let scale: Vec<(f64, f64)> = columns
            .iter()
            .map(|c| {
                let mean = c.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
                let var = c
                    .iter()
                    .map(|&v| (f64::from(v) - mean).powi(2))
                    .sum::<f64>()
                    / (n - 1) as f64;
                (mean, var.sqrt().max(1e-9))
            })
            .collect();
        let distinct = |c: &&[f32]| {
            let mut values: Vec<u32> = c.iter().map(|v| v.to_bits()).collect();
            values.sort_unstable();
            values.dedup();
            values.len()
        };
        let key = (0..columns.len())
            .max_by_key(|&d| distinct(&columns[d]))
            .unwrap_or(0);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| columns[key][a].total_cmp(&columns[key][b]));
        let dims = columns.len();
        let mut points = Vec::with_capacity(n * dims);
        let mut place = vec![0; n];
        for (at, &row) in order.iter().enumerate() {
            place[row] = at;
            for (d, column) in columns.iter().enumerate() {
                let (mean, sd) = scale[d];
                points.push((f64::from(column[row]) - mean) / sd);
            }
        }
        SortedPoints {
            scale,
            key,
            points,
            dims,
            place,
        }
    }

    fn standardise(&self, column: usize, value: f32) -> f64 {
        let (mean, sd) = self.scale[column];
        (f64::from(value) - mean) / sd
    }

    fn len(&self) -> usize {
        self.place.len()
    }

    fn point(&self, at: usize) -> &[f64] {
        &self.points[at * self.dims..(at + 1) * self.dims]
    }

    fn squared_distance(&self, at: usize, point: &[f64]) -> f64 {
        self.point(at)
            .iter()
            .zip(point)
            .map(|(a, b)| (a - b).powi(2))
            .sum()
    }

    /// The squared distance from original row `row` to its nearest other
    /// reference point.
    fn nearest_other(&self, row: usize) -> f64 {
        let at = self.place[row];
        let point = self.point(at).to_vec();
        let key = point[self.key];
        let mut best = f64::INFINITY;
        let (mut left, mut right) = (at, at + 1);
        let (mut left_open, mut right_open) = (true, true);
        while left_open || right_open {
            if left_open {
                if left == 0 || (key - self.point(left - 1)[self.key]).powi(2) > best {
                    left_open = false;
                } else {
                    left -= 1;
                    best = best.min(self.squared_distance(left, &point));
                }
            }
            if right_open {
                if right == self.len() || (self.point(right)[self.key] - key).powi(2) > best {
                    right_open = false;
                } else {
                    best = best.min(self.squared_distance(right, &point));
                    right += 1;
                }
            }
        }
        best
    }

    /// Whether some reference point lies within squared distance
    /// `threshold` of `point` (standardised).
    fn any_within(&self, point: &[f64], threshold: f64) -> bool {
        let key = point[self.key];
        let (mut at, mut end) = (0, self.len());
        while at < end {
            let middle = (at + end) / 2;
            if self.point(middle)[self.key] < key {
                at = middle + 1;
            } else {
                end = middle;
            }
        }
        let (mut left, mut right) = (at, at);
        let (mut left_open, mut right_open) = (true, true);
        while left_open || right_open {
            if left_open {
                if left == 0 || (key - self.point(left - 1)[self.key]).powi(2) > threshold {
                    left_open = false;
                } else {
                    left -= 1;
                    if self.squared_distance(left, point) <= threshold {
                        return true;
                    }
                }
            }
            if right_open {
                if right == self.len() || (self.point(right)[self.key] - key).powi(2) > threshold {
                    right_open = false;
                } else {
                    if self.squared_distance(right, point) <= threshold {
                        return true;
                    }
                    right += 1;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The all-pairs definition the sorted search must agree with.
    fn outside_by_all_pairs(reference: &[&[f32]], query: &[&[f32]]) -> Vec<bool> {
        let index = SortedPoints::new(reference);
        let n = index.len();
        let standardised = |columns: &[&[f32]], r: usize| -> Vec<f64> {
            let values = columns.iter().enumerate();
            values.map(|(d, c)| index.standardise(d, c[r])).collect()
        };
        let reference: Vec<Vec<f64>> = (0..n).map(|r| standardised(reference, r)).collect();
        let distance =
            |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum() };
        let nearest = |point: &[f64], skip: Option<usize>| -> f64 {
            let others = reference
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != skip);
            others
                .map(|(_, r)| distance(r, point))
                .fold(f64::INFINITY, f64::min)
        };
        let mut own: Vec<f64> = (0..n).map(|i| nearest(&reference[i], Some(i))).collect();
        own.sort_by(f64::total_cmp);
        let threshold = own[((n - 1) as f64 * QUANTILE).round() as usize];
        let m = query[0].len();
        (0..m)
            .map(|r| nearest(&standardised(query, r), None) > threshold)
            .collect()
    }

    #[test]
    fn the_searches_agree_with_all_pairs() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        // Up to four columns through the grid, five and six by the scan.
        let mut gridded = 0;
        for case in 0..30 {
            let dims = 1 + case % 6;
            let n = 2 + case * 17;
            // Some columns binary or on a coarse grid, so ties and
            // duplicates occur; query points spread wider than the data.
            let column = |rng: &mut rand::rngs::StdRng, rows: usize, spread: f32, d: usize| {
                (0..rows)
                    .map(|_| match (case + d) % 3 {
                        0 => f32::from(rng.random_bool(0.3) as u8),
                        1 => (rng.random_range(-2.0..2.0f32) * spread).round(),
                        _ => rng.random_range(-2.0..2.0f32) * spread,
                    })
                    .collect::<Vec<f32>>()
            };
            let reference: Vec<Vec<f32>> = (0..dims).map(|d| column(&mut rng, n, 1.0, d)).collect();
            let query: Vec<Vec<f32>> = (0..dims).map(|d| column(&mut rng, 300, 1.5, d)).collect();
            let reference: Vec<&[f32]> = reference.iter().map(Vec::as_slice).collect();
            let query: Vec<&[f32]> = query.iter().map(Vec::as_slice).collect();
            let region = SupportRegion::new(&reference);
            gridded += usize::from(region.grid.is_some());
            assert_eq!(
                region.outside(&query),
                outside_by_all_pairs(&reference, &query),
                "case {case}: {dims} parents, {n} rows"
            );
        }
        assert!(gridded >= 12, "only {gridded} cases went through the grid");
    }

    #[test]
    fn points_from_the_reference_distribution_are_about_one_percent_outside() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut draw =
            |n: usize| -> Vec<f32> { (0..n).map(|_| StandardNormal.sample(&mut rng)).collect() };
        let (a, b) = (draw(2000), draw(2000));
        let (qa, qb) = (draw(1000), draw(1000));
        let share = |flags: Vec<bool>| flags.iter().filter(|&&o| o).count() as f64 / 1000.0;
        let inside = share(SupportRegion::new(&[&a, &b]).outside(&[&qa, &qb]));
        assert!(inside < 0.03, "{inside}");
        // The same points shifted by three standard deviations in one parent.
        let shifted: Vec<f32> = qa.iter().map(|v| v + 3.0).collect();
        let outside = share(SupportRegion::new(&[&a, &b]).outside(&[&shifted, &qb]));
        assert!(outside > 0.3, "{outside}");
    }
}
