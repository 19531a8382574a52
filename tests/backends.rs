//! Backends: the route that runs macro-derived mechanisms on devices
//! without the custom operation gives the custom operation's values and
//! gradients; device selection names the missing feature.

use burn::tensor::{Device, Tensor, TensorData};
use causalgrad::fit::{linearised_on_host, mechanism, FitConfig, FitDevice, FitError};
use causalgrad::models::scm5;
use causalgrad::scm::Mechanism;
use causalgrad::{differentiable, Differentiable, Real};

#[derive(Differentiable, Clone, Debug)]
struct Bump<T: Real> {
    f: T,
    g: T,
    h: T,
}

#[differentiable]
fn bump<T: Real>(p: &Bump<T>, x: [T; 2]) -> T {
    p.f * (-p.g * x[0] * x[0]).exp() + p.h * x[1].tanh()
}

#[test]
fn the_host_linearised_route_matches_the_custom_operation() {
    let device = Device::flex().autodiff();
    let mechanism_ = Mechanism::from_generic_fn(
        bump::Function,
        Bump {
            f: 1.3,
            g: 0.4,
            h: -0.7,
        },
    );
    let n = 37;
    let x: Vec<f32> = (0..2 * n)
        .map(|i| ((i * 7 % 23) as f32 - 11.0) * 0.17)
        .collect();
    let weights: Vec<f32> = (0..n).map(|i| 1.0 - (i as f32) * 0.05).collect();
    let run = |linearised: bool| {
        let theta =
            Tensor::<1>::from_data(TensorData::new(mechanism_.params().to_vec(), [3]), &device)
                .require_grad();
        let parents =
            Tensor::<2>::from_data(TensorData::new(x.clone(), [2, n]), &device).require_grad();
        let mean = if linearised {
            linearised_on_host(theta.clone(), parents.clone(), mechanism_.kernel())
        } else {
            mechanism(theta.clone(), parents.clone(), mechanism_.kernel())
        };
        let w = Tensor::<1>::from_data(TensorData::new(weights.clone(), [n]), &device);
        let values = mean.clone().into_data().try_to_vec::<f32>().unwrap();
        let grads = (mean * w).sum().backward();
        let dtheta = theta
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let dparents = parents
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        (values, dtheta, dparents)
    };
    let (v1, t1, p1) = run(true);
    let (v2, t2, p2) = run(false);
    assert_eq!(v1, v2);
    for (a, b) in t1.iter().zip(&t2).chain(p1.iter().zip(&p2)) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
    }
    assert!(t1.iter().all(|g| g.abs() > 1e-4));
}

#[test]
fn devices_parse_and_missing_backends_name_their_feature() {
    assert_eq!("flex".parse::<FitDevice>(), Ok(FitDevice::Flex));
    assert_eq!("cuda".parse::<FitDevice>(), Ok(FitDevice::Cuda(0)));
    assert_eq!("cuda:2".parse::<FitDevice>(), Ok(FitDevice::Cuda(2)));
    assert_eq!("wgpu".parse::<FitDevice>(), Ok(FitDevice::Wgpu));
    assert!("tpu"
        .parse::<FitDevice>()
        .unwrap_err()
        .contains("unknown device `tpu`"));

    let data =
        scm5::model(&scm5::Init::from_json_file(scm5::data_dir().join("init_seed0.json")).unwrap())
            .sample(100, 1)
            .unwrap();
    for (device, feature) in [
        (FitDevice::Cuda(0), "cuda"),
        (FitDevice::Wgpu, "wgpu"),
        (FitDevice::Cpu, "cpu"),
    ] {
        let mut scm = scm5::model(
            &scm5::Init::from_json_file(scm5::data_dir().join("init_seed0.json")).unwrap(),
        );
        let enabled = match feature {
            "cuda" => cfg!(feature = "cuda"),
            "wgpu" => cfg!(feature = "wgpu"),
            _ => cfg!(feature = "cpu"),
        };
        if enabled {
            continue;
        }
        let error = scm
            .fit(
                &data,
                &FitConfig::adam(1e-2).with_steps(1).with_device(device),
            )
            .unwrap_err();
        assert!(matches!(error, FitError::Config(_)), "{error}");
        assert!(
            error.to_string().contains(&format!("--features {feature}")),
            "{error}"
        );
    }
}
