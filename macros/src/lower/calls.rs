//! Lowering calls: methods, elementary functions, other `#[differentiable]`
//! functions.

use super::*;

impl Lowerer<'_> {
    pub(super) fn lower_method_call(&mut self, call: &ExprMethodCall) -> syn::Result<Operand> {
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

    pub(super) fn lower_call(&mut self, call: &ExprCall) -> syn::Result<Operand> {
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

    pub(super) fn lower_diff_call<'e>(
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
                    let snapshot = self
                        .is_local_array(&place)
                        .then(|| self.fresh(names::SNAPSHOT));
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
    pub(super) fn names_real_method(&self, path: &syn::ExprPath) -> bool {
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

    pub(super) fn elementary(
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
}
