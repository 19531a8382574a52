//! The intermediate representation between lowering and emission.
//!
//! A function body becomes a tree of [`Block`]s of [`Step`]s in A-normal
//! form: every arithmetic step applies one primitive to atomic operands and
//! binds a fresh immutable name, so the reverse sweep can refer to any
//! intermediate by name. Mutation survives only where control flow needs it:
//! *cells* (a variable assigned inside a branch or loop) and *arrays* (a local
//! aggregate written element by element); both are read into and written from
//! fresh names, never operated on in place.
//!
//! Control flow keeps its structure: `If`, `Match` and `Loop` steps hold
//! their blocks, and `Exit` steps (`break`, `continue`, `return`) record an
//! *exit code* per loop they leave, numbered in textual order, so the reverse
//! sweep knows how far each iteration ran.

use proc_macro2::{Ident, TokenStream};
use quote::ToTokens;

use crate::rules::Rule;

/// Index of an active value in [`Lowered::vars`].
pub(crate) type VarId = usize;
/// Index of an active scalar cell in [`Lowered::cells`].
pub(crate) type CellId = usize;
/// Index of a loop in [`Lowered::loops`]; 0 is the function body itself.
pub(crate) type LoopId = usize;

/// An atomic operand: an active value or a constant (a name or a literal).
#[derive(Clone)]
pub(crate) enum Operand {
    Var(VarId),
    Const(TokenStream),
}

/// An element of a differentiable aggregate: `p.w[j][0]`, `xs[i]`, `p`.
#[derive(Clone)]
pub(crate) struct Place {
    /// The aggregate's name in the forward sweep (`p`, `self`, `__a3`).
    pub base: TokenStream,
    /// The name of its tangent accumulator in the reverse sweep.
    pub tangent: Ident,
    pub path: Vec<PathSeg>,
}

/// One step of a place's path.
#[derive(Clone)]
pub(crate) enum PathSeg {
    Field(syn::Member),
    /// The index is always a constant operand.
    Index(Operand),
}

/// One primitive applied to atomic operands.
pub(crate) enum Op {
    Add(Operand, Operand),
    Sub(Operand, Operand),
    Mul(Operand, Operand),
    Div(Operand, Operand),
    Neg(Operand),
    Call {
        rule: &'static Rule,
        args: Vec<Operand>,
    },
    /// Reads an element of an active aggregate.
    Load(Place),
    /// Reads an active cell.
    Read(CellId),
}

/// An argument of a call to another differentiable function.
pub(crate) enum CallArg {
    Scalar(Operand),
    /// An array literal of scalars (`[x3, x4]`).
    Array(Vec<Operand>),
    /// An active aggregate passed by reference (`&p.layer`, `p`, `self`).
    Place {
        place: Place,
        by_ref: bool,
        /// For a local buffer: the name of the copy the forward sweep
        /// saves, on which the reverse sweep calls the callee again (the
        /// buffer may be overwritten after the call, and a pullback
        /// borrowing it would keep it borrowed).
        snapshot: Option<Ident>,
    },
    Passive(TokenStream),
}

/// How a `for` loop is driven in the forward sweep.
pub(crate) enum LoopHead {
    /// `for pat in iter`; the pattern's names are fresh.
    For {
        pat: TokenStream,
        iter: TokenStream,
    },
    While {
        cond: TokenStream,
    },
    Loop,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ExitKind {
    Break,
    Continue,
    Return,
}

/// A construct an exit leaves early, whose bookkeeping it must save.
#[derive(Clone)]
pub(crate) enum Leave {
    Loop(LoopId),
    /// A `match`, by the name of its arm flag.
    Match {
        flag: Ident,
    },
}

/// One statement of the forward sweep.
pub(crate) enum Step {
    /// `let name: ty = expr;`, a value that carries no gradient.
    Const {
        name: Ident,
        ty: Option<TokenStream>,
        expr: TokenStream,
    },
    /// `expr;`, a passive statement kept for its effect.
    Effect(TokenStream),
    /// `let var = op;`
    Active { var: VarId, op: Op },
    /// `let mut cell = init;`
    Cell { cell: CellId, init: Operand },
    /// `cell = value;`
    Write { cell: CellId, value: Operand },
    /// `place = value;` into a local array.
    Store { place: Place, value: Operand },
    /// `let mut name = init;` for a passive variable assigned in a branch or loop.
    PassiveCell { name: Ident, init: TokenStream },
    /// `name = value;`
    PassiveWrite { name: Ident, value: TokenStream },
    /// `let mut name = init;` for a local array written element-wise, with
    /// `zero` its zero tangent; `fill` is the active value of
    /// `vec![fill; n]` or `[fill; N]`, repeated in every element.
    Array {
        name: Ident,
        zero: Ident,
        init: TokenStream,
        fill: Option<Operand>,
    },
    /// `place.push(value);` onto a local `Vec`, whose length before the
    /// push is the constant `index`.
    Push {
        place: Place,
        index: Operand,
        value: Operand,
    },
    /// `let (var, pullback) = callee(args);` for a differentiable callee,
    /// or, when an argument is a local buffer (see [`CallArg::Place`]),
    /// `let var = primal(args);` and the callee called again on the saved
    /// copies in the reverse sweep.
    Call {
        var: VarId,
        pullback: Ident,
        /// The callee's `__vjp`.
        callee: TokenStream,
        /// The function itself, called when the pullback is made later.
        primal: TokenStream,
        receiver: Option<Place>,
        args: Vec<CallArg>,
    },
    /// `if flag { then } else { els }`; `flag` is bound by a preceding step.
    If {
        flag: Ident,
        then: Block,
        els: Block,
    },
    /// `match scrutinee { arms }`; each arm records its index in `flag`.
    Match {
        flag: Ident,
        scrutinee: TokenStream,
        arms: Vec<(TokenStream, Block)>,
    },
    Loop {
        id: LoopId,
        head: LoopHead,
        body: Block,
    },
    /// The function body, wrapped in a labelled block so that `return`
    /// can leave it while the reverse sweep still runs.
    Body(Block),
    /// `break`, `continue` or an early `return` (its value already written
    /// to the output cells). `sets` gives the exit code of every loop it
    /// ends or continues, innermost first.
    Exit {
        kind: ExitKind,
        target: LoopId,
        sets: Vec<(LoopId, u32)>,
        leaves: Vec<Leave>,
    },
}

/// Where the reverse sweep finds a value a block defines.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Storage {
    /// In scope: the function's top level.
    Direct,
    /// An `Option` declared at the top (inside branches, outside loops).
    Slot,
    /// A `Vec` declared at the top, one entry per execution (inside loops).
    Tape,
}

/// A sequence of steps; each carries the exit code of its loop at which it
/// began, so the reverse sweep can skip what an early exit did not run.
pub(crate) struct Block {
    pub loop_id: LoopId,
    pub storage: Storage,
    pub steps: Vec<(u32, Step)>,
}

/// How a loop records the exit code of its iterations.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum ExitRecord {
    /// No exit inside: every iteration runs to the end.
    None,
    /// Only exits that end the loop: one code, of the last iteration.
    Last(Ident),
    /// `continue` inside: one code per iteration, on a tape.
    PerIteration(Ident),
}

pub(crate) struct LoopInfo {
    /// `'label` of the loop (the user's, or a generated one).
    pub label: TokenStream,
    /// The iteration counter.
    pub count: Ident,
    pub exits: ExitRecord,
}

/// What the reverse sweep returns for each argument.
pub(crate) enum Input {
    Scalar(VarId),
    Aggregate { tangent: Ident },
    Passive,
}

/// A lowered function.
pub(crate) struct Lowered {
    pub body: Block,
    pub vars: Vec<Ident>,
    pub cells: Vec<Ident>,
    pub loops: Vec<LoopInfo>,
    pub inputs: Vec<Input>,
    pub outputs: Vec<Operand>,
    /// Names of the local arrays' tangents, by array name.
    pub array_tangents: Vec<(Ident, Ident)>,
    /// The local arrays that grow by `push`: their tangents grow on demand
    /// in the reverse sweep.
    pub grown: Vec<Ident>,
    /// For a struct result: its path and fields, in `outputs` order.
    pub output_struct: Option<(syn::Path, Vec<syn::Member>)>,
}

impl Step {
    /// Whether a call's pullback is made in the reverse sweep, from saved
    /// copies of its local-buffer arguments.
    pub fn recomputes(&self) -> bool {
        matches!(self, Step::Call { args, .. } if args.iter().any(|arg| matches!(
            arg,
            CallArg::Place { snapshot: Some(_), .. }
        )))
    }
}

impl Lowered {
    /// The call `callee(args)` (or `receiver.callee(args)`); with
    /// `snapshots`, local buffers are replaced by their saved copies.
    pub fn call_tokens(
        &self,
        callee: &TokenStream,
        receiver: Option<&Place>,
        args: &[CallArg],
        snapshots: bool,
    ) -> TokenStream {
        let args = args.iter().map(|arg| match arg {
            CallArg::Scalar(operand) => self.operand_tokens(operand),
            CallArg::Array(elements) => {
                let elements = elements.iter().map(|element| self.operand_tokens(element));
                quote::quote!([#(#elements),*])
            }
            CallArg::Place {
                place,
                by_ref,
                snapshot,
            } => {
                let tokens = match (snapshot, snapshots) {
                    (Some(copy), true) => copy.to_token_stream(),
                    _ => crate::lower::place_forward_tokens(place),
                };
                match (by_ref, snapshot.is_some() && snapshots) {
                    (true, _) => quote::quote!(&#tokens),
                    (false, true) => quote::quote!(::core::clone::Clone::clone(&#tokens)),
                    (false, false) => tokens,
                }
            }
            CallArg::Passive(tokens) => tokens.clone(),
        });
        match receiver {
            Some(place) => {
                let receiver = crate::lower::place_forward_tokens(place);
                quote::quote!(#receiver.#callee(#(#args),*))
            }
            None => quote::quote!(#callee(#(#args),*)),
        }
    }

    pub fn operand_tokens(&self, operand: &Operand) -> TokenStream {
        match operand {
            Operand::Var(var) => quote::ToTokens::to_token_stream(&self.vars[*var]),
            Operand::Const(tokens) => tokens.clone(),
        }
    }
}
