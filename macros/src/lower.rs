//! Lowering a function body to the IR of [`crate::ir`].
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
use crate::parse::{ArgKind, FnSpec};
use crate::rules::{self, Derivative, OperandKind, Rule};

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

    // ----- statements -----

    /// The function body: statements, then the returned value(s).
    fn lower_fn_body(&mut self, stmts: &[Stmt], end: Span) -> syn::Result<Option<Vec<Operand>>> {
        let Some((last, init)) = stmts.split_last() else {
            return Err(syn::Error::new(
                end,
                "a #[differentiable] function must end with the expression it returns",
            ));
        };
        for stmt in init {
            self.lower_stmt_or_record(stmt);
        }
        match last {
            Stmt::Expr(Expr::Return(ret), _) => match &ret.expr {
                Some(value) => self.lower_output(value).map(Some),
                None => Err(syn::Error::new_spanned(
                    ret,
                    "a #[differentiable] function must return a value",
                )),
            },
            Stmt::Expr(expr, None) => self.lower_output(expr).map(Some),
            Stmt::Expr(expr, Some(_)) if is_exit(expr) => {
                self.lower_stmt(last)?;
                Ok(None)
            }
            other => {
                self.lower_stmt(other)?;
                Err(syn::Error::new(
                    end,
                    "a #[differentiable] function must end with the expression it returns",
                ))
            }
        }
    }

    /// The returned value: one operand, or one per tuple element or field.
    fn lower_output(&mut self, expr: &Expr) -> syn::Result<Vec<Operand>> {
        if self.spec.outputs == 1 {
            return Ok(vec![self.lower_expr(expr)?]);
        }
        if self.spec.outputs == 0 {
            let Expr::Struct(literal) = strip_parens(expr) else {
                return Err(syn::Error::new_spanned(
                    expr,
                    "a function returning a struct must end with a struct literal \
                     (`Out { a: .., b: .. }`)",
                ));
            };
            if let Some(rest) = &literal.rest {
                return Err(syn::Error::new_spanned(
                    rest,
                    "name every field of the returned struct; `..rest` is not supported",
                ));
            }
            let mut values = Vec::new();
            let mut members = Vec::new();
            for field in &literal.fields {
                values.push(self.lower_expr(&field.expr)?);
                members.push(field.member.clone());
            }
            self.output_struct = Some((literal.path.clone(), members));
            return Ok(values);
        }
        match strip_parens(expr) {
            Expr::Tuple(tuple) if tuple.elems.len() == self.spec.outputs => tuple
                .elems
                .iter()
                .map(|elem| self.lower_expr(elem))
                .collect(),
            other => Err(syn::Error::new_spanned(
                other,
                format!(
                    "return a tuple expression of {} values, `(a, b, ..)`",
                    self.spec.outputs
                ),
            )),
        }
    }

    fn lower_stmt(&mut self, stmt: &Stmt) -> syn::Result<()> {
        match stmt {
            Stmt::Local(local) => self.lower_local(local),
            Stmt::Item(item) => Err(syn::Error::new_spanned(
                item,
                "items (fn, struct, const, use, ..) inside a #[differentiable] function \
                 are not supported; move this item out of the function",
            )),
            Stmt::Macro(mac) => Err(macro_error(&mac.mac.path)),
            Stmt::Expr(expr, _) => self.lower_effect(expr),
        }
    }

    /// Lowers a block's statements in a new scope.
    fn lower_block(&mut self, stmts: &[Stmt], want_value: bool) -> syn::Result<Outcome> {
        self.scopes.push(HashMap::new());
        let result = self.lower_block_stmts(stmts, want_value);
        self.scopes.pop();
        result
    }

    fn lower_block_stmts(&mut self, stmts: &[Stmt], want_value: bool) -> syn::Result<Outcome> {
        let diverges = stmts.last().is_some_and(|stmt| match stmt {
            Stmt::Expr(expr, _) => is_exit(expr),
            _ => false,
        });
        for (index, stmt) in stmts.iter().enumerate() {
            let last = index + 1 == stmts.len();
            if let (true, true, Stmt::Expr(expr, None)) = (last, want_value, stmt) {
                if !is_exit(expr) {
                    let value = self.lower_expr(expr)?;
                    return Ok(Outcome {
                        value: Some(value),
                        diverges: false,
                    });
                }
            }
            self.lower_stmt_or_record(stmt);
        }
        Ok(Outcome {
            value: None,
            diverges,
        })
    }

    /// Lowers a statement; on an error, records it, drops what the
    /// statement had begun, and binds the names it declares to themselves
    /// as constants so later statements report only their own errors.
    fn lower_stmt_or_record(&mut self, stmt: &Stmt) {
        let depths = (self.blocks.len(), self.scopes.len(), self.frames.len());
        let Err(error) = self.lower_stmt(stmt) else {
            return;
        };
        self.blocks.truncate(depths.0);
        self.scopes.truncate(depths.1);
        self.frames.truncate(depths.2);
        // An error in a statement that uses a name an earlier error left
        // unbound is a consequence of that error: not reported again.
        let poisoned = &self.poisoned;
        let consequence = match stmt {
            Stmt::Local(Local {
                init: Some(init), ..
            }) => activity::mentions(&init.expr, &|ident| poisoned.contains(&ident.to_string())),
            Stmt::Expr(expr, _) => {
                activity::mentions(expr, &|ident| poisoned.contains(&ident.to_string()))
            }
            _ => false,
        };
        if !consequence {
            self.cx.push(error);
        }
        if let Stmt::Local(local) = stmt {
            for name in activity::pattern_names(&local.pat) {
                let ident = Ident::new(&name, Span::call_site());
                self.declare(&ident, Binding::Value(Operand::Const(quote!(#ident))));
                self.poisoned.insert(name);
            }
        }
    }

    fn lower_local(&mut self, local: &Local) -> syn::Result<()> {
        let (ident, mutable, ty) = match &local.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                (pat.ident.clone(), pat.mutability.is_some(), None)
            }
            Pat::Type(typed) => match &*typed.pat {
                Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => (
                    pat.ident.clone(),
                    pat.mutability.is_some(),
                    Some(typed.ty.to_token_stream()),
                ),
                other => return Err(pattern_error(other)),
            },
            other => return Err(pattern_error(other)),
        };
        let Some(init) = &local.init else {
            self.declare(&ident, Binding::Unassigned);
            return Ok(());
        };
        if let Some((_, diverge)) = &init.diverge {
            return Err(syn::Error::new_spanned(
                diverge,
                "`let .. else` is not supported by #[differentiable]; use a plain `let`",
            ));
        }
        let name = ident.to_string();
        let element_assigned = self.activity.element_assigned.contains(&name);
        let active_name = self.activity.active.contains(&name);
        let buffer_literal = active_name && is_buffer_literal(&init.expr);
        let binding = if (element_assigned || buffer_literal) && active_name {
            self.lower_array(&init.expr, ty)?
        } else if (element_assigned || mutable) && !active_name {
            if self.is_active(&init.expr) {
                // The flow-insensitive analysis missed it; treat as active.
                Binding::Value(self.lower_bound_value(&init.expr, ty)?)
            } else {
                self.check_passive(&init.expr)?;
                let tokens = self.substitute(&init.expr)?;
                let tokens = match ty {
                    Some(ty) => quote!({ let __init: #ty = #tokens; __init }),
                    None => tokens,
                };
                let name = self.fresh("q");
                self.push(Step::PassiveCell {
                    name: name.clone(),
                    init: tokens,
                });
                Binding::PassiveCell(name)
            }
        } else {
            Binding::Value(self.lower_bound_value(&init.expr, ty)?)
        };
        self.declare(&ident, binding);
        Ok(())
    }

    /// A local array: its elements are read and written through places.
    /// An active initialiser is a fill value (`vec![x; n]`, `[x; N]`),
    /// saved as the array's `fill`, or a list (`[a, b]`, `vec![a, b]`),
    /// stored element by element into an array of zeros.
    fn lower_array(&mut self, init: &Expr, ty: Option<TokenStream>) -> syn::Result<Binding> {
        let array = self.fresh("a");
        let tangent = format_ident!("__d_{}", array);
        let place = Place {
            base: array.to_token_stream(),
            tangent: tangent.clone(),
            path: Vec::new(),
        };
        let (init_tokens, fill, list) = if self.is_active(init) {
            let body = match strip_parens(init) {
                Expr::Macro(mac) => activity::vec_body(&mac.mac),
                _ => None,
            };
            let (repeat, list) = match (strip_parens(init), &body) {
                (Expr::Repeat(repeat), _) => (Some((&*repeat.expr, &*repeat.len, false)), None),
                (Expr::Array(array), _) => (None, Some((array.elems.iter().collect(), false))),
                (_, Some(VecBody::Repeat { value, count })) => (Some((value, count, true)), None),
                (_, Some(VecBody::List(elements))) => {
                    (None, Some((elements.iter().collect(), true)))
                }
                _ => (None, None),
            };
            match (repeat, list) {
                (Some((value, count, is_vec)), _) => {
                    if is_buffer_literal(value) {
                        return Err(syn::Error::new_spanned(
                            value,
                            "a buffer filled with an active value holds scalars; build nested \
                             buffers from constants and assign their elements",
                        ));
                    }
                    let fill = self.lower_expr(value)?;
                    self.check_passive(count)?;
                    let count = self.substitute(count)?;
                    let fill_tokens = self.operand_tokens(&fill);
                    let tokens = if is_vec {
                        quote!(::std::vec![#fill_tokens; #count])
                    } else {
                        quote!([#fill_tokens; #count])
                    };
                    (tokens, Some(fill), Vec::new())
                }
                (None, Some((elements, is_vec))) => {
                    let elements: Vec<&Expr> = elements;
                    let values = elements
                        .into_iter()
                        .map(|element| self.lower_expr(element))
                        .collect::<syn::Result<Vec<_>>>()?;
                    let zeros = values.iter().map(|_| self.zero());
                    let tokens = if is_vec {
                        quote!(::std::vec![#(#zeros),*])
                    } else {
                        quote!([#(#zeros),*])
                    };
                    (tokens, None, values)
                }
                (None, None) => {
                    return Err(syn::Error::new_spanned(
                        init,
                        "a local buffer written element by element starts from constants \
                         (`vec![0.0; n]`, `Vec::with_capacity(n)`), an active fill value \
                         (`vec![x; n]`, `[x; N]`) or a list (`[a, b]`); copy other active \
                         values in with assignments",
                    ))
                }
            }
        } else {
            self.check_passive(init)?;
            (self.substitute(init)?, None, Vec::new())
        };
        let init_tokens = match ty {
            Some(ty) => quote!({ let __init: #ty = #init_tokens; __init }),
            None => init_tokens,
        };
        let zero = self.fresh("z");
        self.array_tangents.push((array.clone(), tangent));
        self.push(Step::Array {
            name: array,
            zero,
            init: init_tokens,
            fill,
        });
        for (index, value) in list.into_iter().enumerate() {
            let mut element = place.clone();
            let index = syn::Index::from(index);
            element
                .path
                .push(PathSeg::Index(Operand::Const(quote!(#index))));
            self.push(Step::Store {
                place: element,
                value,
            });
        }
        Ok(Binding::Aggregate(place))
    }

    /// `buffer.push(value)` onto a local array.
    fn lower_push(&mut self, place: Place, call: &ExprMethodCall) -> syn::Result<Operand> {
        if call.args.len() != 1 {
            return Err(syn::Error::new_spanned(call, "`push` takes one value"));
        }
        let forward = place_forward_tokens(&place);
        let index = self.new_const(quote!(#forward.len()), None);
        let value = self.lower_expr(&call.args[0])?;
        let base = place.base.to_string();
        if !self.grown.iter().any(|name| *name == base) {
            self.grown.push(Ident::new(&base, Span::call_site()));
        }
        self.push(Step::Push {
            place,
            index,
            value,
        });
        Ok(Operand::Const(quote!(())))
    }

    /// The value stored under a name: always a name, never an inline literal.
    fn lower_bound_value(&mut self, expr: &Expr, ty: Option<TokenStream>) -> syn::Result<Operand> {
        if !needs_structure(expr) && !self.is_active(expr) {
            if let Some(ident) = self.local_ident(expr) {
                if let (None, Some(Binding::Value(value))) = (&ty, self.binding(ident)) {
                    return Ok(value.clone());
                }
            }
            self.check_passive(expr)?;
            let tokens = self.substitute(expr)?;
            return Ok(self.new_const(tokens, ty));
        }
        match self.lower_expr(expr)? {
            Operand::Const(tokens) if is_inline(&tokens) => Ok(self.new_const(tokens, ty)),
            value => Ok(value),
        }
    }

    fn lower_effect(&mut self, expr: &Expr) -> syn::Result<()> {
        match expr {
            Expr::Assign(assign) => self.lower_assign(&assign.left, &assign.right, None),
            Expr::Binary(binary) if is_compound_assignment(&binary.op) => {
                self.lower_assign(&binary.left, &binary.right, Some(&binary.op))
            }
            Expr::Block(block) if block.attrs.is_empty() && block.label.is_none() => {
                self.lower_block(&block.block.stmts, false).map(drop)
            }
            Expr::Paren(paren) => self.lower_effect(&paren.expr),
            Expr::If(if_expr) => self.lower_if(if_expr, false).map(drop),
            Expr::Match(match_expr) => self.lower_match(match_expr, false).map(drop),
            Expr::ForLoop(for_loop) => self.lower_for(for_loop),
            Expr::While(while_loop) => self.lower_while(while_loop),
            Expr::Loop(loop_expr) => self.lower_loop(loop_expr),
            Expr::Break(exit) => {
                if let Some(value) = &exit.expr {
                    return Err(syn::Error::new_spanned(
                        value,
                        "`break` with a value is not supported by #[differentiable]; assign \
                         the value to a variable before `break`",
                    ));
                }
                self.lower_exit(ExitKind::Break, exit.label.as_ref(), exit.span())
            }
            Expr::Continue(exit) => {
                self.lower_exit(ExitKind::Continue, exit.label.as_ref(), exit.span())
            }
            Expr::Return(ret) => {
                let Some(value) = &ret.expr else {
                    return Err(syn::Error::new_spanned(
                        ret,
                        "a #[differentiable] function must return a value",
                    ));
                };
                let values = self.lower_output(value)?;
                let cells = self
                    .output_cells
                    .clone()
                    .expect("functions with early returns have output cells");
                for (cell, value) in cells.into_iter().zip(values) {
                    self.push(Step::Write { cell, value });
                }
                self.lower_exit(ExitKind::Return, None, ret.span())
            }
            expr if needs_structure(expr) || self.is_active(expr) => {
                self.lower_expr(expr).map(drop)
            }
            expr => {
                self.check_passive(expr)?;
                let tokens = self.substitute(expr)?;
                self.push(Step::Effect(tokens));
                Ok(())
            }
        }
    }

    fn lower_assign(&mut self, target: &Expr, value: &Expr, op: Option<&BinOp>) -> syn::Result<()> {
        if let Some(ident) = self.local_ident(target) {
            let ident = ident.clone();
            let binding = self.binding(&ident).cloned().expect("local");
            return match binding {
                Binding::Value(current) => {
                    let new = match op {
                        Some(op) => {
                            let rhs = self.lower_expr(value)?;
                            self.binary(op, current, rhs)?
                        }
                        None => self.lower_bound_value(value, None)?,
                    };
                    self.rebind(&ident, Binding::Value(new));
                    Ok(())
                }
                Binding::Unassigned => {
                    if op.is_some() {
                        return Err(unassigned_error(&ident));
                    }
                    let new = self.lower_bound_value(value, None)?;
                    self.rebind(&ident, Binding::Value(new));
                    Ok(())
                }
                Binding::Cell(cell) => {
                    let new = match op {
                        Some(op) => {
                            let current = self.new_var(Op::Read(cell));
                            let rhs = self.lower_expr(value)?;
                            self.binary(op, current, rhs)?
                        }
                        None => self.lower_expr(value)?,
                    };
                    self.push(Step::Write { cell, value: new });
                    Ok(())
                }
                Binding::PassiveCell(name) => {
                    if self.is_active(value) {
                        return Err(syn::Error::new_spanned(
                            value,
                            format!(
                                "`{ident}` holds a constant but this assigns it a value that \
                                 depends on an active argument; declare `{ident}` from an \
                                 active expression or wrap this value in `no_grad(..)`"
                            ),
                        ));
                    }
                    self.check_passive(value)?;
                    let rhs = self.substitute(value)?;
                    let new = match op {
                        Some(op) => {
                            let symbol = binary_symbol(op);
                            quote!(#name #symbol (#rhs))
                        }
                        None => rhs,
                    };
                    self.push(Step::PassiveWrite { name, value: new });
                    Ok(())
                }
                Binding::Aggregate(_) | Binding::Ref(_) => Err(syn::Error::new_spanned(
                    target,
                    "a differentiable aggregate (or an element bound by a loop) cannot be \
                     reassigned; assign the elements of a local array (`a[i] = ..`)",
                )),
            };
        }
        if let Some(place) = self.place_of(target)? {
            let base = place.base.to_string();
            if !self.array_tangents.iter().any(|(name, _)| *name == base) {
                return Err(syn::Error::new_spanned(
                    target,
                    "only elements of local arrays can be assigned; arguments are read-only \
                     (copy the values into a local array first)",
                ));
            }
            let new = match op {
                Some(op) => {
                    let current = self.new_var(Op::Load(place.clone()));
                    let rhs = self.lower_expr(value)?;
                    self.binary(op, current, rhs)?
                }
                None => self.lower_expr(value)?,
            };
            self.push(Step::Store { place, value: new });
            return Ok(());
        }
        if !self.is_active(target) && !self.is_active(value) {
            let whole = match op {
                Some(op) => {
                    let symbol = op.to_token_stream();
                    let (target, value) = (self.substitute(target)?, self.substitute(value)?);
                    quote!(#target #symbol #value)
                }
                None => {
                    let (target, value) = (self.substitute(target)?, self.substitute(value)?);
                    quote!(#target = #value)
                }
            };
            self.push(Step::Effect(whole));
            return Ok(());
        }
        Err(syn::Error::new_spanned(
            target,
            "#[differentiable] can only assign to local variables and to elements of local \
             arrays; compute the value into a local (`let v = ..;`) instead",
        ))
    }

    // ----- expressions -----

    fn lower_expr(&mut self, expr: &Expr) -> syn::Result<Operand> {
        match expr {
            Expr::Paren(paren) => return self.lower_expr(&paren.expr),
            Expr::Group(group) => return self.lower_expr(&group.expr),
            Expr::Block(block) if block.attrs.is_empty() && block.label.is_none() => {
                let outcome = self.lower_block(&block.block.stmts, true)?;
                return outcome.value.ok_or_else(|| {
                    syn::Error::new_spanned(
                        block,
                        "this block has no value: end it with an expression",
                    )
                });
            }
            Expr::If(if_expr) => {
                return self
                    .lower_if(if_expr, true)?
                    .ok_or_else(|| syn::Error::new_spanned(if_expr, "this `if` has no value"))
            }
            Expr::Match(match_expr) => {
                return self.lower_match(match_expr, true)?.ok_or_else(|| {
                    syn::Error::new_spanned(match_expr, "this `match` has no value")
                })
            }
            Expr::Path(_) => {
                if let Some(ident) = self.local_ident(expr) {
                    let ident = ident.clone();
                    return self.read_local(&ident);
                }
            }
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                return Err(syn::Error::new_spanned(
                    expr,
                    "a loop used as a value (`break value`) is not supported by \
                     #[differentiable]; assign the value to a variable declared before the \
                     loop, then `break`",
                ))
            }
            _ => {}
        }
        if let Some(error) = unsupported(expr) {
            return Err(error);
        }
        if is_boolean(expr) || !self.is_active(expr) {
            return self.passive(expr, None);
        }
        match expr {
            Expr::Unary(unary) => match unary.op {
                UnOp::Neg(_) => {
                    let operand = self.lower_expr(&unary.expr)?;
                    Ok(self.new_var(Op::Neg(operand)))
                }
                UnOp::Deref(_) => {
                    if let Some(place) = self.place_of(expr)? {
                        return Ok(self.new_var(Op::Load(place)));
                    }
                    self.lower_expr(&unary.expr)
                }
                _ => Err(syn::Error::new_spanned(
                    unary,
                    "this operator cannot be applied to an active (differentiated) value",
                )),
            },
            Expr::Binary(binary) => {
                if is_compound_assignment(&binary.op) {
                    return Err(nested_assignment_error(binary));
                }
                let lhs = self.lower_expr(&binary.left)?;
                let rhs = self.lower_expr(&binary.right)?;
                self.binary(&binary.op, lhs, rhs)
            }
            Expr::Field(_) | Expr::Index(_) => match self.place_of(expr)? {
                Some(place) => Ok(self.new_var(Op::Load(place))),
                None => Err(syn::Error::new_spanned(
                    expr,
                    "#[differentiable] reads fields and elements only of differentiable \
                     arguments and local arrays",
                )),
            },
            Expr::MethodCall(call) => self.lower_method_call(call),
            Expr::Call(call) => self.lower_call(call),
            Expr::Cast(cast) => Err(syn::Error::new_spanned(
                cast,
                "an `as` cast of an active value to a float type is not differentiable; keep \
                 one float type throughout, or write `no_grad(..)` around the value to use it \
                 as a constant",
            )),
            Expr::Assign(assign) => Err(nested_assignment_error(assign)),
            Expr::Reference(reference) => Err(syn::Error::new_spanned(
                reference,
                "a reference to an active value can only be passed to a #[differentiable] \
                 function",
            )),
            Expr::Closure(closure) => Err(syn::Error::new_spanned(
                closure,
                "closures are not supported inside #[differentiable] functions; write the \
                 computation out, or move it to a #[differentiable] helper function",
            )),
            other => Err(syn::Error::new_spanned(
                other,
                "this expression is not supported by #[differentiable]; supported are \
                 arithmetic, elementary functions, calls of #[differentiable] functions, \
                 locals, fields and elements of differentiable values, literals, constants, \
                 blocks, `if`, `match` and loops",
            )),
        }
    }

    fn read_local(&mut self, ident: &Ident) -> syn::Result<Operand> {
        match self.binding(ident).cloned() {
            Some(Binding::Value(operand) | Binding::Ref(operand)) => Ok(operand),
            Some(Binding::Cell(cell)) => Ok(self.new_var(Op::Read(cell))),
            Some(Binding::PassiveCell(name)) => Ok(self.new_const(quote!(#name), None)),
            Some(Binding::Aggregate(place)) if !place.path.is_empty() => {
                Ok(self.new_var(Op::Load(place)))
            }
            Some(Binding::Aggregate(_)) => Err(syn::Error::new(
                ident.span(),
                format!(
                    "`{ident}` is a differentiable aggregate: read its elements (`{ident}.a`, \
                     `{ident}[i]`) or pass `&{ident}` to a #[differentiable] function"
                ),
            )),
            Some(Binding::Unassigned) | None => Err(unassigned_error(ident)),
        }
    }

    /// The place `expr` denotes inside an active aggregate, if it does.
    fn place_of(&mut self, expr: &Expr) -> syn::Result<Option<Place>> {
        match expr {
            Expr::Paren(paren) => self.place_of(&paren.expr),
            Expr::Group(group) => self.place_of(&group.expr),
            Expr::Unary(unary) if matches!(unary.op, UnOp::Deref(_)) => self.place_of(&unary.expr),
            Expr::Path(_) => {
                let Some(ident) = self.local_ident(expr) else {
                    return Ok(None);
                };
                match self.binding(ident) {
                    Some(Binding::Aggregate(place)) => Ok(Some(place.clone())),
                    _ => Ok(None),
                }
            }
            Expr::Field(field) => match self.place_of(&field.base)? {
                Some(mut place) => {
                    place.path.push(PathSeg::Field(field.member.clone()));
                    Ok(Some(place))
                }
                None => Ok(None),
            },
            Expr::Index(index) => match self.place_of(&index.expr)? {
                Some(mut place) => {
                    let position = self.index_operand(&index.index)?;
                    place.path.push(PathSeg::Index(position));
                    Ok(Some(place))
                }
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// Whether `place` lies in a local array (not in an argument).
    fn is_local_array(&self, place: &Place) -> bool {
        let base = place.base.to_string();
        self.array_tangents.iter().any(|(name, _)| *name == base)
    }

    /// An index: passive, evaluated on primal values.
    fn index_operand(&mut self, expr: &Expr) -> syn::Result<Operand> {
        self.check_passive(expr)?;
        let tokens = self.substitute(expr)?;
        if matches!(expr, Expr::Lit(_)) {
            return Ok(Operand::Const(tokens));
        }
        if let Some(ident) = self.local_ident(expr) {
            if let Some(Binding::Value(Operand::Const(name))) = self.binding(ident) {
                return Ok(Operand::Const(name.clone()));
            }
        }
        Ok(self.new_const(tokens, None))
    }

    /// Applies a binary arithmetic operator (plain or compound) to two operands.
    fn binary(&mut self, op: &BinOp, lhs: Operand, rhs: Operand) -> syn::Result<Operand> {
        let build: fn(Operand, Operand) -> Op = match op {
            BinOp::Add(_) | BinOp::AddAssign(_) => Op::Add,
            BinOp::Sub(_) | BinOp::SubAssign(_) => Op::Sub,
            BinOp::Mul(_) | BinOp::MulAssign(_) => Op::Mul,
            BinOp::Div(_) | BinOp::DivAssign(_) => Op::Div,
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    format!(
                        "the operator `{}` is not differentiable; supported are + - * / \
                         and their compound assignments",
                        other.to_token_stream()
                    ),
                ))
            }
        };
        if let (Operand::Const(a), Operand::Const(b)) = (&lhs, &rhs) {
            let symbol = binary_symbol(op);
            return Ok(self.new_const(quote!(#a #symbol #b), None));
        }
        Ok(self.new_var(build(lhs, rhs)))
    }

    fn lower_method_call(&mut self, call: &ExprMethodCall) -> syn::Result<Operand> {
        let name = call.method.to_string();
        if activity::NON_DIFFERENTIABLE_METHODS.contains(&name.as_str()) {
            return self.passive(&Expr::MethodCall(call.clone()), None);
        }
        if name == "clone" && call.args.is_empty() {
            return self.lower_expr(&call.receiver);
        }
        if let Some(receiver) = self.place_of(&call.receiver)? {
            if receiver.path.is_empty() && self.is_local_array(&receiver) {
                return match name.as_str() {
                    "push" => self.lower_push(receiver, call),
                    _ => Err(syn::Error::new_spanned(
                        &call.method,
                        format!(
                            "`{name}` on a local buffer is not supported by \
                             #[differentiable]; supported are `push`, `len`, `is_empty`, \
                             `iter` in a `for` loop, indexing, and passing it by reference \
                             to a #[differentiable] function"
                        ),
                    )),
                };
            }
            if receiver.path.is_empty() || rules::lookup(&name).is_none() {
                let method = format_ident!("{}__vjp", call.method);
                let (primal, turbofish) = (&call.method, &call.turbofish);
                return self.lower_diff_call(
                    quote!(#method #turbofish),
                    quote!(#primal #turbofish),
                    Some(receiver),
                    call.args.iter(),
                );
            }
        }
        let Some(rule) = rules::lookup(&name) else {
            return Err(unknown_method_error(&call.method));
        };
        if let Some(turbofish) = &call.turbofish {
            return Err(syn::Error::new_spanned(
                turbofish,
                "elementary functions take no type arguments",
            ));
        }
        let operands: Vec<&Expr> = std::iter::once(&*call.receiver)
            .chain(call.args.iter())
            .collect();
        self.elementary(rule, &operands, call)
    }

    fn lower_call(&mut self, call: &ExprCall) -> syn::Result<Operand> {
        let Expr::Path(path) = &*call.func else {
            return Err(syn::Error::new_spanned(
                &call.func,
                "#[differentiable] can only differentiate calls to named functions: call it \
                 by its path (`f64::sin(x)`, `helper(x)`)",
            ));
        };
        let last = path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string())
            .unwrap_or_default();
        if path.qself.is_none() && (last == "no_grad" || last == "stop_gradient") {
            return self.passive(&Expr::Call(call.clone()), None);
        }
        if self.names_real_method(path) {
            if let Some(rule) = rules::lookup(&last) {
                let operands: Vec<&Expr> = call.args.iter().collect();
                return self.elementary(rule, &operands, call);
            }
            return Err(unknown_method_error(
                &path.path.segments.last().expect("a path").ident,
            ));
        }
        if path.qself.is_some() {
            return Err(syn::Error::new_spanned(
                path,
                "#[differentiable] calls other functions by plain path (`helper(x)`, \
                 `module::helper(x)`)",
            ));
        }
        // Another #[differentiable] function: `path::__vjp`, with its turbofish.
        let mut callee = path.path.clone();
        let last = callee.segments.last_mut().expect("a path");
        let turbofish = std::mem::replace(&mut last.arguments, syn::PathArguments::None);
        let turbofish = match turbofish {
            syn::PathArguments::AngleBracketed(mut args) => {
                args.colon2_token = Some(Default::default());
                quote!(#args)
            }
            _ => TokenStream::new(),
        };
        let vjp = Ident::new("__vjp", last.ident.span());
        self.lower_diff_call(
            quote!(#callee::#vjp #turbofish),
            quote!(#callee #turbofish),
            None,
            call.args.iter(),
        )
    }

    fn lower_diff_call<'e>(
        &mut self,
        callee: TokenStream,
        primal: TokenStream,
        receiver: Option<Place>,
        args: impl Iterator<Item = &'e Expr>,
    ) -> syn::Result<Operand> {
        let mut lowered = Vec::new();
        for arg in args {
            let by_ref = matches!(arg, Expr::Reference(_));
            let inner = match arg {
                Expr::Reference(reference) => &*reference.expr,
                other => other,
            };
            if let Some(place) = self.place_of(inner)? {
                let aggregate = by_ref || place.path.is_empty();
                if aggregate {
                    let snapshot = self.is_local_array(&place).then(|| self.fresh("y"));
                    lowered.push(CallArg::Place {
                        place,
                        by_ref,
                        snapshot,
                    });
                    continue;
                }
            }
            if let (Expr::Array(array), true) = (arg, self.is_active(arg)) {
                let elements = array
                    .elems
                    .iter()
                    .map(|element| self.lower_expr(element))
                    .collect::<syn::Result<Vec<_>>>()?;
                lowered.push(CallArg::Array(elements));
            } else if self.is_active(arg) {
                lowered.push(CallArg::Scalar(self.lower_expr(arg)?));
            } else {
                // Bound to a name: the reverse sweep may call the callee again.
                let operand = self.passive(arg, None)?;
                lowered.push(CallArg::Passive(self.operand_tokens(&operand)));
            }
        }
        let var = self.vars.len();
        let name = self.fresh("v");
        self.vars.push(name);
        let pullback = self.fresh("pb");
        self.push(Step::Call {
            var,
            pullback,
            callee,
            primal,
            receiver,
            args: lowered,
        });
        Ok(Operand::Var(var))
    }

    /// `T::f`, `f64::f`, `Real::f`, `causalgrad::Real::f` or `<T as Real>::f`.
    fn names_real_method(&self, path: &syn::ExprPath) -> bool {
        let float = self.spec.float.to_token_stream().to_string();
        let names_real = |segments: &[String]| {
            segments.last().is_some_and(|last| last == "Real")
                || segments.len() == 1
                    && (segments[0] == float || segments[0] == "f32" || segments[0] == "f64")
        };
        let prefix: Vec<String> = path
            .path
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        let prefix = &prefix[..prefix.len().saturating_sub(1)];
        match &path.qself {
            Some(qself) => {
                let self_ty = qself.ty.to_token_stream().to_string();
                let trait_path = &prefix[..qself.position.min(prefix.len())];
                names_real(trait_path) || self_ty == float
            }
            None => !prefix.is_empty() && names_real(prefix),
        }
    }

    fn elementary(
        &mut self,
        rule: &'static Rule,
        exprs: &[&Expr],
        call: &dyn ToTokens,
    ) -> syn::Result<Operand> {
        if exprs.len() != rule.operands.len() {
            return Err(syn::Error::new_spanned(
                call,
                format!(
                    "`{}` takes {} operand(s) (receiver included), found {}",
                    rule.name,
                    rule.operands.len(),
                    exprs.len()
                ),
            ));
        }
        let mut args = Vec::with_capacity(exprs.len());
        for (expr, kind) in exprs.iter().zip(rule.operands) {
            let operand = match kind {
                OperandKind::Float => self.lower_expr(expr)?,
                OperandKind::Int => {
                    if self.is_active(expr) {
                        return Err(syn::Error::new_spanned(
                            expr,
                            format!(
                                "the integer exponent of `{}` cannot depend on an active \
                                 value; write `no_grad(..)` around it",
                                rule.name
                            ),
                        ));
                    }
                    self.passive(expr, None)?
                }
            };
            args.push(operand);
        }
        if matches!(rule.derivative, Derivative::Zero) {
            let real = self.spec.real();
            let name = format_ident!("{}", rule.name);
            let tokens = args.iter().map(|arg| self.operand_tokens(arg));
            let expr = quote!(#real::#name(#(#tokens),*));
            return Ok(self.new_const(expr, None));
        }
        Ok(self.new_var(Op::Call { rule, args }))
    }

    // ----- control flow -----

    /// Turns the outer variables a construct assigns into cells.
    fn cells_for(&mut self, construct: &Expr) -> syn::Result<()> {
        for name in activity::assigned_names(construct) {
            let ident = Ident::new(&name, Span::call_site());
            let Some(Binding::Value(current)) = self.binding(&ident).cloned() else {
                continue;
            };
            let active = matches!(current, Operand::Var(_)) || self.activity.active.contains(&name);
            if active {
                let cell = self.new_cell();
                self.push(Step::Cell {
                    cell,
                    init: current,
                });
                self.rebind(&ident, Binding::Cell(cell));
            } else {
                let cell = self.fresh("q");
                let init = self.operand_tokens(&current);
                self.push(Step::PassiveCell {
                    name: cell.clone(),
                    init,
                });
                self.rebind(&ident, Binding::PassiveCell(cell));
            }
        }
        Ok(())
    }

    /// A branch's block: lowered in a new scope, with its own steps.
    fn lower_branch(&mut self, stmts: &[Stmt], want_value: bool) -> syn::Result<(Block, Outcome)> {
        let loop_id = self.block().loop_id;
        let storage = self.nested_storage();
        self.blocks.push(BlockBuilder::new(loop_id, storage));
        let outcome = self.lower_block(stmts, want_value);
        let block = self.blocks.pop().expect("branch block").finish();
        Ok((block, outcome?))
    }

    /// Appends the write of a branch's value to the merge cell.
    fn merge_into(&self, block: &mut Block, merge: &Merge, value: Option<Operand>) {
        let start = self.code();
        if let Some(value) = value {
            let step = match merge {
                Merge::Active(cell) => Step::Write { cell: *cell, value },
                Merge::Passive(name) => Step::PassiveWrite {
                    name: name.clone(),
                    value: self.operand_tokens(&value),
                },
            };
            block.steps.push((start, step));
        }
    }

    /// Declares the cell that merges the values of branches.
    fn merge_cell(&mut self, values: &[&Option<Operand>], start: u32) -> Merge {
        let active = values
            .iter()
            .any(|value| matches!(value, Some(Operand::Var(_))));
        if active {
            let cell = self.new_cell();
            let zero = self.zero();
            self.push_at(
                start,
                Step::Cell {
                    cell,
                    init: Operand::Const(zero),
                },
            );
            Merge::Active(cell)
        } else {
            let name = self.fresh("q");
            self.push_at(
                start,
                Step::PassiveCell {
                    name: name.clone(),
                    init: TokenStream::new(),
                },
            );
            Merge::Passive(name)
        }
    }

    fn merged_value(&mut self, merge: Merge) -> Operand {
        match merge {
            Merge::Active(cell) => self.new_var(Op::Read(cell)),
            Merge::Passive(name) => self.new_const(quote!(#name), None),
        }
    }

    fn lower_if(&mut self, expr: &syn::ExprIf, want_value: bool) -> syn::Result<Option<Operand>> {
        if let Expr::Let(let_expr) = &*expr.cond {
            return Err(syn::Error::new_spanned(
                let_expr,
                "`if let` is not supported by #[differentiable]; use `match`",
            ));
        }
        self.cells_for(&Expr::If(expr.clone()))?;
        self.check_passive(&expr.cond)?;
        let cond = self.substitute(&expr.cond)?;
        let flag = self.fresh("b");
        self.push(Step::Const {
            name: flag.clone(),
            ty: Some(quote!(bool)),
            expr: cond,
        });
        let start = self.code();
        let (mut then, then_outcome) = self.lower_branch(&expr.then_branch.stmts, want_value)?;
        let (mut els, els_outcome) = match &expr.else_branch {
            Some((_, else_expr)) => match &**else_expr {
                Expr::Block(block) => self.lower_branch(&block.block.stmts, want_value)?,
                Expr::If(nested) => {
                    let stmt = Stmt::Expr(Expr::If(nested.clone()), None);
                    self.lower_branch(std::slice::from_ref(&stmt), want_value)?
                }
                other => {
                    return Err(syn::Error::new_spanned(
                        other,
                        "expected a block after `else`",
                    ))
                }
            },
            None => {
                if want_value {
                    return Err(syn::Error::new_spanned(
                        expr,
                        "an `if` used as a value needs an `else` branch",
                    ));
                }
                (
                    BlockBuilder::new(self.block().loop_id, self.nested_storage()).finish(),
                    Outcome {
                        value: None,
                        diverges: false,
                    },
                )
            }
        };
        let value = if want_value {
            for outcome in [&then_outcome, &els_outcome] {
                if outcome.value.is_none() && !outcome.diverges {
                    return Err(syn::Error::new_spanned(
                        expr,
                        "every branch of an `if` used as a value must end with a value",
                    ));
                }
            }
            let merge = self.merge_cell(&[&then_outcome.value, &els_outcome.value], start);
            self.merge_into(&mut then, &merge, then_outcome.value);
            self.merge_into(&mut els, &merge, els_outcome.value);
            Some(merge)
        } else {
            None
        };
        self.push_at(start, Step::If { flag, then, els });
        Ok(value.map(|merge| self.merged_value(merge)))
    }

    fn lower_match(
        &mut self,
        expr: &syn::ExprMatch,
        want_value: bool,
    ) -> syn::Result<Option<Operand>> {
        self.cells_for(&Expr::Match(expr.clone()))?;
        if self.is_active(&expr.expr) {
            return Err(syn::Error::new_spanned(
                &expr.expr,
                "a `match` on an active (differentiated) value is not supported; match on \
                 integers, bools or enums",
            ));
        }
        self.check_passive(&expr.expr)?;
        let scrutinee = self.substitute(&expr.expr)?;
        let flag = self.fresh("b");
        let start = self.code();
        self.frames.push(Frame::Match { flag: flag.clone() });
        let mut arms = Vec::new();
        let mut outcomes = Vec::new();
        for arm in &expr.arms {
            let (arm_pat, arm_guard) = match &arm.pat {
                Pat::Guard(guarded) => (&*guarded.pat, Some(&*guarded.guard)),
                other => (other, None),
            };
            let tag = self.next_tag();
            let (pattern, renames) = rename_pattern(arm_pat, tag);
            self.scopes.push(HashMap::new());
            for (user, fresh) in &renames {
                self.declare(user, Binding::Value(Operand::Const(quote!(#fresh))));
            }
            let guard = match arm_guard {
                Some(guard) => {
                    self.check_passive(guard)?;
                    let guard = self.substitute(guard)?;
                    quote!(if #guard)
                }
                None => TokenStream::new(),
            };
            let loop_id = self.block().loop_id;
            let nested = self.nested_storage();
            self.blocks.push(BlockBuilder::new(loop_id, nested));
            for (user, fresh) in &renames {
                let snapshot = self.new_const(quote!(#fresh), None);
                self.declare(user, Binding::Value(snapshot));
            }
            let stmt = Stmt::Expr((*arm.body).clone(), None);
            let outcome = self.lower_block(std::slice::from_ref(&stmt), want_value);
            let block = self.blocks.pop().expect("arm block").finish();
            self.scopes.pop();
            let outcome = outcome?;
            if want_value && outcome.value.is_none() && !outcome.diverges {
                return Err(syn::Error::new_spanned(
                    &arm.body,
                    "every arm of a `match` used as a value must have a value",
                ));
            }
            arms.push((quote!(#pattern #guard), block));
            outcomes.push(outcome);
        }
        self.frames.pop();
        let value = if want_value {
            let values: Vec<&Option<Operand>> = outcomes.iter().map(|o| &o.value).collect();
            let merge = self.merge_cell(&values, start);
            for ((_, block), outcome) in arms.iter_mut().zip(outcomes) {
                self.merge_into(block, &merge, outcome.value);
            }
            Some(merge)
        } else {
            None
        };
        self.push_at(
            start,
            Step::Match {
                flag,
                scrutinee,
                arms,
            },
        );
        Ok(value.map(|merge| self.merged_value(merge)))
    }

    /// Registers a loop and lowers its body; `prelude` binds the loop's
    /// pattern at the start of the body.
    fn lower_loop_body(
        &mut self,
        label: Option<&syn::Label>,
        head: LoopHead,
        prelude: impl FnOnce(&mut Self) -> syn::Result<()>,
        body: &[Stmt],
    ) -> syn::Result<()> {
        let id = self.loops.len();
        let count = self.fresh("n");
        let label_tokens = match label {
            Some(label) => label.name.to_token_stream(),
            None => syn::Lifetime::new(&format!("'__l{id}"), Span::call_site()).to_token_stream(),
        };
        self.loops.push(LoopState::new(label_tokens, count));
        let start = self.code();
        self.frames.push(Frame::Loop {
            id,
            label: label.map(|label| label.name.ident.to_string()),
        });
        self.blocks.push(BlockBuilder::new(id, Storage::Tape));
        self.scopes.push(HashMap::new());
        let result = prelude(self).and_then(|()| self.lower_block(body, false).map(drop));
        self.scopes.pop();
        let block = self.blocks.pop().expect("loop body").finish();
        self.frames.pop();
        result?;
        if self.loops[id].has_exit {
            let name = if self.loops[id].has_continue {
                self.fresh("te")
            } else {
                self.fresh("x")
            };
            self.loops[id].exits = Some(name);
        }
        self.push_at(
            start,
            Step::Loop {
                id,
                head,
                body: block,
            },
        );
        Ok(())
    }

    fn lower_for(&mut self, expr: &syn::ExprForLoop) -> syn::Result<()> {
        self.cells_for(&Expr::ForLoop(expr.clone()))?;
        let iter = &*expr.expr;
        let pat = &*expr.pat;
        if let Some(source) = self.active_source(iter)? {
            // Iterate by index over active aggregates.
            let index = self.fresh("r");
            let len = self.new_const(source.len_tokens(), None);
            let len = self.operand_tokens(&len);
            let head = LoopHead::For {
                pat: quote!(#index),
                iter: quote!(0..#len),
            };
            return self.lower_loop_body(
                expr.label.as_ref(),
                head,
                move |lowerer| {
                    let snapshot = lowerer.new_const(quote!(#index), None);
                    let snapshot = lowerer.operand_tokens(&snapshot);
                    lowerer.bind_source(&source, pat, &snapshot)
                },
                &expr.body.stmts,
            );
        }
        if self.is_active(iter) && !is_range_iterator(iter) {
            return Err(syn::Error::new_spanned(
                iter,
                "#[differentiable] iterates over differentiable values only with `.iter()`, \
                 `.zip(..)` and `.enumerate()` (or by index, `for i in 0..xs.len()`); \
                 rewrite this loop in one of those forms",
            ));
        }
        self.check_passive(iter)?;
        let iter_tokens = self.substitute(iter)?;
        let (pattern, renames) = rename_pattern(pat, self.next_tag());
        let head = LoopHead::For {
            pat: pattern.to_token_stream(),
            iter: iter_tokens,
        };
        self.lower_loop_body(
            expr.label.as_ref(),
            head,
            |lowerer| {
                for (user, fresh) in renames {
                    let snapshot = lowerer.new_const(quote!(#fresh), None);
                    lowerer.declare(&user, Binding::Value(snapshot));
                }
                Ok(())
            },
            &expr.body.stmts,
        )
    }

    fn lower_while(&mut self, expr: &syn::ExprWhile) -> syn::Result<()> {
        if let Expr::Let(let_expr) = &*expr.cond {
            return Err(syn::Error::new_spanned(
                let_expr,
                "`while let` is not supported by #[differentiable]; use `loop` with `match`",
            ));
        }
        self.cells_for(&Expr::While(expr.clone()))?;
        self.check_passive(&expr.cond)?;
        let cond = self.substitute(&expr.cond)?;
        self.lower_loop_body(
            expr.label.as_ref(),
            LoopHead::While { cond },
            |_| Ok(()),
            &expr.body.stmts,
        )
    }

    fn lower_loop(&mut self, expr: &syn::ExprLoop) -> syn::Result<()> {
        self.cells_for(&Expr::Loop(expr.clone()))?;
        self.lower_loop_body(
            expr.label.as_ref(),
            LoopHead::Loop,
            |_| Ok(()),
            &expr.body.stmts,
        )
    }

    fn lower_exit(
        &mut self,
        kind: ExitKind,
        label: Option<&syn::Lifetime>,
        span: Span,
    ) -> syn::Result<()> {
        // Frames from the innermost outwards, up to the target.
        let target_index = match kind {
            ExitKind::Return => self
                .frames
                .iter()
                .position(|frame| matches!(frame, Frame::Body))
                .expect("functions with returns have a body frame"),
            ExitKind::Break | ExitKind::Continue => {
                let wanted = label.map(|label| label.ident.to_string());
                let found = self.frames.iter().rposition(|frame| match frame {
                    Frame::Loop { label, .. } => wanted.is_none() || *label == wanted,
                    _ => false,
                });
                match found {
                    Some(index) => index,
                    None => {
                        let what = if kind == ExitKind::Break {
                            "break"
                        } else {
                            "continue"
                        };
                        return Err(syn::Error::new(
                            span,
                            format!("`{what}` outside of a loop (or with an unknown label)"),
                        ));
                    }
                }
            }
        };
        let target = match &self.frames[target_index] {
            Frame::Body => 0,
            Frame::Loop { id, .. } => *id,
            Frame::Match { .. } => unreachable!("exits target loops or the body"),
        };
        let mut sets = Vec::new();
        let mut leaves = Vec::new();
        for (index, frame) in self.frames.iter().enumerate().rev() {
            if index < target_index {
                break;
            }
            match frame {
                Frame::Body => sets.push((0, 0)),
                Frame::Loop { id, .. } => {
                    sets.push((*id, 0));
                    if index > target_index || kind != ExitKind::Continue {
                        leaves.push(Leave::Loop(*id));
                    }
                }
                Frame::Match { flag } => leaves.push(Leave::Match { flag: flag.clone() }),
            }
        }
        for (loop_id, code) in &mut sets {
            let state = &mut self.loops[*loop_id];
            *code = state.next_code;
            state.next_code += 1;
            state.has_exit = true;
        }
        if kind == ExitKind::Continue {
            self.loops[target].has_continue = true;
        }
        let start = sets
            .iter()
            .find(|(loop_id, _)| *loop_id == self.block().loop_id)
            .map_or_else(|| self.code(), |(_, code)| *code);
        self.push_at(
            start,
            Step::Exit {
                kind,
                target,
                sets,
                leaves,
            },
        );
        Ok(())
    }

    /// Whether `iter` iterates over an active aggregate, and how.
    fn active_source(&mut self, iter: &Expr) -> syn::Result<Option<Source>> {
        let source = self.source(iter)?;
        Ok(source.filter(Source::is_active))
    }

    fn source(&mut self, expr: &Expr) -> syn::Result<Option<Source>> {
        match strip_parens(expr) {
            Expr::MethodCall(call) if call.method == "iter" && call.args.is_empty() => {
                self.leaf_source(&call.receiver)
            }
            Expr::MethodCall(call) if call.method == "enumerate" && call.args.is_empty() => {
                Ok(self
                    .source(&call.receiver)?
                    .map(|inner| Source::Enumerate(Box::new(inner))))
            }
            Expr::MethodCall(call) if call.method == "zip" && call.args.len() == 1 => {
                let left = self.source(&call.receiver)?;
                let right = self.source(&call.args[0])?;
                Ok(match (left, right) {
                    (Some(left), Some(right)) => Some(Source::Zip(Box::new(left), Box::new(right))),
                    _ => None,
                })
            }
            Expr::Reference(reference) => self.leaf_source(&reference.expr),
            other => self.leaf_source(other),
        }
    }

    fn leaf_source(&mut self, expr: &Expr) -> syn::Result<Option<Source>> {
        if let Some(place) = self.place_of(expr)? {
            return Ok(Some(Source::Active(place)));
        }
        if self.is_active(expr) {
            return Ok(None);
        }
        if matches!(
            strip_parens(expr),
            Expr::Path(_) | Expr::Field(_) | Expr::Index(_)
        ) {
            self.check_passive(expr)?;
            return Ok(Some(Source::Passive(self.substitute(expr)?)));
        }
        Ok(None)
    }

    /// Binds `pat` to the elements of `source` at `index`.
    fn bind_source(&mut self, source: &Source, pat: &Pat, index: &TokenStream) -> syn::Result<()> {
        let pat = match pat {
            Pat::Reference(reference) => &*reference.pat,
            Pat::Paren(paren) => &*paren.pat,
            other => other,
        };
        match (source, pat) {
            (_, Pat::Wild(_)) => Ok(()),
            (Source::Enumerate(inner), Pat::Tuple(tuple)) if tuple.elems.len() == 2 => {
                match &tuple.elems[0] {
                    Pat::Ident(ident) => {
                        self.declare(&ident.ident, Binding::Value(Operand::Const(index.clone())))
                    }
                    Pat::Wild(_) => {}
                    other => return Err(loop_pattern_error(other)),
                }
                self.bind_source(inner, &tuple.elems[1], index)
            }
            (Source::Zip(left, right), Pat::Tuple(tuple)) if tuple.elems.len() == 2 => {
                self.bind_source(left, &tuple.elems[0], index)?;
                self.bind_source(right, &tuple.elems[1], index)
            }
            (Source::Active(place), Pat::Ident(ident)) => {
                let mut place = place.clone();
                place
                    .path
                    .push(PathSeg::Index(Operand::Const(index.clone())));
                self.declare(&ident.ident, Binding::Aggregate(place));
                Ok(())
            }
            (Source::Passive(tokens), Pat::Ident(ident)) => {
                let value = self.new_const(quote!(#tokens[#index]), None);
                self.declare(&ident.ident, Binding::Ref(value));
                Ok(())
            }
            (_, other) => Err(loop_pattern_error(other)),
        }
    }
}

/// Where the value of an `if` or `match` used as an expression goes.
enum Merge {
    Active(CellId),
    Passive(Ident),
}

/// An iterator over aggregates, driven by index.
enum Source {
    Active(Place),
    Passive(TokenStream),
    Zip(Box<Source>, Box<Source>),
    Enumerate(Box<Source>),
}

impl Source {
    fn is_active(&self) -> bool {
        match self {
            Source::Active(_) => true,
            Source::Passive(_) => false,
            Source::Zip(left, right) => left.is_active() || right.is_active(),
            Source::Enumerate(inner) => inner.is_active(),
        }
    }

    /// The number of iterations: the shortest leaf.
    fn len_tokens(&self) -> TokenStream {
        match self {
            Source::Active(place) => {
                let tokens = place_forward_tokens(place);
                quote!((#tokens).len())
            }
            Source::Passive(tokens) => quote!((#tokens).len()),
            Source::Zip(left, right) => {
                let (left, right) = (left.len_tokens(), right.len_tokens());
                quote!(::core::cmp::min(#left, #right))
            }
            Source::Enumerate(inner) => inner.len_tokens(),
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

/// `pat` with every binding renamed to a fresh name.
/// The fresh names contain `tag`, unique per pattern.
fn rename_pattern(pat: &Pat, tag: usize) -> (Pat, Vec<(Ident, Ident)>) {
    struct Renamer {
        tag: usize,
        renames: Vec<(Ident, Ident)>,
    }
    impl VisitMut for Renamer {
        fn visit_field_pat_mut(&mut self, field: &mut syn::FieldPat) {
            // `S { k }` binds `k`: spell it `S { k: k }` so the binding can
            // be renamed while the field name stays.
            if field.colon_token.is_none() {
                field.colon_token = Some(Default::default());
            }
            syn::visit_mut::visit_field_pat_mut(self, field);
        }

        fn visit_pat_ident_mut(&mut self, pat: &mut syn::PatIdent) {
            let name = pat.ident.to_string();
            let binding = name.starts_with(|c: char| c.is_lowercase() || c == '_') && name != "_";
            if binding {
                let fresh = format_ident!("__r_{}_{}_{}", name, self.tag, self.renames.len());
                self.renames.push((pat.ident.clone(), fresh.clone()));
                pat.ident = fresh;
                pat.mutability = None;
            }
            if let Some((_, sub)) = &mut pat.subpat {
                self.visit_pat_mut(sub);
            }
        }
    }
    let mut renamer = Renamer {
        tag,
        renames: Vec::new(),
    };
    let mut pat = pat.clone();
    renamer.visit_pat_mut(&mut pat);
    (pat, renamer.renames)
}

/// A range, possibly adapted (`(0..n).rev().step_by(2)`): it yields
/// indices, so reading fields of differentiable values in its bounds is
/// passive.
fn is_range_iterator(expr: &Expr) -> bool {
    match strip_parens(expr) {
        Expr::Range(_) => true,
        Expr::MethodCall(call) => is_range_iterator(&call.receiver),
        _ => false,
    }
}

fn strip_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(paren) => strip_parens(&paren.expr),
        Expr::Group(group) => strip_parens(&group.expr),
        other => other,
    }
}

fn is_exit(expr: &Expr) -> bool {
    matches!(
        strip_parens(expr),
        Expr::Break(_) | Expr::Continue(_) | Expr::Return(_)
    )
}

/// Whether `return` appears anywhere but as the final statement.
fn contains_early_return(stmts: &[Stmt]) -> bool {
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

fn is_inline(tokens: &TokenStream) -> bool {
    let mut trees = tokens.clone().into_iter();
    matches!(
        (trees.next(), trees.next()),
        (Some(proc_macro2::TokenTree::Literal(_)), None)
    )
}

fn binary_symbol(op: &BinOp) -> TokenStream {
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
fn is_buffer_literal(expr: &Expr) -> bool {
    match strip_parens(expr) {
        Expr::Array(_) | Expr::Repeat(_) => true,
        Expr::Macro(mac) => mac.mac.path.is_ident("vec"),
        _ => false,
    }
}

/// Comparisons and logic produce booleans: passive whatever they read.
fn is_boolean(expr: &Expr) -> bool {
    match expr {
        Expr::Binary(binary) => activity::is_boolean_op(&binary.op),
        Expr::Unary(unary) => matches!(unary.op, UnOp::Not(_)),
        _ => false,
    }
}

/// Expressions whose parts must be lowered one by one even when passive,
/// because they bind or assign local names or transfer control.
fn needs_structure(expr: &Expr) -> bool {
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

/// Constructs rejected wherever they appear, with what to do instead.
fn unsupported(expr: &Expr) -> Option<syn::Error> {
    let no = |node: &dyn ToTokens, what: &str, instead: &str| {
        Some(syn::Error::new_spanned(
            node,
            format!("{what} cannot be differentiated by #[differentiable]; {instead}"),
        ))
    };
    match expr {
        Expr::Macro(mac) if !mac.mac.path.is_ident("vec") => Some(macro_error(&mac.mac.path)),
        Expr::Unsafe(block) => Some(unsafe_error(block.unsafe_token.span())),
        Expr::Try(e) => no(
            e,
            "the `?` operator",
            "handle the error outside the function",
        ),
        Expr::Async(e) => no(
            e,
            "an `async` block",
            "compute the value outside the function",
        ),
        Expr::Await(e) => no(e, "`.await`", "compute the value outside the function"),
        Expr::Block(e) if e.label.is_some() => {
            no(e, "a labelled block", "use a loop with `break`, or `if`")
        }
        _ => None,
    }
}

fn macro_error(path: &syn::Path) -> syn::Error {
    syn::Error::new_spanned(
        path,
        format!(
            "macros such as `{}!` cannot be differentiated: #[differentiable] cannot see \
             inside them; compute the value outside the function and pass it in, or move \
             the macro out of the function",
            path.to_token_stream().to_string().replace(' ', "")
        ),
    )
}

fn unsafe_error(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "`unsafe` code cannot be differentiated: move it out of the #[differentiable] function",
    )
}

fn nested_assignment_error(node: &dyn ToTokens) -> syn::Error {
    syn::Error::new_spanned(
        node,
        "assignment inside an expression is not supported by #[differentiable]; \
         write the assignment as its own statement",
    )
}

fn pattern_error(node: &dyn ToTokens) -> syn::Error {
    syn::Error::new_spanned(
        node,
        "#[differentiable] supports only `let name = ..` and `let name: Type = ..`; \
         bind each value to its own name",
    )
}

fn unassigned_error(ident: &Ident) -> syn::Error {
    syn::Error::new(
        ident.span(),
        format!("`{ident}` is used before a value is assigned to it"),
    )
}

fn loop_pattern_error(node: &dyn ToTokens) -> syn::Error {
    syn::Error::new_spanned(
        node,
        "this loop pattern does not match its iterator; #[differentiable] loops over \
         `xs.iter()`, `.zip(..)` and `.enumerate()` bind names or tuples of names",
    )
}

fn unknown_method_error(method: &Ident) -> syn::Error {
    syn::Error::new(
        method.span(),
        format!(
            "`{method}` is not differentiable: it is not an elementary function of `Real` \
             (see the list in the causalgrad docs). Write `no_grad(..)` around the value to \
             use it as a constant, or compute it with differentiable operations"
        ),
    )
}
