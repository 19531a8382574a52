//! A model fitted over a context graph, queried per context.

use super::{ContextError, ContextIntervention};
use crate::scm::{Intervention, Scm};

/// An intervention already applied by [`FittedContexts::predict_context`]:
/// the variable, the context it came from, the intervention and the
/// context's own parameters for the variable.
type Applied<'a> = (
    &'a str,
    &'a str,
    ContextIntervention,
    Option<(&'a [f32], &'a [f32])>,
);

/// One context of a fit: its interventions and its own parameters.
#[derive(Clone, Debug)]
pub struct FittedContext {
    /// The context's name.
    pub name: String,
    /// The interventions active in it.
    pub interventions: Vec<(String, ContextIntervention)>,
    /// Its own parameters, for the variables it changed: the variable, the
    /// mechanism's parameters and the noise parameters (`[ln σ]` of a
    /// Gaussian), both in the model's units as the fit left them.
    pub own: Vec<(String, Vec<f32>, Vec<f32>)>,
}

/// A context's own parameters: per changed variable, its mechanism's and
/// its noise's (as [`FittedContext::own`]).
pub(crate) type Own = Vec<(String, Vec<f32>, Vec<f32>)>;

/// The result of a fit over a context graph: the shared model and what each
/// context changes in it; with ensemble members
/// ([`FittedContexts::fit_members`]), each member's shared values (the
/// shared model's members) and own values per context.
#[derive(Clone, Debug)]
pub struct FittedContexts {
    shared: Scm,
    contexts: Vec<FittedContext>,
    /// Per member, per context (declaration order), its own values.
    member_own: Vec<Vec<Own>>,
}

impl FittedContexts {
    pub(crate) fn new(shared: Scm, contexts: Vec<FittedContext>) -> Self {
        FittedContexts {
            shared,
            contexts,
            member_own: Vec::new(),
        }
    }

    /// Sets the members: `members` their shared values (one per member,
    /// on the shared model), `own` per member and context their own.
    pub(crate) fn set_members(&mut self, members: Vec<crate::scm::Member>, own: Vec<Vec<Own>>) {
        debug_assert_eq!(members.len(), own.len());
        self.shared.set_members(members);
        self.member_own = own;
    }

    /// Per member, per context, its own values (empty without members).
    pub(crate) fn member_own(&self) -> &[Vec<Own>] {
        &self.member_own
    }

    /// The model with the shared parameters and no intervention.
    pub fn shared(&self) -> &Scm {
        &self.shared
    }

    /// The fitted contexts, in declaration order.
    pub fn contexts(&self) -> &[FittedContext] {
        &self.contexts
    }

    fn find(&self, name: &str) -> Result<&FittedContext, ContextError> {
        self.position(name).map(|index| &self.contexts[index])
    }

    fn position(&self, name: &str) -> Result<usize, ContextError> {
        self.contexts
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| ContextError::UnknownContext {
                name: name.to_string(),
                known: self.contexts.iter().map(|c| c.name.clone()).collect(),
            })
    }

    /// The model of context `name`: its own parameters where it has them,
    /// the shared ones elsewhere, and its interventions applied (hard `do`
    /// as [`Intervention::Set`], known shifts as [`Intervention::Shift`]),
    /// so `sample`, `intervene`, `counterfactual` and `ate` work there.
    pub fn in_context(&self, name: &str) -> Result<Scm, ContextError> {
        self.predict_context(&[name])
    }

    /// The model of a new context that combines the interventions (and the
    /// changed mechanisms, with their fitted parameters) of the known
    /// contexts `names`. Two contexts that intervene differently on the
    /// same variable cannot be combined.
    ///
    /// A variable whose mechanism changed in an unknown way in a context
    /// that was not fitted has no fitted parameters; predict it with the
    /// shared mechanism ([`FittedContexts::shared`]) or intervene on it.
    pub fn predict_context(&self, names: &[&str]) -> Result<Scm, ContextError> {
        let mut model = self.shared.clone();
        let mut applied: Vec<Applied<'_>> = Vec::new();
        for &name in names {
            let context = self.find(name)?;
            for (variable, intervention) in &context.interventions {
                let own = context
                    .own
                    .iter()
                    .find(|(v, _, _)| v == variable)
                    .map(|(_, params, noise)| (params.as_slice(), noise.as_slice()));
                if let Some(&(_, first, earlier, earlier_own)) =
                    applied.iter().find(|(v, ..)| v == variable)
                {
                    if earlier != *intervention || earlier_own != own {
                        return Err(ContextError::ConflictingInterventions {
                            variable: variable.clone(),
                            first: first.to_string(),
                            second: name.to_string(),
                        });
                    }
                    continue;
                }
                applied.push((variable, name, *intervention, own));
                match *intervention {
                    ContextIntervention::Do(value) => {
                        model = model.intervene(&[(variable, value)])?;
                    }
                    ContextIntervention::Shift(delta) => {
                        model = model.intervene_with(variable, Intervention::Shift(delta))?;
                    }
                    ContextIntervention::Changed => {
                        if let Some((params, noise)) = own {
                            model.set_model_values(variable, params, noise)?;
                        }
                        let index = self.position(name)?;
                        for (k, member) in self.member_own.iter().enumerate() {
                            if let Some((_, params, noise)) =
                                member[index].iter().find(|(v, _, _)| v == variable)
                            {
                                model.set_member_values(k, variable, params, noise)?;
                            }
                        }
                    }
                }
            }
        }
        Ok(model)
    }
}
