//! Fitting over context graphs: joint fits against per-environment fits,
//! ties, gradients in intervened contexts, queries per context, and the
//! typed errors of invalid graphs and context files.

use std::path::PathBuf;

use causalgrad::context::{Context, ContextError, ContextGraph, ContextIntervention, Weighting};
use causalgrad::data::Dataset;
use causalgrad::fit::{FitConfig, FitError};
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Noise, Scm};

fn graph() -> CausalGraph {
    CausalGraph::new(
        ["x1", "x2", "x3"],
        [("x1", "x2"), ("x2", "x3"), ("x1", "x3")],
    )
    .unwrap()
}

const X1: [f32; 1] = [0.5];
const X2: [f32; 2] = [1.0, -2.0];
const X3: [f32; 3] = [0.3, 0.7, 1.5];
const X3_SHIFTED: [f32; 3] = [1.0, -0.5, 0.5];

fn truth() -> Scm {
    let mut scm = Scm::builder(graph())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    scm.set_params("x1", &X1).unwrap();
    scm.set_params("x2", &X2).unwrap();
    scm.set_params("x3", &X3).unwrap();
    for (variable, scale) in [("x2", 0.5f32), ("x3", 0.3)] {
        let log_scale = scale.ln();
        scm.set_noise(variable, Noise::Gaussian { log_scale })
            .unwrap();
    }
    scm
}

/// Three environments with different hard interventions and one where
/// `x3`'s mechanism changed.
fn environments(rows: usize) -> Vec<Context> {
    let truth = truth();
    let mut shifted = truth.clone();
    shifted.set_params("x3", &X3_SHIFTED).unwrap();
    vec![
        Context::new("obs", truth.sample(rows, 1).unwrap()),
        Context::new(
            "do-x1",
            truth
                .intervene(&[("x1", 2.0)])
                .unwrap()
                .sample(rows, 2)
                .unwrap(),
        )
        .set("x1", 2.0),
        Context::new(
            "do-x2",
            truth
                .intervene(&[("x2", -1.0)])
                .unwrap()
                .sample(rows, 3)
                .unwrap(),
        )
        .set("x2", -1.0),
        Context::new("x3-shifted", shifted.sample(rows, 4).unwrap()).changed("x3"),
    ]
}

fn contexts(list: Vec<Context>) -> ContextGraph {
    list.into_iter()
        .fold(ContextGraph::builder(), |b, c| b.context(c))
        .build()
        .unwrap()
}

/// These tests read linear-Gaussian models' parameters, intercepts included
/// (Gaussian noise has mean zero; a mixture's means share the location with
/// the intercept), and the contexts' own mechanism parameters, which are in
/// the model's units: they fit in the data's units.
fn config() -> FitConfig {
    FitConfig::adam(0.05)
        .with_steps(400)
        .with_eval_every(50)
        .with_standardize(false)
}

fn squared_error(fitted: &[f32], truth: &[f32]) -> f64 {
    fitted
        .iter()
        .zip(truth)
        .map(|(f, t)| f64::from(f - t).powi(2))
        .sum()
}

#[test]
fn the_joint_fit_recovers_shared_parameters_better_than_each_environment_alone() {
    let envs = environments(200);
    let mut joint = Scm::builder(graph())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    let report = joint
        .fit_contexts(&contexts(envs.clone()), &config())
        .unwrap();
    let truths: [(&str, &[f32]); 3] = [("x1", &X1), ("x2", &X2), ("x3", &X3)];
    let joint_error: f64 = truths
        .iter()
        .map(|(v, t)| squared_error(&joint.params(v).unwrap(), t))
        .sum();

    // Alone: each environment fitted by itself; a variable's error is the
    // mean over the environments where it has a likelihood term.
    let mut alone_error = 0.0;
    for (variable, t) in truths {
        let mut errors = Vec::new();
        for env in &envs {
            let graph_alone = contexts(vec![env.clone()]);
            let data = graph_alone.contexts().next().unwrap();
            if data.interventions.iter().any(|(v, _)| v == variable) {
                continue;
            }
            let mut alone = Scm::builder(graph())
                .noise_default(Noise::gaussian())
                .build()
                .unwrap();
            alone.fit_contexts(&graph_alone, &config()).unwrap();
            errors.push(squared_error(&alone.params(variable).unwrap(), t));
        }
        alone_error += errors.iter().sum::<f64>() / errors.len() as f64;
    }
    assert!(
        joint_error < 0.5 * alone_error,
        "joint {joint_error}, alone {alone_error}"
    );
    assert!(joint_error < 0.01, "joint {joint_error}");

    // The shifted context's own parameters recover its mechanism.
    let shifted = &report.fitted.contexts()[3];
    assert_eq!(shifted.own.len(), 1);
    let (variable, own, _) = &shifted.own[0];
    assert_eq!(variable, "x3");
    assert!(squared_error(own, &X3_SHIFTED) < 0.02, "{own:?}");

    // Every context's loss went down between the first and last evaluation.
    let (first, last) = (&report.evaluations[0], report.evaluations.last().unwrap());
    assert_eq!(last.step, 400);
    assert_eq!(first.contexts.len(), 4);
    for ((name, a), (_, b)) in first.contexts.iter().zip(&last.contexts) {
        assert!(b < a, "{name}: {a} -> {b}");
    }
    assert_eq!(report.losses.len(), 400);
}

fn tied_pair(strength: f64) -> f64 {
    let graph = CausalGraph::new(["x", "y"], [("x", "y")]).unwrap();
    let mut a = Scm::builder(graph.clone())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    a.set_params("y", &[0.0, 1.0]).unwrap();
    let mut b = a.clone();
    b.set_params("y", &[1.0, 2.0]).unwrap();
    let contexts = ContextGraph::builder()
        .context(Context::new("a", a.sample(200, 1).unwrap()).changed("y"))
        .context(Context::new("b", b.sample(200, 2).unwrap()).changed("y"))
        .tie("a", "b", strength)
        .build()
        .unwrap();
    let mut model = Scm::builder(graph)
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    let report = model
        .fit_contexts(
            &contexts,
            &FitConfig::adam(0.05)
                .with_steps(300)
                .with_standardize(false),
        )
        .unwrap();
    let own = |c: usize| {
        let (_, params, log_scale) = &report.fitted.contexts()[c].own[0];
        let mut all = params.clone();
        all.extend_from_slice(log_scale);
        all
    };
    squared_error(&own(0), &own(1)).sqrt()
}

#[test]
fn tied_contexts_move_together_as_the_strength_grows() {
    let distances: Vec<f64> = [0.0, 1.0, 100.0].into_iter().map(tied_pair).collect();
    assert!(
        distances[0] > distances[1] && distances[1] > distances[2],
        "{distances:?}"
    );
    // Untied, the two mechanisms are apart (truth: distance sqrt(2)).
    assert!(distances[0] > 1.2, "{distances:?}");
    assert!(distances[2] < 0.05, "{distances:?}");
}

#[test]
fn intervened_variables_get_no_gradient_in_their_context() {
    let mut model = Scm::builder(graph())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    let graph = contexts(environments(100));
    let trainer = model.context_trainer(&graph, &config()).unwrap();
    let nonzero = |values: &[f32]| values.iter().any(|&v| v != 0.0);
    for (context, clamped) in [("do-x1", "x1"), ("do-x2", "x2")] {
        for gradient in trainer.context_gradients(context).unwrap() {
            assert!(!gradient.own);
            if gradient.variable == clamped {
                assert!(gradient.values.iter().all(|&v| v == 0.0), "{gradient:?}");
            } else {
                assert!(nonzero(&gradient.values), "{context}: {gradient:?}");
            }
        }
    }
    // Observational data give every variable a gradient.
    for gradient in trainer.context_gradients("obs").unwrap() {
        assert!(nonzero(&gradient.values), "{gradient:?}");
    }
    // The shifted context's x3 gradient goes to its own parameters.
    let shifted = trainer.context_gradients("x3-shifted").unwrap();
    let x3 = shifted.iter().find(|g| g.variable == "x3").unwrap();
    assert!(x3.own && nonzero(&x3.values));
    assert!(matches!(
        trainer.context_gradients("nowhere"),
        Err(FitError::Context(ContextError::UnknownContext { .. }))
    ));
}

#[test]
fn contexts_are_queried_and_combined() {
    let mut model = Scm::builder(graph())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    let graph = contexts(environments(300));
    let fitted = model.fit_contexts(&graph, &config()).unwrap().fitted;

    let clamped = fitted.in_context("do-x2").unwrap().sample(50, 1).unwrap();
    assert!(clamped.column("x2").unwrap().iter().all(|&v| v == -1.0));

    // do(x2 = -1) with x3's shifted mechanism: never observed together.
    // Truth: E[x3] = 1.0 - 0.5 * E[x1] + 0.5 * (-1) = 0.25.
    let combined = fitted.predict_context(&["do-x2", "x3-shifted"]).unwrap();
    let mean = combined.interventional_mean("x3", &[], 20_000, 5).unwrap();
    assert!((mean - 0.25).abs() < 0.1, "{mean}");
    // The same under the shared mechanism: 0.3 + 0.7 * 0.5 - 1.5 = -0.85.
    let shared = fitted.in_context("do-x2").unwrap();
    let mean = shared.interventional_mean("x3", &[], 20_000, 5).unwrap();
    assert!((mean + 0.85).abs() < 0.1, "{mean}");
    // Queries on a context model.
    let effect = fitted
        .in_context("x3-shifted")
        .unwrap()
        .ate("x2", "x3", 0.0, 1.0, 5000, 2)
        .unwrap();
    assert!((effect.ate - 0.5).abs() < 0.1, "{effect:?}");

    assert!(matches!(
        fitted.in_context("nowhere"),
        Err(ContextError::UnknownContext { .. })
    ));
    // do-x1 sets x1 = 2, another context setting x1 differently conflicts.
    let conflicting = ContextGraph::builder()
        .context(Context::new("a", truth().sample(50, 1).unwrap()).set("x1", 2.0))
        .context(Context::new("b", truth().sample(50, 2).unwrap()).set("x1", 3.0))
        .build()
        .unwrap();
    let mut model = Scm::builder(self::graph())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    let fitted = model
        .fit_contexts(&conflicting, &FitConfig::adam(0.05).with_steps(5))
        .unwrap()
        .fitted;
    assert!(matches!(
        fitted.predict_context(&["a", "b"]),
        Err(ContextError::ConflictingInterventions { variable, .. }) if variable == "x1"
    ));
}

#[test]
fn the_weighting_sets_each_contexts_share_of_the_objective() {
    let truth = truth();
    let shifted = truth.intervene(&[("x1", 3.0)]).unwrap();
    let graph = |weighting| {
        ContextGraph::builder()
            .context(Context::new("big", truth.sample(400, 1).unwrap()))
            .context(Context::new("small", shifted.sample(40, 2).unwrap()))
            .weighting(weighting)
            .build()
            .unwrap()
    };
    for (weighting, weights) in [
        (Weighting::Proportional, [400.0 / 440.0, 40.0 / 440.0]),
        (Weighting::Equal, [0.5, 0.5]),
    ] {
        // The first step's objective (full batch, before the update) is the
        // weighted sum of the contexts' losses.
        let mut model = Scm::builder(self::graph())
            .noise_default(Noise::gaussian())
            .build()
            .unwrap();
        let mut trainer = model.context_trainer(&graph(weighting), &config()).unwrap();
        let losses = trainer.evaluate().contexts;
        assert!((losses[0].1 - losses[1].1).abs() > 1.0, "{losses:?}");
        let expected = weights[0] * losses[0].1 + weights[1] * losses[1].1;
        let objective = trainer.step().unwrap();
        assert!(
            (objective - expected).abs() < 1e-4 * expected.abs(),
            "{weighting:?}: {objective} vs {expected}"
        );
        // Mini-batches drawn across both contexts fit the shared mechanism.
        let mut model = Scm::builder(self::graph())
            .noise_default(Noise::gaussian())
            .build()
            .unwrap();
        model
            .fit_contexts(&graph(weighting), &config().with_batch_size(64))
            .unwrap();
        assert!(squared_error(&model.params("x2").unwrap(), &X2) < 0.05);
    }
}

fn fit_error(contexts: ContextGraph) -> ContextError {
    let mut model = Scm::builder(graph())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    match model.fit_contexts(&contexts, &config()) {
        Err(FitError::Context(error)) => error,
        other => panic!("expected a context error, got {other:?}"),
    }
}

#[test]
fn invalid_context_graphs_are_typed_errors() {
    let data = truth().sample(20, 1).unwrap();
    let build = |contexts: Vec<Context>| {
        contexts
            .into_iter()
            .fold(ContextGraph::builder(), |b, c| b.context(c))
    };

    // A data column that is not a variable.
    let extra = Dataset::from_columns([
        ("x1", vec![0.0]),
        ("x2", vec![0.0]),
        ("x3", vec![0.0]),
        ("z", vec![0.0]),
    ])
    .unwrap();
    let err = fit_error(build(vec![Context::new("lab", extra)]).build().unwrap());
    assert!(
        matches!(&err, ContextError::UnknownDataVariable { context, variable, .. } if context == "lab" && variable == "z"),
        "{err}"
    );

    // An intervention on an unknown variable.
    let err = fit_error(
        build(vec![Context::new("lab", data.clone()).set("w", 1.0)])
            .build()
            .unwrap(),
    );
    assert!(
        matches!(&err, ContextError::UnknownInterventionVariable { context, variable, .. } if context == "lab" && variable == "w"),
        "{err}"
    );

    // A missing column.
    let partial = Dataset::from_columns([("x1", vec![0.0]), ("x2", vec![0.0])]).unwrap();
    let err = fit_error(build(vec![Context::new("lab", partial)]).build().unwrap());
    assert!(
        matches!(&err, ContextError::MissingVariable { variable, .. } if variable == "x3"),
        "{err}"
    );

    // A context with no rows.
    let err = build(vec![Context::new("empty", data.take_rows(&[]))])
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, ContextError::EmptyContext { context } if context == "empty"),
        "{err}"
    );

    // Duplicate names.
    let err = build(vec![
        Context::new("lab", data.clone()),
        Context::new("lab", data.clone()),
    ])
    .build()
    .unwrap_err();
    assert!(
        matches!(&err, ContextError::DuplicateContext { name } if name == "lab"),
        "{err}"
    );

    // A tie naming an unknown context, and a bad strength.
    let err = build(vec![Context::new("lab", data.clone())])
        .tie("lab", "field", 1.0)
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, ContextError::UnknownContext { name, .. } if name == "field"),
        "{err}"
    );
    let err = build(vec![
        Context::new("lab", data.clone()),
        Context::new("field", data.clone()),
    ])
    .tie("lab", "field", -1.0)
    .build()
    .unwrap_err();
    assert!(matches!(err, ContextError::BadTie { .. }), "{err}");

    // The same variable intervened on twice, and a non-finite value.
    let err = build(vec![Context::new("lab", data.clone())
        .set("x1", 1.0)
        .changed("x1")])
    .build()
    .unwrap_err();
    assert!(
        matches!(err, ContextError::DuplicateIntervention { .. }),
        "{err}"
    );
    let err = build(vec![Context::new("lab", data.clone()).shift("x1", f64::NAN)])
        .build()
        .unwrap_err();
    assert!(
        matches!(err, ContextError::BadInterventionValue { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("`lab`"), "{err}");
}

/// A fresh directory with the three CSV files of the issue's example.
fn example_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("causalgrad-contexts-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let truth = truth();
    let write = |file: &str, data: Dataset| {
        let mut text = String::from("x1,x2,x3\n");
        for row in 0..data.n_rows() {
            let cells: Vec<String> = ["x1", "x2", "x3"]
                .iter()
                .map(|v| data.column(v).unwrap()[row].to_string())
                .collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        std::fs::write(dir.join(file), text).unwrap();
    };
    write("obs.csv", truth.sample(30, 1).unwrap());
    write(
        "clamped.csv",
        truth
            .intervene(&[("x2", 1.0)])
            .unwrap()
            .sample(30, 2)
            .unwrap(),
    );
    write("shifted.csv", truth.sample(30, 3).unwrap());
    dir
}

const EXAMPLE: &str = r#"[[context]]
name = "baseline"
data = "obs.csv"

[[context]]
name = "x2-clamped"
data = "clamped.csv"
do = { x2 = 1.0 }          # hard interventions active in this context

[[context]]
name = "x3-shifted"
data = "shifted.csv"
shifted = ["x3"]           # mechanisms changed in an unknown way: context-specific parameters

[[tie]]
contexts = ["baseline", "x3-shifted"]
strength = 10.0
"#;

fn load(dir: &std::path::Path, text: &str) -> Result<ContextGraph, ContextError> {
    let path = dir.join("contexts.toml");
    std::fs::write(&path, text).unwrap();
    ContextGraph::from_toml_file_for(&path, &graph())
}

/// The line, column and wrapped error of an error in a file.
fn located(err: ContextError) -> (usize, usize, ContextError) {
    match err {
        ContextError::InFile {
            line,
            column,
            source,
            ..
        } => (line, column, *source),
        ContextError::Toml {
            line,
            column,
            message,
            file,
        } => (
            line,
            column,
            ContextError::Toml {
                line,
                column,
                message,
                file,
            },
        ),
        other => panic!("expected an error with a position, got {other}"),
    }
}

#[test]
fn the_issue_example_loads_from_toml_and_fits() {
    let dir = example_dir("ok");
    let contexts = load(&dir, EXAMPLE).unwrap();
    let names: Vec<&str> = contexts.contexts().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["baseline", "x2-clamped", "x3-shifted"]);
    let clamped = contexts.context("x2-clamped").unwrap();
    assert_eq!(
        clamped.interventions,
        [("x2".to_string(), ContextIntervention::Do(1.0))]
    );
    assert_eq!(clamped.data.n_rows(), 30);
    assert_eq!(
        contexts.context("x3-shifted").unwrap().interventions,
        [("x3".to_string(), ContextIntervention::Changed)]
    );
    assert_eq!(contexts.ties(), [(0, 2, 10.0)]);
    let mut model = Scm::builder(graph())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    let report = model
        .fit_contexts(&contexts, &FitConfig::adam(0.05).with_steps(20))
        .unwrap();
    assert_eq!(report.fitted.contexts()[2].own.len(), 1);
}

#[test]
fn bad_context_files_name_the_line_and_column() {
    let dir = example_dir("bad");

    // Not TOML.
    let (line, _, err) =
        located(load(&dir, "[[context]]\nname = \"a\ndata = \"obs.csv\"\n").unwrap_err());
    assert_eq!(line, 2, "{err}");
    assert!(matches!(err, ContextError::Toml { .. }));

    // An unknown key.
    let text = EXAMPLE.replace("shifted = [", "shiftd = [");
    let (line, _, err) = located(load(&dir, &text).unwrap_err());
    assert_eq!(line, 13, "{err}");
    assert!(err.to_string().contains("shiftd"), "{err}");

    // A duplicate name: the second entry.
    let text = EXAMPLE.replace("name = \"x3-shifted\"", "name = \"baseline\"");
    let (line, _, err) = located(load(&dir, &text).unwrap_err());
    assert!((10..=13).contains(&line), "line {line}: {err}");
    assert!(
        matches!(err, ContextError::DuplicateContext { .. }),
        "{err}"
    );

    // A tie naming an unknown context: the name's position.
    let text = EXAMPLE.replace(
        "contexts = [\"baseline\", \"x3-shifted\"]",
        "contexts = [\"baseline\", \"x4-shifted\"]",
    );
    let (line, column, err) = located(load(&dir, &text).unwrap_err());
    assert_eq!((line, column), (16, 25), "{err}");
    assert!(
        matches!(&err, ContextError::UnknownContext { name, .. } if name == "x4-shifted"),
        "{err}"
    );

    // An intervention on a variable the causal graph does not have.
    let text = EXAMPLE.replace("do = { x2 = 1.0 }", "do = { x9 = 1.0 }");
    let (line, _, err) = located(load(&dir, &text).unwrap_err());
    assert!((5..=8).contains(&line), "line {line}: {err}");
    assert!(
        matches!(&err, ContextError::UnknownInterventionVariable { variable, .. } if variable == "x9"),
        "{err}"
    );

    // A data file that does not exist: the `data` value.
    let text = EXAMPLE.replace("clamped.csv", "missing.csv");
    let (line, column, err) = located(load(&dir, &text).unwrap_err());
    assert_eq!((line, column), (7, 8), "{err}");
    assert!(matches!(err, ContextError::Data(_)), "{err}");

    // A tie with three contexts.
    let text = EXAMPLE.replace(
        "\"baseline\", \"x3-shifted\"]",
        "\"baseline\", \"x3-shifted\", \"x2-clamped\"]",
    );
    let (line, _, err) = located(load(&dir, &text).unwrap_err());
    assert_eq!(line, 16, "{err}");

    // The file itself.
    let missing = ContextGraph::from_toml_file(dir.join("none.toml")).unwrap_err();
    assert!(matches!(missing, ContextError::Io { .. }), "{missing}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Ensemble members of a context fit answer in every context with the
/// context's own values: the effect of x2 on x3 is 1.5 under the shared
/// mechanism and 0.5 where x3's mechanism changed, and each context's
/// interval covers its own; the members survive the model file.
#[test]
fn context_members_give_each_context_its_interval_and_are_saved() {
    use causalgrad::context::FittedContexts;
    use causalgrad::fit::MemberConfig;

    let mut model = Scm::builder(graph())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    let graph = contexts(environments(400));
    let mut fitted = model.fit_contexts(&graph, &config()).unwrap().fitted;
    let reports = fitted
        .fit_members(&graph, &config(), &MemberConfig::new(6))
        .unwrap();
    assert_eq!(reports.len(), 6);
    for (context, truth) in [("obs", 1.5), ("x3-shifted", 0.5)] {
        let effect = fitted
            .in_context(context)
            .unwrap()
            .ate_interval("x2", "x3", 0.0, 1.0, 4000, 1, 0.95)
            .unwrap();
        assert_eq!(effect.members.len(), 6);
        assert!(effect.model_stderr > 0.0);
        assert!(
            effect.low <= truth && truth <= effect.high,
            "{context}: {effect:?}"
        );
    }
    let path = std::env::temp_dir().join("causalgrad-context-members.cg");
    fitted.save(&path).unwrap();
    let loaded = FittedContexts::load(&path).unwrap();
    std::fs::remove_file(&path).ok();
    for context in ["obs", "x3-shifted"] {
        let ask = |f: &FittedContexts| {
            f.in_context(context)
                .unwrap()
                .ate_interval("x2", "x3", 0.0, 1.0, 2000, 3, 0.95)
                .unwrap()
        };
        assert_eq!(ask(&loaded), ask(&fitted), "{context}");
    }
}
