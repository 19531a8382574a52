//! `noise = ...` in a `model.toml`: a likelihood family and its starting
//! values.
//!
//! ```toml
//! noise = "laplace"                              # learned, from scale 1
//! noise = "mixture"                              # three Gaussians: skewed or multimodal errors
//! noise = "heteroscedastic"                      # the scale a function of the parents
//! noise = { gaussian = { scale = 0.2 } }         # learned, from 0.2
//! noise = { student_t = { scale = 1.0, df = 5 } }
//! noise = { negative_binomial = { dispersion = 0.5 } }
//! noise = "bernoulli"                            # binary; also "categorical", "poisson"
//! ```

use std::fmt;

use causalgrad::scm::Noise;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// A noise family with its starting values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NoiseSpec {
    /// Additive Gaussian noise starting at `scale`.
    Gaussian { scale: f64 },
    /// Additive Laplace noise starting at scale `scale`.
    Laplace { scale: f64 },
    /// Additive Student-t noise starting at `scale` and `df`.
    StudentT { scale: f64, df: f64 },
    /// A mixture of three Gaussians (learned).
    Mixture,
    /// Gaussian noise whose scale is a function of the parents.
    Heteroscedastic,
    /// A binary variable.
    Bernoulli,
    /// A categorical variable (its levels come from the data).
    Categorical,
    /// A Poisson count.
    Poisson,
    /// A negative binomial count starting at `dispersion`.
    NegativeBinomial { dispersion: f64 },
}

const NOISES: &[&str] = &[
    "gaussian",
    "laplace",
    "student_t",
    "mixture",
    "heteroscedastic",
    "bernoulli",
    "categorical",
    "poisson",
    "negative_binomial",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScaleOptions {
    #[serde(default = "unit")]
    scale: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StudentOptions {
    #[serde(default = "unit")]
    scale: f64,
    #[serde(default = "ten")]
    df: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DispersionOptions {
    #[serde(default = "unit")]
    dispersion: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoOptions {}

fn unit() -> f64 {
    1.0
}

fn ten() -> f64 {
    10.0
}

fn positive<E: de::Error>(name: &str, value: f64) -> Result<f64, E> {
    if value > 0.0 && value.is_finite() {
        Ok(value)
    } else {
        Err(E::custom(format!(
            "the noise {name} must be positive and finite, got {value}"
        )))
    }
}

impl NoiseSpec {
    /// The family with its defaults, by name.
    fn named<E: de::Error>(name: &str) -> Result<NoiseSpec, E> {
        Ok(match name {
            "gaussian" => NoiseSpec::Gaussian { scale: 1.0 },
            "laplace" => NoiseSpec::Laplace { scale: 1.0 },
            "student_t" => NoiseSpec::StudentT {
                scale: 1.0,
                df: 10.0,
            },
            "mixture" => NoiseSpec::Mixture,
            "heteroscedastic" => NoiseSpec::Heteroscedastic,
            "bernoulli" => NoiseSpec::Bernoulli,
            "categorical" => NoiseSpec::Categorical,
            "poisson" => NoiseSpec::Poisson,
            "negative_binomial" => NoiseSpec::NegativeBinomial { dispersion: 1.0 },
            other => return Err(E::unknown_variant(other, NOISES)),
        })
    }

    /// The family for a variable with `levels` levels (categorical only).
    pub fn noise(self, levels: usize) -> Noise {
        let ln = |v: f64| v.ln() as f32;
        match self {
            NoiseSpec::Gaussian { scale } => Noise::Gaussian {
                log_scale: ln(scale),
            },
            NoiseSpec::Laplace { scale } => Noise::Laplace {
                log_scale: ln(scale),
            },
            NoiseSpec::StudentT { scale, df } => Noise::StudentT {
                log_scale: ln(scale),
                log_df: ln(df),
            },
            NoiseSpec::Mixture => Noise::mixture(),
            NoiseSpec::Heteroscedastic => Noise::Heteroscedastic,
            NoiseSpec::Bernoulli => Noise::Bernoulli,
            NoiseSpec::Categorical => Noise::categorical(levels),
            NoiseSpec::Poisson => Noise::Poisson,
            NoiseSpec::NegativeBinomial { dispersion } => Noise::NegativeBinomial {
                log_dispersion: ln(dispersion),
            },
        }
    }
}

/// `"family"` or `{ family = { options } }`.
impl<'de> Deserialize<'de> for NoiseSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Kind;
        impl<'de> Visitor<'de> for Kind {
            type Value = NoiseSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a noise model: "gaussian", "laplace", "student_t", "mixture", "heteroscedastic", "bernoulli", "categorical", "poisson", "negative_binomial", or a table such as { gaussian = { scale = 0.5 } }"#)
            }
            fn visit_str<E: de::Error>(self, kind: &str) -> Result<NoiseSpec, E> {
                NoiseSpec::named(kind)
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<NoiseSpec, M::Error> {
                let kind: String = map
                    .next_key()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let spec = match NoiseSpec::named::<M::Error>(&kind)? {
                    NoiseSpec::Gaussian { .. } => NoiseSpec::Gaussian {
                        scale: positive("scale", map.next_value::<ScaleOptions>()?.scale)?,
                    },
                    NoiseSpec::Laplace { .. } => NoiseSpec::Laplace {
                        scale: positive("scale", map.next_value::<ScaleOptions>()?.scale)?,
                    },
                    NoiseSpec::StudentT { .. } => {
                        let options: StudentOptions = map.next_value()?;
                        let df = positive("df", options.df)?;
                        if !(1.0..=1000.0).contains(&df) {
                            return Err(de::Error::custom(format!(
                                "`df` must be between 1 and 1000, got {df}"
                            )));
                        }
                        NoiseSpec::StudentT {
                            scale: positive("scale", options.scale)?,
                            df,
                        }
                    }
                    NoiseSpec::NegativeBinomial { .. } => NoiseSpec::NegativeBinomial {
                        dispersion: positive(
                            "dispersion",
                            map.next_value::<DispersionOptions>()?.dispersion,
                        )?,
                    },
                    other => {
                        map.next_value::<NoOptions>()?;
                        other
                    }
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "one noise model per variable: `{kind}` and `{extra}` are both given"
                    )));
                }
                Ok(spec)
            }
        }
        deserializer.deserialize_any(Kind)
    }
}
