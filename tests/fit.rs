//! Fitting through burn: recovery of known parameters, agreement of the
//! custom operation's gradients with burn's own autodiff, and the handling
//! of a diverging fit.

use causalgrad::fit::{mechanism, FitConfig, FitError};
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Mechanism, Noise, Scm};
use causalgrad::{differentiable, Differentiable, Real};

fn linear_chain() -> Scm {
    let graph = CausalGraph::new(["a", "b", "c"], [("a", "b"), ("a", "c"), ("b", "c")]).unwrap();
    let mut scm = Scm::builder(graph)
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    scm.set_params("a", &[0.5]).unwrap();
    scm.set_params("b", &[1.0, -2.0]).unwrap();
    scm.set_params("c", &[0.3, 0.7, 1.5]).unwrap();
    scm.set_noise(
        "b",
        Noise::Gaussian {
            log_scale: (0.5f32).ln(),
        },
    )
    .unwrap();
    scm.set_noise(
        "c",
        Noise::Gaussian {
            log_scale: (0.3f32).ln(),
        },
    )
    .unwrap();
    scm
}

#[test]
fn a_linear_gaussian_scm_recovers_its_coefficients() {
    let truth = linear_chain();
    let data = truth.sample(50_000, 5).unwrap();
    let graph = truth.graph().clone();
    let mut model = Scm::builder(graph)
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    let report = model
        .fit(&data, &FitConfig::adam(0.05).with_steps(800))
        .unwrap();
    assert!(report.losses.last().unwrap() < report.losses.first().unwrap());
    for variable in ["a", "b", "c"] {
        let fitted = model.params(variable).unwrap();
        let expected = truth.params(variable).unwrap();
        for (f, e) in fitted.iter().zip(&expected) {
            assert!(
                (f - e).abs() < 1e-2,
                "{variable}: fitted {fitted:?}, truth {expected:?}"
            );
        }
    }
    let scale = model.noise("b").unwrap().scale().unwrap();
    assert!((scale - 0.5).abs() < 1e-2, "{scale}");
}

/// `x3`'s mechanism of the scm5 model.
#[derive(Differentiable, Clone, Debug)]
struct X3<T: Real> {
    d: T,
    e: T,
}

#[differentiable]
fn x3_mean<T: Real>(p: &X3<T>, x: [T; 2]) -> T {
    p.d * x[0] * x[1] + p.e * x[1].sin()
}

#[test]
fn custom_operation_gradients_equal_burn_autodiff() {
    use burn::tensor::{Device, Tensor, TensorData};
    let device = Device::flex().autodiff();
    let n = 64;
    let x1: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
    let x2: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos() * 1.5).collect();
    let target: Vec<f32> = (0..n).map(|i| (i as f32 * 0.05) - 1.0).collect();
    let kernel = Mechanism::from_fn(x3_mean::Function, X3 { d: 0.3, e: -0.8 });

    let run = |custom: bool| -> (Vec<f32>, Vec<f32>) {
        let params = Tensor::<1>::from_data(TensorData::new(vec![0.3f32, -0.8], [2]), &device)
            .require_grad();
        let mut flat = x1.clone();
        flat.extend(&x2);
        let parents = Tensor::<2>::from_data(TensorData::new(flat, [2, n]), &device).require_grad();
        let target = Tensor::<1>::from_data(TensorData::new(target.clone(), [n]), &device);
        let mean = if custom {
            mechanism(params.clone(), parents.clone(), kernel.kernel())
        } else {
            let d = params.clone().narrow(0, 0, 1).expand([n]);
            let e = params.clone().narrow(0, 1, 1).expand([n]);
            let a = parents.clone().slice([0..1, 0..n]).reshape([n]);
            let b = parents.clone().slice([1..2, 0..n]).reshape([n]);
            d * a * b.clone() + e * b.sin()
        };
        let loss = (mean - target).square().sum();
        let grads = loss.backward();
        let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
        let dparams = read(params.grad(&grads).unwrap());
        let dparents = params_flat(parents.grad(&grads).unwrap());
        (dparams, dparents)
    };
    fn params_flat(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }
    let (custom_params, custom_parents) = run(true);
    let (burn_params, burn_parents) = run(false);
    for (a, b) in custom_params
        .iter()
        .zip(&burn_params)
        .chain(custom_parents.iter().zip(&burn_parents))
    {
        assert!(
            (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
            "custom {a} vs burn {b}"
        );
    }
    assert_eq!(custom_parents.len(), 2 * n);
}

#[test]
fn a_diverging_fit_stops_with_the_step_and_keeps_good_parameters() {
    let truth = linear_chain();
    let data = truth.sample(2_000, 9).unwrap();
    let mut model = Scm::builder(truth.graph().clone())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    let err = model
        .fit(&data, &FitConfig::sgd(1e3, 0.0).with_steps(50))
        .unwrap_err();
    match err {
        FitError::NonFinite {
            step,
            last_good_step,
            ..
        } => {
            assert!(
                step >= 1 && last_good_step < step,
                "{step} {last_good_step}"
            );
        }
        other => panic!("unexpected error {other}"),
    }
    // The parameters left in the model give a finite likelihood.
    assert!(model.log_likelihood(&data).unwrap().is_finite());
}

#[test]
fn schedules_clipping_minibatches_and_early_stopping() {
    use causalgrad::fit::StopReason;
    let truth = linear_chain();
    let data = truth.sample(4_000, 2).unwrap();
    let mut model = Scm::builder(truth.graph().clone())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    let config = FitConfig::sgd(0.05, 0.9)
        .with_steps(300)
        .with_batch_size(256)
        .with_clip_norm(5.0)
        .with_cosine(1e-3)
        .with_validation(0.25)
        .with_eval_every(10)
        .with_seed(4);
    let report = model.fit(&data, &config).unwrap();
    assert_eq!(report.losses.len(), 300);
    assert_eq!(report.stop, StopReason::Completed);
    let validation = report.final_validation_loss.unwrap();
    assert!(validation.is_finite() && validation < report.validation[0].1);

    // Continuing from the optimum, the validation loss stops improving and
    // early stopping ends the fit with the best parameters.
    let mut model = Scm::builder(truth.graph().clone())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    model
        .fit(&data, &FitConfig::adam(0.05).with_steps(800))
        .unwrap();
    let config = FitConfig::adam(0.05)
        .with_steps(1000)
        .with_validation(0.25)
        .with_eval_every(1)
        .with_early_stopping(3);
    let report = model.fit(&data, &config).unwrap();
    assert!(
        matches!(report.stop, StopReason::EarlyStopped { .. }),
        "{:?}",
        report.stop
    );
    assert!(report.losses.len() < 1000);
}

#[test]
fn lane_and_row_kernels_agree_on_values_and_gradients() {
    use causalgrad::models::scm5::{x4_mean, Mlp16};
    let p = Mlp16::<f32> {
        w1: core::array::from_fn(|j| [0.3 - 0.05 * j as f32, 0.1 + 0.03 * j as f32]),
        b1: core::array::from_fn(|j| 0.02 * j as f32 - 0.1),
        w2: core::array::from_fn(|j| 0.5 - 0.07 * j as f32),
        b2: 0.25,
    };
    let lanes = Mechanism::from_generic_fn(x4_mean::Function, p.clone());
    let rows = Mechanism::from_fn(x4_mean::Function, p);
    assert!(lanes.describe().contains("lanes"), "{}", lanes.describe());
    let n = 4096 + 21; // full chunks, then lanes and a remainder
    let x2: Vec<f32> = (0..n).map(|i| (i as f32 * 0.013).sin() * 2.0).collect();
    let x3: Vec<f32> = (0..n).map(|i| (i as f32 * 0.007).cos() * 1.5).collect();
    let seeds: Vec<f32> = (0..n).map(|i| ((i % 7) as f32 - 3.0) * 0.1).collect();
    let parents = [x2.as_slice(), x3.as_slice()];
    let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
    lanes.forward(&parents, &mut a);
    rows.forward(&parents, &mut b);
    for (a, b) in a.iter().zip(&b) {
        assert!((a - b).abs() < 2e-6 * (1.0 + b.abs()), "{a} vs {b}");
    }
    let mut grads = Vec::new();
    for mechanism in [&lanes, &rows] {
        let mut dparams = vec![0.0f32; mechanism.params().len()];
        let mut dparents = vec![0.0f32; 2 * n];
        mechanism.kernel().backward(
            mechanism.params(),
            &parents,
            &seeds,
            &mut dparams,
            Some(&mut dparents),
        );
        grads.push((dparams, dparents));
    }
    for (a, b) in grads[0].0.iter().zip(&grads[1].0) {
        assert!(
            (a - b).abs() < 1e-3 * (1.0 + b.abs()),
            "param gradient {a} vs {b}"
        );
    }
    for (a, b) in grads[0].1.iter().zip(&grads[1].1) {
        assert!(
            (a - b).abs() < 1e-5 * (1.0 + b.abs()),
            "parent gradient {a} vs {b}"
        );
    }
}

/// The fused likelihood operation gives the value and gradients of the
/// mechanism operation followed by burn's elementwise likelihood, for row,
/// lane and hand-written kernels, over several chunks and a ragged tail.
#[test]
fn the_fused_likelihood_matches_the_unfused_one() {
    use burn::tensor::{Device, Tensor, TensorData};
    use causalgrad::fit::gaussian_nll;
    let device = Device::flex().autodiff();
    let n = 10_007;
    let x1: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
    let x2: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos() * 1.5).collect();
    let target: Vec<f32> = (0..n)
        .map(|i| (i as f32 * 0.0005) - 1.0 + (i as f32).sin())
        .collect();
    let kernels = [
        Mechanism::from_fn(x3_mean::Function, X3 { d: 0.3, e: -0.8 }),
        Mechanism::from_generic_fn(x3_mean::Function, X3 { d: 0.3f32, e: -0.8 }),
        Mechanism::linear(2),
        Mechanism::additive(2, 3, 5),
    ];
    for mechanism_ in &kernels {
        let run = |fused: bool| {
            let p = mechanism_.params().len();
            let mut start = mechanism_.params().to_vec();
            if start.iter().all(|v| *v == 0.0) {
                start = (0..p).map(|i| 0.1 * (i as f32 + 1.0)).collect();
            }
            let theta = Tensor::<1>::from_data(TensorData::new(start, [p]), &device).require_grad();
            let log_scale =
                Tensor::<1>::from_data(TensorData::new(vec![0.3f32], [1]), &device).require_grad();
            let mut flat = x1.clone();
            flat.extend(&x2);
            let parents = Tensor::<2>::from_data(TensorData::new(flat, [2, n]), &device);
            let target = Tensor::<1>::from_data(TensorData::new(target.clone(), [n]), &device);
            let loss = if fused {
                gaussian_nll(
                    theta.clone(),
                    log_scale.clone(),
                    parents,
                    target,
                    mechanism_.kernel(),
                )
            } else {
                let mean = mechanism(theta.clone(), parents, mechanism_.kernel());
                let z = (target - mean) * log_scale.clone().neg().exp().expand([n]);
                log_scale.clone() + z.square().mean().mul_scalar(0.5).add_scalar(0.918_938_5)
            };
            let loss3 = loss.mul_scalar(3.0);
            let value = loss3.clone().into_scalar::<f32>();
            let grads = loss3.backward();
            let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
            (
                value,
                read(theta.grad(&grads).unwrap()),
                read(log_scale.grad(&grads).unwrap()),
            )
        };
        let (v1, t1, l1) = run(true);
        let (v2, t2, l2) = run(false);
        let what = mechanism_.describe();
        assert!((v1 - v2).abs() <= 1e-5 * v2.abs(), "{what}: {v1} vs {v2}");
        for (a, b) in t1.iter().zip(&t2).chain(l1.iter().zip(&l2)) {
            assert!(
                (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                "{what}: {a} vs {b}"
            );
        }
        assert!(t1.iter().any(|g| g.abs() > 1e-3), "{what}: {t1:?}");
    }
}

/// A root's likelihood term as the fused operation with no parents gives
/// the value and gradients of burn's elementwise formula with the mean
/// broadcast from its one parameter.
#[test]
fn the_fused_root_likelihood_matches_the_broadcast_one() {
    use burn::tensor::{Device, Tensor, TensorData};
    use causalgrad::fit::gaussian_nll;
    let device = Device::flex().autodiff();
    let n = 9_001;
    let target: Vec<f32> = (0..n).map(|i| (i as f32 * 0.21).sin() + 0.4).collect();
    let root = Mechanism::linear(0);
    let run = |fused: bool| {
        let theta =
            Tensor::<1>::from_data(TensorData::new(vec![-0.2f32], [1]), &device).require_grad();
        let log_scale =
            Tensor::<1>::from_data(TensorData::new(vec![-0.4f32], [1]), &device).require_grad();
        let target = Tensor::<1>::from_data(TensorData::new(target.clone(), [n]), &device);
        let loss = if fused {
            let none = Tensor::<2>::from_data(TensorData::new(Vec::<f32>::new(), [0, n]), &device);
            gaussian_nll(
                theta.clone(),
                log_scale.clone(),
                none,
                target,
                root.kernel(),
            )
        } else {
            let z =
                (target - theta.clone().expand([n])) * log_scale.clone().neg().exp().expand([n]);
            log_scale.clone() + z.square().mean().mul_scalar(0.5).add_scalar(0.918_938_5)
        };
        let value = loss.clone().into_scalar::<f32>();
        let grads = loss.backward();
        let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap()[0];
        (
            value,
            read(theta.grad(&grads).unwrap()),
            read(log_scale.grad(&grads).unwrap()),
        )
    };
    let (fused, plain) = (run(true), run(false));
    assert!(
        (fused.0 - plain.0).abs() <= 1e-5 * plain.0.abs(),
        "{fused:?} vs {plain:?}"
    );
    assert!(
        (fused.1 - plain.1).abs() <= 1e-4 * (1.0 + plain.1.abs()),
        "{fused:?} vs {plain:?}"
    );
    assert!(
        (fused.2 - plain.2).abs() <= 1e-4 * (1.0 + plain.2.abs()),
        "{fused:?} vs {plain:?}"
    );
    assert!(plain.1.abs() > 0.1 && plain.2.abs() > 0.1, "{plain:?}");
}
