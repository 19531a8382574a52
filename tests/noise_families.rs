//! The continuous noise families beyond the Gaussian: Laplace, Student-t,
//! mixture and heteroscedastic noise recover known models and their
//! interventional distributions; every one-output family's fused term
//! matches a row-by-row sum.

use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Mechanism, Noise, Scm};

fn config(steps: usize) -> FitConfig {
    FitConfig::adam(0.05).with_steps(steps)
}

#[test]
fn student_t_learns_its_degrees_of_freedom_and_laplace_its_scale() {
    let graph = CausalGraph::new(["x", "y"], [("x", "y")]).unwrap();
    let cases = [
        (
            Noise::StudentT {
                log_scale: 0.5f32.ln(),
                log_df: 4.0f32.ln(),
            },
            Noise::student_t(20.0),
        ),
        (
            Noise::Laplace {
                log_scale: 0.7f32.ln(),
            },
            Noise::laplace(),
        ),
    ];
    for (true_noise, start) in cases {
        let mut truth = Scm::builder(graph.clone())
            .noise("y", true_noise)
            .build()
            .unwrap();
        truth.set_params("y", &[1.0, 2.0]).unwrap();
        let data = truth.sample(20_000, 8).unwrap();
        let mut model = Scm::builder(graph.clone())
            .noise("y", start)
            .build()
            .unwrap();
        model.fit(&data, &config(800)).unwrap();
        let params = model.params("y").unwrap();
        assert!(
            (params[0] - 1.0).abs() < 0.05 && (params[1] - 2.0).abs() < 0.05,
            "{params:?}"
        );
        match (model.noise("y").unwrap(), true_noise) {
            (Noise::StudentT { log_scale, log_df }, _) => {
                let df = f64::from(log_df).exp();
                assert!((2.5..6.5).contains(&df), "ν = {df}");
                assert!((f64::from(log_scale).exp() - 0.5).abs() < 0.05);
            }
            (Noise::Laplace { log_scale }, _) => {
                assert!((f64::from(log_scale).exp() - 0.7).abs() < 0.03);
            }
            (other, _) => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_student_t_model_predicts_interventional_quantiles_a_gaussian_misses() {
    // Heavy tails: the 99th percentile of y under do(x = 1).
    let graph = CausalGraph::new(["x", "y"], [("x", "y")]).unwrap();
    let mut truth = Scm::builder(graph.clone())
        .noise(
            "y",
            Noise::StudentT {
                log_scale: 0.0,
                log_df: 2.5f32.ln(),
            },
        )
        .build()
        .unwrap();
    truth.set_params("y", &[0.0, 1.0]).unwrap();
    let data = truth.sample(20_000, 10).unwrap();
    let quantile = |scm: &Scm| {
        let mut y = scm
            .intervene(&[("x", 1.0)])
            .unwrap()
            .sample(100_000, 11)
            .unwrap()
            .column("y")
            .unwrap()
            .to_vec();
        y.sort_by(f64::total_cmp);
        y[99_000]
    };
    let expected = quantile(&truth);
    let mut gaussian = Scm::builder(graph.clone())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    gaussian.fit(&data, &config(600)).unwrap();
    let mut student = Scm::builder(graph)
        .noise("y", Noise::student_t(10.0))
        .build()
        .unwrap();
    student.fit(&data, &config(800)).unwrap();
    let (g, s) = (quantile(&gaussian), quantile(&student));
    assert!((s - expected).abs() < 0.25, "student {s} vs {expected}");
    assert!(
        (g - expected).abs() > 2.0 * (s - expected).abs(),
        "gaussian {g} vs {expected}"
    );
}

#[test]
fn a_mixture_learns_skewed_noise_and_its_interventional_quantiles() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Exp, Normal};
    // y = x + Exp(1): the noise is skewed, its 5th percentile 0.05 above
    // its mode and its 95th 3.0 above.
    let mut rng = rand::rngs::StdRng::seed_from_u64(30);
    let n = 20_000;
    let x: Vec<f64> = (0..n)
        .map(|_| Normal::new(0.0, 1.0).unwrap().sample(&mut rng))
        .collect();
    let y: Vec<f64> = x
        .iter()
        .map(|x| x + Exp::new(1.0).unwrap().sample(&mut rng))
        .collect();
    let data = Dataset::from_columns([("x", x), ("y", y)]).unwrap();
    let graph = CausalGraph::new(["x", "y"], [("x", "y")]).unwrap();
    let quantiles = |scm: &Scm| {
        let mut y = scm
            .intervene(&[("x", 1.0)])
            .unwrap()
            .sample(100_000, 31)
            .unwrap()
            .column("y")
            .unwrap()
            .to_vec();
        y.sort_by(f64::total_cmp);
        (y[5_000], y[50_000], y[95_000])
    };
    // Exact: 1 − ln(0.95), 1 + ln 2, 1 − ln(0.05).
    let truth = (1.0 - 0.95f64.ln(), 1.0 + 2f64.ln(), 1.0 - 0.05f64.ln());
    let mut mixture = Scm::builder(graph.clone())
        .noise("y", Noise::mixture())
        .build()
        .unwrap();
    mixture.fit(&data, &FitConfig::default()).unwrap();
    let mut gaussian = Scm::builder(graph)
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    gaussian.fit(&data, &FitConfig::default()).unwrap();
    let (m, g) = (quantiles(&mixture), quantiles(&gaussian));
    // Three Gaussians follow the body closely and the exponential tail
    // less so.
    for (got, want, tolerance) in [
        (m.0, truth.0, 0.06),
        (m.1, truth.1, 0.06),
        (m.2, truth.2, 0.3),
    ] {
        assert!(
            (got - want).abs() < tolerance,
            "mixture {m:?} vs truth {truth:?}"
        );
    }
    assert!(
        (g.0 - truth.0).abs() > 0.5,
        "gaussian {g:?} vs truth {truth:?}"
    );
    // Abduction is exact: a row's counterfactual under its own x is itself.
    let rows = data.head(50);
    let x_of_row0 = rows.column("x").unwrap()[0];
    let cf = mixture.counterfactual(&rows, &[("x", x_of_row0)]).unwrap();
    assert!((cf.column("y").unwrap()[0] - rows.column("y").unwrap()[0]).abs() < 1e-3);
}

#[test]
fn heteroscedastic_noise_learns_a_scale_that_depends_on_the_parent() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    // y = 1 + 2x + exp(−1 + 0.8x) e.
    let mut rng = rand::rngs::StdRng::seed_from_u64(40);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let x: Vec<f64> = (0..20_000).map(|_| normal.sample(&mut rng)).collect();
    let y: Vec<f64> = x
        .iter()
        .map(|x| 1.0 + 2.0 * x + (-1.0 + 0.8 * x).exp() * normal.sample(&mut rng))
        .collect();
    let data = Dataset::from_columns([("x", x), ("y", y)]).unwrap();
    let graph = CausalGraph::new(["x", "y"], [("x", "y")]).unwrap();
    let mut model = Scm::builder(graph)
        .noise("y", Noise::Heteroscedastic)
        .build()
        .unwrap();
    assert_eq!(model.mechanism("y").unwrap().outputs(), 2);
    model.fit(&data, &FitConfig::default()).unwrap();
    for (x, sd) in [(-1.0f64, (-1.8f64).exp()), (1.0, (-0.2f64).exp())] {
        let samples = model
            .intervene(&[("x", x)])
            .unwrap()
            .sample(50_000, 41)
            .unwrap();
        let y = samples.column("y").unwrap();
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let got = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64).sqrt();
        assert!(
            (mean - (1.0 + 2.0 * x)).abs() < 0.03,
            "mean under do(x = {x}): {mean}"
        );
        assert!(
            (got / sd - 1.0).abs() < 0.06,
            "sd under do(x = {x}): {got} vs {sd}"
        );
    }
    assert_eq!(model.noise("y").unwrap().scale(), None);
}

/// The fused term of every one-output family (one pass of the lane MLP, or
/// forward then backward of another kernel) has the value and gradients
/// of the density summed row by row with the kernel's own pullback.
#[test]
fn the_fused_family_term_matches_a_row_by_row_sum() {
    use burn::tensor::{Device, Tensor, TensorData};
    use causalgrad::fit::{row_nll, FamilyRef};
    use causalgrad::scm::{Activation, Likelihood};
    let device = Device::flex().autodiff();
    let n = 5_003;
    let x1: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
    let x2: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos() * 1.5).collect();
    // Each family with a value of row i it takes.
    type Values = fn(usize) -> f32;
    let families: [(Noise, Values); 6] = [
        (Noise::Laplace { log_scale: 0.2 }, |i| {
            (i as f32 * 0.7).sin() * 2.0
        }),
        (Noise::student_t(4.0), |i| (i as f32 * 0.3).cos() * 3.0),
        (Noise::mixture(), |i| (i as f32 * 0.13).sin()),
        (Noise::Bernoulli, |i| f32::from(u8::from(i % 3 == 0))),
        (Noise::Poisson, |i| (i % 5) as f32),
        (Noise::negative_binomial(), |i| (i % 7) as f32),
    ];
    let kernels = [
        Mechanism::mlp(2, &[8], Activation::Tanh, 3),
        Mechanism::linear(2),
        Mechanism::additive(2, 3, 5),
    ];
    for (noise, value) in &families {
        let target: Vec<f32> = (0..n).map(*value).collect();
        for mechanism in &kernels {
            let p = mechanism.params().len();
            let theta_values: Vec<f32> = mechanism
                .params()
                .iter()
                .enumerate()
                .map(|(i, v)| v + 0.05 * (i as f32 + 1.0).sin())
                .collect();
            let q = noise.params();
            let q_values = if q.is_empty() { vec![0.0] } else { q.clone() };
            let theta = Tensor::<1>::from_data(TensorData::new(theta_values.clone(), [p]), &device)
                .require_grad();
            let noise_tensor = Tensor::<1>::from_data(
                TensorData::new(q_values.clone(), [q_values.len()]),
                &device,
            )
            .require_grad();
            let mut flat = x1.clone();
            flat.extend(&x2);
            let parents = Tensor::<2>::from_data(TensorData::new(flat, [2, n]), &device);
            let targets = Tensor::<1>::from_data(TensorData::new(target.clone(), [n]), &device);
            let base = 0.25f32;
            let loss = row_nll(
                theta.clone(),
                noise_tensor.clone(),
                parents,
                targets,
                mechanism.kernel(),
                FamilyRef {
                    noise: *noise,
                    base,
                },
            );
            let value_fused = f64::from(loss.clone().into_scalar::<f32>());
            let grads = loss.backward();
            let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
            let d_theta = read(theta.grad(&grads).unwrap());
            let d_noise = read(noise_tensor.grad(&grads).unwrap());

            // By hand: forward, the density row by row, the kernel's pullback.
            let mut mean = vec![0.0f32; n];
            let mut fitted = mechanism.clone();
            fitted.set_params(&theta_values).unwrap();
            fitted.forward(&[&x1, &x2], &mut mean);
            let family = |eta: f64, x: f64, d_eta: &mut [f64], d_q: &mut [f64]| match noise {
                Noise::Laplace { log_scale } => causalgrad::scm::Laplace {
                    log_scale: *log_scale,
                }
                .nll(&[eta], x, d_eta, d_q),
                Noise::StudentT { log_scale, log_df } => causalgrad::scm::StudentT {
                    log_scale: *log_scale,
                    log_df: *log_df,
                }
                .nll(&[eta], x, d_eta, d_q),
                Noise::Mixture(m) => m.nll(&[eta], x, d_eta, d_q),
                Noise::Bernoulli => causalgrad::scm::Bernoulli.nll(&[eta], x, d_eta, d_q),
                Noise::Poisson => causalgrad::scm::Poisson.nll(&[eta], x, d_eta, d_q),
                Noise::NegativeBinomial { log_dispersion } => causalgrad::scm::NegativeBinomial {
                    log_dispersion: *log_dispersion,
                }
                .nll(&[eta], x, d_eta, d_q),
                other => panic!("{other:?}"),
            };
            let mut total = 0.0;
            let mut seeds = vec![0.0f32; n];
            let mut d_q = vec![0.0f64; q.len()];
            for r in 0..n {
                let mut d_eta = [0.0f64];
                total += family(
                    f64::from(mean[r]) + f64::from(base),
                    f64::from(target[r]),
                    &mut d_eta,
                    &mut d_q,
                );
                seeds[r] = (d_eta[0] / n as f64) as f32;
            }
            let mut d_theta_hand = vec![0.0f32; p];
            mechanism.kernel().backward(
                &theta_values,
                &[&x1, &x2],
                &seeds,
                &mut d_theta_hand,
                None,
            );
            let what = format!("{} with {}", noise.name(), mechanism.describe());
            let value_hand = total / n as f64;
            assert!(
                (value_fused - value_hand).abs() <= 1e-5 * (1.0 + value_hand.abs()),
                "{what}: {value_fused} vs {value_hand}"
            );
            for (a, b) in d_theta.iter().zip(&d_theta_hand) {
                assert!(
                    (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                    "{what}: {a} vs {b}"
                );
            }
            for (a, b) in d_noise.iter().zip(&d_q) {
                let b = b / n as f64;
                assert!(
                    (f64::from(*a) - b).abs() <= 1e-4 * (1.0 + b.abs()),
                    "{what}: noise {a} vs {b}"
                );
            }
            assert!(
                d_theta.iter().any(|g| g.abs() > 1e-4),
                "{what}: {d_theta:?}"
            );
        }
    }
}
