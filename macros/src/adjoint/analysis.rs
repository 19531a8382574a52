//! Where values are defined and used, and which ones reach an output.

use std::collections::{HashMap, HashSet};

use crate::ir::{Block, CallArg, CellId, Input, Lowered, Op, Operand, Place, Step, VarId};

/// Where values are defined and used, and which ones reach an output.
pub(super) struct Analysis {
    /// (block, exit group) of each value's definition.
    pub defs: HashMap<VarId, (usize, u32)>,
    /// Every (block, exit group) where a value is used.
    pub uses: HashMap<VarId, Vec<(usize, u32)>>,
    pub live: HashSet<VarId>,
    pub live_cells: HashSet<CellId>,
    pub live_arrays: HashSet<String>,
    /// Values loaded from arguments (not local arrays), by their place.
    pub argument_loads: HashMap<VarId, Place>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Node {
    Var(VarId),
    Cell(CellId),
    Array(String),
}

impl Analysis {
    pub fn new(lowered: &Lowered) -> Self {
        let mut analysis = Analysis {
            defs: HashMap::new(),
            uses: HashMap::new(),
            live: HashSet::new(),
            live_cells: HashSet::new(),
            live_arrays: HashSet::new(),
            argument_loads: HashMap::new(),
        };
        let top = block_id(&lowered.body);
        for input in &lowered.inputs {
            if let Input::Scalar(var) = input {
                analysis.defs.insert(*var, (top, 0));
            }
        }
        let mut deps: HashMap<Node, Vec<Node>> = HashMap::new();
        analysis.walk(lowered, &lowered.body, &mut deps);
        let top_group = lowered.body.steps.last().map_or(1, |(start, _)| *start);
        let mut work: Vec<Node> = Vec::new();
        for output in &lowered.outputs {
            if let Operand::Var(var) = output {
                analysis
                    .uses
                    .entry(*var)
                    .or_default()
                    .push((top, top_group));
                work.push(Node::Var(*var));
            }
        }
        let mut seen = HashSet::new();
        while let Some(node) = work.pop() {
            if !seen.insert(node.clone()) {
                continue;
            }
            match &node {
                Node::Var(var) => {
                    analysis.live.insert(*var);
                }
                Node::Cell(cell) => {
                    analysis.live_cells.insert(*cell);
                }
                Node::Array(name) => {
                    analysis.live_arrays.insert(name.clone());
                }
            }
            if let Some(next) = deps.get(&node) {
                work.extend(next.iter().cloned());
            }
        }
        analysis
    }

    fn walk(&mut self, lowered: &Lowered, block: &Block, deps: &mut HashMap<Node, Vec<Node>>) {
        let id = block_id(block);
        for (start, step) in &block.steps {
            let site = (id, *start);
            let use_var = |analysis: &mut Self, operand: &Operand| -> Option<Node> {
                if let Operand::Var(var) = operand {
                    analysis.uses.entry(*var).or_default().push(site);
                    Some(Node::Var(*var))
                } else {
                    None
                }
            };
            match step {
                Step::Active { var, op } => {
                    self.defs.insert(*var, site);
                    let mut from = Vec::new();
                    match op {
                        Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) => {
                            from.extend(use_var(self, a));
                            from.extend(use_var(self, b));
                        }
                        Op::Neg(a) => from.extend(use_var(self, a)),
                        Op::Call { args, .. } => {
                            for arg in args {
                                from.extend(use_var(self, arg));
                            }
                        }
                        Op::Load(place) => match array_node(lowered, place) {
                            Some(node) => from.push(node),
                            None => {
                                self.argument_loads.insert(*var, place.clone());
                            }
                        },
                        Op::Read(cell) => from.push(Node::Cell(*cell)),
                    }
                    deps.entry(Node::Var(*var)).or_default().extend(from);
                }
                Step::Call {
                    var,
                    args,
                    receiver,
                    ..
                } => {
                    self.defs.insert(*var, site);
                    let mut from = Vec::new();
                    for arg in args {
                        match arg {
                            CallArg::Scalar(operand) => from.extend(use_var(self, operand)),
                            CallArg::Array(elements) => {
                                for element in elements {
                                    from.extend(use_var(self, element));
                                }
                            }
                            CallArg::Place { place, .. } => from.extend(array_node(lowered, place)),
                            CallArg::Passive(_) => {}
                        }
                    }
                    if let Some(place) = receiver {
                        from.extend(array_node(lowered, place));
                    }
                    deps.entry(Node::Var(*var)).or_default().extend(from);
                }
                Step::Cell { cell, init: value } | Step::Write { cell, value } => {
                    let from = use_var(self, value);
                    deps.entry(Node::Cell(*cell)).or_default().extend(from);
                }
                Step::Store { place, value } | Step::Push { place, value, .. } => {
                    let from = use_var(self, value);
                    if let Some(node) = array_node(lowered, place) {
                        deps.entry(node).or_default().extend(from);
                    }
                }
                Step::Array {
                    name,
                    fill: Some(fill),
                    ..
                } => {
                    let from = use_var(self, fill);
                    deps.entry(Node::Array(name.to_string()))
                        .or_default()
                        .extend(from);
                }
                Step::If { then, els, .. } => {
                    self.walk(lowered, then, deps);
                    self.walk(lowered, els, deps);
                }
                Step::Match { arms, .. } => {
                    for (_, arm) in arms {
                        self.walk(lowered, arm, deps);
                    }
                }
                Step::Loop { body, .. } | Step::Body(body) => self.walk(lowered, body, deps),
                Step::Const { .. }
                | Step::Effect(_)
                | Step::PassiveCell { .. }
                | Step::PassiveWrite { .. }
                | Step::Array { fill: None, .. }
                | Step::Exit { .. } => {}
            }
        }
    }

    pub fn is_live(&self, var: VarId) -> bool {
        self.live.contains(&var)
    }

    /// Whether a value's cotangent can be a chain of immutable bindings.
    pub fn is_ssa(&self, var: VarId) -> bool {
        let Some(def) = self.defs.get(&var) else {
            return false;
        };
        self.uses
            .get(&var)
            .is_none_or(|uses| uses.iter().all(|site| same_group(*site, *def)))
    }
}

/// Whether a use at `site` is reversed in the same lexical region as the
/// definition at `def` (arguments are defined at group 0, before group 1).
fn same_group(site: (usize, u32), def: (usize, u32)) -> bool {
    site == def || (def.1 == 0 && site.0 == def.0 && site.1 <= 1)
}

pub(super) fn block_id(block: &Block) -> usize {
    block as *const Block as usize
}

fn array_node(lowered: &Lowered, place: &Place) -> Option<Node> {
    let base = place.base.to_string();
    lowered
        .array_tangents
        .iter()
        .any(|(name, _)| *name == base)
        .then_some(Node::Array(base))
}
