//! Lowering expressions: arithmetic, locals, places in aggregates, indices.

use super::*;

impl Lowerer<'_> {
    pub(super) fn lower_expr(&mut self, expr: &Expr) -> syn::Result<Operand> {
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

    pub(super) fn read_local(&mut self, ident: &Ident) -> syn::Result<Operand> {
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
    pub(super) fn place_of(&mut self, expr: &Expr) -> syn::Result<Option<Place>> {
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
    pub(super) fn is_local_array(&self, place: &Place) -> bool {
        let base = place.base.to_string();
        self.array_tangents.iter().any(|(name, _)| *name == base)
    }

    /// An index: passive, evaluated on primal values.
    pub(super) fn index_operand(&mut self, expr: &Expr) -> syn::Result<Operand> {
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
    pub(super) fn binary(
        &mut self,
        op: &BinOp,
        lhs: Operand,
        rhs: Operand,
    ) -> syn::Result<Operand> {
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
}
