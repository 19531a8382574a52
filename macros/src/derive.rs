//! `#[derive(Differentiable)]`: a tangent struct with the same fields, and
//! the `Differentiable` / `Tangent` impls that walk the fields in order.
//!
//! For `struct P<T: Real> { a: T, w: [T; 3], #[no_diff] n: usize }` this
//! emits
//!
//! ```text
//! pub struct PTangent<T: Real> where T: Differentiable, [T; 3]: Differentiable {
//!     pub a: <T as Differentiable>::Tangent,
//!     pub w: <[T; 3] as Differentiable>::Tangent,
//! }
//! impl Clone, Debug for PTangent
//! impl Differentiable for P        (Tangent = PTangent)
//! impl Tangent for PTangent        (Scalar = the scalar of `a`'s tangent)
//! impl Add, AddAssign, Mul<Scalar> for PTangent
//! ```
//!
//! Field types that mention a generic parameter get a `FieldTy:
//! Differentiable` bound, and in the impls a bound that their tangent's
//! scalar is the tangent scalar (stated through the first field with a
//! concrete type if there is one, else through the first field). Concrete
//! field types get no bound (it would be a private type in a public bound,
//! or a trivially false one): they are checked where they are used, so a
//! field that is not differentiable is reported at the field by the trait's
//! own diagnostic. Generic parameters that only `#[no_diff]` fields use are
//! kept by a hidden `PhantomData` field. Every path is absolute
//! (`::causalgrad::..`, `::core::..`).

use std::collections::BTreeSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, GenericParam, Ident, Type, WherePredicate};

/// The name of the attribute that keeps a field constant.
const NO_DIFF: &str = "no_diff";

/// One differentiable field.
struct Field<'a> {
    ident: &'a Ident,
    ty: &'a Type,
    /// Whether the type mentions a generic parameter of the struct.
    generic: bool,
}

/// The generated items for the derive input, or the errors that prevent
/// generating them.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    let named = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => named,
            Fields::Unnamed(fields) => {
                return Err(syn::Error::new_spanned(
                    fields,
                    format!(
                        "#[derive(Differentiable)] needs named fields: write `struct {name} {{ a: f64, .. }}` \
                         so that the tangent struct `{name}Tangent` can have the same field names"
                    ),
                ))
            }
            Fields::Unit => {
                return Err(syn::Error::new_spanned(
                    name,
                    format!(
                        "#[derive(Differentiable)] needs a struct with named fields, at least one of them \
                         differentiable: `struct {name} {{ a: f64, .. }}`"
                    ),
                ))
            }
        },
        Data::Enum(data) => {
            let enum_token = data.enum_token;
            return Err(syn::Error::new_spanned(
                quote!(#enum_token #name),
                "#[derive(Differentiable)] supports structs with named fields, not enums: \
                 use a struct (keep a discrete choice in a `#[no_diff]` field)",
            ));
        }
        Data::Union(data) => {
            let union_token = data.union_token;
            return Err(syn::Error::new_spanned(
                quote!(#union_token #name),
                "#[derive(Differentiable)] supports structs with named fields, not unions: \
                 use a struct with named fields",
            ));
        }
    };

    let params = GenericNames::of(input);
    let mut fields = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for field in &named.named {
        match is_no_diff(field) {
            Ok(true) => {}
            Ok(false) => {
                let ident = field.ident.as_ref().expect("named fields have names");
                let generic = params.mentioned_in(field.ty.to_token_stream());
                fields.push(Field {
                    ident,
                    ty: &field.ty,
                    generic,
                });
            }
            Err(error) => match &mut errors {
                Some(errors) => errors.combine(error),
                None => errors = Some(error),
            },
        }
    }
    if let Some(errors) = errors {
        return Err(errors);
    }
    let Some(first) = fields.first() else {
        let message = if named.named.is_empty() {
            format!(
                "#[derive(Differentiable)] needs at least one differentiable field, and `{name}` has \
                 no fields: add one (`a: f64`), or do not derive Differentiable"
            )
        } else {
            format!(
                "#[derive(Differentiable)] needs at least one differentiable field, but every field \
                 of `{name}` is #[no_diff]: remove #[no_diff] from the fields that gradients \
                 should flow into"
            )
        };
        return Err(syn::Error::new_spanned(name, message));
    };

    let vis = &input.vis;
    let tangent = format_ident!("{}Tangent", name);
    let generics = &input.generics;
    let (impl_generics, ty_generics, _) = generics.split_for_impl();
    // The tangent's scalar: that of the first field, stated through the
    // first field with a concrete type when there is one (every scalar is
    // bound equal to it, and a generic projection equated to a concrete
    // type in a where clause would send rustc's normalization in a cycle).
    let anchor = fields.iter().find(|f| !f.generic).unwrap_or(first);
    let first_scalar = scalar_of(anchor.ty);

    // Bounds: `FieldTy: Differentiable` for generic field types (the struct
    // definition needs them for its field types to be well formed), plus,
    // in the impls, that every generic field's tangent has the anchor's
    // scalar (concrete scalars are compared by the compiler directly).
    let mut wf_bounds: Vec<TokenStream> = Vec::new();
    let mut scalar_bounds: Vec<TokenStream> = Vec::new();
    for field in &fields {
        if !field.generic {
            continue;
        }
        let ty = field.ty;
        wf_bounds.push(quote_spanned!(ty.span()=> #ty: ::causalgrad::Differentiable));
        if !core::ptr::eq(field, anchor) {
            scalar_bounds.push(quote_spanned!(ty.span()=>
                <#ty as ::causalgrad::Differentiable>::Tangent:
                    ::causalgrad::Tangent<Scalar = #first_scalar>
            ));
        }
    }
    let struct_where = where_clause(generics, &wf_bounds);
    let impl_where = where_clause(generics, &[wf_bounds, scalar_bounds].concat());

    let names: Vec<&Ident> = fields.iter().map(|f| f.ident).collect();
    let names_str: Vec<String> = names.iter().map(|n| unraw(n)).collect();
    let tangent_types: Vec<TokenStream> = fields
        .iter()
        .map(|f| {
            let ty = f.ty;
            quote_spanned!(ty.span()=> <#ty as ::causalgrad::Differentiable>::Tangent)
        })
        .collect();
    let field_docs: Vec<String> = names_str
        .iter()
        .map(|n| format!("Tangent of the field `{n}`."))
        .collect();

    // Generic parameters that no differentiable field mentions would be
    // unused in the tangent struct: a `PhantomData` field keeps them.
    let mentioned = fields.iter().fold(BTreeSet::new(), |mut set, f| {
        params.collect_mentions(f.ty.to_token_stream(), &mut set);
        set
    });
    let unused = params.unused(generics, &mentioned);
    let (marker_field, marker_value) = if unused.is_empty() {
        (quote!(), quote!())
    } else {
        (
            quote! {
                #[doc(hidden)]
                pub __causalgrad_unused_params: ::core::marker::PhantomData<fn() -> (#(#unused,)*)>,
            },
            quote!(__causalgrad_unused_params: ::core::marker::PhantomData,),
        )
    };

    let doc = format!(
        "Tangent (gradient) of [`{name}`]: same fields, each holding the tangent of the \
         field's type (the `#[no_diff]` fields are left out). Generated by \
         `#[derive(Differentiable)]`."
    );
    let name_str = tangent.to_string();

    let rescale = rescale_impl(input, named, &params);

    Ok(quote! {
        #rescale

        #[doc = #doc]
        #vis struct #tangent #generics #struct_where {
            #(
                #[doc = #field_docs]
                pub #names: #tangent_types,
            )*
            #marker_field
        }

        #[automatically_derived]
        impl #impl_generics ::core::clone::Clone for #tangent #ty_generics #impl_where {
            #[inline]
            fn clone(&self) -> Self {
                #tangent {
                    #( #names: ::core::clone::Clone::clone(&self.#names), )*
                    #marker_value
                }
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::fmt::Debug for #tangent #ty_generics #impl_where {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#name_str)
                    #( .field(#names_str, &self.#names) )*
                    .finish()
            }
        }

        #[automatically_derived]
        impl #impl_generics ::causalgrad::Differentiable for #name #ty_generics #impl_where {
            type Tangent = #tangent #ty_generics;

            #[inline]
            fn zero_tangent(&self) -> Self::Tangent {
                #tangent {
                    #( #names: ::causalgrad::Differentiable::zero_tangent(&self.#names), )*
                    #marker_value
                }
            }

            #[inline]
            fn move_along(&mut self, step: &Self::Tangent) {
                #( ::causalgrad::Differentiable::move_along(&mut self.#names, &step.#names); )*
            }

            #[inline]
            fn for_each_scalar_mut(
                &mut self,
                f: &mut impl ::core::ops::FnMut(
                    &mut <Self::Tangent as ::causalgrad::Tangent>::Scalar,
                ),
            ) {
                #( ::causalgrad::Differentiable::for_each_scalar_mut(&mut self.#names, f); )*
            }
        }

        #[automatically_derived]
        impl #impl_generics ::causalgrad::Tangent for #tangent #ty_generics #impl_where {
            type Scalar = #first_scalar;

            #[inline]
            fn accumulate(&mut self, other: Self) {
                #( ::causalgrad::Tangent::accumulate(&mut self.#names, other.#names); )*
            }

            #[inline]
            fn scale(&mut self, factor: Self::Scalar) {
                #( ::causalgrad::Tangent::scale(&mut self.#names, factor); )*
            }

            #[inline]
            fn zero_like(&self) -> Self {
                #tangent {
                    #( #names: ::causalgrad::Tangent::zero_like(&self.#names), )*
                    #marker_value
                }
            }

            #[inline]
            fn for_each_scalar(&self, f: &mut impl ::core::ops::FnMut(Self::Scalar)) {
                #( ::causalgrad::Tangent::for_each_scalar(&self.#names, f); )*
            }

            #[inline]
            fn for_each_scalar_mut(&mut self, f: &mut impl ::core::ops::FnMut(&mut Self::Scalar)) {
                #( ::causalgrad::Tangent::for_each_scalar_mut(&mut self.#names, f); )*
            }

            #[inline]
            fn num_scalars(&self) -> usize {
                #( ::causalgrad::Tangent::num_scalars(&self.#names) )+*
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::ops::AddAssign for #tangent #ty_generics #impl_where {
            #[inline]
            fn add_assign(&mut self, other: Self) {
                ::causalgrad::Tangent::accumulate(self, other);
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::ops::Add for #tangent #ty_generics #impl_where {
            type Output = Self;

            #[inline]
            fn add(mut self, other: Self) -> Self {
                ::causalgrad::Tangent::accumulate(&mut self, other);
                self
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::ops::Mul<#first_scalar> for #tangent #ty_generics #impl_where {
            type Output = Self;

            #[inline]
            fn mul(mut self, factor: #first_scalar) -> Self {
                ::causalgrad::Tangent::scale(&mut self, factor);
                self
            }
        }
    })
}

/// `<<Ty as Differentiable>::Tangent as Tangent>::Scalar`.
fn scalar_of(ty: &Type) -> TokenStream {
    quote_spanned!(ty.span()=>
        <<#ty as ::causalgrad::Differentiable>::Tangent as ::causalgrad::Tangent>::Scalar
    )
}

/// The struct's where clause with `extra` predicates appended.
fn where_clause(generics: &syn::Generics, extra: &[TokenStream]) -> TokenStream {
    let existing: Vec<&WherePredicate> = generics
        .where_clause
        .as_ref()
        .map(|w| w.predicates.iter().collect())
        .unwrap_or_default();
    if existing.is_empty() && extra.is_empty() {
        return quote!();
    }
    quote!(where #(#existing,)* #(#extra,)*)
}

/// Whether the field carries `#[no_diff]` (an error if it has arguments).
fn is_no_diff(field: &syn::Field) -> syn::Result<bool> {
    let mut found = false;
    for attr in &field.attrs {
        if attr.path().is_ident(NO_DIFF) {
            attr.meta.require_path_only().map_err(|_| {
                syn::Error::new_spanned(
                    &attr.meta,
                    "#[no_diff] takes no arguments: write `#[no_diff]` on the field to keep it constant",
                )
            })?;
            found = true;
        }
    }
    Ok(found)
}

/// A field name without its `r#` prefix.
fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
}

/// The names of a struct's generic parameters.
/// `Rescale` for a struct generic over exactly one `T: Real` (and nothing
/// else): the same struct at another scalar type, field by field; the
/// `#[no_diff]` fields are cloned (so they must not mention `T`).
fn rescale_impl(
    input: &DeriveInput,
    named: &syn::FieldsNamed,
    params: &GenericNames,
) -> TokenStream {
    let generics = &input.generics;
    let only_one_real = generics.params.len() == 1 && params.reals.len() == 1;
    let Some(GenericParam::Type(real)) = generics.params.first().filter(|_| only_one_real) else {
        return TokenStream::new();
    };
    let scalar = &real.ident;
    let mut fields = Vec::new();
    for field in &named.named {
        let ident = field.ident.as_ref().expect("named fields have names");
        if is_no_diff(field).unwrap_or(false) {
            let mut set = BTreeSet::new();
            params.collect_mentions(field.ty.to_token_stream(), &mut set);
            if !set.is_empty() {
                return TokenStream::new();
            }
            fields.push(quote!(#ident: ::core::clone::Clone::clone(&self.#ident)));
        } else {
            fields.push(quote!(#ident: ::causalgrad::Rescale::rescale(&self.#ident, f)));
        }
    }
    let name = &input.ident;
    let bounds = &real.bounds;
    let where_clause = &generics.where_clause;
    quote! {
        #[automatically_derived]
        impl<#scalar: #bounds, __U: ::causalgrad::Real> ::causalgrad::Rescale<__U> for #name<#scalar> #where_clause {
            type Scalar = #scalar;
            type Output = #name<__U>;
            #[inline]
            fn rescale(&self, f: &mut impl ::core::ops::FnMut(#scalar) -> __U) -> #name<__U> {
                #name { #(#fields,)* }
            }
        }
    }
}

/// Whether a type parameter carries a `Real` bound (inline or in the where clause).
fn bounded_by_real(param: &syn::TypeParam, generics: &syn::Generics) -> bool {
    let names_real = |bound: &syn::TypeParamBound| match bound {
        syn::TypeParamBound::Trait(bound) => bound
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Real"),
        _ => false,
    };
    param.bounds.iter().any(names_real)
        || generics.where_clause.iter().any(|clause| {
            clause.predicates.iter().any(|predicate| match predicate {
            syn::WherePredicate::Type(predicate) => {
                matches!(&predicate.bounded_ty, syn::Type::Path(p) if p.path.is_ident(&param.ident))
                    && predicate.bounds.iter().any(names_real)
            }
            _ => false,
        })
        })
}

struct GenericNames {
    types: BTreeSet<String>,
    /// Type parameters bounded by `Real`: mentioned, but never bounded.
    reals: BTreeSet<String>,
    lifetimes: BTreeSet<String>,
    consts: BTreeSet<String>,
}

impl GenericNames {
    fn of(input: &DeriveInput) -> Self {
        let mut names = GenericNames {
            types: BTreeSet::new(),
            reals: BTreeSet::new(),
            lifetimes: BTreeSet::new(),
            consts: BTreeSet::new(),
        };
        for param in &input.generics.params {
            match param {
                // A `T: Real` parameter needs no bound: every `Real` type is
                // differentiable through the blanket impl, and a where-clause
                // bound would shadow that impl and stop normalisation.
                GenericParam::Type(t) if bounded_by_real(t, &input.generics) => {
                    names.reals.insert(t.ident.to_string())
                }
                GenericParam::Type(t) => names.types.insert(t.ident.to_string()),
                GenericParam::Lifetime(l) => names.lifetimes.insert(l.lifetime.ident.to_string()),
                GenericParam::Const(c) => names.consts.insert(c.ident.to_string()),
            };
        }
        names
    }

    /// Whether `tokens` mention any generic parameter that needs a bound.
    fn mentioned_in(&self, tokens: TokenStream) -> bool {
        let mut set = BTreeSet::new();
        self.collect_mentions(tokens, &mut set);
        set.iter().any(|name| !self.reals.contains(name))
    }

    /// Adds the parameters `tokens` mention to `set` (lifetimes as `'a`).
    fn collect_mentions(&self, tokens: TokenStream, set: &mut BTreeSet<String>) {
        // A lifetime is a `'` punct followed by an ident.
        let mut after_quote = false;
        for tree in tokens {
            match &tree {
                TokenTree::Group(group) => self.collect_mentions(group.stream(), set),
                TokenTree::Ident(ident) => {
                    let name = ident.to_string();
                    if after_quote {
                        if self.lifetimes.contains(&name) {
                            set.insert(format!("'{name}"));
                        }
                    } else if self.types.contains(&name)
                        || self.reals.contains(&name)
                        || self.consts.contains(&name)
                    {
                        set.insert(name);
                    }
                }
                TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
            after_quote = matches!(&tree, TokenTree::Punct(p) if p.as_char() == '\'');
        }
    }

    /// Type and lifetime parameters of `generics` not in `mentioned`, as
    /// types for a `PhantomData<fn() -> (..)>` (lifetimes as `&'a ()`).
    fn unused(&self, generics: &syn::Generics, mentioned: &BTreeSet<String>) -> Vec<TokenStream> {
        generics
            .params
            .iter()
            .filter_map(|param| match param {
                GenericParam::Type(t) if !mentioned.contains(&t.ident.to_string()) => {
                    let ident = &t.ident;
                    Some(quote!(#ident))
                }
                GenericParam::Lifetime(l)
                    if !mentioned.contains(&format!("'{}", l.lifetime.ident)) =>
                {
                    let lifetime = &l.lifetime;
                    Some(quote!(&#lifetime ()))
                }
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    /// The expansion without whitespace (token printing puts spaces
    /// between tokens, and joins `<<`).
    fn expand_str(input: DeriveInput) -> String {
        expand(&input)
            .expect("expands")
            .to_string()
            .replace(' ', "")
    }

    fn error(input: DeriveInput) -> String {
        expand(&input).expect_err("rejected").to_string()
    }

    #[test]
    fn mentions_find_type_const_and_lifetime_parameters() {
        let input: DeriveInput = parse_quote! {
            struct S<'a, 'b, T, U, const N: usize> { x: f64 }
        };
        let names = GenericNames::of(&input);
        let mut set = BTreeSet::new();
        let ty: Type = parse_quote!(&'a [Vec<T>; N]);
        names.collect_mentions(ty.to_token_stream(), &mut set);
        let found: Vec<&str> = set.iter().map(String::as_str).collect();
        assert_eq!(found, ["'a", "N", "T"]);
        assert!(!names.mentioned_in(quote!([f64; 3])));
        assert!(!names.mentioned_in(quote!(&'static str)));
        assert!(names.mentioned_in(quote!(Option<(f64, U)>)));
        // A lifetime named like a type parameter is still a lifetime.
        let input: DeriveInput = parse_quote!(
            struct S<'T, X> {
                x: f64,
            }
        );
        assert!(!GenericNames::of(&input).mentioned_in(quote!(&'X f64)));
    }

    #[test]
    fn concrete_struct_has_no_bounds_or_marker() {
        let out = expand_str(parse_quote! {
            pub struct Params { a: f64, #[no_diff] n: usize, w: [f64; 3] }
        });
        assert!(out.contains("pubstructParamsTangent"), "{out}");
        assert!(!out.contains("where"), "{out}");
        assert!(!out.contains("PhantomData"), "{out}");
        assert!(!out.contains("pubn:"), "{out}");
        assert!(out.contains("puba:<f64as::causalgrad::Differentiable>::Tangent"));
        assert!(out.contains("typeScalar=<<f64as::causalgrad::Differentiable>::Tangent"));
    }

    #[test]
    fn generic_fields_get_bounds_and_unused_parameters_a_marker() {
        let out = expand_str(parse_quote! {
            struct P<'a, T: Copy, U> where U: Clone { a: T, w: [T; 3], #[no_diff] u: &'a U }
        });
        assert!(
            out.contains(
                "whereU:Clone,T:::causalgrad::Differentiable,[T;3]:::causalgrad::Differentiable"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "<[T;3]as::causalgrad::Differentiable>::Tangent:::causalgrad::Tangent<Scalar=<<Tas"
            ),
            "{out}"
        );
        assert!(out.contains("PhantomData<fn()->(&'a(),U,)>"), "{out}");
    }

    #[test]
    fn real_parameters_need_no_bounds() {
        let out = expand_str(parse_quote! {
            struct P<T: Real> { a: T, w: [[T; 2]; 3] }
        });
        assert!(!out.contains("where"), "{out}");
    }

    #[test]
    fn the_scalar_is_stated_through_a_concrete_field() {
        let out = expand_str(parse_quote! {
            struct Mixed<T> { x: T, y: f64 }
        });
        assert!(out.contains("typeScalar=<<f64as"), "{out}");
        assert!(
            out.contains(
                "<Tas::causalgrad::Differentiable>::Tangent:::causalgrad::Tangent<Scalar=<<f64as"
            ),
            "{out}"
        );
    }

    #[test]
    fn rejects_what_has_no_named_differentiable_field() {
        assert!(error(parse_quote!(
            enum E {
                A { x: f64 },
            }
        ))
        .contains("not enums"));
        assert!(error(parse_quote!(union U { x: f64 })).contains("not unions"));
        assert!(error(parse_quote!(
            struct T(f64);
        ))
        .contains("needs named fields"));
        assert!(error(parse_quote!(
            struct Unit;
        ))
        .contains("needs a struct with named fields"));
        assert!(error(parse_quote!(
            struct Empty {}
        ))
        .contains("has no fields"));
        assert!(error(parse_quote!(
            struct C {
                #[no_diff]
                n: usize,
            }
        ))
        .contains("every field"));
        let message = error(parse_quote!(
            struct A {
                #[no_diff = 1]
                n: usize,
                x: f64,
            }
        ));
        assert!(message.contains("takes no arguments"), "{message}");
    }

    #[test]
    fn raw_field_names_print_without_prefix() {
        let out = expand_str(parse_quote!(
            struct R {
                r#type: f64,
            }
        ));
        assert!(out.contains("\"type\""), "{out}");
        assert!(out.contains("r#type"), "{out}");
    }
}
