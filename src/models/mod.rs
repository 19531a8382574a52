//! Reference models: the bundled benchmark model and seeded random models
//! for scaling studies.

pub mod confounded;
#[cfg(feature = "burn")]
pub mod random;
pub mod scm5;
