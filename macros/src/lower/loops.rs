//! Lowering loops: `for`, `while`, `loop`, their exits, and iteration over
//! aggregates by index.

use super::*;

impl Lowerer<'_> {
    /// Registers a loop and lowers its body; `prelude` binds the loop's
    /// pattern at the start of the body.
    pub(super) fn lower_loop_body(
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

    pub(super) fn lower_for(&mut self, expr: &syn::ExprForLoop) -> syn::Result<()> {
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

    pub(super) fn lower_while(&mut self, expr: &syn::ExprWhile) -> syn::Result<()> {
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

    pub(super) fn lower_loop(&mut self, expr: &syn::ExprLoop) -> syn::Result<()> {
        self.cells_for(&Expr::Loop(expr.clone()))?;
        self.lower_loop_body(
            expr.label.as_ref(),
            LoopHead::Loop,
            |_| Ok(()),
            &expr.body.stmts,
        )
    }

    pub(super) fn lower_exit(
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
    pub(super) fn active_source(&mut self, iter: &Expr) -> syn::Result<Option<Source>> {
        let source = self.source(iter)?;
        Ok(source.filter(Source::is_active))
    }

    pub(super) fn source(&mut self, expr: &Expr) -> syn::Result<Option<Source>> {
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

    pub(super) fn leaf_source(&mut self, expr: &Expr) -> syn::Result<Option<Source>> {
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
    pub(super) fn bind_source(
        &mut self,
        source: &Source,
        pat: &Pat,
        index: &TokenStream,
    ) -> syn::Result<()> {
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

/// An iterator over aggregates, driven by index.
pub(super) enum Source {
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

/// `pat` with every binding renamed to a fresh name.
/// The fresh names contain `tag`, unique per pattern.
pub(super) fn rename_pattern(pat: &Pat, tag: usize) -> (Pat, Vec<(Ident, Ident)>) {
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
pub(super) fn is_range_iterator(expr: &Expr) -> bool {
    match strip_parens(expr) {
        Expr::Range(_) => true,
        Expr::MethodCall(call) => is_range_iterator(&call.receiver),
        _ => false,
    }
}
