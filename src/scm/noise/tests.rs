//! Every family: its gradient against finite differences, sampling
//! against its expectation, abduction against sampling.

use super::*;

fn families() -> Vec<Noise> {
    vec![
        Noise::Gaussian { log_scale: -0.3 },
        Noise::Laplace { log_scale: 0.2 },
        Noise::StudentT {
            log_scale: -0.1,
            log_df: 1.3,
        },
        Noise::Mixture(Mixture {
            logits: [0.4, -0.3],
            means: [-0.9, 0.2, 1.4],
            log_scales: [-0.5, 0.1, -0.2],
        }),
        Noise::Heteroscedastic,
        Noise::Bernoulli,
        Noise::Categorical { levels: 4 },
        Noise::Poisson,
        Noise::NegativeBinomial {
            log_dispersion: -0.7,
        },
    ]
}

/// Values each family gives, to evaluate the density at.
fn values(noise: &Noise) -> Vec<f64> {
    match noise {
        Noise::Bernoulli => vec![0.0, 1.0],
        Noise::Categorical { levels } => (0..*levels).map(|l| l as f64).collect(),
        // Far-tail counts (P below 1e-12) are beyond f64's CDF resolution.
        Noise::Poisson | Noise::NegativeBinomial { .. } => vec![0.0, 1.0, 3.0, 7.0],
        _ => vec![-2.5, -0.4, 0.3, 1.7, 6.0],
    }
}

fn etas(noise: &Noise) -> Vec<Vec<f64>> {
    let base = [-1.2, 0.1, 0.8, 2.1];
    (0..3)
        .map(|shift| {
            (0..noise.outputs())
                .map(|h| base[(h + shift) % base.len()])
                .collect()
        })
        .collect()
}

#[test]
fn gradients_match_finite_differences() {
    let h = 1e-6;
    for noise in families() {
        let params = noise.params();
        for eta in etas(&noise) {
            for x in values(&noise) {
                let mut d_eta = vec![0.0; eta.len()];
                let mut d_params = vec![0.0; params.len()];
                noise.nll(&eta, x, &mut d_eta, &mut d_params);
                for i in 0..eta.len() {
                    let mut up = eta.clone();
                    let mut down = eta.clone();
                    up[i] += h;
                    down[i] -= h;
                    let mut scratch = (vec![0.0; eta.len()], vec![0.0; params.len()]);
                    let fd = (noise.nll(&up, x, &mut scratch.0, &mut scratch.1)
                        - noise.nll(&down, x, &mut scratch.0, &mut scratch.1))
                        / (2.0 * h);
                    assert!(
                        (fd - d_eta[i]).abs() < 1e-5 * (1.0 + fd.abs()),
                        "{noise:?} x={x} eta={eta:?}: d_eta[{i}] {} vs {fd}",
                        d_eta[i]
                    );
                }
                for i in 0..params.len() {
                    let shifted = |delta: f32| {
                        let mut p = params.clone();
                        p[i] += delta;
                        let mut scratch = (vec![0.0; eta.len()], vec![0.0; params.len()]);
                        noise
                            .with_params(&p)
                            .nll(&eta, x, &mut scratch.0, &mut scratch.1)
                    };
                    let step = 1e-3f32;
                    let fd = (shifted(step) - shifted(-step)) / (2.0 * f64::from(step));
                    assert!(
                        (fd - d_params[i]).abs() < 1e-3 * (1.0 + fd.abs()),
                        "{noise:?} x={x} eta={eta:?}: d_params[{i}] {} vs {fd}",
                        d_params[i]
                    );
                }
            }
        }
    }
}

#[test]
fn densities_integrate_to_one() {
    for noise in families() {
        let eta: Vec<f64> = etas(&noise)[1].clone();
        let mut scratch = (vec![0.0; eta.len()], vec![0.0; noise.params().len()]);
        let mut density = |x: f64| (-noise.nll(&eta, x, &mut scratch.0, &mut scratch.1)).exp();
        let total: f64 = if noise.is_discrete() {
            let top = match noise {
                Noise::Bernoulli => 2,
                Noise::Categorical { levels } => levels,
                _ => 400,
            };
            (0..top).map(|k| density(k as f64)).sum()
        } else {
            let step = 1e-3;
            (-60_000..60_000)
                .map(|i| density(eta[0] + f64::from(i) * step) * step)
                .sum()
        };
        assert!((total - 1.0).abs() < 2e-3, "{noise:?}: {total}");
    }
}

#[test]
fn samples_average_to_the_expectation() {
    // Stratified standard normal noise: e_i = Φ⁻¹((i + ½) / n).
    let n = 200_000;
    for noise in families() {
        for eta in etas(&noise) {
            let mean = (0..n)
                .map(|i| noise.sample(&eta, normal_quantile((i as f64 + 0.5) / n as f64)))
                .sum::<f64>()
                / n as f64;
            let expected = noise.expectation(&eta);
            let tolerance = if matches!(noise, Noise::StudentT { .. }) {
                2e-2
            } else {
                2e-3
            };
            assert!(
                (mean - expected).abs() < tolerance * (1.0 + expected.abs()),
                "{noise:?} eta={eta:?}: {mean} vs {expected}"
            );
            for e in [-3.0, -0.5, 0.0, 1.2, 4.0] {
                noise
                    .check(noise.sample(&eta, e))
                    .unwrap_or_else(|m| panic!("{noise:?}: {m}"));
            }
        }
    }
}

#[test]
fn abduction_gives_noise_that_reproduces_the_observation() {
    for noise in families() {
        for eta in etas(&noise) {
            if noise.is_discrete() {
                for x in values(&noise) {
                    for u in [0.01, 0.5, 0.99] {
                        let e = noise.abduct(&eta, x, u);
                        assert_eq!(noise.sample(&eta, e), x, "{noise:?} eta={eta:?} u={u}");
                    }
                }
            } else {
                for e in [-3.0, -0.7, 0.0, 0.4, 2.5] {
                    let x = noise.sample(&eta, e);
                    let back = noise.abduct(&eta, x, 0.5);
                    assert!((back - e).abs() < 1e-6, "{noise:?}: {e} → {x} → {back}");
                }
            }
        }
    }
}

#[test]
fn bad_values_are_named() {
    assert!(Noise::Bernoulli
        .check(2.0)
        .unwrap_err()
        .contains("not 0 or 1"));
    assert!(Noise::Poisson
        .check(-1.0)
        .unwrap_err()
        .contains("not a count"));
    assert!(Noise::Poisson
        .check(1.5)
        .unwrap_err()
        .contains("not a count"));
    assert!(Noise::categorical(3).check(3.0).is_err());
    assert!(Noise::gaussian().check(-7.25).is_ok());
}
