//! Errors collected across a whole function, as serde_derive's `Ctxt`
//! does: the signature and every statement of the body are checked, and
//! all their errors are reported together instead of only the first.

use std::cell::RefCell;

/// The errors found so far.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    pub fn new() -> Self {
        Ctxt::default()
    }

    /// Records an error and carries on.
    pub fn push(&self, error: syn::Error) {
        self.errors.borrow_mut().push(error);
    }

    /// Records the error of `result`, if any, and returns its value.
    pub fn ok<T>(&self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    /// All the errors recorded, combined into one (in the order found), or
    /// `Ok` when there were none.
    pub fn check(self) -> syn::Result<()> {
        let mut errors = self.errors.into_inner().into_iter();
        let Some(mut first) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            first.combine(error);
        }
        Err(first)
    }
}

#[cfg(test)]
mod tests {
    use super::Ctxt;
    use proc_macro2::Span;

    #[test]
    fn reports_every_error_in_order() {
        let cx = Ctxt::new();
        assert!(cx
            .ok::<()>(Err(syn::Error::new(Span::call_site(), "first")))
            .is_none());
        assert_eq!(cx.ok(Ok::<_, syn::Error>(3)), Some(3));
        cx.push(syn::Error::new(Span::call_site(), "second"));
        let messages: Vec<String> = cx
            .check()
            .expect_err("two errors")
            .into_iter()
            .map(|error| error.to_string())
            .collect();
        assert_eq!(messages, ["first", "second"]);
    }

    #[test]
    fn no_error_checks_ok() {
        assert!(Ctxt::new().check().is_ok());
    }
}
