//! Categorical (labelled) columns in `Dataset`: detected in CSV, sorted
//! levels, the typo guard, re-coding to a model's levels, and labels kept
//! through row selections. (The write/read round trip through the CLI's
//! `write_csv` is tested in `cli/src/output.rs`.)

use causalgrad::data::{number_label, CsvOptions, DataError, Dataset};

fn strings(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|l| l.to_string()).collect()
}

#[test]
fn string_columns_are_categorical_with_sorted_levels() {
    let data = Dataset::from_csv_str(
        "color,arm,y\nred,treated,1.5\ngreen,control,2\nblue,treated,3\nred,control,4\n",
    )
    .unwrap();
    assert_eq!(
        data.labels("color").unwrap().unwrap(),
        ["blue", "green", "red"]
    );
    assert_eq!(data.column("color").unwrap(), [2.0, 1.0, 0.0, 2.0]);
    assert_eq!(data.labels("arm").unwrap().unwrap(), ["control", "treated"]);
    assert_eq!(data.column("arm").unwrap(), [1.0, 0.0, 1.0, 0.0]);
    assert_eq!(data.labels("y").unwrap(), None);
    assert_eq!(data.column("y").unwrap(), [1.5, 2.0, 3.0, 4.0]);
    assert!(matches!(
        data.labels("z"),
        Err(DataError::MissingColumn { .. })
    ));
}

#[test]
fn the_same_labels_give_the_same_codes_whatever_the_row_order() {
    let a = Dataset::from_csv_str("c\nred\nblue\ngreen\n").unwrap();
    let b = Dataset::from_csv_str("c\ngreen\nred\nblue\n").unwrap();
    assert_eq!(a.labels("c").unwrap(), b.labels("c").unwrap());
    for label in ["blue", "green", "red"] {
        assert_eq!(
            a.code_of("c", label).unwrap(),
            b.code_of("c", label).unwrap()
        );
    }
}

#[test]
fn numbers_in_a_categorical_column_are_labelled_by_value_and_come_first() {
    // `1.0` and `1` are one level; numbers sort by value, before the texts.
    let data = Dataset::from_csv_str("dose\n10\n2\nhigh\n1.0\n1\nlow\n").unwrap();
    assert_eq!(
        data.labels("dose").unwrap().unwrap(),
        ["1", "2", "10", "high", "low"]
    );
    assert_eq!(data.column("dose").unwrap(), [2.0, 1.0, 3.0, 0.0, 0.0, 4.0]);
    // The switch to categorical after many numeric rows keeps the earlier ones.
    let mut text = String::from("x\n");
    for i in 0..1000 {
        text.push_str(&format!("{}\n", i % 3));
    }
    text.push_str("none\n");
    let data = Dataset::from_csv_str(&text).unwrap();
    assert_eq!(data.labels("x").unwrap().unwrap(), ["0", "1", "2", "none"]);
    let codes = data.column("x").unwrap();
    assert_eq!(&codes[..4], [0.0, 1.0, 2.0, 0.0]);
    assert_eq!(codes[1000], 3.0);
}

#[test]
fn numeric_files_are_unchanged() {
    let data = Dataset::from_csv_str("a,b\n1,-2.5\n3e2,0.125\n").unwrap();
    assert_eq!(
        (data.labels("a").unwrap(), data.labels("b").unwrap()),
        (None, None)
    );
    assert_eq!(data.column("a").unwrap(), [1.0, 300.0]);
    assert_eq!(data.column("b").unwrap(), [-2.5, 0.125]);
    assert_eq!(
        data,
        Dataset::from_csv_str("a,b\n1.0,-2.5\n300,0.125\n").unwrap()
    );
}

/// `x` holds `distinct` distinct numbers over `numeric_rows` rows, then
/// `typos` texts.
fn guard_file(distinct: usize, numeric_rows: usize, typos: usize) -> String {
    let mut text = String::from("x\n");
    for i in 0..numeric_rows {
        text.push_str(&format!("{}.5\n", i % distinct));
    }
    for i in 0..typos {
        text.push_str(&format!("{i}..5\n"));
    }
    text
}

#[test]
fn the_typo_guard() {
    // 21 distinct numbers and 1 text in 22 rows: a typo.
    let err = Dataset::from_csv_str(&guard_file(21, 21, 1)).unwrap_err();
    assert!(
        matches!(&err, DataError::NotNumeric { row: 22, value, .. } if value == "0..5"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("<csv>: row 22, column `x`: `0..5` is not a number; the column has 21 distinct numbers and only 1 of its 22 cells are not numbers"),
        "{message}"
    );
    assert!(message.contains("declare `x` categorical"), "{message}");
    // 20 distinct numbers: categorical.
    let data = Dataset::from_csv_str(&guard_file(20, 100, 1)).unwrap();
    assert_eq!(data.labels("x").unwrap().unwrap().len(), 21);
    // Exactly 5% texts (2 of 40 rows) is not under 5%: categorical.
    let data = Dataset::from_csv_str(&guard_file(30, 38, 2)).unwrap();
    assert_eq!(data.labels("x").unwrap().unwrap().len(), 32);
    // 2 of 41: a typo, reported at the first text.
    let err = Dataset::from_csv_str(&guard_file(30, 39, 2)).unwrap_err();
    assert!(
        matches!(err, DataError::NotNumeric { row: 40, .. }),
        "{err:?}"
    );
    // Declared categorical, the guard does not apply, and texts are kept as written.
    let (data, _) = CsvOptions::new()
        .categorical(["x"])
        .read_str(&guard_file(21, 21, 1))
        .unwrap();
    let labels = data.labels("x").unwrap().unwrap();
    assert_eq!(labels.len(), 22);
    assert_eq!((labels[0].as_str(), labels[21].as_str()), ("0.5", "0..5"));
}

#[test]
fn declared_columns_keep_the_text_as_written() {
    let (data, _) = CsvOptions::new()
        .categorical(["zip", "absent"])
        .read_str("zip,n\n02134,1\n2134,2\n10001,3\n02134,4\n")
        .unwrap();
    // `02134` and `2134` are both 2134: ties are ordered by text.
    assert_eq!(
        data.labels("zip").unwrap().unwrap(),
        ["02134", "2134", "10001"]
    );
    assert_eq!(data.column("zip").unwrap(), [0.0, 1.0, 2.0, 0.0]);
    assert_eq!(data.labels("n").unwrap(), None);
    // Missing values are errors in declared columns too.
    for (text, expected) in [
        ("zip,n\n1,1\n,2\n", "row 2, column `zip`: the cell is empty"),
        (
            "zip\n1\nNaN\n",
            "row 2, column `zip`: NaN is not a finite number",
        ),
    ] {
        let err = CsvOptions::new()
            .categorical(["zip"])
            .read_str(text)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{text:?}: {err}");
    }
}

#[test]
fn declared_numeric_columns_never_turn_categorical() {
    let text = "x,y\n1,2\n3,oops\n4,5\n";
    let options = CsvOptions::new().numeric(["y"]);
    let err = options.read_str(text).unwrap_err();
    assert!(
        matches!(&err, DataError::NotNumeric { row: 2, column, value, .. } if column == "y" && value == "oops"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "<csv>: row 2, column `y`: `oops` is not a number"
    );
    // Undeclared, the same column is categorical; declared both ways, categorical.
    assert!(Dataset::from_csv_str(text)
        .unwrap()
        .labels("y")
        .unwrap()
        .is_some());
    let (data, _) = CsvOptions::new()
        .numeric(["y"])
        .categorical(["y"])
        .read_str(text)
        .unwrap();
    assert_eq!(data.labels("y").unwrap().unwrap(), ["2", "5", "oops"]);
}

#[test]
fn with_levels_maps_labels_and_numbers_to_a_models_levels() {
    let levels = strings(&["red", "green", "blue"]);
    let data = Dataset::from_csv_str("c,y\nblue,1\nred,2\nblue,3\n")
        .unwrap()
        .with_levels("c", &levels)
        .unwrap();
    assert_eq!(data.column("c").unwrap(), [2.0, 0.0, 2.0]);
    assert_eq!(data.labels("c").unwrap().unwrap(), levels);
    assert_eq!(data.code_of("c", "green").unwrap(), 1);

    // A numeric column: values labelled by their shortest form.
    let levels = strings(&["2.5", "1", "0"]);
    let data = Dataset::from_columns([("t", vec![0.0, 1.0, 2.5, -0.0])])
        .unwrap()
        .with_levels("t", &levels)
        .unwrap();
    assert_eq!(data.column("t").unwrap(), [2.0, 1.0, 0.0, 2.0]);

    // A label not among the levels.
    let err = Dataset::from_csv_str("c\nred\nred\npurple\n")
        .unwrap()
        .with_levels("c", &strings(&["red", "green"]))
        .unwrap_err();
    match &err {
        DataError::UnknownLabel {
            source_name,
            row,
            column,
            label,
            levels,
        } => {
            assert_eq!(
                (source_name.as_str(), *row, column.as_str(), label.as_str()),
                ("<csv>", 3, "c", "purple")
            );
            assert_eq!(levels, &strings(&["red", "green"]));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "<csv>: row 3, column `c`: the label `purple` is not one of the column's 2 levels: red, green"
    );
    let err = Dataset::from_columns([("t", vec![1.0, 3.0])])
        .unwrap()
        .with_levels("t", &strings(&["1", "2"]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "<columns>: row 2, column `t`: the label `3` is not one of the column's 2 levels: 1, 2"
    );
    // Many levels: the message lists 20 and counts the rest.
    let many: Vec<String> = (0..25).map(|i| format!("l{i}")).collect();
    let err = Dataset::from_csv_str("c\nx\n")
        .unwrap()
        .with_levels("c", &many)
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("l18, l19 and 5 more"), "{err}");
    // Repeated levels.
    let err = Dataset::from_csv_str("c\nx\n")
        .unwrap()
        .with_levels("c", &strings(&["x", "x"]))
        .unwrap_err();
    assert!(matches!(err, DataError::DuplicateLabel { .. }), "{err:?}");
}

#[test]
fn to_categorical_labels_integers_by_their_digits() {
    let data = Dataset::from_columns([("k", vec![2.0, 1.0, 3.0, 1.0])])
        .unwrap()
        .to_categorical("k")
        .unwrap();
    assert_eq!(data.labels("k").unwrap().unwrap(), ["1", "2", "3"]);
    assert_eq!(data.column("k").unwrap(), [1.0, 0.0, 2.0, 0.0]);
    // Already categorical: unchanged.
    assert_eq!(data.clone().to_categorical("k").unwrap(), data);
    let data = Dataset::from_columns([("v", vec![0.5, -1.0, 0.5, -0.0, 0.0])])
        .unwrap()
        .to_categorical("v")
        .unwrap();
    assert_eq!(data.labels("v").unwrap().unwrap(), ["-1", "0", "0.5"]);
    assert_eq!(data.column("v").unwrap(), [2.0, 0.0, 2.0, 1.0, 1.0]);
    assert_eq!(number_label(1.0), "1");
    assert_eq!(number_label(2.5), "2.5");
}

#[test]
fn with_labels_checks_codes_and_labels() {
    let data = Dataset::from_columns([("a", vec![0.0, 1.0, 0.0])]).unwrap();
    let labelled = data
        .clone()
        .with_labels("a", strings(&["no", "yes"]))
        .unwrap();
    assert_eq!(labelled.labels("a").unwrap().unwrap(), ["no", "yes"]);
    assert_ne!(labelled, data, "labels are part of equality");
    for (labels, expected) in [
        (
            strings(&["no"]),
            "row 2, column `a`: 1 is not a code of its 1 labels",
        ),
        (strings(&["no", "no"]), "the label `no` is given twice"),
        (strings(&["no", ""]), "the label `` is empty"),
        (strings(&["no", " yes"]), "has surrounding whitespace"),
        (strings(&["no", "a\nb"]), "spans lines"),
        (strings(&["no", "NaN"]), "reads as NaN"),
    ] {
        let err = data
            .clone()
            .with_labels("a", labels)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}");
    }
    let half = Dataset::from_columns([("a", vec![0.5])]).unwrap();
    assert!(matches!(
        half.with_labels("a", strings(&["x"])),
        Err(DataError::NotACode { row: 1, .. })
    ));
    let err = data.code_of("a", "yes").unwrap_err();
    assert!(matches!(err, DataError::NotCategorical { .. }), "{err:?}");
    assert!(err.to_string().contains("column `a` is numeric"), "{err}");
}

#[test]
fn row_selections_keep_the_labels() {
    let mut text = String::from("c,y\n");
    for i in 0..50 {
        text.push_str(&format!("{},{i}\n", ["b", "a", "c"][i % 3]));
    }
    let data = Dataset::from_csv_str(&text).unwrap();
    let levels = data.labels("c").unwrap().unwrap().to_vec();
    assert_eq!(levels, ["a", "b", "c"]);
    let rows = data.take_rows(&[2, 0]);
    assert_eq!(rows.labels("c").unwrap().unwrap(), levels);
    assert_eq!(rows.column("c").unwrap(), [2.0, 1.0]);
    let (train, valid) = data.split(0.2, 3);
    assert_eq!(train.labels("c").unwrap().unwrap(), levels);
    assert_eq!(valid.labels("c").unwrap().unwrap(), levels);
    assert_eq!(train.n_rows() + valid.n_rows(), 50);
    assert_eq!(data.head(3).labels("c").unwrap().unwrap(), levels);
    assert_eq!(data.head(3).column("c").unwrap(), [1.0, 0.0, 2.0]);
}

mod generated {
    use super::*;
    use proptest::prelude::*;

    /// A label: text (commas, quotes, inner spaces, unicode) or a small number.
    fn label() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Zé変][a-zA-Z0-9 ,\"é変🙂]{0,5}[a-z\"]"
                .prop_filter("not a NaN or infinity spelling", |l| l
                    .parse::<f64>()
                    .is_err()),
            prop::sample::select(vec!["1", "2", "10", "1.0", "02", "-0", "0", "2.5"])
                .prop_map(String::from),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

        /// CSV written with the csv crate reads back with sorted levels
        /// and codes that name each row's label.
        #[test]
        fn written_labels_read_back(rows in prop::collection::vec((label(), -1e3f64..1e3), 1..40)) {
            let mut out = ::csv::Writer::from_writer(Vec::new());
            out.write_record(["c", "y"]).unwrap();
            for (label, y) in &rows {
                out.write_record([label.clone(), format!("{y:?}")]).unwrap();
            }
            let text = String::from_utf8(out.into_inner().unwrap()).unwrap();
            let data = Dataset::from_csv_str(&text).unwrap();
            // Numbers are labelled by value (`1.0` is `1`).
            let expected = |label: &str| match label.parse::<f64>() {
                Ok(value) => number_label(value),
                Err(_) => label.to_string(),
            };
            let all_numbers = rows.iter().all(|(l, _)| l.parse::<f64>().is_ok());
            let codes = data.column("c").unwrap();
            match data.labels("c").unwrap() {
                None => {
                    prop_assert!(all_numbers);
                    for ((label, _), code) in rows.iter().zip(codes) {
                        prop_assert_eq!(label.parse::<f64>().unwrap(), *code);
                    }
                }
                Some(levels) => {
                    prop_assert!(!all_numbers);
                    for ((label, _), &code) in rows.iter().zip(codes) {
                        prop_assert_eq!(&levels[code as usize], &expected(label));
                    }
                    let mut wanted: Vec<String> = rows.iter().map(|(l, _)| expected(l)).collect();
                    wanted.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
                        (Ok(x), Ok(y)) => x.total_cmp(&y),
                        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
                        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
                        (Err(_), Err(_)) => a.cmp(b),
                    });
                    wanted.dedup();
                    prop_assert_eq!(levels, &wanted[..]);
                }
            }
            let y: Vec<f64> = rows.iter().map(|(_, y)| *y).collect();
            prop_assert_eq!(data.column("y").unwrap(), &y[..]);
        }
    }
}
