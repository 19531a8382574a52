//! Activity analysis: which values depend on the active arguments.
//!
//! Lowering decides activity precisely for immutable values as it goes. A
//! variable assigned inside a branch or a loop (a cell) must be declared
//! active or passive before the construct is lowered, so a flow-insensitive
//! pass over the whole body computes, by name, every variable that may ever
//! hold a value depending on an active argument. It over-approximates
//! (a name reused for a constant elsewhere is still active), which costs at
//! most a few needless adjoint operations, never a wrong gradient.
//!
//! Reads that cannot carry a derivative do not count: comparisons, indices,
//! lengths, casts to integers, and anything under `no_grad(..)`.

use std::collections::HashSet;

use syn::visit::Visit;
use syn::{BinOp, Expr, Ident, Pat, Stmt};

use crate::parse::FnSpec;

/// Names that may be active, and names assigned element by element.
pub(crate) struct Activity {
    pub active: HashSet<String>,
    pub element_assigned: HashSet<String>,
}

/// Runs the analysis over `body`.
pub(crate) fn analyse(spec: &FnSpec, body: &syn::Block) -> Activity {
    let mut flows = Flows::default();
    for stmt in &body.stmts {
        flows.visit_stmt(stmt);
    }
    let mut active: HashSet<String> = spec
        .active_args()
        .map(|arg| arg.ident.to_string())
        .collect();
    loop {
        let before = active.len();
        for (name, source) in &flows.flows {
            if !active.contains(name)
                && mentions(source, &|ident: &Ident| active.contains(&ident.to_string()))
            {
                active.insert(name.clone());
            }
        }
        if active.len() == before {
            break;
        }
    }
    Activity {
        active,
        element_assigned: flows.element_assigned,
    }
}

/// Every `name <- expression` flow in a body.
#[derive(Default)]
struct Flows<'ast> {
    flows: Vec<(String, &'ast Expr)>,
    element_assigned: HashSet<String>,
}

impl<'ast> Flows<'ast> {
    fn assign(&mut self, target: &'ast Expr, source: &'ast Expr) {
        let (root, element) = root_of(target);
        if let Some(root) = root {
            if element {
                self.element_assigned.insert(root.clone());
            }
            self.flows.push((root, source));
        }
    }

    fn bind_pattern(&mut self, pat: &'ast Pat, source: &'ast Expr) {
        for name in pattern_names(pat) {
            self.flows.push((name, source));
        }
    }
}

impl<'ast> Visit<'ast> for Flows<'ast> {
    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let Some(init) = &local.init {
            self.bind_pattern(&local.pat, &init.expr);
        }
        syn::visit::visit_local(self, local);
    }

    fn visit_expr(&mut self, expr: &'ast Expr) {
        match expr {
            Expr::Assign(assign) => self.assign(&assign.left, &assign.right),
            Expr::Binary(binary) if is_compound_assignment(&binary.op) => {
                self.assign(&binary.left, &binary.right);
            }
            Expr::ForLoop(for_loop) => self.bind_pattern(&for_loop.pat, &for_loop.expr),
            Expr::MethodCall(call) if call.method == "push" && call.args.len() == 1 => {
                if let (Some(root), _) = root_of(&call.receiver) {
                    self.element_assigned.insert(root.clone());
                    self.flows.push((root, &call.args[0]));
                }
            }
            _ => {}
        }
        syn::visit::visit_expr(self, expr);
    }

    fn visit_stmt(&mut self, stmt: &'ast Stmt) {
        syn::visit::visit_stmt(self, stmt);
    }
}

/// The local an assignment target writes, and whether it writes an element.
fn root_of(target: &Expr) -> (Option<String>, bool) {
    match target {
        Expr::Path(path) => (path.path.get_ident().map(ToString::to_string), false),
        Expr::Paren(paren) => root_of(&paren.expr),
        Expr::Index(index) => (root_of(&index.expr).0, true),
        Expr::Field(field) => (root_of(&field.base).0, true),
        Expr::Unary(unary) => root_of(&unary.expr),
        _ => (None, false),
    }
}

/// The names a pattern binds, in order.
pub(crate) fn pattern_names(pat: &Pat) -> Vec<String> {
    let mut names = Vec::new();
    collect_pattern_names(pat, &mut names);
    names
}

fn collect_pattern_names(pat: &Pat, out: &mut Vec<String>) {
    struct Names<'o> {
        out: &'o mut Vec<String>,
    }
    impl<'ast> Visit<'ast> for Names<'_> {
        fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
            self.out.push(pat.ident.to_string());
            syn::visit::visit_pat_ident(self, pat);
        }
    }
    Names { out }.visit_pat(pat);
}

pub(crate) fn is_compound_assignment(op: &BinOp) -> bool {
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

/// Comparisons and logic: their result is a `bool`, passive whatever they read.
pub(crate) fn is_boolean_op(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq(_)
            | BinOp::Ne(_)
            | BinOp::Lt(_)
            | BinOp::Le(_)
            | BinOp::Gt(_)
            | BinOp::Ge(_)
            | BinOp::And(_)
            | BinOp::Or(_)
    )
}

/// Methods whose result carries no derivative (booleans, lengths, bits).
pub(crate) const NON_DIFFERENTIABLE_METHODS: &[&str] = &[
    "len",
    "is_empty",
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

const INTEGER_TYPES: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "bool",
];

/// Whether `expr` reads a name for which `active` holds, through a path
/// that can carry a derivative.
pub(crate) fn mentions(expr: &Expr, active: &dyn Fn(&Ident) -> bool) -> bool {
    struct Finder<'f> {
        active: &'f dyn Fn(&Ident) -> bool,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_expr(&mut self, expr: &'ast Expr) {
            if self.found {
                return;
            }
            match expr {
                Expr::Path(path) => {
                    if let Some(ident) = path.path.get_ident().filter(|_| path.qself.is_none()) {
                        self.found |= (self.active)(ident);
                    }
                }
                Expr::Call(call) => {
                    let stops = matches!(&*call.func, Expr::Path(path)
                    if path.path.segments.last().is_some_and(|segment| {
                        segment.ident == "no_grad" || segment.ident == "stop_gradient"
                    }));
                    if !stops {
                        syn::visit::visit_expr_call(self, call);
                    }
                }
                Expr::MethodCall(call) => {
                    let name = call.method.to_string();
                    if !NON_DIFFERENTIABLE_METHODS.contains(&name.as_str()) {
                        syn::visit::visit_expr_method_call(self, call);
                    }
                }
                Expr::Binary(binary) if is_boolean_op(&binary.op) => {}
                Expr::Index(index) => self.visit_expr(&index.expr),
                Expr::Cast(cast) => {
                    let to_integer = matches!(&*cast.ty, syn::Type::Path(path)
                    if path.path.get_ident().is_some_and(|ident| {
                        INTEGER_TYPES.iter().any(|name| ident == name)
                    }));
                    if !to_integer {
                        self.visit_expr(&cast.expr);
                    }
                }
                Expr::Macro(mac) => match vec_body(&mac.mac) {
                    Some(VecBody::List(elements)) => {
                        elements.iter().for_each(|element| self.visit_expr(element))
                    }
                    Some(VecBody::Repeat { value, .. }) => self.visit_expr(&value),
                    None => {}
                },
                Expr::Repeat(repeat) => self.visit_expr(&repeat.expr),
                Expr::Closure(_) => {}
                _ => syn::visit::visit_expr(self, expr),
            }
        }
    }
    let mut finder = Finder {
        active,
        found: false,
    };
    finder.visit_expr(expr);
    finder.found
}

/// Names assigned as a whole (`x = ..`, `x += ..`) anywhere inside `expr`,
/// in order of first appearance.
pub(crate) fn assigned_names(expr: &Expr) -> Vec<String> {
    struct Finder {
        names: Vec<String>,
    }
    impl Finder {
        fn add(&mut self, target: &Expr) {
            if let Expr::Path(path) = target {
                if let Some(ident) = path.path.get_ident() {
                    let name = ident.to_string();
                    if !self.names.contains(&name) {
                        self.names.push(name);
                    }
                }
            }
        }
    }
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr(&mut self, expr: &'ast Expr) {
            match expr {
                Expr::Assign(assign) => self.add(&assign.left),
                Expr::Binary(binary) if is_compound_assignment(&binary.op) => {
                    self.add(&binary.left)
                }
                Expr::Closure(_) => return,
                _ => {}
            }
            syn::visit::visit_expr(self, expr);
        }
    }
    let mut finder = Finder { names: Vec::new() };
    finder.visit_expr(expr);
    finder.names
}

/// The body of a `vec![..]` macro.
pub(crate) enum VecBody {
    /// `vec![a, b, c]`
    List(Vec<Expr>),
    /// `vec![value; count]`
    Repeat { value: Box<Expr>, count: Box<Expr> },
}

/// The body of `mac` if it is a `vec![..]` of expressions.
pub(crate) fn vec_body(mac: &syn::Macro) -> Option<VecBody> {
    if !mac.path.is_ident("vec") {
        return None;
    }
    let repeat = |input: syn::parse::ParseStream| {
        let value = Box::new(input.parse()?);
        input.parse::<syn::Token![;]>()?;
        let count = Box::new(input.parse()?);
        Ok(VecBody::Repeat { value, count })
    };
    if let Ok(body) = syn::parse::Parser::parse2(repeat, mac.tokens.clone()) {
        return Some(body);
    }
    mac.parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
        .ok()
        .map(|list| VecBody::List(list.into_iter().collect()))
}
