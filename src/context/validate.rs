//! Checks of a context graph against a causal graph.

use super::{ContextError, ContextGraph};
use crate::graph::CausalGraph;

impl ContextGraph {
    /// Checks that every context's data columns and interventions name
    /// variables of `graph` (lagged variables such as `x[t-1]` included).
    ///
    /// ```
    /// use causalgrad::context::{Context, ContextError, ContextGraph};
    /// use causalgrad::data::Dataset;
    /// use causalgrad::graph::CausalGraph;
    ///
    /// let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
    /// let data = Dataset::from_columns([("x", vec![0.0]), ("y", vec![1.0])])?;
    /// let contexts = ContextGraph::builder()
    ///     .context(Context::new("lab", data).set("z", 1.0))
    ///     .build()?;
    /// let err = contexts.check_variables(&graph).unwrap_err();
    /// assert!(matches!(err, ContextError::UnknownInterventionVariable { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_variables(&self, graph: &CausalGraph) -> Result<(), ContextError> {
        let known = || graph.variables().map(str::to_string).collect::<Vec<_>>();
        for context in self.contexts() {
            if let Some(column) = context.data.names().iter().find(|c| !graph.contains(c)) {
                return Err(ContextError::UnknownDataVariable {
                    context: context.name.clone(),
                    variable: column.clone(),
                    known: known(),
                });
            }
            if let Some((variable, _)) = context
                .interventions
                .iter()
                .find(|(v, _)| !graph.contains(v))
            {
                return Err(ContextError::UnknownInterventionVariable {
                    context: context.name.clone(),
                    variable: variable.clone(),
                    known: known(),
                });
            }
        }
        Ok(())
    }
}
