//! Model files: saving and loading give bit-identical models; wrong,
//! truncated and foreign files are typed errors.

use std::path::PathBuf;

use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::graph::CausalGraph;
use causalgrad::models::scm5::{self, Init, Params};
use causalgrad::scm::{Activation, Mechanism, ModelFileError, Scm};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("causalgrad-model-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn init() -> Params {
    Init::from_json_file(scm5::data_dir().join("init_seed0.json")).unwrap()
}

/// A model of built-in mechanisms only, fitted a little.
fn builtin_model() -> Scm {
    let mut scm = Scm::builder(scm5::graph())
        .mechanism("x2", Mechanism::linear(1))
        .mechanism("x3", Mechanism::additive(2, 4, 1))
        .mechanism("x4", Mechanism::mlp(2, &[8, 4], Activation::Relu, 2))
        .mechanism("x5", Mechanism::mlp(2, &[6], Activation::Tanh, 3))
        .build()
        .unwrap();
    let data = Dataset::from_csv(scm5::data_dir().join("train_10k.csv")).unwrap();
    scm.fit(&data, &FitConfig::adam(1e-2).with_steps(20))
        .unwrap();
    scm
}

#[test]
fn a_model_of_builtin_mechanisms_loads_bit_identically() {
    let scm = builtin_model().intervene(&[("x2", 0.5)]).unwrap();
    let path = temp("builtin.cg");
    scm.save(&path).unwrap();
    let loaded = Scm::load(&path).unwrap();
    for variable in ["x1", "x2", "x3", "x4", "x5"] {
        assert_eq!(
            loaded.params(variable).unwrap(),
            scm.params(variable).unwrap()
        );
        assert_eq!(
            loaded.noise(variable).unwrap(),
            scm.noise(variable).unwrap()
        );
        assert_eq!(
            loaded.mechanism(variable).unwrap().describe(),
            scm.mechanism(variable).unwrap().describe()
        );
    }
    assert_eq!(
        loaded.sample(5000, 11).unwrap(),
        scm.sample(5000, 11).unwrap()
    );
    assert!(loaded
        .sample(10, 1)
        .unwrap()
        .column("x2")
        .unwrap()
        .iter()
        .all(|&v| v == 0.5));
}

#[test]
fn a_model_with_user_mechanisms_loads_into_the_same_code() {
    let mut scm =
        scm5::model_with_x4(&init(), Mechanism::mlp(2, &[16], Activation::Tanh, 0)).unwrap();
    let data = Dataset::from_csv(scm5::data_dir().join("train_10k.csv")).unwrap();
    scm.fit(&data, &FitConfig::adam(1e-2).with_steps(10))
        .unwrap();
    let path = temp("user.cg");
    scm.save(&path).unwrap();

    let error = Scm::load(&path).unwrap_err();
    assert!(
        matches!(&error, ModelFileError::CustomMechanism { variable, .. } if variable == "x2"),
        "{error}"
    );
    let mut rebuilt =
        scm5::model_with_x4(&init(), Mechanism::mlp(2, &[16], Activation::Tanh, 9)).unwrap();
    assert_ne!(rebuilt.params("x4").unwrap(), scm.params("x4").unwrap());
    rebuilt.load_parameters(&path).unwrap();
    assert_eq!(
        rebuilt.sample(5000, 3).unwrap(),
        scm.sample(5000, 3).unwrap()
    );
}

#[test]
fn a_file_for_another_model_is_refused_with_the_difference() {
    let path = temp("other-graph.cg");
    builtin_model().save(&path).unwrap();

    let chain = CausalGraph::new(["a", "b"], [("a", "b")]).unwrap();
    let mut other = Scm::builder(chain).build().unwrap();
    let error = other.load_parameters(&path).unwrap_err();
    assert!(
        matches!(error, ModelFileError::GraphMismatch { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("x1, x2, x3, x4, x5"), "{error}");

    let mut different_mechanism = Scm::builder(scm5::graph()).build().unwrap();
    let error = different_mechanism.load_parameters(&path).unwrap_err();
    assert!(
        matches!(&error, ModelFileError::MechanismMismatch { variable, .. } if variable == "x3"),
        "{error}"
    );
    // Nothing was changed by the failed loads.
    assert_eq!(different_mechanism.params("x2").unwrap(), [0.0, 0.0]);
}

#[test]
fn truncated_files_are_errors_never_panics() {
    let path = temp("whole.cg");
    builtin_model().save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let cut = temp("cut.cg");
    for len in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
        std::fs::write(&cut, &bytes[..len]).unwrap();
        let error = Scm::load(&cut).unwrap_err();
        assert!(
            matches!(
                error,
                ModelFileError::NotAModelFile { .. } | ModelFileError::Corrupt { .. }
            ),
            "cut at {len}: {error}"
        );
        assert!(error.to_string().contains("cut.cg"), "{error}");
    }
}

#[test]
fn missing_and_foreign_files_name_the_path() {
    let error = Scm::load(temp("no-such-file.cg")).unwrap_err();
    assert!(matches!(error, ModelFileError::Io { .. }), "{error}");
    assert!(error.to_string().contains("no-such-file.cg"), "{error}");

    let csv = scm5::data_dir().join("train_10k.csv");
    let error = Scm::load(&csv).unwrap_err();
    assert!(
        matches!(error, ModelFileError::NotAModelFile { .. }),
        "{error}"
    );
}

#[test]
fn saving_replaces_the_old_file_only_when_complete() {
    let path = temp("replace.cg");
    let first = builtin_model();
    first.save(&path).unwrap();
    let mut second = first.clone();
    second.set_params("x2", &[1.0, 2.0]).unwrap();
    second.save(&path).unwrap();
    let loaded = Scm::load(&path).unwrap().params("x2").unwrap();
    assert_eq!(loaded, second.params("x2").unwrap());
    assert!((loaded[0] - 1.0).abs() < 1e-5 && (loaded[1] - 2.0).abs() < 1e-5);
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            // Only this test's: others save beside it at the same time.
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("replace.cg") && name.ends_with(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty(), "scratch files left: {leftovers:?}");
}
