//! Errors a request gets back, as `{"error": "...", "kind": "...",
//! "field": ..., "variable": ...}`: 4xx for bad requests, 503 when the
//! server is at its limit of concurrent queries, 5xx for failures inside a
//! query or a reload.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use causalgrad::scm::{ModelFileError, ScmError};
use serde_json::json;

/// An error answered to a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed, or names a variable, label or context the
    /// model lacks (400).
    #[error("{message}")]
    BadRequest {
        /// What is wrong.
        message: String,
        /// The request field at fault (`"do.t"`, `"rows[3].x"`), if one is.
        field: Option<String>,
        /// The model variable at fault, if one is.
        variable: Option<String>,
    },
    /// The body could not be read: larger than the limit (413), or cut
    /// off.
    #[error("{message}")]
    Body {
        /// The status the body reader gave.
        status: StatusCode,
        /// What is wrong.
        message: String,
    },
    /// The request asks more than a limit allows (413).
    #[error("{message}")]
    TooLarge {
        /// What is over the limit.
        message: String,
        /// The request field.
        field: String,
    },
    /// As many queries as the limit allows are running (503).
    #[error("the server is busy: {limit} queries are running (the --max-concurrent limit); retry")]
    Busy {
        /// The limit.
        limit: usize,
    },
    /// The query failed inside the model (500).
    #[error("the query failed: {0}")]
    Query(String),
    /// The model file could not be reloaded; the old model still serves
    /// (500).
    #[error("the reload failed, the model loaded before keeps serving: {source}")]
    Reload {
        /// What the model-file reader said (it names the file).
        source: ModelFileError,
    },
}

impl ApiError {
    /// A bad request blamed on request field `field`.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            field: Some(field.into()),
            variable: None,
        }
    }

    /// A bad request blamed on request field `field` and model variable
    /// `variable`.
    pub fn variable(
        field: impl Into<String>,
        variable: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            field: Some(field.into()),
            variable: Some(variable.into()),
        }
    }

    /// What a query's [`ScmError`] means for the request: the errors about
    /// values the request gave (a value a variable does not take, an
    /// unknown label or variable, data that do not fit) are bad requests
    /// blamed on `field`; the others are failures inside the query.
    pub fn from_query(field: &str, error: ScmError) -> Self {
        let variable = match &error {
            ScmError::BadValue { variable, .. }
            | ScmError::UnknownLevel { variable, .. }
            | ScmError::BadIntervention { variable, .. } => Some(variable.clone()),
            ScmError::Graph(_) | ScmError::Data(_) | ScmError::BadLevel { .. } => None,
            _ => return ApiError::Query(error.to_string()),
        };
        ApiError::BadRequest {
            message: error.to_string(),
            field: Some(field.to_string()),
            variable,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Body { status, .. } => *status,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Query(_) | ApiError::Reload { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error's kind in the JSON body.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "bad_request",
            ApiError::Body { .. } => "bad_body",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::Busy { .. } => "busy",
            ApiError::Query(_) => "query_failed",
            ApiError::Reload { .. } => "reload_failed",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (field, variable) = match &self {
            ApiError::BadRequest {
                field, variable, ..
            } => (field.clone(), variable.clone()),
            ApiError::TooLarge { field, .. } => (Some(field.clone()), None),
            _ => (None, None),
        };
        let body = json!({
            "error": self.to_string(),
            "kind": self.kind(),
            "field": field,
            "variable": variable,
        });
        (self.status(), Json(body)).into_response()
    }
}
