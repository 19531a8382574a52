//! Lowering a function body to A-normal form.
//!
//! Every expression that depends on an active argument becomes a sequence
//! of [`Step::Active`] bindings, each applying one primitive (`+ - * /`,
//! negation or one elementary function from [`crate::rules`]) to atomic
//! operands. Reassignment becomes a fresh binding (static single
//! assignment), so the reverse sweep can refer to every intermediate by name
//! without a tape.
//!
//! Expressions that do not depend on an active value (constants, integer
//! arithmetic, comparisons, `no_grad(..)`) are *passive*: they are emitted
//! verbatim, with local names renamed, as [`Step::Const`] bindings, and the
//! reverse sweep treats them as constants. This activity analysis is what
//! lets a body call arbitrary code on constants while still rejecting, with
//! a spanned error, any non-differentiable use of an active value.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{BinOp, Block, Expr, ExprCall, ExprMethodCall, Ident, Local, Pat, Stmt, UnOp};

use crate::parse::{ArgRole, FnSpec};
use crate::rules::{self, Derivative, OperandKind, Rule};

/// Index of an active value.
pub(crate) type VarId = usize;

/// An atomic operand: an active value or a constant (a name or a literal).
#[derive(Clone)]
pub(crate) enum Operand {
    Var(VarId),
    Const(TokenStream),
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
    /// `let var: F = op;`
    Active { var: VarId, op: Op },
}

/// A lowered function body.
pub(crate) struct Lowered {
    pub steps: Vec<Step>,
    /// The name of each active value; active arguments keep their own.
    pub vars: Vec<Ident>,
    /// For each active argument, in order: its value.
    pub inputs: Vec<VarId>,
    pub output: Operand,
    /// Types of the forward-sweep names a pullback may need to save.
    pub types: HashMap<String, TokenStream>,
}

impl Lowered {
    pub fn name(&self, var: VarId) -> &Ident {
        &self.vars[var]
    }

    pub fn operand_tokens(&self, operand: &Operand) -> TokenStream {
        match operand {
            Operand::Var(var) => self.vars[*var].to_token_stream(),
            Operand::Const(tokens) => tokens.clone(),
        }
    }
}

/// Lowers the body of the function described by `spec`.
pub(crate) fn lower(spec: &FnSpec, body: &Block) -> syn::Result<Lowered> {
    let mut lowerer = Lowerer::new(spec);
    let mut inputs = Vec::new();
    for arg in &spec.args {
        let operand = if arg.role == ArgRole::Active {
            let var = lowerer.vars.len();
            lowerer.vars.push(arg.ident.clone());
            inputs.push(var);
            Operand::Var(var)
        } else {
            Operand::Const(arg.ident.to_token_stream())
        };
        let ty = match arg.role {
            ArgRole::Active | ArgRole::ConstFloat => Some(spec.float.to_token_stream()),
            ArgRole::Const => Some(arg.ty.to_token_stream()),
        };
        if let Some(ty) = ty {
            lowerer.types.insert(arg.ident.to_string(), ty);
        }
        lowerer.declare(&arg.ident, Some(operand));
    }
    let output = match lowerer.lower_stmts(&body.stmts, true)? {
        Some(output) => output,
        None => {
            return Err(syn::Error::new(
                body.brace_token.span.close(),
                "a #[differentiable] function must end with the expression it returns",
            ))
        }
    };
    let output = lowerer.float_operand(output);
    let Lowerer {
        steps,
        vars,
        mut types,
        const_steps,
        ..
    } = lowerer;
    for step in &steps {
        if let Step::Const {
            name, ty: Some(ty), ..
        } = step
        {
            types.insert(name.to_string(), ty.clone());
        }
    }
    let float = spec.float.to_token_stream();
    for var in &vars {
        types
            .entry(var.to_string())
            .or_insert_with(|| float.clone());
    }
    debug_assert!(const_steps.len() <= steps.len());
    Ok(Lowered {
        steps,
        vars,
        inputs,
        output,
        types,
    })
}

/// Names of float methods whose result is not a float (never differentiated).
const PREDICATES: &[&str] = &[
    "is_nan",
    "is_infinite",
    "is_finite",
    "is_normal",
    "is_subnormal",
    "is_sign_positive",
    "is_sign_negative",
    "to_bits",
    "partial_cmp",
    "total_cmp",
];

struct Lowerer<'a> {
    spec: &'a FnSpec,
    steps: Vec<Step>,
    vars: Vec<Ident>,
    /// Local names in scope, innermost last; `None` = declared, unassigned.
    scopes: Vec<HashMap<String, Option<Operand>>>,
    /// Constant bindings by name, to record their type once it is known.
    const_steps: HashMap<String, usize>,
    types: HashMap<String, TokenStream>,
}

impl<'a> Lowerer<'a> {
    fn new(spec: &'a FnSpec) -> Self {
        Lowerer {
            spec,
            steps: Vec::new(),
            vars: Vec::new(),
            scopes: vec![HashMap::new()],
            const_steps: HashMap::new(),
            types: HashMap::new(),
        }
    }

    // ----- names -----

    fn declare(&mut self, ident: &Ident, value: Option<Operand>) {
        self.scopes
            .last_mut()
            .expect("there is always a scope")
            .insert(ident.to_string(), value);
    }

    fn local(&self, ident: &Ident) -> Option<&Option<Operand>> {
        let name = ident.to_string();
        self.scopes.iter().rev().find_map(|scope| scope.get(&name))
    }

    fn assign(&mut self, ident: &Ident, value: Operand) {
        let name = ident.to_string();
        if let Some(slot) = self
            .scopes
            .iter_mut()
            .rev()
            .find_map(|scope| scope.get_mut(&name))
        {
            *slot = Some(value);
        }
    }

    /// The local a path expression names, if it is a plain local name.
    fn local_ident<'e>(&self, expr: &'e Expr) -> Option<&'e Ident> {
        match expr {
            Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => path
                .path
                .get_ident()
                .filter(|ident| self.local(ident).is_some()),
            _ => None,
        }
    }

    fn is_active_local(&self, ident: &Ident) -> bool {
        matches!(self.local(ident), Some(Some(Operand::Var(_))))
    }

    // ----- new bindings -----

    fn new_var(&mut self, op: Op) -> Operand {
        let var = self.vars.len();
        self.vars.push(format_ident!("__v{}", var));
        self.steps.push(Step::Active { var, op });
        Operand::Var(var)
    }

    fn new_const(&mut self, expr: TokenStream, ty: Option<TokenStream>) -> Operand {
        let name = format_ident!("__c{}", self.const_steps.len());
        self.const_steps.insert(name.to_string(), self.steps.len());
        self.steps.push(Step::Const {
            name: name.clone(),
            ty,
            expr,
        });
        Operand::Const(name.to_token_stream())
    }

    /// Records that `operand` is used as a value of the float type.
    fn float_operand(&mut self, operand: Operand) -> Operand {
        let float = self.spec.float.to_token_stream();
        self.type_operand(operand, float)
    }

    fn type_operand(&mut self, operand: Operand, ty: TokenStream) -> Operand {
        if let Operand::Const(tokens) = &operand {
            if let Some(&index) = self.const_steps.get(&tokens.to_string()) {
                if let Step::Const {
                    ty: slot @ None, ..
                } = &mut self.steps[index]
                {
                    *slot = Some(ty);
                }
            }
        }
        operand
    }

    // ----- activity -----

    /// Whether `expr` reads an active local.
    fn is_active(&self, expr: &Expr) -> bool {
        struct Finder<'l, 'a> {
            lowerer: &'l Lowerer<'a>,
            found: bool,
        }
        impl<'ast> Visit<'ast> for Finder<'_, '_> {
            fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
                if path.qself.is_none() {
                    if let Some(ident) = path.path.get_ident() {
                        self.found |= self.lowerer.is_active_local(ident);
                    }
                }
            }
        }
        let mut finder = Finder {
            lowerer: self,
            found: false,
        };
        finder.visit_expr(expr);
        finder.found
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
                    Expr::Macro(mac) => self.fail(macro_error(mac.mac.path.span(), &mac.mac.path)),
                    Expr::Unsafe(block) => self.fail(unsafe_error(block.unsafe_token.span())),
                    Expr::Assign(assign) if self.lowerer.local_ident(&assign.left).is_some() => {
                        self.fail(nested_assignment_error(assign.span()))
                    }
                    Expr::Binary(binary)
                        if is_compound_assignment(&binary.op)
                            && self.lowerer.local_ident(&binary.left).is_some() =>
                    {
                        self.fail(nested_assignment_error(binary.span()))
                    }
                    _ => syn::visit::visit_expr(self, expr),
                }
            }
            fn visit_stmt_macro(&mut self, mac: &'ast syn::StmtMacro) {
                self.fail(macro_error(mac.mac.path.span(), &mac.mac.path));
            }
        }
        let mut checker = Checker {
            lowerer: self,
            error: None,
        };
        checker.visit_expr(expr);
        checker.error.map_or(Ok(()), Err)
    }

    /// `expr` with every local renamed to its current binding.
    fn substitute(&self, expr: &Expr) -> syn::Result<TokenStream> {
        struct Renamer<'l, 'a> {
            lowerer: &'l Lowerer<'a>,
            error: Option<syn::Error>,
        }
        impl VisitMut for Renamer<'_, '_> {
            fn visit_expr_mut(&mut self, expr: &mut Expr) {
                if let Some(ident) = self.lowerer.local_ident(expr) {
                    match self.lowerer.local(ident) {
                        Some(Some(value)) => {
                            let tokens = self.lowerer.operand_tokens(value);
                            *expr = syn::parse_quote!(#tokens);
                        }
                        _ => {
                            if self.error.is_none() {
                                self.error = Some(unassigned_error(ident));
                            }
                        }
                    }
                    return;
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

    fn operand_tokens(&self, operand: &Operand) -> TokenStream {
        match operand {
            Operand::Var(var) => self.vars[*var].to_token_stream(),
            Operand::Const(tokens) => tokens.clone(),
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
        } else if let Some(ident) = self.local_ident(expr).filter(|_| ty.is_none()) {
            // A local constant keeps its binding.
            self.local(ident)
                .cloned()
                .flatten()
                .ok_or_else(|| unassigned_error(ident))
        } else {
            Ok(self.new_const(tokens, ty))
        }
    }

    // ----- statements -----

    fn lower_stmts(&mut self, stmts: &[Stmt], fn_body: bool) -> syn::Result<Option<Operand>> {
        for (index, stmt) in stmts.iter().enumerate() {
            let last = index + 1 == stmts.len();
            match stmt {
                Stmt::Local(local) => self.lower_local(local)?,
                Stmt::Item(item) => {
                    return Err(syn::Error::new(
                        item.span(),
                        "items (fn, struct, const, use, ..) inside a #[differentiable] function \
                         are not supported; move this item out of the function",
                    ))
                }
                Stmt::Macro(mac) => {
                    return Err(macro_error(mac.mac.path.span(), &mac.mac.path));
                }
                Stmt::Expr(Expr::Return(ret), _) => {
                    return match (&ret.expr, fn_body && last) {
                        (Some(value), true) => self.lower_expr(value).map(Some),
                        (None, true) => Err(syn::Error::new(
                            ret.span(),
                            "a #[differentiable] function must return a value",
                        )),
                        (_, false) => Err(syn::Error::new(
                            ret.return_token.span(),
                            "early `return` is not supported by #[differentiable] yet: \
                             return only as the last statement of the function body",
                        )),
                    };
                }
                Stmt::Expr(expr, None) if last => return self.lower_expr(expr).map(Some),
                Stmt::Expr(expr, _) => self.lower_effect(expr)?,
            }
        }
        Ok(None)
    }

    fn lower_block(&mut self, block: &Block) -> syn::Result<Option<Operand>> {
        self.scopes.push(HashMap::new());
        let value = self.lower_stmts(&block.stmts, false);
        self.scopes.pop();
        value
    }

    fn lower_local(&mut self, local: &Local) -> syn::Result<()> {
        let (ident, ty) = match &local.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                (pat.ident.clone(), None)
            }
            Pat::Type(typed) => match &*typed.pat {
                Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    (pat.ident.clone(), Some(typed.ty.to_token_stream()))
                }
                other => return Err(pattern_error(other.span())),
            },
            other => return Err(pattern_error(other.span())),
        };
        let value = match &local.init {
            None => None,
            Some(init) => {
                if let Some((_, diverge)) = &init.diverge {
                    return Err(syn::Error::new(
                        diverge.span(),
                        "`let .. else` is not supported by #[differentiable]",
                    ));
                }
                Some(self.lower_bound_value(&init.expr, ty)?)
            }
        };
        self.declare(&ident, value);
        Ok(())
    }

    /// The value stored under a name: always a name, never an inline literal.
    fn lower_bound_value(&mut self, expr: &Expr, ty: Option<TokenStream>) -> syn::Result<Operand> {
        if !needs_structure(expr) && !self.is_active(expr) {
            if let Some(ident) = self.local_ident(expr) {
                if ty.is_none() {
                    return self
                        .local(ident)
                        .cloned()
                        .flatten()
                        .ok_or_else(|| unassigned_error(ident));
                }
            }
            self.check_passive(expr)?;
            let tokens = self.substitute(expr)?;
            return Ok(self.new_const(tokens, ty));
        }
        match self.lower_expr(expr)? {
            Operand::Const(tokens) if !self.const_steps.contains_key(&tokens.to_string()) => {
                Ok(self.new_const(tokens, ty))
            }
            value => Ok(value),
        }
    }

    fn lower_effect(&mut self, expr: &Expr) -> syn::Result<()> {
        match expr {
            Expr::Assign(assign) => {
                let ident = self.assigned_local(&assign.left)?;
                let value = self.lower_bound_value(&assign.right, None)?;
                self.assign(&ident, value);
                Ok(())
            }
            Expr::Binary(binary) if is_compound_assignment(&binary.op) => {
                let ident = self.assigned_local(&binary.left)?;
                let current = self
                    .local(&ident)
                    .cloned()
                    .flatten()
                    .ok_or_else(|| unassigned_error(&ident))?;
                let rhs = self.lower_expr(&binary.right)?;
                let value = self.binary(&binary.op, current, rhs)?;
                self.assign(&ident, value);
                Ok(())
            }
            Expr::Block(block) if block.attrs.is_empty() && block.label.is_none() => {
                self.lower_block(&block.block).map(drop)
            }
            expr if needs_structure(expr) || self.is_active(expr) => {
                self.lower_expr(expr).map(drop)
            }
            expr => {
                self.check_passive(expr)?;
                let tokens = self.substitute(expr)?;
                self.steps.push(Step::Effect(tokens));
                Ok(())
            }
        }
    }

    fn assigned_local(&self, target: &Expr) -> syn::Result<Ident> {
        match self.local_ident(target) {
            Some(ident) => Ok(ident.clone()),
            None => Err(syn::Error::new(
                target.span(),
                "#[differentiable] can only assign to local variables; \
                 assignment to fields, indices or captured references is not supported",
            )),
        }
    }

    // ----- expressions -----

    fn lower_expr(&mut self, expr: &Expr) -> syn::Result<Operand> {
        match expr {
            Expr::Paren(paren) => return self.lower_expr(&paren.expr),
            Expr::Group(group) => return self.lower_expr(&group.expr),
            Expr::Block(block) if block.attrs.is_empty() && block.label.is_none() => {
                self.scopes.push(HashMap::new());
                let value = self.lower_stmts(&block.block.stmts, false);
                self.scopes.pop();
                return match value? {
                    Some(value) => Ok(value),
                    None => Err(syn::Error::new(
                        block.span(),
                        "this block has no value: end it with an expression",
                    )),
                };
            }
            Expr::Path(_) => {
                if let Some(ident) = self.local_ident(expr) {
                    return self
                        .local(ident)
                        .cloned()
                        .flatten()
                        .ok_or_else(|| unassigned_error(ident));
                }
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
                    let operand = self.float_operand(operand);
                    Ok(self.new_var(Op::Neg(operand)))
                }
                _ => Err(syn::Error::new(
                    unary.op.span(),
                    "this operator cannot be applied to an active (differentiated) value",
                )),
            },
            Expr::Binary(binary) => {
                if is_compound_assignment(&binary.op) {
                    return Err(nested_assignment_error(binary.span()));
                }
                let lhs = self.lower_expr(&binary.left)?;
                let rhs = self.lower_expr(&binary.right)?;
                self.binary(&binary.op, lhs, rhs)
            }
            Expr::MethodCall(call) => self.lower_method_call(call),
            Expr::Call(call) => self.lower_call(call),
            Expr::Cast(cast) => Err(syn::Error::new(
                cast.as_token.span(),
                "an `as` cast of an active value is not differentiable; keep one float type \
                 throughout, or wrap the value in `no_grad(..)` to use it as a constant",
            )),
            Expr::Assign(assign) => Err(nested_assignment_error(assign.span())),
            other => Err(syn::Error::new(
                other.span(),
                "this expression is not supported by #[differentiable]; supported are \
                 arithmetic (+ - * /, unary -), elementary functions, local variables, \
                 literals, constants and blocks",
            )),
        }
    }

    /// Applies a binary arithmetic operator (plain or compound) to two operands.
    fn binary(&mut self, op: &BinOp, lhs: Operand, rhs: Operand) -> syn::Result<Operand> {
        let build: fn(Operand, Operand) -> Op = match op {
            BinOp::Add(_) | BinOp::AddAssign(_) => Op::Add,
            BinOp::Sub(_) | BinOp::SubAssign(_) => Op::Sub,
            BinOp::Mul(_) | BinOp::MulAssign(_) => Op::Mul,
            BinOp::Div(_) | BinOp::DivAssign(_) => Op::Div,
            other => {
                return Err(syn::Error::new(
                    other.span(),
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
        let lhs = self.float_operand(lhs);
        let rhs = self.float_operand(rhs);
        Ok(self.new_var(build(lhs, rhs)))
    }

    fn lower_method_call(&mut self, call: &ExprMethodCall) -> syn::Result<Operand> {
        let name = call.method.to_string();
        if PREDICATES.contains(&name.as_str()) {
            return self.passive(&Expr::MethodCall(call.clone()), None);
        }
        let Some(rule) = rules::lookup(&name) else {
            return Err(unknown_function_error(call.method.span(), &name));
        };
        if let Some(turbofish) = &call.turbofish {
            return Err(syn::Error::new(
                turbofish.span(),
                "elementary functions take no type arguments",
            ));
        }
        let operands: Vec<&Expr> = std::iter::once(&*call.receiver)
            .chain(call.args.iter())
            .collect();
        self.elementary(rule, &operands, call.span())
    }

    fn lower_call(&mut self, call: &ExprCall) -> syn::Result<Operand> {
        let Expr::Path(path) = &*call.func else {
            return Err(syn::Error::new(
                call.func.span(),
                "#[differentiable] can only differentiate calls to named functions",
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
                return self.elementary(rule, &operands, call.span());
            }
        }
        Err(unknown_function_error(
            path.span(),
            &path.path.to_token_stream().to_string().replace(' ', ""),
        ))
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
        span: Span,
    ) -> syn::Result<Operand> {
        if exprs.len() != rule.operands.len() {
            return Err(syn::Error::new(
                span,
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
            let operand = self.lower_expr(expr)?;
            let operand = match kind {
                OperandKind::Float => self.float_operand(operand),
                OperandKind::Int => match operand {
                    Operand::Var(_) => {
                        return Err(syn::Error::new(
                            expr.span(),
                            format!(
                                "the integer exponent of `{}` cannot be an active value",
                                rule.name
                            ),
                        ))
                    }
                    constant => self.type_operand(constant, quote!(i32)),
                },
            };
            args.push(operand);
        }
        if matches!(rule.derivative, Derivative::Zero) {
            let real = self.spec.real();
            let name = format_ident!("{}", rule.name);
            let tokens = args.iter().map(|arg| self.operand_tokens(arg));
            let expr = quote!(#real::#name(#(#tokens),*));
            return Ok(self.new_const(expr, Some(self.spec.float.to_token_stream())));
        }
        Ok(self.new_var(Op::Call { rule, args }))
    }
}

fn is_compound_assignment(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_)
            | BinOp::RemAssign(_)
            | BinOp::BitXorAssign(_)
            | BinOp::BitAndAssign(_)
            | BinOp::BitOrAssign(_)
            | BinOp::ShlAssign(_)
            | BinOp::ShrAssign(_)
    )
}

fn binary_symbol(op: &BinOp) -> TokenStream {
    match op {
        BinOp::Add(_) | BinOp::AddAssign(_) => quote!(+),
        BinOp::Sub(_) | BinOp::SubAssign(_) => quote!(-),
        BinOp::Mul(_) | BinOp::MulAssign(_) => quote!(*),
        BinOp::Div(_) | BinOp::DivAssign(_) => quote!(/),
        other => other.to_token_stream(),
    }
}

/// Comparisons and logic produce booleans: passive whatever they read.
fn is_boolean(expr: &Expr) -> bool {
    match expr {
        Expr::Binary(binary) => matches!(
            binary.op,
            BinOp::Eq(_)
                | BinOp::Ne(_)
                | BinOp::Lt(_)
                | BinOp::Le(_)
                | BinOp::Gt(_)
                | BinOp::Ge(_)
                | BinOp::And(_)
                | BinOp::Or(_)
        ),
        Expr::Unary(unary) => matches!(unary.op, UnOp::Not(_)),
        _ => false,
    }
}

/// Expressions whose parts must be lowered one by one even when passive,
/// because they bind or assign local names.
fn needs_structure(expr: &Expr) -> bool {
    matches!(expr, Expr::Block(_) | Expr::Assign(_))
        || matches!(expr, Expr::Binary(binary) if is_compound_assignment(&binary.op))
        || unsupported(expr).is_some()
}

/// Constructs rejected wherever they appear, with what to do instead.
fn unsupported(expr: &Expr) -> Option<syn::Error> {
    let control_flow = |span: Span, what: &str| {
        Some(syn::Error::new(
            span,
            format!(
                "{what} is not supported by #[differentiable] yet; the body must be \
                 straight-line code (let bindings, assignments, arithmetic, elementary \
                 functions and blocks)"
            ),
        ))
    };
    match expr {
        Expr::Macro(mac) => Some(macro_error(mac.mac.path.span(), &mac.mac.path)),
        Expr::Unsafe(block) => Some(unsafe_error(block.unsafe_token.span())),
        Expr::If(e) => control_flow(e.if_token.span(), "`if`"),
        Expr::Match(e) => control_flow(e.match_token.span(), "`match`"),
        Expr::ForLoop(e) => control_flow(e.for_token.span(), "a `for` loop"),
        Expr::While(e) => control_flow(e.while_token.span(), "a `while` loop"),
        Expr::Loop(e) => control_flow(e.loop_token.span(), "`loop`"),
        Expr::Break(e) => control_flow(e.break_token.span(), "`break`"),
        Expr::Continue(e) => control_flow(e.continue_token.span(), "`continue`"),
        Expr::Return(e) => Some(syn::Error::new(
            e.return_token.span(),
            "early `return` is not supported by #[differentiable] yet: \
             return only as the last statement of the function body",
        )),
        Expr::Try(e) => control_flow(e.question_token.span(), "the `?` operator"),
        Expr::Async(e) => control_flow(e.async_token.span(), "an `async` block"),
        Expr::Await(e) => control_flow(e.await_token.span(), "`.await`"),
        Expr::Yield(e) => control_flow(e.yield_token.span(), "`yield`"),
        Expr::Block(e) if e.label.is_some() => control_flow(e.span(), "a labelled block"),
        _ => None,
    }
}

fn macro_error(span: Span, path: &syn::Path) -> syn::Error {
    syn::Error::new(
        span,
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

fn nested_assignment_error(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "assignment inside an expression is not supported by #[differentiable]; \
         write the assignment as its own statement",
    )
}

fn pattern_error(span: Span) -> syn::Error {
    syn::Error::new(
        span,
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

fn unknown_function_error(span: Span, name: &str) -> syn::Error {
    syn::Error::new(
        span,
        format!(
            "cannot differentiate through `{name}`: it is not an elementary function \
             (the differentiable ones are {}). Wrap the value in `no_grad(..)` to treat \
             it as a constant, or write the computation with differentiable operations",
            rules::names()
        ),
    )
}
