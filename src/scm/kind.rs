//! What values a variable takes: continuous, binary, categorical or count.

use super::Noise;

/// The kind of a variable's values, which decides its default noise
/// family and how it enters its children's mechanisms.
///
/// | kind | values | default noise | as a parent |
/// |---|---|---|---|
/// | `Continuous` | any finite number | [`Noise::Mixture`] | its value (standardised) |
/// | `Binary` | 0 or 1 | [`Noise::Bernoulli`] | its value |
/// | `Categorical` | level codes `0..L` | [`Noise::Categorical`] | `L − 1` indicator columns (level 0 is the reference) |
/// | `Count` | 0, 1, 2, .. | [`Noise::Poisson`] | its value |
///
/// ```
/// use causalgrad::scm::VariableKind;
///
/// assert_eq!(VariableKind::detect(&[0.0, 1.0, 1.0], None), VariableKind::Binary);
/// assert_eq!(VariableKind::detect(&[0.0, 1.0, 2.0], None), VariableKind::Continuous);
/// let colour = VariableKind::categorical(["blue", "green", "red"]);
/// assert_eq!(colour.input_width(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariableKind {
    /// Real-valued.
    Continuous,
    /// 0 or 1.
    Binary,
    /// One of a fixed set of levels, coded `0..levels.len()`.
    Categorical {
        /// The levels' labels in code order.
        levels: Vec<String>,
    },
    /// A whole number at least 0.
    Count,
}

impl VariableKind {
    /// A categorical kind with these labels (in code order).
    pub fn categorical<S: Into<String>>(levels: impl IntoIterator<Item = S>) -> Self {
        VariableKind::Categorical {
            levels: levels.into_iter().map(Into::into).collect(),
        }
    }

    /// The kind's name (`"continuous"`, `"binary"`, `"categorical"`,
    /// `"count"`), as `model.toml` writes it.
    pub fn name(&self) -> &'static str {
        match self {
            VariableKind::Continuous => "continuous",
            VariableKind::Binary => "binary",
            VariableKind::Categorical { .. } => "categorical",
            VariableKind::Count => "count",
        }
    }

    /// The kind the data suggest: a column with labels is categorical, one
    /// holding only 0 and 1 (both) is binary, any other is continuous
    /// (whole numbers included: declare a count as [`VariableKind::Count`]).
    pub fn detect(values: &[f64], labels: Option<&[String]>) -> Self {
        if let Some(labels) = labels {
            return VariableKind::categorical(labels.iter().cloned());
        }
        let binary = values.iter().all(|&v| v == 0.0 || v == 1.0)
            && values.contains(&0.0)
            && values.contains(&1.0);
        if binary {
            VariableKind::Binary
        } else {
            VariableKind::Continuous
        }
    }

    /// The noise family a variable of this kind gets by default.
    ///
    /// A continuous variable gets the three-component mixture
    /// ([`Noise::mixture`]), so skewed, heavy-tailed or multimodal errors
    /// come out right without choosing a family (a Gaussian is among the
    /// shapes it fits). Roots too: effects, interventions and samples draw
    /// every variable's noise from its fitted distribution, so a skewed
    /// root confounder fitted as a Gaussian would bias any effect whose
    /// outcome depends on it non-linearly. [`Noise::gaussian`] stays
    /// available by choice.
    ///
    /// ```
    /// use causalgrad::scm::VariableKind;
    ///
    /// assert_eq!(VariableKind::Continuous.default_noise().name(), "mixture");
    /// assert_eq!(VariableKind::Binary.default_noise().name(), "bernoulli");
    /// ```
    pub fn default_noise(&self) -> Noise {
        match self {
            VariableKind::Continuous => Noise::mixture(),
            VariableKind::Binary => Noise::Bernoulli,
            VariableKind::Categorical { levels } => Noise::categorical(levels.len()),
            VariableKind::Count => Noise::Poisson,
        }
    }

    /// Whether `noise` is a family for this kind.
    pub fn allows(&self, noise: &Noise) -> bool {
        match (self, noise) {
            (VariableKind::Continuous, noise) => !noise.is_discrete(),
            (VariableKind::Binary, Noise::Bernoulli) => true,
            (VariableKind::Categorical { levels }, Noise::Categorical { levels: l }) => {
                levels.len() == *l
            }
            (VariableKind::Count, Noise::Poisson | Noise::NegativeBinomial { .. }) => true,
            _ => false,
        }
    }

    /// The labels of a categorical kind.
    pub fn levels(&self) -> Option<&[String]> {
        match self {
            VariableKind::Categorical { levels } => Some(levels),
            _ => None,
        }
    }

    /// How many columns the variable is as a parent of a mechanism: `L −
    /// 1` indicators for a categorical with `L` levels, else 1.
    pub fn input_width(&self) -> usize {
        match self {
            VariableKind::Categorical { levels } => levels.len() - 1,
            _ => 1,
        }
    }

    /// Whether a fit may standardise the variable (only continuous ones).
    pub(crate) fn is_continuous(&self) -> bool {
        matches!(self, VariableKind::Continuous)
    }
}
