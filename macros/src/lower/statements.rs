//! Lowering statements: `let`, local buffers, assignments, the function's
//! result.

use super::*;

impl Lowerer<'_> {
    /// The function body: statements, then the returned value(s).
    pub(super) fn lower_fn_body(
        &mut self,
        stmts: &[Stmt],
        end: Span,
    ) -> syn::Result<Option<Vec<Operand>>> {
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
    pub(super) fn lower_output(&mut self, expr: &Expr) -> syn::Result<Vec<Operand>> {
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

    pub(super) fn lower_stmt(&mut self, stmt: &Stmt) -> syn::Result<()> {
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
    pub(super) fn lower_block(&mut self, stmts: &[Stmt], want_value: bool) -> syn::Result<Outcome> {
        self.scopes.push(HashMap::new());
        let result = self.lower_block_stmts(stmts, want_value);
        self.scopes.pop();
        result
    }

    pub(super) fn lower_block_stmts(
        &mut self,
        stmts: &[Stmt],
        want_value: bool,
    ) -> syn::Result<Outcome> {
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
    pub(super) fn lower_stmt_or_record(&mut self, stmt: &Stmt) {
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

    pub(super) fn lower_local(&mut self, local: &Local) -> syn::Result<()> {
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
    pub(super) fn lower_array(
        &mut self,
        init: &Expr,
        ty: Option<TokenStream>,
    ) -> syn::Result<Binding> {
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
                (_, Some(VecBody::Repeat { value, count })) => {
                    (Some((&**value, &**count, true)), None)
                }
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
    pub(super) fn lower_push(
        &mut self,
        place: Place,
        call: &ExprMethodCall,
    ) -> syn::Result<Operand> {
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
    pub(super) fn lower_bound_value(
        &mut self,
        expr: &Expr,
        ty: Option<TokenStream>,
    ) -> syn::Result<Operand> {
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

    pub(super) fn lower_effect(&mut self, expr: &Expr) -> syn::Result<()> {
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

    pub(super) fn lower_assign(
        &mut self,
        target: &Expr,
        value: &Expr,
        op: Option<&BinOp>,
    ) -> syn::Result<()> {
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
}
