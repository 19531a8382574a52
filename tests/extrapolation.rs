//! Ensemble members and the support sample kept with a fitted model and
//! saved in its file; the positivity diagnostic firing on a query that
//! leaves the data's support and silent on one that stays in it.

use causalgrad::fit::{FitConfig, MemberConfig};
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Mechanism, Noise, Scm, ScmError};
use causalgrad::uncertainty::IntervalMethod;

/// z ~ N(0, 1), x = z + 0.2 e, y = x + z + 0.3 e: x and z move together,
/// so setting x away from z leaves the data's support.
fn truth() -> Scm {
    let graph = CausalGraph::new(["z", "x", "y"], [("z", "x"), ("z", "y"), ("x", "y")]).unwrap();
    let mut scm = Scm::builder(graph)
        .mechanism("x", Mechanism::linear(1))
        .mechanism("y", Mechanism::linear(2))
        .build()
        .unwrap();
    scm.set_params("x", &[0.0, 1.0]).unwrap();
    scm.set_params("y", &[0.0, 1.0, 1.0]).unwrap();
    scm.set_noise(
        "x",
        Noise::Gaussian {
            log_scale: 0.2f32.ln(),
        },
    )
    .unwrap();
    scm.set_noise(
        "y",
        Noise::Gaussian {
            log_scale: 0.3f32.ln(),
        },
    )
    .unwrap();
    scm
}

fn fitted() -> Scm {
    let data = truth().sample(3000, 1).unwrap();
    let mut model = Scm::builder(truth().graph().clone())
        .mechanism("x", Mechanism::default_for(1, 1))
        .mechanism("y", Mechanism::default_for(2, 2))
        .build()
        .unwrap();
    let config = FitConfig::default().with_steps(800);
    model.fit(&data, &config).unwrap();
    model
        .fit_members(&data, &config, &MemberConfig::new(3).with_seed(5))
        .unwrap();
    model
}

#[test]
fn a_query_off_the_support_is_flagged_and_one_on_it_is_not() {
    let model = fitted();
    let off = model.extrapolation(&[("x", 2.5)], 1000, 0).unwrap();
    assert_eq!(off.len(), 1);
    assert_eq!(
        (off[0].variable.as_str(), off[0].parents.as_slice()),
        ("y", &["z".to_string(), "x".to_string()][..])
    );
    assert!(off[0].warns(), "{off:?}");
    assert!(off[0].outside > 0.5, "{off:?}");
    // Shifting y's own value asks nothing downstream; intervening on the
    // root z keeps x following it, so y's parents stay in the support.
    let on = model.extrapolation(&[("z", 0.5)], 1000, 0).unwrap();
    let y = on.iter().find(|e| e.variable == "y").unwrap();
    assert!(!y.warns(), "{on:?}");
    assert!(model
        .extrapolation(&[("y", 0.0)], 1000, 0)
        .unwrap()
        .is_empty());
}

#[test]
fn members_and_support_are_saved_with_the_model() {
    let model = fitted();
    assert_eq!(model.members(), 3);
    assert!(model.support_rows() > 0);
    let path = std::env::temp_dir().join("causalgrad-members-support.cg");
    model.save(&path).unwrap();
    let loaded = Scm::load(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(loaded.members(), 3);
    assert_eq!(loaded.support_rows(), model.support_rows());
    for k in 0..3 {
        assert_eq!(
            loaded.member(k).unwrap().params("y").unwrap(),
            model.member(k).unwrap().params("y").unwrap()
        );
    }
    // Members differ from the model (fresh starts on resamples) yet agree
    // on an effect in the support (of the root z, which x follows), where
    // the interval is narrow and covers the truth (0.5 · (1 + 1)).
    assert_ne!(
        model.member(0).unwrap().params("y").unwrap(),
        model.params("y").unwrap()
    );
    let e = loaded
        .ate_interval("z", "y", 0.0, 0.5, 20_000, 0, 0.95)
        .unwrap();
    assert_eq!(e.method, IntervalMethod::Ensemble);
    assert!(e.covers(1.0) && e.width() < 0.3, "{e:?}");
    assert_eq!(
        e,
        model
            .ate_interval("z", "y", 0.0, 0.5, 20_000, 0, 0.95)
            .unwrap()
    );
}

#[test]
fn an_unfitted_model_has_no_support_to_check_against() {
    assert!(matches!(
        truth().extrapolation(&[("x", 1.0)], 100, 0),
        Err(ScmError::NoSupport)
    ));
}
