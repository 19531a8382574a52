//! Prior knowledge: required and forbidden edges, and tiers (a temporal
//! or logical order: no edge from a later tier into an earlier one).

use ndarray::Array2;

use super::DiscoverError;

/// What is known about the graph before looking at the data.
///
/// ```
/// use causalgrad::discover::Knowledge;
///
/// let knowledge = Knowledge::new()
///     .require("smoking", "tar")
///     .forbid("cancer", "smoking")
///     .tier(["age", "sex"])          // nothing causes age or sex ...
///     .tier(["smoking", "tar", "cancer"]); // ... from these
/// assert_eq!(knowledge.required().len(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Knowledge {
    required: Vec<(String, String)>,
    forbidden: Vec<(String, String)>,
    tiers: Vec<Vec<String>>,
}

impl Knowledge {
    /// No prior knowledge.
    pub fn new() -> Self {
        Self::default()
    }

    /// The edge `from -> to` must be in the graph: it is exempt from the
    /// sparsity penalty and kept by the thresholding whatever its weight.
    pub fn require(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.required.push((from.into(), to.into()));
        self
    }

    /// The edge `from -> to` must not be in the graph: its weight is held
    /// at zero throughout.
    pub fn forbid(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.forbidden.push((from.into(), to.into()));
        self
    }

    /// Appends a tier: variables of a later tier never cause variables of
    /// an earlier one. Variables in no tier are unconstrained.
    pub fn tier<S: Into<String>>(mut self, variables: impl IntoIterator<Item = S>) -> Self {
        self.tiers
            .push(variables.into_iter().map(Into::into).collect());
        self
    }

    /// The required edges, as given.
    pub fn required(&self) -> &[(String, String)] {
        &self.required
    }

    /// The forbidden edges, as given.
    pub fn forbidden(&self) -> &[(String, String)] {
        &self.forbidden
    }

    /// The tiers, as given.
    pub fn tiers(&self) -> &[Vec<String>] {
        &self.tiers
    }

    /// Checks the knowledge against the variables and turns it into
    /// masks over `(from, to)` positions.
    pub(crate) fn resolve(&self, names: &[String]) -> Result<Masks, DiscoverError> {
        let d = names.len();
        let find = |origin: &str, name: &str| {
            names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| DiscoverError::UnknownVariable {
                    origin: origin.to_string(),
                    variable: name.to_string(),
                    known: names.to_vec(),
                })
        };
        let mut allowed = Array2::from_elem((d, d), true);
        let mut why_not: Array2<Option<String>> = Array2::from_elem((d, d), None);
        for i in 0..d {
            allowed[[i, i]] = false;
        }
        for (from, to) in &self.forbidden {
            let origin = format!("forbidden edge {from} -> {to}");
            let (i, j) = (find(&origin, from)?, find(&origin, to)?);
            allowed[[i, j]] = false;
            why_not[[i, j]] = Some("forbidden".to_string());
        }
        let mut tier_of: Vec<Option<usize>> = vec![None; d];
        for (t, tier) in self.tiers.iter().enumerate() {
            for name in tier {
                let i = find(&format!("tier {}", t + 1), name)?;
                if let Some(first) = tier_of[i] {
                    return Err(DiscoverError::TierTwice {
                        variable: name.clone(),
                        first: first + 1,
                        second: t + 1,
                    });
                }
                tier_of[i] = Some(t);
            }
        }
        for i in 0..d {
            for j in 0..d {
                if let (Some(ti), Some(tj)) = (tier_of[i], tier_of[j]) {
                    if ti > tj {
                        allowed[[i, j]] = false;
                        why_not[[i, j]] = Some(format!(
                            "forbidden by the tiers: {} is in tier {}, {} in tier {}",
                            names[i],
                            ti + 1,
                            names[j],
                            tj + 1
                        ));
                    }
                }
            }
        }
        let mut required = Array2::from_elem((d, d), false);
        for (from, to) in &self.required {
            let origin = format!("required edge {from} -> {to}");
            let (i, j) = (find(&origin, from)?, find(&origin, to)?);
            if i == j {
                return Err(DiscoverError::SelfLoop {
                    origin,
                    variable: from.clone(),
                });
            }
            if !allowed[[i, j]] {
                return Err(DiscoverError::Contradiction {
                    from: from.clone(),
                    to: to.clone(),
                    why: why_not[[i, j]].clone().unwrap_or_default(),
                });
            }
            required[[i, j]] = true;
        }
        if let Some(cycle) = find_cycle(&required) {
            return Err(DiscoverError::RequiredCycle {
                cycle: cycle.into_iter().map(|i| names[i].clone()).collect(),
            });
        }
        Ok(Masks { allowed, required })
    }
}

/// Prior knowledge over positions: `allowed[[i, j]]` when the edge `i -> j`
/// may be learned (never on the diagonal), `required[[i, j]]` when it must be kept.
#[derive(Clone, Debug)]
pub(crate) struct Masks {
    pub(crate) allowed: Array2<bool>,
    pub(crate) required: Array2<bool>,
}

impl Masks {
    /// No knowledge over `d` variables: every edge but self-loops allowed.
    #[cfg(test)]
    pub(crate) fn none(d: usize) -> Masks {
        let mut allowed = Array2::from_elem((d, d), true);
        for i in 0..d {
            allowed[[i, i]] = false;
        }
        Masks {
            allowed,
            required: Array2::from_elem((d, d), false),
        }
    }
}

/// A cycle of the graph with adjacency `edges` (`edges[[i, j]]`: `i -> j`),
/// its first vertex repeated at the end, if there is one.
pub(crate) fn find_cycle(edges: &Array2<bool>) -> Option<Vec<usize>> {
    let d = edges.nrows();
    // 0 unvisited, 1 on the stack, 2 done.
    let mut state = vec![0u8; d];
    let mut path = Vec::new();
    fn visit(
        v: usize,
        edges: &Array2<bool>,
        state: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[v] = 1;
        path.push(v);
        for w in 0..edges.ncols() {
            if !edges[[v, w]] {
                continue;
            }
            if state[w] == 1 {
                let start = path.iter().position(|&p| p == w).expect("on the stack");
                let mut cycle = path[start..].to_vec();
                cycle.push(w);
                return Some(cycle);
            }
            if state[w] == 0 {
                if let Some(cycle) = visit(w, edges, state, path) {
                    return Some(cycle);
                }
            }
        }
        path.pop();
        state[v] = 2;
        None
    }
    (0..d).find_map(|v| {
        if state[v] == 0 {
            visit(v, edges, &mut state, &mut path)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["a", "b", "c"].map(String::from).to_vec()
    }

    #[test]
    fn tiers_forbid_edges_into_earlier_tiers() {
        let masks = Knowledge::new()
            .tier(["a"])
            .tier(["b", "c"])
            .resolve(&names())
            .unwrap();
        assert!(masks.allowed[[0, 1]] && masks.allowed[[1, 2]] && masks.allowed[[2, 1]]);
        assert!(!masks.allowed[[1, 0]] && !masks.allowed[[2, 0]] && !masks.allowed[[0, 0]]);
    }

    #[test]
    fn contradictions_and_cycles_are_errors() {
        let error = Knowledge::new()
            .require("b", "a")
            .tier(["a"])
            .tier(["b"])
            .resolve(&names())
            .unwrap_err();
        assert!(error.to_string().contains("tier 2"), "{error}");
        let error = Knowledge::new()
            .require("a", "b")
            .require("b", "c")
            .require("c", "a")
            .resolve(&names())
            .unwrap_err();
        assert!(matches!(error, DiscoverError::RequiredCycle { ref cycle } if cycle.len() == 4));
        let error = Knowledge::new()
            .forbid("a", "zz")
            .resolve(&names())
            .unwrap_err();
        assert!(error.to_string().contains("`zz`"), "{error}");
        let error = Knowledge::new()
            .require("a", "b")
            .forbid("a", "b")
            .resolve(&names())
            .unwrap_err();
        assert!(error.to_string().contains("forbidden"), "{error}");
    }
}
