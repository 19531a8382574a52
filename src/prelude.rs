//! The names most programs need: `use causalgrad::prelude::*;`.
//!
//! ```
//! use causalgrad::prelude::*;
//!
//! #[differentiable]
//! fn square(x: f64) -> f64 {
//!     x * x
//! }
//! assert_eq!(square::value_and_grad(3.0), (9.0, 6.0));
//! ```

pub use crate::check::GradCheck;
pub use crate::diff::{no_grad, stop_gradient, DiffFn, Differentiable, Pullback, Tangent};
pub use crate::dual::Dual;
pub use crate::real::Real;
pub use causalgrad_macros::Differentiable;
pub use causalgrad_macros::{derivative, differentiable};
