//! Expression trees compiled into a tape: one instruction per operation,
//! each writing its own slot, run forward and then backward over
//! [`BatchLanes`](crate::lanes::BatchLanes) (sixteen rows at a time).
//!
//! Slots are laid out as the parents, the parameters, the constants, then
//! one per instruction. A [`Workspace`] holds one lane vector per slot
//! (values and adjoints), allocated once per chunk of rows and reused for
//! every group of lanes in it, so evaluation allocates nothing per row.
//!
//! Where a formula holds an `if`, the reverse sweep multiplies each
//! cotangent only where it is not zero: the arm not taken gets a zero
//! cotangent, and its partial derivatives may be infinite or NaN there
//! (`if(x > 0, sqrt(x), 0)` at `x < 0`), which must not reach the
//! gradient as `0 · NaN`.

use wide::f32x16;

use super::functions::Function;
use super::parse::{Arithmetic, Comparison, Expr};
// `BatchLanes`, by the name of its tuple struct (so lanes can be built
// from `wide` masks).
use crate::lanes::F32x16 as L;
use crate::real::Real;

/// One operation of a tape; operands are slot numbers.
#[derive(Clone, Copy, Debug)]
enum Instr {
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    Neg(u32),
    Powi(u32, i32),
    Unary(Function, u32),
    Binary(Function, u32, u32),
    Ternary(Function, u32, u32, u32),
    Compare(Comparison, u32, u32),
    /// `if(c, a, b)`.
    Select(u32, u32, u32),
}

/// A compiled set of formulas over the same parents and parameters.
#[derive(Clone, Debug)]
pub(crate) struct Tape {
    inputs: usize,
    params: usize,
    constants: Vec<f32>,
    instrs: Vec<Instr>,
    /// Each formula's result slot.
    outputs: Vec<u32>,
    /// Whether cotangents are masked where zero (the tape has an `if`).
    guarded: bool,
}

/// The values and adjoints of every slot, for one group of lanes.
pub(crate) struct Workspace {
    values: Vec<L>,
    adjoints: Vec<L>,
}

impl Tape {
    /// Compiles `formulas` over `inputs` parents and `params` parameters.
    pub(crate) fn compile(formulas: &[Expr], inputs: usize, params: usize) -> Tape {
        let mut tape = Tape {
            inputs,
            params,
            constants: Vec::new(),
            instrs: Vec::new(),
            outputs: Vec::new(),
            guarded: false,
        };
        for formula in formulas {
            let slot = tape.emit(formula);
            tape.outputs.push(slot);
        }
        // Constants were numbered as they came; instructions follow them.
        let shift = tape.constants.len() as u32;
        let first_op = (inputs + params) as u32;
        let relocate = |slot: &mut u32| {
            if *slot >= first_op + OP_BASE {
                *slot = *slot - OP_BASE + shift;
            }
        };
        for instr in &mut tape.instrs {
            for slot in instr.slots_mut() {
                relocate(slot);
            }
        }
        tape.outputs.iter_mut().for_each(relocate);
        tape
    }

    /// The number of formulas (outputs per row).
    pub(crate) fn outputs(&self) -> usize {
        self.outputs.len()
    }

    fn slots(&self) -> usize {
        self.inputs + self.params + self.constants.len() + self.instrs.len()
    }

    fn first_constant(&self) -> usize {
        self.inputs + self.params
    }

    fn first_op(&self) -> usize {
        self.inputs + self.params + self.constants.len()
    }

    /// Emits `expr`, returning its slot. Instruction slots are numbered
    /// from `inputs + params + OP_BASE` until [`Tape::compile`] knows how
    /// many constants there are.
    fn emit(&mut self, expr: &Expr) -> u32 {
        let instr = match expr {
            Expr::Number(value) => {
                let slot = self.first_constant() + self.constants.len();
                self.constants.push(*value as f32);
                return slot as u32;
            }
            Expr::Input(i) => return *i as u32,
            Expr::Param(i) => return (self.inputs + i) as u32,
            Expr::Neg(a) => Instr::Neg(self.emit(a)),
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.emit(a), self.emit(b));
                match op {
                    Arithmetic::Add => Instr::Add(a, b),
                    Arithmetic::Sub => Instr::Sub(a, b),
                    Arithmetic::Mul => Instr::Mul(a, b),
                    Arithmetic::Div => Instr::Div(a, b),
                    Arithmetic::Pow => Instr::Binary(Function::Powf, a, b),
                }
            }
            Expr::Compare(op, a, b) => {
                let (a, b) = (self.emit(a), self.emit(b));
                Instr::Compare(*op, a, b)
            }
            Expr::Powi(a, n) => Instr::Powi(self.emit(a), *n),
            Expr::Call(function, args) => {
                let slots: Vec<u32> = args.iter().map(|arg| self.emit(arg)).collect();
                match slots[..] {
                    [a] => Instr::Unary(*function, a),
                    [a, b] => Instr::Binary(*function, a, b),
                    [a, b, c] => Instr::Ternary(*function, a, b, c),
                    _ => unreachable!("the parser checks operand counts"),
                }
            }
            Expr::If(c, a, b) => {
                self.guarded = true;
                let (c, a, b) = (self.emit(c), self.emit(a), self.emit(b));
                Instr::Select(c, a, b)
            }
        };
        self.instrs.push(instr);
        (self.inputs + self.params) as u32 + OP_BASE + self.instrs.len() as u32 - 1
    }

    /// A workspace with `params` and the constants in place.
    pub(crate) fn workspace(&self, params: &[f32]) -> Workspace {
        let mut values = vec![L::splat(0.0); self.slots()];
        for (slot, value) in values[self.inputs..].iter_mut().zip(params) {
            *slot = L::splat(*value);
        }
        for (slot, value) in values[self.first_constant()..]
            .iter_mut()
            .zip(&self.constants)
        {
            *slot = L::splat(*value);
        }
        Workspace {
            adjoints: vec![L::splat(0.0); self.slots()],
            values,
        }
    }

    /// Loads rows `start..start + count` (`count ≤ 16`) of the parents;
    /// lanes past `count` repeat the last row, so they stay finite
    /// wherever the rows are.
    pub(crate) fn load(
        &self,
        work: &mut Workspace,
        parents: &[&[f32]],
        start: usize,
        count: usize,
    ) {
        for (slot, column) in work.values.iter_mut().zip(parents) {
            *slot = if count == L::LANES {
                L::from_slice(&column[start..])
            } else {
                let last = column[start + count - 1];
                L::from_array(core::array::from_fn(|i| {
                    if i < count {
                        column[start + i]
                    } else {
                        last
                    }
                }))
            };
        }
    }

    /// Runs the tape forward over the loaded lanes.
    pub(crate) fn forward(&self, work: &mut Workspace) {
        let first = self.first_op();
        let v = &mut work.values;
        for (i, instr) in self.instrs.iter().enumerate() {
            let value = match *instr {
                Instr::Add(a, b) => v[a as usize] + v[b as usize],
                Instr::Sub(a, b) => v[a as usize] - v[b as usize],
                Instr::Mul(a, b) => v[a as usize] * v[b as usize],
                Instr::Div(a, b) => v[a as usize] / v[b as usize],
                Instr::Neg(a) => -v[a as usize],
                Instr::Powi(a, n) => powi(v[a as usize], n),
                Instr::Unary(f, a) => unary(f, v[a as usize]),
                Instr::Binary(f, a, b) => binary(f, v[a as usize], v[b as usize]),
                Instr::Ternary(f, a, b, c) => {
                    ternary(f, v[a as usize], v[b as usize], v[c as usize])
                }
                Instr::Compare(op, a, b) => compare(op, v[a as usize], v[b as usize]),
                Instr::Select(c, a, b) => {
                    let taken = v[c as usize].0.simd_ne(f32x16::splat(0.0));
                    L(taken.bitselect(v[a as usize].0, v[b as usize].0))
                }
            };
            v[first + i] = value;
        }
    }

    /// Formula `h`'s values after [`Tape::forward`].
    pub(crate) fn output(&self, work: &Workspace, h: usize) -> L {
        work.values[self.outputs[h] as usize]
    }

    /// Runs the tape backward from `seeds` (one per formula) after
    /// [`Tape::forward`]; the parents' and parameters' cotangents are then
    /// [`Tape::input_adjoint`] and [`Tape::param_adjoint`].
    pub(crate) fn reverse(&self, work: &mut Workspace, seeds: &[L]) {
        work.adjoints.fill(L::splat(0.0));
        for (&slot, &seed) in self.outputs.iter().zip(seeds) {
            work.adjoints[slot as usize] += seed;
        }
        let first = self.first_op();
        let (v, adj) = (&work.values, &mut work.adjoints);
        let guarded = self.guarded;
        // `g · d`, zero where `g` is (see the module docs) when guarded.
        let times = |g: L, d: L| -> L {
            if guarded {
                L(g.0
                    .simd_eq(f32x16::splat(0.0))
                    .bitselect(f32x16::splat(0.0), (g * d).0))
            } else {
                g * d
            }
        };
        for (i, instr) in self.instrs.iter().enumerate().rev() {
            let y = v[first + i];
            let g = adj[first + i];
            match *instr {
                Instr::Add(a, b) => {
                    adj[a as usize] += g;
                    adj[b as usize] += g;
                }
                Instr::Sub(a, b) => {
                    adj[a as usize] += g;
                    adj[b as usize] -= g;
                }
                Instr::Mul(a, b) => {
                    let (va, vb) = (v[a as usize], v[b as usize]);
                    adj[a as usize] += times(g, vb);
                    adj[b as usize] += times(g, va);
                }
                Instr::Div(a, b) => {
                    let vb = v[b as usize];
                    let ga = times(g, vb.recip());
                    adj[a as usize] += ga;
                    adj[b as usize] -= times(ga, y);
                }
                Instr::Neg(a) => adj[a as usize] -= g,
                Instr::Powi(a, n) => {
                    let d = L::splat(n as f32) * powi(v[a as usize], n - 1);
                    adj[a as usize] += times(g, d);
                }
                Instr::Unary(f, a) => {
                    let d = unary_derivative(f, v[a as usize], y);
                    adj[a as usize] += times(g, d);
                }
                Instr::Binary(f, a, b) => {
                    let (da, db) = binary_derivative(f, v[a as usize], v[b as usize], y);
                    adj[a as usize] += times(g, da);
                    adj[b as usize] += times(g, db);
                }
                Instr::Ternary(f, a, b, c) => {
                    let (da, db, dc) =
                        ternary_derivative(f, v[a as usize], v[b as usize], v[c as usize]);
                    adj[a as usize] += times(g, da);
                    adj[b as usize] += times(g, db);
                    adj[c as usize] += times(g, dc);
                }
                Instr::Compare(..) => {}
                Instr::Select(c, a, b) => {
                    let taken = v[c as usize].0.simd_ne(f32x16::splat(0.0));
                    let zero = f32x16::splat(0.0);
                    adj[a as usize] += L(taken.bitselect(g.0, zero));
                    adj[b as usize] += L(taken.bitselect(zero, g.0));
                }
            }
        }
    }

    /// Parent `i`'s cotangent after [`Tape::reverse`].
    pub(crate) fn input_adjoint(&self, work: &Workspace, i: usize) -> L {
        work.adjoints[i]
    }

    /// Parameter `j`'s cotangent after [`Tape::reverse`].
    pub(crate) fn param_adjoint(&self, work: &Workspace, j: usize) -> L {
        work.adjoints[self.inputs + j]
    }
}

/// Instruction slots are numbered from here during compilation.
const OP_BASE: u32 = 1 << 30;

impl Instr {
    fn slots_mut(&mut self) -> Vec<&mut u32> {
        match self {
            Instr::Add(a, b)
            | Instr::Sub(a, b)
            | Instr::Mul(a, b)
            | Instr::Div(a, b)
            | Instr::Binary(_, a, b)
            | Instr::Compare(_, a, b) => vec![a, b],
            Instr::Neg(a) | Instr::Powi(a, _) | Instr::Unary(_, a) => vec![a],
            Instr::Ternary(_, a, b, c) | Instr::Select(a, b, c) => vec![a, b, c],
        }
    }
}

#[inline]
fn powi(x: L, n: i32) -> L {
    match n {
        0 => L::splat(1.0),
        1 => x,
        2 => x * x,
        3 => x * x * x,
        _ => x.powi(n),
    }
}

fn max(a: L, b: L) -> L {
    L(a.0.max(b.0))
}

fn min(a: L, b: L) -> L {
    L(a.0.min(b.0))
}

fn unary(f: Function, x: L) -> L {
    use Function::*;
    match f {
        Sqrt => x.sqrt(),
        Cbrt => x.cbrt(),
        Exp => x.exp(),
        Exp2 => x.exp2(),
        ExpM1 => x.exp_m1(),
        Ln => x.ln(),
        Log2 => x.log2(),
        Log10 => x.log10(),
        Ln1p => x.ln_1p(),
        Sin => x.sin(),
        Cos => x.cos(),
        Tan => x.tan(),
        Asin => x.asin(),
        Acos => x.acos(),
        Atan => x.atan(),
        Sinh => x.sinh(),
        Cosh => x.cosh(),
        Tanh => Real::tanh(x),
        Asinh => x.asinh(),
        Acosh => x.acosh(),
        Atanh => x.atanh(),
        Abs => x.abs(),
        Signum => x.signum(),
        Recip => x.recip(),
        Sigmoid => x.sigmoid(),
        Softplus => x.softplus(),
        _ => unreachable!("{f:?} is not unary"),
    }
}

fn binary(f: Function, a: L, b: L) -> L {
    use Function::*;
    match f {
        Powf => a.powf(b),
        Log => a.log(b),
        Atan2 => a.atan2(b),
        Max => max(a, b),
        Min => min(a, b),
        Hypot => a.hypot(b),
        _ => unreachable!("{f:?} is not binary"),
    }
}

fn ternary(f: Function, a: L, b: L, c: L) -> L {
    match f {
        Function::MulAdd => a * b + c,
        // `min(max(x, lo), hi)`: defined (no panic) when `lo > hi`.
        Function::Clamp => min(max(a, b), c),
        _ => unreachable!("{f:?} is not ternary"),
    }
}

fn compare(op: Comparison, a: L, b: L) -> L {
    let (a, b) = (a.0, b.0);
    let mask = match op {
        Comparison::Less => a.simd_lt(b),
        Comparison::LessEqual => a.simd_le(b),
        Comparison::Greater => a.simd_gt(b),
        Comparison::GreaterEqual => a.simd_ge(b),
        Comparison::Equal => a.simd_eq(b),
        Comparison::NotEqual => a.simd_ne(b),
    };
    L(mask.bitselect(f32x16::splat(1.0), f32x16::splat(0.0)))
}

/// `dy/dx` of a unary function at `x`, `y = f(x)`; the same rules as the
/// macro's table.
fn unary_derivative(f: Function, x: L, y: L) -> L {
    use Function::*;
    let one = L::splat(1.0);
    match f {
        Sqrt => one / (y + y),
        Cbrt => one / (L::splat(3.0) * y * y),
        Exp => y,
        Exp2 => y * L::splat(core::f32::consts::LN_2),
        ExpM1 => y + one,
        Ln => x.recip(),
        Log2 => one / (x * L::splat(core::f32::consts::LN_2)),
        Log10 => one / (x * L::splat(core::f32::consts::LN_10)),
        Ln1p => one / (x + one),
        Sin => x.cos(),
        Cos => -x.sin(),
        Tan => one + y * y,
        Asin => one / (one - x * x).sqrt(),
        Acos => -(one / (one - x * x).sqrt()),
        Atan => one / (one + x * x),
        Sinh => x.cosh(),
        Cosh => x.sinh(),
        Tanh => one - y * y,
        Asinh => one / (x * x + one).sqrt(),
        Acosh => one / (x * x - one).sqrt(),
        Atanh => one / (one - x * x),
        Abs => x.sign(),
        Signum => L::splat(0.0),
        Recip => -(y * y),
        Sigmoid => y * (one - y),
        Softplus => x.sigmoid(),
        _ => unreachable!("{f:?} is not unary"),
    }
}

/// The partial derivatives of a binary function at `(a, b)`, `y = f(a, b)`.
fn binary_derivative(f: Function, a: L, b: L, y: L) -> (L, L) {
    use Function::*;
    let half = L::splat(0.5);
    match f {
        Powf => (b * a.powf(b - L::splat(1.0)), y * a.ln()),
        Log => {
            let ln_b = b.ln();
            (one_over(a * ln_b), -(y / (b * ln_b)))
        }
        Atan2 => {
            let r2 = a * a + b * b;
            (b / r2, -(a / r2))
        }
        Max => {
            let s = (a - b).sign();
            (half + half * s, half - half * s)
        }
        Min => {
            let s = (a - b).sign();
            (half - half * s, half + half * s)
        }
        Hypot => (a / y, b / y),
        _ => unreachable!("{f:?} is not binary"),
    }
}

fn one_over(x: L) -> L {
    L::splat(1.0) / x
}

/// The partial derivatives of a ternary function at `(a, b, c)`.
fn ternary_derivative(f: Function, a: L, b: L, c: L) -> (L, L, L) {
    let half = L::splat(0.5);
    match f {
        Function::MulAdd => (b, a, L::splat(1.0)),
        Function::Clamp => {
            let (lo, hi) = ((a - b).sign(), (a - c).sign());
            (
                (half + half * lo) * (half - half * hi),
                half - half * lo,
                half + half * hi,
            )
        }
        _ => unreachable!("{f:?} is not ternary"),
    }
}
