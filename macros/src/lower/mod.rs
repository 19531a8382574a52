//! Lowering a function body to the IR of [`crate::ir`], one file per kind
//! of construct: `statements`, `expressions`, `calls`, `branches`, `loops`,
//! and the errors in `diagnostics`.
//!
//! Every expression that depends on an active value becomes a sequence of
//! [`Step::Active`] bindings, each applying one primitive to atomic operands.
//! Reassignment in straight-line code becomes a fresh binding (static single
//! assignment), so straight-line code needs no storage beyond its locals.
//! A variable assigned inside a branch or a loop becomes a *cell*, read into
//! and written from fresh names.
//!
//! Expressions that do not depend on an active value (constants, integer
//! arithmetic, comparisons, `no_grad(..)`) are *passive*: they are emitted
//! verbatim with local names renamed, and the reverse sweep treats them as
//! constants. This activity analysis lets a body call arbitrary code on
//! constants while still rejecting, with a spanned error, every
//! non-differentiable use of an active value.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{BinOp, Expr, ExprCall, ExprMethodCall, Ident, Local, Pat, Stmt, UnOp};

use crate::activity::{self, is_compound_assignment, Activity, VecBody};
use crate::ctxt::Ctxt;
use crate::ir::{
    Block, CallArg, CellId, ExitKind, ExitRecord, Input, Leave, LoopHead, LoopId, LoopInfo,
    Lowered, Op, Operand, PathSeg, Place, Step, Storage,
};
use crate::names;
use crate::parse::{ArgKind, FnSpec};
use crate::rules::{self, Derivative, OperandKind, Rule};

mod branches;
mod calls;
mod diagnostics;
mod expressions;
mod loops;
mod statements;

use diagnostics::*;
use loops::rename_pattern;

/// The loop id of a block that never needs exit guards.
const UNGUARDED: LoopId = usize::MAX;

/// Lowers the body of the function described by `spec`.
///
/// An error in a statement is recorded in `cx` and lowering goes on with
/// the next statement (the names the statement would have bound are then
/// constants), so one expansion reports every independent error.
pub(crate) fn lower(spec: &FnSpec, body: &syn::Block, cx: &Ctxt) -> syn::Result<Lowered> {
    let activity = activity::analyse(spec, body);
    let mut lowerer = Lowerer::new(spec, activity, cx);
    lowerer
        .loops
        .push(LoopState::new(quote!('__body), format_ident!("__n0")));
    let has_returns = contains_early_return(&body.stmts);
    let top_loop = if has_returns { UNGUARDED } else { 0 };
    lowerer
        .blocks
        .push(BlockBuilder::new(top_loop, Storage::Direct));

    let mut inputs = Vec::new();
    for arg in &spec.args {
        let ident = &arg.ident;
        let (binding, input) = match arg.kind {
            ArgKind::Scalar => {
                let var = lowerer.vars.len();
                lowerer.vars.push(ident.clone());
                (Binding::Value(Operand::Var(var)), Input::Scalar(var))
            }
            ArgKind::Aggregate => {
                let tangent = format_ident!("__d_{}", ident);
                let binding = Binding::Aggregate(Place {
                    base: quote!(#ident),
                    tangent: tangent.clone(),
                    path: Vec::new(),
                });
                let input = Input::Aggregate { tangent };
                (binding, input)
            }
            ArgKind::Passive => (
                Binding::Value(Operand::Const(quote!(#ident))),
                Input::Passive,
            ),
        };
        lowerer.declare(ident, binding);
        inputs.push(input);
    }

    if has_returns && spec.outputs == 0 {
        return Err(syn::Error::new_spanned(
            &spec.output,
            "early `return` is not supported in a function returning a struct; return a tuple",
        ));
    }
    let outputs = if has_returns {
        let zero = {
            let real = spec.real();
            quote!(#real::from_f64(0.0))
        };
        let cells: Vec<CellId> = (0..spec.outputs)
            .map(|_| {
                let cell = lowerer.new_cell();
                lowerer.push(Step::Cell {
                    cell,
                    init: Operand::Const(zero.clone()),
                });
                cell
            })
            .collect();
        lowerer.output_cells = Some(cells.clone());
        lowerer.loops[0].exits = Some(format_ident!("__x0"));
        let start = lowerer.code();
        lowerer.frames.push(Frame::Body);
        lowerer.blocks.push(BlockBuilder::new(0, Storage::Slot));
        lowerer.scopes.push(HashMap::new());
        let result = lowerer.lower_fn_body(&body.stmts, body.brace_token.span.close());
        lowerer.scopes.pop();
        let block = lowerer.blocks.pop().expect("body block").finish();
        lowerer.frames.pop();
        let values = result?;
        let mut block = block;
        if let Some(values) = values {
            let end = lowerer.loops[0].next_code;
            for (cell, value) in cells.iter().zip(values) {
                block.steps.push((end, Step::Write { cell: *cell, value }));
            }
        }
        lowerer.push_at(start, Step::Body(block));
        cells
            .iter()
            .map(|cell| lowerer.new_var(Op::Read(*cell)))
            .collect()
    } else {
        match lowerer.lower_fn_body(&body.stmts, body.brace_token.span.close())? {
            Some(values) => values,
            None => {
                return Err(syn::Error::new(
                    body.brace_token.span.close(),
                    "a #[differentiable] function must end with the expression it returns",
                ))
            }
        }
    };

    let Lowerer {
        mut blocks,
        vars,
        cells,
        loops,
        array_tangents,
        grown,
        output_struct,
        ..
    } = lowerer;
    let body = blocks.pop().expect("top block").finish();
    let loops = loops
        .into_iter()
        .map(|state| LoopInfo {
            label: state.label,
            count: state.count,
            exits: match (state.exits, state.has_continue, state.has_exit) {
                (Some(name), true, _) => ExitRecord::PerIteration(name),
                (Some(name), false, true) => ExitRecord::Last(name),
                _ => ExitRecord::None,
            },
        })
        .collect();
    Ok(Lowered {
        body,
        vars,
        cells,
        loops,
        inputs,
        outputs,
        array_tangents,
        grown,
        output_struct,
    })
}

/// What a name is bound to while lowering.
#[derive(Clone)]
enum Binding {
    /// An immutable value: active or constant.
    Value(Operand),
    /// An active scalar assigned inside control flow.
    Cell(CellId),
    /// A passive variable assigned inside control flow or mutated.
    PassiveCell(Ident),
    /// An active aggregate (argument, local array, or an element of one
    /// bound by a loop) read through places.
    Aggregate(Place),
    /// A loop element of a constant slice: the user's code sees a
    /// reference (`&T`), the generated code holds the value.
    Ref(Operand),
    /// Declared with `let x;`, not assigned yet.
    Unassigned,
}

/// An enclosing construct an exit may leave.
enum Frame {
    Body,
    Loop { id: LoopId, label: Option<String> },
    Match { flag: Ident },
}

struct LoopState {
    label: TokenStream,
    count: Ident,
    next_code: u32,
    has_exit: bool,
    has_continue: bool,
    exits: Option<Ident>,
}

impl LoopState {
    fn new(label: TokenStream, count: Ident) -> Self {
        LoopState {
            label,
            count,
            next_code: 1,
            has_exit: false,
            has_continue: false,
            exits: None,
        }
    }
}

struct BlockBuilder {
    loop_id: LoopId,
    storage: Storage,
    steps: Vec<(u32, Step)>,
}

impl BlockBuilder {
    fn new(loop_id: LoopId, storage: Storage) -> Self {
        BlockBuilder {
            loop_id,
            storage,
            steps: Vec::new(),
        }
    }

    fn finish(self) -> Block {
        Block {
            loop_id: self.loop_id,
            storage: self.storage,
            steps: self.steps,
        }
    }
}

/// A block's value and whether it ends by leaving (`break`, `return`..).
struct Outcome {
    value: Option<Operand>,
    diverges: bool,
}

struct Lowerer<'a> {
    spec: &'a FnSpec,
    cx: &'a Ctxt,
    /// Names whose declaration failed.
    poisoned: HashSet<String>,
    activity: Activity,
    vars: Vec<Ident>,
    cells: Vec<Ident>,
    loops: Vec<LoopState>,
    scopes: Vec<HashMap<String, Binding>>,
    blocks: Vec<BlockBuilder>,
    frames: Vec<Frame>,
    fresh: usize,
    array_tangents: Vec<(Ident, Ident)>,
    grown: Vec<Ident>,
    output_cells: Option<Vec<CellId>>,
    output_struct: Option<(syn::Path, Vec<syn::Member>)>,
}

impl<'a> Lowerer<'a> {
    fn new(spec: &'a FnSpec, activity: Activity, cx: &'a Ctxt) -> Self {
        Lowerer {
            spec,
            cx,
            poisoned: HashSet::new(),
            activity,
            vars: Vec::new(),
            cells: Vec::new(),
            loops: Vec::new(),
            scopes: vec![HashMap::new()],
            blocks: Vec::new(),
            frames: Vec::new(),
            fresh: 0,
            array_tangents: Vec::new(),
            grown: Vec::new(),
            output_cells: None,
            output_struct: None,
        }
    }

    // ----- blocks and steps -----

    fn block(&self) -> &BlockBuilder {
        self.blocks.last().expect("there is always a block")
    }

    /// The exit-code counter of the current block's loop.
    fn code(&self) -> u32 {
        match self.block().loop_id {
            UNGUARDED => 1,
            id => self.loops[id].next_code,
        }
    }

    fn push(&mut self, step: Step) {
        let start = self.code();
        self.push_at(start, step);
    }

    fn push_at(&mut self, start: u32, step: Step) {
        self.blocks
            .last_mut()
            .expect("there is always a block")
            .steps
            .push((start, step));
    }

    /// Storage for blocks nested in the current one (branches).
    fn nested_storage(&self) -> Storage {
        match self.block().storage {
            Storage::Tape => Storage::Tape,
            _ => Storage::Slot,
        }
    }

    fn fresh(&mut self, prefix: &str) -> Ident {
        self.fresh += 1;
        format_ident!("__{}{}", prefix, self.fresh)
    }

    /// A number no other call returns, for unique generated names.
    fn next_tag(&mut self) -> usize {
        self.fresh += 1;
        self.fresh
    }

    fn new_var(&mut self, op: Op) -> Operand {
        let var = self.vars.len();
        let name = self.fresh("v");
        self.vars.push(name);
        self.push(Step::Active { var, op });
        Operand::Var(var)
    }

    fn new_cell(&mut self) -> CellId {
        let name = self.fresh("m");
        self.cells.push(name);
        self.cells.len() - 1
    }

    fn new_const(&mut self, expr: TokenStream, ty: Option<TokenStream>) -> Operand {
        let name = self.fresh("c");
        self.push(Step::Const {
            name: name.clone(),
            ty,
            expr,
        });
        Operand::Const(name.to_token_stream())
    }

    fn zero(&self) -> TokenStream {
        let real = self.spec.real();
        quote!(#real::from_f64(0.0))
    }

    // ----- names -----

    fn declare(&mut self, ident: &Ident, binding: Binding) {
        self.scopes
            .last_mut()
            .expect("there is always a scope")
            .insert(ident.to_string(), binding);
    }

    fn binding(&self, ident: &Ident) -> Option<&Binding> {
        let name = ident.to_string();
        self.scopes.iter().rev().find_map(|scope| scope.get(&name))
    }

    fn rebind(&mut self, ident: &Ident, binding: Binding) {
        let name = ident.to_string();
        if let Some(slot) = self
            .scopes
            .iter_mut()
            .rev()
            .find_map(|scope| scope.get_mut(&name))
        {
            *slot = binding;
        }
    }

    /// The local a path expression names, if it is a plain local name.
    fn local_ident<'e>(&self, expr: &'e Expr) -> Option<&'e Ident> {
        match expr {
            Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => path
                .path
                .get_ident()
                .filter(|ident| self.binding(ident).is_some()),
            Expr::Paren(paren) => self.local_ident(&paren.expr),
            Expr::Group(group) => self.local_ident(&group.expr),
            _ => None,
        }
    }

    fn is_active_binding(&self, ident: &Ident) -> bool {
        matches!(
            self.binding(ident),
            Some(Binding::Value(Operand::Var(_)) | Binding::Cell(_) | Binding::Aggregate(_))
        )
    }

    /// The forward-sweep tokens of a local's current value.
    fn current_tokens(&self, ident: &Ident) -> syn::Result<TokenStream> {
        match self.binding(ident) {
            Some(Binding::Value(operand)) => Ok(self.operand_tokens(operand)),
            Some(Binding::Cell(cell)) => Ok(self.cells[*cell].to_token_stream()),
            Some(Binding::PassiveCell(name)) => Ok(name.to_token_stream()),
            Some(Binding::Aggregate(place)) if place.path.is_empty() => {
                Ok(place_forward_tokens(place))
            }
            // An element bound by a loop is a reference in the user's code.
            Some(Binding::Aggregate(place)) => {
                let tokens = place_forward_tokens(place);
                Ok(quote!((&#tokens)))
            }
            Some(Binding::Ref(operand)) => {
                let tokens = self.operand_tokens(operand);
                Ok(quote!((&#tokens)))
            }
            Some(Binding::Unassigned) | None => Err(unassigned_error(ident)),
        }
    }

    fn operand_tokens(&self, operand: &Operand) -> TokenStream {
        match operand {
            Operand::Var(var) => self.vars[*var].to_token_stream(),
            Operand::Const(tokens) => tokens.clone(),
        }
    }

    // ----- activity -----

    /// Whether `expr` depends on an active value.
    fn is_active(&self, expr: &Expr) -> bool {
        let lowerer = self;
        activity::mentions(expr, &|ident: &Ident| lowerer.is_active_binding(ident))
    }

    /// Checks that a passive expression can be emitted verbatim.
    fn check_passive(&self, expr: &Expr) -> syn::Result<()> {
        struct Checker<'l, 'a> {
            lowerer: &'l Lowerer<'a>,
            error: Option<syn::Error>,
        }
        impl Checker<'_, '_> {
            fn fail(&mut self, error: syn::Error) {
                match &mut self.error {
                    Some(first) => first.combine(error),
                    None => self.error = Some(error),
                }
            }
        }
        impl<'ast> Visit<'ast> for Checker<'_, '_> {
            fn visit_expr(&mut self, expr: &'ast Expr) {
                match expr {
                    Expr::Macro(mac) if !mac.mac.path.is_ident("vec") => {
                        self.fail(macro_error(&mac.mac.path))
                    }
                    Expr::Unsafe(block) => self.fail(unsafe_error(block.unsafe_token.span())),
                    Expr::Closure(closure) => self.fail(syn::Error::new_spanned(
                        closure,
                        "closures are not supported inside #[differentiable] functions; \
                         write the computation out, or move it to a helper function",
                    )),
                    Expr::Assign(assign) if self.lowerer.local_ident(&assign.left).is_some() => {
                        self.fail(nested_assignment_error(assign))
                    }
                    Expr::Binary(binary)
                        if is_compound_assignment(&binary.op)
                            && self.lowerer.local_ident(&binary.left).is_some() =>
                    {
                        self.fail(nested_assignment_error(binary))
                    }
                    _ => syn::visit::visit_expr(self, expr),
                }
            }
            fn visit_stmt_macro(&mut self, mac: &'ast syn::StmtMacro) {
                self.fail(macro_error(&mac.mac.path));
            }
        }
        let mut checker = Checker {
            lowerer: self,
            error: None,
        };
        checker.visit_expr(expr);
        checker.error.map_or(Ok(()), Err)
    }

    /// `expr` with every local renamed to its current forward name.
    fn substitute(&self, expr: &Expr) -> syn::Result<TokenStream> {
        struct Renamer<'l, 'a> {
            lowerer: &'l Lowerer<'a>,
            error: Option<syn::Error>,
        }
        impl VisitMut for Renamer<'_, '_> {
            fn visit_expr_mut(&mut self, expr: &mut Expr) {
                if let Expr::Path(path) = expr {
                    if let Some(ident) = path
                        .path
                        .get_ident()
                        .filter(|_| path.qself.is_none())
                        .filter(|ident| self.lowerer.binding(ident).is_some())
                    {
                        match self.lowerer.current_tokens(ident) {
                            Ok(tokens) => *expr = syn::parse_quote!(#tokens),
                            Err(error) => {
                                self.error.get_or_insert(error);
                            }
                        }
                        return;
                    }
                }
                if let Expr::Macro(mac) = expr {
                    // `vec![..]` arguments are expressions: rename inside them.
                    match activity::vec_body(&mac.mac) {
                        Some(VecBody::List(mut elements)) => {
                            elements.iter_mut().for_each(|arg| self.visit_expr_mut(arg));
                            mac.mac.tokens = quote!(#(#elements),*);
                            return;
                        }
                        Some(VecBody::Repeat {
                            mut value,
                            mut count,
                        }) => {
                            self.visit_expr_mut(&mut value);
                            self.visit_expr_mut(&mut count);
                            mac.mac.tokens = quote!(#value; #count);
                            return;
                        }
                        None => {}
                    }
                }
                syn::visit_mut::visit_expr_mut(self, expr);
            }
        }
        let mut renamer = Renamer {
            lowerer: self,
            error: None,
        };
        let mut expr = expr.clone();
        renamer.visit_expr_mut(&mut expr);
        match renamer.error {
            Some(error) => Err(error),
            None => Ok(expr.into_token_stream()),
        }
    }

    /// A passive expression as an operand: inline when atomic, else bound.
    fn passive(&mut self, expr: &Expr, ty: Option<TokenStream>) -> syn::Result<Operand> {
        self.check_passive(expr)?;
        let tokens = self.substitute(expr)?;
        let atomic = matches!(expr, Expr::Lit(_))
            || matches!(expr, Expr::Path(_)) && self.local_ident(expr).is_none();
        if atomic && ty.is_none() {
            Ok(Operand::Const(tokens))
        } else {
            Ok(self.new_const(tokens, ty))
        }
    }
}

/// The forward-sweep tokens of a place: `base.field[index]`.
pub(crate) fn place_forward_tokens(place: &Place) -> TokenStream {
    let base = &place.base;
    let path = place.path.iter().map(|segment| match segment {
        PathSeg::Field(member) => quote!(.#member),
        PathSeg::Index(Operand::Const(index)) => quote!([#index]),
        PathSeg::Index(Operand::Var(_)) => unreachable!("indices are constants"),
    });
    quote!(#base #(#path)*)
}

pub(super) fn strip_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(paren) => strip_parens(&paren.expr),
        Expr::Group(group) => strip_parens(&group.expr),
        other => other,
    }
}

pub(super) fn is_exit(expr: &Expr) -> bool {
    matches!(
        strip_parens(expr),
        Expr::Break(_) | Expr::Continue(_) | Expr::Return(_)
    )
}

/// Whether `return` appears anywhere but as the final statement.
pub(super) fn contains_early_return(stmts: &[Stmt]) -> bool {
    struct Finder {
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
            self.found = true;
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut finder = Finder { found: false };
    let (last, init) = match stmts.split_last() {
        Some(split) => split,
        None => return false,
    };
    for stmt in init {
        finder.visit_stmt(stmt);
    }
    match last {
        Stmt::Expr(Expr::Return(ret), _) => {
            if let Some(value) = &ret.expr {
                finder.visit_expr(value);
            }
        }
        other => finder.visit_stmt(other),
    }
    finder.found
}

pub(super) fn is_inline(tokens: &TokenStream) -> bool {
    let mut trees = tokens.clone().into_iter();
    matches!(
        (trees.next(), trees.next()),
        (Some(proc_macro2::TokenTree::Literal(_)), None)
    )
}

pub(super) fn binary_symbol(op: &BinOp) -> TokenStream {
    match op {
        BinOp::Add(_) | BinOp::AddAssign(_) => quote!(+),
        BinOp::Sub(_) | BinOp::SubAssign(_) => quote!(-),
        BinOp::Mul(_) | BinOp::MulAssign(_) => quote!(*),
        BinOp::Div(_) | BinOp::DivAssign(_) => quote!(/),
        BinOp::RemAssign(_) => quote!(%),
        BinOp::BitXorAssign(_) => quote!(^),
        BinOp::BitAndAssign(_) => quote!(&),
        BinOp::BitOrAssign(_) => quote!(|),
        BinOp::ShlAssign(_) => quote!(<<),
        BinOp::ShrAssign(_) => quote!(>>),
        other => other.to_token_stream(),
    }
}

/// `[..]`, `[x; N]` or `vec![..]`: a buffer's initial value.
pub(super) fn is_buffer_literal(expr: &Expr) -> bool {
    match strip_parens(expr) {
        Expr::Array(_) | Expr::Repeat(_) => true,
        Expr::Macro(mac) => mac.mac.path.is_ident("vec"),
        _ => false,
    }
}

/// Comparisons and logic produce booleans: passive whatever they read.
pub(super) fn is_boolean(expr: &Expr) -> bool {
    match expr {
        Expr::Binary(binary) => activity::is_boolean_op(&binary.op),
        Expr::Unary(unary) => matches!(unary.op, UnOp::Not(_)),
        _ => false,
    }
}

/// Expressions whose parts must be lowered one by one even when passive,
/// because they bind or assign local names or transfer control.
pub(super) fn needs_structure(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Block(_)
            | Expr::Assign(_)
            | Expr::If(_)
            | Expr::Match(_)
            | Expr::ForLoop(_)
            | Expr::While(_)
            | Expr::Loop(_)
            | Expr::Break(_)
            | Expr::Continue(_)
            | Expr::Return(_)
    ) || matches!(expr, Expr::Binary(binary) if is_compound_assignment(&binary.op))
        || unsupported(expr).is_some()
}
