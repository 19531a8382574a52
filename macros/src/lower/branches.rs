//! Lowering branches: `if`, `match`, and the cells their values merge into.

use super::*;

impl Lowerer<'_> {
    /// Turns the outer variables a construct assigns into cells.
    pub(super) fn cells_for(&mut self, construct: &Expr) -> syn::Result<()> {
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
    pub(super) fn lower_branch(
        &mut self,
        stmts: &[Stmt],
        want_value: bool,
    ) -> syn::Result<(Block, Outcome)> {
        let loop_id = self.block().loop_id;
        let storage = self.nested_storage();
        self.blocks.push(BlockBuilder::new(loop_id, storage));
        let outcome = self.lower_block(stmts, want_value);
        let block = self.blocks.pop().expect("branch block").finish();
        Ok((block, outcome?))
    }

    /// Appends the write of a branch's value to the merge cell.
    pub(super) fn merge_into(&self, block: &mut Block, merge: &Merge, value: Option<Operand>) {
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
    pub(super) fn merge_cell(&mut self, values: &[&Option<Operand>], start: u32) -> Merge {
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

    pub(super) fn merged_value(&mut self, merge: Merge) -> Operand {
        match merge {
            Merge::Active(cell) => self.new_var(Op::Read(cell)),
            Merge::Passive(name) => self.new_const(quote!(#name), None),
        }
    }

    pub(super) fn lower_if(
        &mut self,
        expr: &syn::ExprIf,
        want_value: bool,
    ) -> syn::Result<Option<Operand>> {
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

    pub(super) fn lower_match(
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
}

/// Where the value of an `if` or `match` used as an expression goes.
pub(super) enum Merge {
    Active(CellId),
    Passive(Ident),
}
