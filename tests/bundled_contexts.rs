//! The bundled scm5 context data (`data/scm5/contexts.toml` and the CSV
//! files it names besides `train_10k.csv`) are samples of the true scm5
//! model under each context's interventions. This test regenerates them
//! and checks the files hold those samples, to `f32` rounding; with
//! `CAUSALGRAD_WRITE_BUNDLED=1` it writes them instead.

use std::fmt::Write;
use std::path::Path;

use causalgrad::context::{ContextGraph, ContextIntervention};
use causalgrad::data::Dataset;
use causalgrad::models::scm5::{self, Truth};
use causalgrad::scm::{Intervention, Scm};

/// Rows per interventional context.
const ROWS: usize = 2000;

/// How far a regenerated value may be from the bundled one, relative to
/// `1 + |value|`: the mechanisms run in `f32`, and builds for different
/// instruction sets (with or without FMA, which `wide` uses when the
/// target has it) round their last bits differently.
const TOLERANCE: f64 = 1e-5;

/// The interventional contexts: file, how the truth is changed, seed.
fn recipes(truth: &Truth) -> Vec<(&'static str, Scm, u64)> {
    let model = scm5::model(&truth.params);
    let clamped = model.intervene(&[("x2", 1.0)]).expect("x2 is a variable");
    let shifted = model
        .intervene_with("x3", Intervention::Shift(1.0))
        .expect("x3 is a variable");
    // x5's dependence on x4 reversed: a mechanism changed in a way the
    // contexts file does not state (`shifted = ["x5"]`).
    let mut changed_params = truth.params.clone();
    changed_params.x5.h = -changed_params.x5.h;
    let changed = scm5::model(&changed_params);
    vec![
        ("do_x2_1.csv", clamped, 21),
        ("shift_x3_1.csv", shifted, 22),
        ("x5_changed.csv", changed, 23),
    ]
}

fn to_csv(data: &Dataset) -> String {
    let mut text = data.names().join(",");
    text.push('\n');
    let columns: Vec<&[f64]> = data
        .names()
        .iter()
        .map(|n| data.column(n).expect("own column"))
        .collect();
    for row in 0..data.n_rows() {
        let cells: Vec<String> = columns.iter().map(|c| c[row].to_string()).collect();
        writeln!(text, "{}", cells.join(",")).expect("to a string");
    }
    text
}

#[test]
fn the_bundled_context_data_are_samples_of_the_true_model() {
    let dir = scm5::data_dir();
    let truth = Truth::from_json_file(dir.join("truth.json")).expect("bundled truth");
    let write = std::env::var_os("CAUSALGRAD_WRITE_BUNDLED").is_some();
    for (file, model, seed) in recipes(&truth) {
        let samples = model.sample(ROWS, seed).expect("sampling");
        let path = dir.join(file);
        if write {
            std::fs::write(&path, to_csv(&samples)).expect("writable data folder");
        }
        let bundled = Dataset::from_csv(&path).expect("bundled file");
        assert_eq!(bundled.names(), samples.names(), "{file}");
        for name in samples.names() {
            let (bundled, sampled) = (bundled.column(name).unwrap(), samples.column(name).unwrap());
            assert_eq!(bundled.len(), sampled.len(), "{file}: column {name}");
            for (row, (b, s)) in bundled.iter().zip(sampled).enumerate() {
                assert!(
                    (b - s).abs() <= TOLERANCE * (1.0 + s.abs()),
                    "{file}: column {name}, row {row}: bundled {b}, sampled {s}"
                );
            }
        }
    }
}

#[test]
fn the_bundled_contexts_file_states_each_files_interventions() {
    let dir = scm5::data_dir();
    let contexts = ContextGraph::from_toml_file_for(dir.join("contexts.toml"), &scm5::graph())
        .expect("bundled contexts");
    let found: Vec<(String, Vec<(String, ContextIntervention)>)> = contexts
        .contexts()
        .map(|c| (c.name.clone(), c.interventions.clone()))
        .collect();
    let expected = vec![
        ("observational", vec![]),
        ("x2-clamped", vec![("x2", ContextIntervention::Do(1.0))]),
        ("x3-shifted", vec![("x3", ContextIntervention::Shift(1.0))]),
        ("x5-changed", vec![("x5", ContextIntervention::Changed)]),
    ];
    assert_eq!(found.len(), expected.len());
    for ((name, interventions), (want_name, want)) in found.iter().zip(expected) {
        assert_eq!(name, want_name);
        let want: Vec<(String, ContextIntervention)> =
            want.into_iter().map(|(v, i)| (v.to_string(), i)).collect();
        assert_eq!(interventions, &want, "{name}");
    }
    assert!(Path::new(&dir.join("contexts.toml")).is_file());
}
