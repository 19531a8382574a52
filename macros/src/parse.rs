//! Reading the annotated function's signature and the attribute's options.
//!
//! The result, [`FnSpec`], says which arguments are active (they receive a
//! gradient), what the float type is (`f32`, `f64` or a generic `T: Real`)
//! and what the function returns. Everything the macro cannot handle in the
//! signature is reported here with the span of the offending token.

use proc_macro2::TokenStream;
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
}

impl Parse for Options {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut options = Options::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            if key == "wrt" {
                if options.wrt.is_some() {
                    return Err(syn::Error::new(key.span(), "`wrt` is given twice"));
                }
                let content;
                syn::parenthesized!(content in input);
                let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                options.wrt = Some(names.into_iter().collect());
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown option `{key}`; the only option is `wrt(a, b, ..)`, \
                         naming the arguments to differentiate with respect to"
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

/// The role of one argument.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ArgRole {
    /// A float argument that receives a gradient.
    Active,
    /// A float argument held constant (excluded by `wrt`).
    ConstFloat,
    /// Any other argument (integers, bools, or types excluded by `wrt`).
    Const,
}

/// One function argument.
pub(crate) struct Arg {
    pub ident: Ident,
    pub ty: Type,
    pub role: ArgRole,
}

/// What the macro needs to know about the annotated function.
pub(crate) struct FnSpec {
    pub name: Ident,
    pub vis: Visibility,
    pub generics: Generics,
    /// `f32`, `f64` or the generic parameter bounded by `Real`.
    pub float: Type,
    pub args: Vec<Arg>,
    /// The return type (the float type).
    pub output: Type,
}

impl FnSpec {
    /// `<F as ::causalgrad::Real>`, the prefix of every elementary call.
    pub fn real(&self) -> TokenStream {
        let float = &self.float;
        quote!(<#float as ::causalgrad::Real>)
    }

    pub fn active_args(&self) -> impl Iterator<Item = &Arg> {
        self.args.iter().filter(|arg| arg.role == ArgRole::Active)
    }
}

const PASSIVE_PRIMITIVES: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "bool",
    "char", "str", "String",
];

/// Reads the signature of `item` under `options`.
pub(crate) fn fn_spec(item: &ItemFn, options: &Options) -> syn::Result<FnSpec> {
    let sig = &item.sig;
    reject_signature_features(item)?;

    let mut float: Option<Type> = None;
    let mut args = Vec::new();
    for input in &sig.inputs {
        let typed = match input {
            FnArg::Receiver(receiver) => {
                return Err(syn::Error::new(
                    receiver.span(),
                    "#[differentiable] on methods is not supported yet: \
                     write a free function that takes the receiver as an argument",
                ))
            }
            FnArg::Typed(typed) => typed,
        };
        let ident = match &*typed.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => pat.ident.clone(),
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "#[differentiable] needs a plain name for each argument (`x: f64`), \
                     not a pattern",
                ))
            }
        };
        let listed = options
            .wrt
            .as_ref()
            .map(|names| names.contains(&ident));
        let ty = (*typed.ty).clone();
        let role = match type_class(&ty, &sig.generics) {
            TypeClass::Float => {
                match &float {
                    None => float = Some(ty.clone()),
                    Some(first) if same_type(first, &ty) => {}
                    Some(first) => {
                        return Err(syn::Error::new(
                            ty.span(),
                            format!(
                                "all float arguments of a #[differentiable] function must have \
                                 one type; this one is `{}` but an earlier one is `{}`",
                                ty.to_token_stream(),
                                first.to_token_stream()
                            ),
                        ))
                    }
                }
                match listed {
                    None | Some(true) => ArgRole::Active,
                    Some(false) => ArgRole::ConstFloat,
                }
            }
            TypeClass::Passive => {
                if listed == Some(true) {
                    return Err(syn::Error::new(
                        ty.span(),
                        format!(
                            "`{ident}` has type `{}`, which cannot be differentiated; only \
                             f32, f64 or a generic `T: Real` argument can be listed in `wrt`",
                            ty.to_token_stream()
                        ),
                    ));
                }
                ArgRole::Const
            }
            TypeClass::Unsupported => {
                if listed == Some(false) {
                    ArgRole::Const
                } else {
                    return Err(syn::Error::new(
                        ty.span(),
                        format!(
                            "#[differentiable] does not support arguments of type `{}` yet; \
                             use f32, f64 or a generic `T: Real`, or keep `{ident}` constant by \
                             naming the active arguments in `#[differentiable(wrt(..))]`",
                            ty.to_token_stream()
                        ),
                    ));
                }
            }
        };
        args.push(Arg { ident, ty, role });
    }

    if let Some(names) = &options.wrt {
        for name in names {
            if !args.iter().any(|arg| arg.ident == *name) {
                return Err(syn::Error::new(
                    name.span(),
                    format!("`wrt` names `{name}`, which is not an argument of this function"),
                ));
            }
        }
    }

    let Some(float) = float else {
        return Err(syn::Error::new(
            sig.paren_token.span.join(),
            "a #[differentiable] function needs at least one f32, f64 or `T: Real` argument",
        ));
    };
    if !args.iter().any(|arg| arg.role == ArgRole::Active) {
        return Err(syn::Error::new(
            sig.paren_token.span.join(),
            "no argument is active: `wrt(..)` must name at least one float argument",
        ));
    }

    let output = match &sig.output {
        ReturnType::Type(_, ty) if same_type(ty, &float) => (**ty).clone(),
        ReturnType::Type(_, ty) => {
            return Err(syn::Error::new(
                ty.span(),
                format!(
                    "a #[differentiable] function must return its float type `{}`; \
                     returning `{}` is not supported yet",
                    float.to_token_stream(),
                    ty.to_token_stream()
                ),
            ))
        }
        ReturnType::Default => {
            return Err(syn::Error::new(
                sig.ident.span(),
                format!(
                    "a #[differentiable] function must return a value of its float type \
                     `{}`; add `-> {}`",
                    float.to_token_stream(),
                    float.to_token_stream()
                ),
            ))
        }
    };

    if let Some(param) = generic_float_param(&float, &sig.generics) {
        if !bounded_by_real(param, &sig.generics) {
            return Err(syn::Error::new(
                param.span(),
                format!("the float type parameter `{param}` must be bounded by `Real` (`{param}: Real`)"),
            ));
        }
    }

    Ok(FnSpec {
        name: sig.ident.clone(),
        vis: item.vis.clone(),
        generics: sig.generics.clone(),
        float,
        args,
        output,
    })
}

fn reject_signature_features(item: &ItemFn) -> syn::Result<()> {
    let sig = &item.sig;
    let problem = if let Some(token) = &sig.constness {
        Some((token.span(), "`const fn`"))
    } else if let Some(token) = &sig.asyncness {
        Some((token.span(), "`async fn`"))
    } else if let syn::Safety::Unsafe(token) = &sig.safety {
        Some((token.span(), "`unsafe fn`"))
    } else if let Some(abi) = &sig.abi {
        Some((abi.span(), "an `extern` ABI"))
    } else {
        sig.variadic
            .as_ref()
            .map(|variadic| (variadic.span(), "variadic arguments"))
    };
    match problem {
        Some((span, what)) => Err(syn::Error::new(
            span,
            format!("#[differentiable] cannot differentiate a function with {what}"),
        )),
        None => Ok(()),
    }
}

enum TypeClass {
    Float,
    Passive,
    Unsupported,
}

fn type_class(ty: &Type, generics: &Generics) -> TypeClass {
    match ty {
        Type::Paren(inner) => type_class(&inner.elem, generics),
        Type::Group(inner) => type_class(&inner.elem, generics),
        Type::Path(path) if path.qself.is_none() => {
            if let Some(ident) = path.path.get_ident() {
                if ident == "f32" || ident == "f64" || is_type_param(ident, generics) {
                    return TypeClass::Float;
                }
                if PASSIVE_PRIMITIVES.iter().any(|name| ident == name) {
                    return TypeClass::Passive;
                }
            }
            TypeClass::Unsupported
        }
        Type::Reference(reference) => match &*reference.elem {
            Type::Path(path) if path.path.is_ident("str") => TypeClass::Passive,
            _ => TypeClass::Unsupported,
        },
        _ => TypeClass::Unsupported,
    }
}

fn is_type_param(ident: &Ident, generics: &Generics) -> bool {
    generics.params.iter().any(|param| match param {
        GenericParam::Type(ty) => ty.ident == *ident,
        _ => false,
    })
}

fn generic_float_param<'a>(float: &'a Type, generics: &Generics) -> Option<&'a Ident> {
    match float {
        Type::Path(path) => path
            .path
            .get_ident()
            .filter(|ident| is_type_param(ident, generics)),
        _ => None,
    }
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
