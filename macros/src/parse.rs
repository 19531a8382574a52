//! Reading the annotated function's signature and the attribute's options.
//!
//! The result, [`FnSpec`], says which arguments are active (they receive a
//! gradient) and of what kind (a scalar of the float type, or an aggregate:
//! a `#[derive(Differentiable)]` struct, array, slice or `Vec`), what the
//! float type is (`f32`, `f64` or a generic `T: Real`) and what the function
//! returns. Everything the macro cannot handle in the signature is reported
//! here with the span of the offending token.

use crate::ctxt::Ctxt;
use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericParam, Generics, Ident, ItemFn, Pat, ReturnType, Token, Type, TypeParamBound,
    Visibility, WherePredicate,
};

/// Options of `#[differentiable(...)]`.
#[derive(Default)]
pub(crate) struct Options {
    /// `wrt(a, b)`: the active arguments; `None` means every float argument.
    pub wrt: Option<Vec<Ident>>,
    /// The span of the `wrt(..)` option, for errors about it.
    pub wrt_span: Option<proc_macro2::Span>,
    /// `crate = path`: the path of causalgrad in generated code, for crates
    /// that re-export it; `None` means `::causalgrad`.
    pub krate: Option<syn::Path>,
}

impl Parse for Options {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut options = Options::default();
        while !input.is_empty() {
            let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            if key == "crate" {
                input.parse::<Token![=]>()?;
                options.krate = Some(input.parse()?);
            } else if key == "wrt" {
                if options.wrt.is_some() {
                    return Err(syn::Error::new(
                        key.span(),
                        "`wrt` is given twice; list all active arguments in one `wrt(a, b, ..)`",
                    ));
                }
                let content;
                let paren = syn::parenthesized!(content in input);
                let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                options.wrt = Some(names.into_iter().collect());
                options.wrt_span = Some(key.span().join(paren.span.close()).unwrap_or(key.span()));
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown option `{key}`; the options are `wrt(a, b, ..)`, naming \
                         the arguments to differentiate with respect to, and `crate = path`, \
                         the path of causalgrad in a crate that re-exports it"
                    ),
                ));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(options)
    }
}

/// The argument of `#[derivative(of = f)]`.
pub(crate) struct DerivativeOf {
    pub target: Ident,
}

impl Parse for DerivativeOf {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        if key != "of" {
            return Err(syn::Error::new(
                key.span(),
                "expected `of = f`, naming the function this derivative is for",
            ));
        }
        input.parse::<Token![=]>()?;
        let target = input.parse()?;
        if !input.is_empty() {
            return Err(input.error("expected only `of = f`"));
        }
        Ok(DerivativeOf { target })
    }
}

/// The spec of `target` as seen through its hand-written derivative `item`,
/// which takes the same arguments and returns `(value, pullback)`.
pub(crate) fn derivative_spec(item: &ItemFn, target: &Ident) -> syn::Result<FnSpec> {
    let value_ty = match &item.sig.output {
        ReturnType::Type(_, ty) => match &**ty {
            Type::Tuple(tuple) if tuple.elems.len() == 2 => tuple.elems[0].clone(),
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "a custom derivative returns `(value, pullback)`, e.g. \
                     `-> (f64, impl Fn(f64) -> (f64, f64) + Clone)`",
                ))
            }
        },
        ReturnType::Default => {
            return Err(syn::Error::new(
                item.sig.ident.span(),
                "a custom derivative returns `(value, pullback)`, e.g. \
                 `-> (f64, impl Fn(f64) -> (f64, f64) + Clone)`",
            ))
        }
    };
    let mut as_target = item.clone();
    as_target.sig.ident = target.clone();
    as_target.sig.output = syn::parse_quote!(-> #value_ty);
    let cx = Ctxt::new();
    let spec = cx.ok(fn_spec(&as_target, &Options::default(), &cx));
    cx.check()?;
    let mut spec = spec.expect("a spec when there is no error");
    if spec.method || spec.outputs != 1 {
        return Err(syn::Error::new_spanned(
            &item.sig,
            "custom derivatives are supported for free functions with one float result",
        ));
    }
    spec.name = target.clone();
    Ok(spec)
}

/// What kind of value an argument holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ArgKind {
    /// A value of the float type.
    Scalar,
    /// A differentiable aggregate: `&P`, `&[F]`, `[F; N]`, `Vec<F>`, `&self`.
    Aggregate,
    /// Integers, bools, strings and types excluded by `wrt`.
    Passive,
}

/// One function argument (the receiver is named `self`).
pub(crate) struct Arg {
    pub ident: Ident,
    pub ty: Type,
    pub kind: ArgKind,
    /// Receives a gradient.
    pub active: bool,
}

impl Arg {
    /// The type whose `Differentiable::Tangent` is this argument's gradient.
    pub fn differentiable_type(&self) -> TokenStream {
        match &self.ty {
            Type::Reference(reference) => reference.elem.to_token_stream(),
            other => other.to_token_stream(),
        }
    }

    /// How generated code passes this argument to `zero_tangent(&..)`.
    pub fn is_reference(&self) -> bool {
        matches!(self.ty, Type::Reference(_))
    }
}

/// What the macro needs to know about the annotated function.
pub(crate) struct FnSpec {
    pub name: Ident,
    pub vis: Visibility,
    pub generics: Generics,
    /// `f32`, `f64` or the generic parameter bounded by `Real`.
    pub float: Type,
    /// The generic parameter that is the float type, if any.
    pub float_param: Option<Ident>,
    pub args: Vec<Arg>,
    /// The return type as written.
    pub output: Type,
    /// Number of outputs: 1 for a scalar, n for a tuple of n scalars, 0
    /// for a struct (whose fields are the outputs).
    pub outputs: usize,
    /// The function is a method (`&self` receiver).
    pub method: bool,
}

impl FnSpec {
    /// `<F as ::causalgrad::Real>`, the prefix of every elementary call.
    pub fn real(&self) -> TokenStream {
        let float = &self.float;
        quote!(<#float as ::causalgrad::Real>)
    }

    pub fn active_args(&self) -> impl Iterator<Item = &Arg> {
        self.args.iter().filter(|arg| arg.active)
    }
}

const PASSIVE_PRIMITIVES: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "bool",
    "char", "str", "String",
];

/// Reads the signature of `item` under `options`.
///
/// Problems that leave the rest checkable (a signature feature, an argument
/// pattern, an argument's type, a `wrt` name) are recorded in `cx`; an error
/// is returned only when no function can be described.
pub(crate) fn fn_spec(item: &ItemFn, options: &Options, cx: &Ctxt) -> syn::Result<FnSpec> {
    let sig = &item.sig;
    reject_signature_features(item, cx);
    let mut float_params: Vec<&Ident> = sig
        .generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(ty) if bounded_by_real(&ty.ident, &sig.generics) => Some(&ty.ident),
            _ => None,
        })
        .collect();
    // In a method, the float type may be a parameter of the impl block,
    // which the attribute cannot see. The result must have the float type,
    // so a method's return type names it.
    let impl_float = match (&sig.output, has_receiver(sig)) {
        (ReturnType::Type(_, ty), true) => match &**ty {
            Type::Path(path) if path.qself.is_none() => path
                .path
                .get_ident()
                .filter(|ident| *ident != "Self" && !is_type_param(ident, &sig.generics))
                .filter(|ident| PASSIVE_PRIMITIVES.iter().all(|name| *ident != name))
                .cloned(),
            _ => None,
        },
        _ => None,
    };
    if let Some(ident) = &impl_float {
        float_params.push(ident);
    }
    let listed = |ident: &Ident| options.wrt.as_ref().map(|names| names.contains(ident));

    let mut float: Option<Type> = None;
    let mut args = Vec::new();
    let mut method = false;
    for input in &sig.inputs {
        let (ident, ty) = match input {
            FnArg::Receiver(receiver) => {
                if !matches!(receiver.kind, syn::ReceiverKind::Reference(_, _, None)) {
                    cx.push(syn::Error::new_spanned(
                        receiver,
                        "a #[differentiable] method takes `&self`; take other receivers \
                         by shared reference",
                    ));
                }
                method = true;
                (
                    Ident::new("self", receiver.self_token.span),
                    syn::parse_quote!(&Self),
                )
            }
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    (pat.ident.clone(), (*typed.ty).clone())
                }
                other => {
                    cx.push(syn::Error::new_spanned(
                        other,
                        "#[differentiable] needs a plain name for each argument (`x: f64`), \
                         not a pattern",
                    ));
                    continue;
                }
            },
        };
        let kind = match type_class(&ty, &float_params) {
            TypeClass::Float => {
                match &float {
                    None => float = Some(ty.clone()),
                    Some(first) if same_type(first, &ty) => {}
                    Some(first) => cx.push(syn::Error::new_spanned(
                        &ty,
                        format!(
                            "all float arguments of a #[differentiable] function must have \
                             one type; this one is `{}` but an earlier one is `{}`",
                            ty.to_token_stream(),
                            first.to_token_stream()
                        ),
                    )),
                }
                ArgKind::Scalar
            }
            TypeClass::Passive => ArgKind::Passive,
            TypeClass::Aggregate => ArgKind::Aggregate,
        };
        let active = match (kind, listed(&ident)) {
            (ArgKind::Passive, Some(true)) => {
                let name = options
                    .wrt
                    .iter()
                    .flatten()
                    .find(|name| **name == ident)
                    .expect("listed");
                cx.push(syn::Error::new(
                    name.span(),
                    format!(
                        "`{ident}` has type `{}`, which cannot be differentiated; only float \
                         arguments (f32, f64, `T: Real`) and differentiable aggregates can be \
                         listed in `wrt`",
                        ty.to_token_stream()
                    ),
                ));
                false
            }
            (ArgKind::Passive, _) => false,
            (_, None) => true,
            (_, Some(listed)) => listed,
        };
        let kind = if active { kind } else { ArgKind::Passive };
        args.push(Arg {
            ident,
            ty,
            kind,
            active,
        });
    }

    if let Some(names) = &options.wrt {
        for name in names {
            if !args.iter().any(|arg| arg.ident == *name) {
                cx.push(syn::Error::new(
                    name.span(),
                    format!("`wrt` names `{name}`, which is not an argument of this function"),
                ));
            }
        }
    }

    let (output, outputs, output_float) = match &sig.output {
        ReturnType::Type(_, ty) => match &**ty {
            Type::Tuple(tuple) if !tuple.elems.is_empty() => {
                let first = tuple.elems.first().expect("non-empty").clone();
                for elem in &tuple.elems {
                    if !same_type(elem, &first) {
                        cx.push(syn::Error::new_spanned(
                            elem,
                            "every element of a returned tuple must have the float type",
                        ));
                    }
                }
                ((**ty).clone(), tuple.elems.len(), Some(first))
            }
            // A struct: its fields are the outputs, counted from the body.
            Type::Path(path)
                if float.is_some()
                    && !is_float_type(ty, &float_params)
                    && unbounded_param(ty, &sig.generics).is_none()
                    && path.path.segments.last().is_some_and(|segment| {
                        let name = segment.ident.to_string();
                        name != "f32"
                            && name != "f64"
                            && PASSIVE_PRIMITIVES.iter().all(|p| name != *p)
                    }) =>
            {
                ((**ty).clone(), 0, None)
            }
            other => (other.clone(), 1, Some(other.clone())),
        },
        ReturnType::Default => {
            return Err(syn::Error::new(
                sig.ident.span(),
                "a #[differentiable] function must return a value of its float type \
                 (`-> f64`, `-> T`), a tuple of them, or a struct of them",
            ))
        }
    };
    let float = match (float, output_float) {
        (Some(float), None) => float,
        (Some(float), Some(output_float)) if same_type(&float, &output_float) => float,
        (Some(float), Some(_)) => {
            return Err(syn::Error::new_spanned(
                &output,
                format!(
                    "a #[differentiable] function must return its float type `{}` \
                     (or a tuple or struct of it); returning `{}` is not supported",
                    float.to_token_stream(),
                    output.to_token_stream()
                ),
            ))
        }
        (None, Some(output_float)) if is_float_type(&output_float, &float_params) => output_float,
        (None, output_float) => {
            if let Some(param) = output_float
                .as_ref()
                .and_then(|ty| unbounded_param(ty, &sig.generics))
            {
                let ident = &param.ident;
                return Err(syn::Error::new_spanned(
                    param,
                    format!("the float type parameter `{ident}` must be bounded by `Real`: write `{ident}: Real`"),
                ));
            }
            return Err(syn::Error::new(
                sig.paren_token.span.join(),
                "a #[differentiable] function needs a float type: at least one f32, f64 or \
                 `T: Real` argument, or such a return type",
            ));
        }
    };
    if !args.iter().any(|arg| arg.active) {
        let span = options
            .wrt_span
            .unwrap_or_else(|| sig.paren_token.span.join());
        return Err(syn::Error::new(
            span,
            "no argument is active: name at least one float or differentiable argument \
             in `wrt(..)`",
        ));
    }
    let float_param = match &float {
        Type::Path(path) => path
            .path
            .get_ident()
            .filter(|ident| float_params.contains(ident))
            .cloned(),
        _ => None,
    };

    Ok(FnSpec {
        name: sig.ident.clone(),
        vis: item.vis.clone(),
        generics: sig.generics.clone(),
        float,
        float_param,
        args,
        output,
        outputs,
        method,
    })
}

fn reject_signature_features(item: &ItemFn, cx: &Ctxt) {
    let sig = &item.sig;
    let reject = |span: Span, message: &str| cx.push(syn::Error::new(span, message));
    if let Some(token) = &sig.constness {
        reject(
            token.span(),
            "a `const fn` cannot be differentiated: remove `const`",
        );
    }
    if let Some(token) = &sig.asyncness {
        reject(
            token.span(),
            "an `async fn` cannot be differentiated: remove `async`",
        );
    }
    if let syn::Safety::Unsafe(token) = &sig.safety {
        reject(
            token.span(),
            "an `unsafe fn` cannot be differentiated: differentiate a safe function and \
             call it from the unsafe one",
        );
    }
    if let Some(abi) = &sig.abi {
        reject(
            abi.span(),
            "a function with an `extern` ABI cannot be differentiated: differentiate a \
             Rust-ABI function and call it from the extern one",
        );
    }
    if let Some(variadic) = &sig.variadic {
        reject(
            variadic.span(),
            "variadic arguments cannot be differentiated",
        );
    }
}

enum TypeClass {
    Float,
    Passive,
    Aggregate,
}

fn is_float_type(ty: &Type, float_params: &[&Ident]) -> bool {
    matches!(type_class(ty, float_params), TypeClass::Float)
}

fn type_class(ty: &Type, float_params: &[&Ident]) -> TypeClass {
    match ty {
        Type::Paren(inner) => type_class(&inner.elem, float_params),
        Type::Group(inner) => type_class(&inner.elem, float_params),
        Type::Path(path) if path.qself.is_none() => {
            if let Some(ident) = path.path.get_ident() {
                if ident == "f32" || ident == "f64" || float_params.contains(&ident) {
                    return TypeClass::Float;
                }
                if PASSIVE_PRIMITIVES.iter().any(|name| ident == name) {
                    return TypeClass::Passive;
                }
            }
            TypeClass::Aggregate
        }
        Type::Reference(reference) => match type_class(&reference.elem, float_params) {
            TypeClass::Aggregate => TypeClass::Aggregate,
            // `&f64`, `&str`, `&i32`: read-only views of constants.
            _ => TypeClass::Passive,
        },
        Type::Array(_) | Type::Slice(_) => TypeClass::Aggregate,
        _ => TypeClass::Passive,
    }
}

fn has_receiver(sig: &syn::Signature) -> bool {
    matches!(sig.inputs.first(), Some(FnArg::Receiver(_)))
}

fn is_type_param(ident: &Ident, generics: &Generics) -> bool {
    generics
        .params
        .iter()
        .any(|param| matches!(param, GenericParam::Type(ty) if ty.ident == *ident))
}

/// The generic parameter `ty` names, if it is one without a `Real` bound.
fn unbounded_param<'g>(ty: &Type, generics: &'g Generics) -> Option<&'g syn::TypeParam> {
    let Type::Path(path) = ty else { return None };
    let ident = path.path.get_ident()?;
    generics.params.iter().find_map(|param| match param {
        GenericParam::Type(param) if param.ident == *ident && !bounded_by_real(ident, generics) => {
            Some(param)
        }
        _ => None,
    })
}

fn bounded_by_real(param: &Ident, generics: &Generics) -> bool {
    let names_real = |bound: &TypeParamBound| match bound {
        TypeParamBound::Trait(bound) => bound
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Real"),
        _ => false,
    };
    let inline = generics.params.iter().any(|p| match p {
        GenericParam::Type(ty) => ty.ident == *param && ty.bounds.iter().any(names_real),
        _ => false,
    });
    let in_where = generics.where_clause.iter().any(|clause| {
        clause.predicates.iter().any(|predicate| match predicate {
            WherePredicate::Type(predicate) => {
                matches!(&predicate.bounded_ty, Type::Path(p) if p.path.is_ident(param))
                    && predicate.bounds.iter().any(names_real)
            }
            _ => false,
        })
    });
    inline || in_where
}

/// Type equality by tokens (enough for `f32`, `f64` and `T`).
pub(crate) fn same_type(a: &Type, b: &Type) -> bool {
    a.to_token_stream().to_string() == b.to_token_stream().to_string()
}
