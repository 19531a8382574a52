//! Compile-fail tests: each file in `tests/ui/` is a program that
//! `#[differentiable]` must reject, with the expected diagnostics beside it.

#[test]
fn compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
