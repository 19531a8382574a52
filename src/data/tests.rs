//! Unit tests of the data module.

use super::*;

#[test]
fn every_bad_input_is_a_located_error() {
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("x,y\n", "empty"),
        ("x,y\n1,2\n3\n", "row 2 has 1 cells but the header names 2"),
        (
            "x,y\n1,\"a\nb\"\n",
            "row 1, column `y`: `a\\nb` is not a number; a quote is probably not closed",
        ),
        (
            "x,y\n1,red\n2,nan\n",
            "row 2, column `y`: NaN is not a finite number",
        ),
        ("x,y\n1,red\n2,\n", "row 2, column `y`: the cell is empty"),
        (
            "x,y\n1,inf\n",
            "row 1, column `y`: inf is not a finite number",
        ),
        (
            "x,y,x\n1,2,3\n",
            "the column `x` appears twice in the header, as columns 1 and 3",
        ),
        (",x,x\n0,1,2\n", "as columns 2 and 3"),
        ("i,x,\n0,1,2\n", "<csv>: the header's column 3 has no name"),
        ("x,y\n1,\n", "row 1, column `y`: the cell is empty"),
        ("x\n-1e400\n", "row 1, column `x`: `-1e400` is too large"),
        ("x,,z\n1,2,3\n", "<csv>: the header's column 2 has no name"),
    ];
    for (text, expected) in cases {
        let err = Dataset::from_csv_str(text).unwrap_err().to_string();
        assert!(err.contains(expected), "{text:?}: {err}");
    }
}

#[test]
fn byte_order_marks_crlf_quotes_and_index_columns() {
    let expected = Dataset::from_csv_str("a,b\n1,2\n3,4\n").unwrap();
    for text in [
        "\u{feff}\"a\",\"b\"\r\n1,2\r\n3,4\r\n",
        ",a,b\n0,1,2\n1,3,4\n",
        "\"\",a,b\nrow one,1,2\nrow two,3,4\n",
        "Unnamed: 0,a,b\n0,1,2\n1,3,4\n",
    ] {
        let data = Dataset::from_csv_str(text).unwrap();
        assert_eq!(
            (data.names(), data.column("b").unwrap()),
            (expected.names(), expected.column("b").unwrap()),
            "{text:?}"
        );
    }
    let err = Dataset::from_csv_str(",a\n0,1\n1\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("row 2 has 1 cells but the header names 2"),
        "{err}"
    );
}

#[test]
fn columns_arrays_and_missing_names() {
    let array = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    let data = Dataset::from_array(&["a", "b"], &array).unwrap();
    assert_eq!(data.column("b").unwrap(), [2.0, 4.0]);
    let err = data.column("c").unwrap_err().to_string();
    assert!(
        err.contains("no column `c`") && err.contains("a, b"),
        "{err}"
    );
    assert!(matches!(
        Dataset::from_array(&["a"], &array),
        Err(DataError::Shape {
            names: 1,
            columns: 2
        })
    ));
    let nan = ndarray::array![[1.0], [f64::NAN]];
    let err = Dataset::from_array(&["a"], &nan).unwrap_err().to_string();
    assert!(err.contains("<array>: row 2, column `a`"), "{err}");
}

#[test]
fn missing_files_name_the_path() {
    let err = Dataset::from_csv("/nonexistent/train.csv")
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/train.csv"), "{err}");
}

#[test]
fn texts_interleaved_with_numbers_keep_their_codes() {
    // Many distinct texts among a few numbers: each row's code names its cell.
    let mut text = String::from("c,n\n");
    let mut cells = Vec::new();
    for i in 0..3000 {
        let cell = if i % 3 == 0 {
            format!("{}", i % 5)
        } else {
            format!("t{}", (i * 7919) % 700)
        };
        text.push_str(&format!("{cell},{i}\n"));
        cells.push(cell);
    }
    let data = Dataset::from_csv_str(&text).unwrap();
    let labels = data.labels("c").unwrap().unwrap();
    assert_eq!(&labels[..5], ["0", "1", "2", "3", "4"]);
    for (cell, &code) in cells.iter().zip(data.column("c").unwrap()) {
        assert_eq!(&labels[code as usize], cell);
    }
    assert_eq!(data.labels("n").unwrap(), None);
}

#[test]
fn number_labels_read_back_exactly() {
    for value in [
        0.0,
        1.0,
        -3.0,
        2.5,
        0.1 + 0.2,
        1e15,
        1e16,
        1e300,
        -1e-7,
        5e-324,
        f64::MAX,
    ] {
        let label = number_label(value);
        assert_eq!(label.parse::<f64>().unwrap(), value, "{label}");
        assert!(!label.ends_with(".0"), "{label}");
    }
    assert_eq!(number_label(-0.0), "0");
    assert_eq!(number_label(1e15), "1000000000000000");
}

#[test]
fn levels_sort_numbers_by_value_then_text() {
    let labels = ["b", "10", "a", "2", "-1", "1.0", "1", "B", "é"];
    let sorted = labels::sort_levels(labels.iter().map(|l| (l.to_string(), ())).collect());
    let sorted: Vec<&str> = sorted.iter().map(|(l, ())| l.as_str()).collect();
    assert_eq!(sorted, ["-1", "1", "1.0", "2", "10", "B", "a", "b", "é"]);
}

#[test]
fn equality_and_row_selections_see_labels() {
    let a = Dataset::from_csv_str("c\nx\ny\nx\n").unwrap();
    let b = Dataset::from_csv_str("c\nx\nz\nx\n").unwrap();
    assert_eq!(a.column("c").unwrap(), b.column("c").unwrap());
    assert_ne!(a, b);
    assert_eq!(a.take_rows(&[1]).labels("c").unwrap().unwrap(), ["x", "y"]);
    assert_eq!(a.take_rows(&[]).labels("c").unwrap().unwrap(), ["x", "y"]);
}
