//! causalgrad placeholder
#![forbid(unsafe_code)]
extern crate self as causalgrad;
pub mod diff;
pub mod real;
pub use causalgrad_macros::differentiable;
pub use diff::{no_grad, stop_gradient, DiffFn, Pullback};
pub use real::Real;
