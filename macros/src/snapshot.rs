//! Expansion snapshot: the generated code for a small function, pretty
//! printed, compared with `snapshots/mechanism.expanded.rs`. Run with
//! `CAUSALGRAD_BLESS=1` to accept a deliberate change of the generated code.

use quote::quote;

const SNAPSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/snapshots/mechanism.expanded.rs"
);

#[test]
fn expansion_matches_snapshot() {
    let item = syn::parse_quote! {
        fn mechanism(f: f64, g: f64, h: f64, x3: f64, x4: f64) -> f64 {
            f * (-g * x3 * x3).exp() + h * x4
        }
    };
    let tokens = super::expand(quote!(wrt(f, g, h)), &item);
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as a file");
    let expanded = prettyplease::unparse(&file);
    if std::env::var_os("CAUSALGRAD_BLESS").is_some() {
        std::fs::write(SNAPSHOT, &expanded).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        expected == expanded,
        "the expansion changed; review it and rerun with CAUSALGRAD_BLESS=1 to accept:\n{expanded}"
    );
}
