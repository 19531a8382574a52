//! The regression corpus in `tests/corpus/`: one folder per kind of input,
//! holding exactly the files its test lists with the error each must give.

use std::path::{Path, PathBuf};

/// `tests/corpus/<kind>`, after checking that it holds exactly the files
/// `listed` (so a file added to the folder or the table is not forgotten).
pub fn corpus_dir<'a>(kind: &str, listed: impl IntoIterator<Item = &'a str>) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut listed: Vec<String> = listed.into_iter().map(str::to_string).collect();
    listed.sort();
    assert_eq!(files, listed, "the corpus {kind}/ and its table differ");
    dir
}
