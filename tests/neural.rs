//! Neural (burn module) mechanisms: they fit like the macro-written ones,
//! and gradients flow through chains that mix both kinds.

use std::sync::Arc;

use burn::tensor::{Device, Tensor, TensorData};
use causalgrad::data::Dataset;
use causalgrad::fit::{mechanism_mean, FitConfig};
use causalgrad::models::scm5::{self, Init, Truth};
use causalgrad::scm::{Activation, Mechanism, MechanismKernel};
use causalgrad::{differentiable, Differentiable, Real};
use proptest::prelude::*;

fn rmse(a: &[f64], b: &[f64]) -> f64 {
    (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}

/// Fitting x4 with a burn MLP reaches the accuracy of the macro-written MLP.
#[test]
fn a_burn_mlp_for_x4_fits_scm5_as_well_as_the_macro_mlp() {
    let dir = scm5::data_dir();
    let train = Dataset::from_csv(dir.join("train_10k.csv")).unwrap();
    let test = Dataset::from_csv(dir.join("test_10k.csv")).unwrap();
    let truth = Truth::from_json_file(dir.join("truth.json")).unwrap();
    let init = Init::from_json_file(dir.join("init_seed0.json")).unwrap();
    let config = FitConfig::adam(1e-2).with_steps(500);

    let mut macro_model = scm5::model(&init);
    macro_model.fit(&train, &config).unwrap();
    let mut neural =
        scm5::model_with_x4(&init, Mechanism::burn_mlp(2, &[16], Activation::Tanh, 0)).unwrap();
    assert!(neural
        .mechanism("x4")
        .unwrap()
        .describe()
        .starts_with("mlp 2→16→1"));
    let report = neural.fit(&train, &config).unwrap();
    assert!(report.losses[499] < report.losses[0]);

    let expected = scm5::model(&truth.params).conditional_means(&test).unwrap();
    let x4_true = expected.column("x4").unwrap();
    let neural_rmse = rmse(
        neural
            .conditional_means(&test)
            .unwrap()
            .column("x4")
            .unwrap(),
        x4_true,
    );
    let macro_rmse = rmse(
        macro_model
            .conditional_means(&test)
            .unwrap()
            .column("x4")
            .unwrap(),
        x4_true,
    );
    assert!(
        neural_rmse < 0.1,
        "burn MLP: x4 conditional-mean RMSE {neural_rmse}"
    );
    assert!(
        neural_rmse < 1.5 * macro_rmse + 0.02,
        "burn MLP RMSE {neural_rmse} vs macro MLP {macro_rmse}"
    );
    let true_scale = f64::from(truth.params.scales[3]);
    let scale = neural.noise("x4").unwrap().scale().unwrap();
    assert!(
        (scale / true_scale - 1.0).abs() < 0.1,
        "x4 scale {scale} vs {true_scale}"
    );
}

#[derive(Differentiable, Clone, Debug)]
struct Wave<T: Real> {
    a: T,
    b: T,
}

#[differentiable]
fn wave<T: Real>(p: &Wave<T>, x: [T; 1]) -> T {
    p.a * x[0].sin() + p.b * x[0]
}

/// The loss `Σ w_r · c(n(m(x_r)))` of a chain macro → neural → macro, with
/// each stage's parameters, evaluated through burn on `device`.
fn chain_loss(
    stages: &[Arc<dyn MechanismKernel>; 3],
    thetas: &[Vec<f32>; 3],
    x: &[f32],
    weights: &[f32],
    device: &Device,
) -> (f32, Vec<Vec<f32>>, Vec<f32>) {
    let n = x.len();
    let thetas: Vec<Tensor<1>> = thetas
        .iter()
        .map(|t| Tensor::from_data(TensorData::new(t.clone(), [t.len()]), device).require_grad())
        .collect();
    let input = Tensor::<2>::from_data(TensorData::new(x.to_vec(), [1, n]), device).require_grad();
    let mut value = input.clone();
    for (stage, theta) in stages.iter().zip(&thetas) {
        value = mechanism_mean(theta.clone(), value, stage).reshape([1, n]);
    }
    let w = Tensor::<2>::from_data(TensorData::new(weights.to_vec(), [1, n]), device);
    let loss = (value * w).sum();
    let scalar = loss.clone().into_scalar::<f32>();
    let grads = loss.backward();
    let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
    let dthetas = thetas
        .iter()
        .map(|t| read(t.grad(&grads).unwrap()))
        .collect();
    let dx = input.grad(&grads).unwrap().reshape([n]);
    (scalar, dthetas, read(dx))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Gradients through macro → neural → macro match central finite
    /// differences, for every parameter of every stage and every input.
    #[test]
    fn gradients_through_a_mixed_chain_match_finite_differences(
        x in proptest::collection::vec(-2.0f32..2.0, 6),
        weights in proptest::collection::vec(-1.0f32..1.0, 6),
        a in -1.5f32..1.5,
        b in -1.5f32..1.5,
        seed in 0u64..1000,
    ) {
        let device = Device::flex().autodiff();
        let first = Mechanism::from_fn(wave::Function, Wave { a, b });
        let middle = Mechanism::burn_mlp(1, &[8], Activation::Tanh, seed);
        let last = Mechanism::from_generic_fn(wave::Function, Wave { a: b, b: a });
        let stages = [first.kernel().clone(), middle.kernel().clone(), last.kernel().clone()];
        let thetas = [first.params().to_vec(), middle.params().to_vec(), last.params().to_vec()];
        let (_, dthetas, dx) = chain_loss(&stages, &thetas, &x, &weights, &device);

        let plain = Device::flex();
        let loss = |thetas: &[Vec<f32>; 3], x: &[f32]| -> f64 {
            let n = x.len();
            let mut value = Tensor::<2>::from_data(TensorData::new(x.to_vec(), [1, n]), &plain);
            for (stage, theta) in stages.iter().zip(thetas) {
                let theta = Tensor::from_data(TensorData::new(theta.clone(), [theta.len()]), &plain);
                value = mechanism_mean(theta, value, stage).reshape([1, n]);
            }
            let w = Tensor::<2>::from_data(TensorData::new(weights.clone(), [1, n]), &plain);
            f64::from((value * w).sum().into_scalar::<f32>())
        };
        let h = 1e-2f32;
        let check = |analytic: f32, plus: f64, minus: f64, what: &str| {
            let numeric = (plus - minus) / (2.0 * f64::from(h));
            let tolerance = 2e-2 * (1.0 + numeric.abs());
            assert!(
                (f64::from(analytic) - numeric).abs() <= tolerance,
                "{what}: autodiff {analytic} vs finite differences {numeric}"
            );
        };
        for stage in 0..3 {
            for i in 0..thetas[stage].len() {
                let mut up = thetas.clone();
                up[stage][i] += h;
                let mut down = thetas.clone();
                down[stage][i] -= h;
                check(dthetas[stage][i], loss(&up, &x), loss(&down, &x), &format!("stage {stage} parameter {i}"));
            }
        }
        for r in 0..x.len() {
            let (mut up, mut down) = (x.clone(), x.clone());
            up[r] += h;
            down[r] -= h;
            check(dx[r], loss(&thetas, &up), loss(&thetas, &down), &format!("input {r}"));
        }
    }
}

/// The CPU kernel interface of a neural mechanism (used outside training)
/// agrees with burn's autodiff through the same module.
#[test]
fn the_neural_kernel_backward_matches_its_tensor_gradient() {
    let mechanism = Mechanism::burn_mlp(2, &[4, 3], Activation::Silu, 5);
    let kernel = mechanism.kernel();
    let n = 7;
    let x1: Vec<f32> = (0..n).map(|i| i as f32 * 0.3 - 1.0).collect();
    let x2: Vec<f32> = (0..n).map(|i| (i as f32).cos()).collect();
    let seeds: Vec<f32> = (0..n).map(|i| 1.0 - i as f32 * 0.2).collect();
    let mut dparams = vec![0.0f32; mechanism.params().len()];
    let mut dparents = vec![0.0f32; 2 * n];
    kernel.backward(
        mechanism.params(),
        &[&x1, &x2],
        &seeds,
        &mut dparams,
        Some(&mut dparents),
    );

    let device = Device::flex().autodiff();
    let theta = Tensor::<1>::from_data(
        TensorData::new(mechanism.params().to_vec(), [mechanism.params().len()]),
        &device,
    )
    .require_grad();
    let mut flat = x1.clone();
    flat.extend(&x2);
    let parents = Tensor::<2>::from_data(TensorData::new(flat, [2, n]), &device).require_grad();
    let mean = mechanism_mean(theta.clone(), parents.clone(), kernel);
    let seeds_t = Tensor::<1>::from_data(TensorData::new(seeds.clone(), [n]), &device);
    let grads = (mean * seeds_t).sum().backward();
    let expected_params = theta
        .grad(&grads)
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let expected_parents = parents
        .grad(&grads)
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(dparams, expected_params);
    assert_eq!(dparents, expected_parents);
    assert!(dparams.iter().any(|g| g.abs() > 1e-3));
}

/// A neural mechanism on a root variable is refused with the variable named.
#[test]
fn a_neural_root_is_an_error_naming_the_variable() {
    let graph = causalgrad::graph::CausalGraph::new(["a", "b"], [("a", "b")]).unwrap();
    let error = causalgrad::scm::Scm::builder(graph)
        .mechanism("a", Mechanism::burn_mlp(0, &[4], Activation::Tanh, 0))
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("`a` has no parents"), "{error}");
}
