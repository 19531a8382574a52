//! Compile-error tests of causalgrad's macros live in `tests/ui/`; this
//! crate exists so that trybuild builds causalgrad without the burn
//! training backend (its default feature), which it would otherwise compile
//! a second time.
