//! The datatypes of VAPI v1.0 (`ProcedureStatus`, `ErrorData`, the outputs of each
//! procedure, the seating vocabulary) and how a client failure becomes an `ErrorData`.

use std::sync::Arc;

use crate::client::ClientError;

/// The outcome of a procedure call (or of the latest callback of a service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i8)]
pub enum ProcedureStatus {
    /// In execution of the latest call.
    Ongoing = 1,
    /// Terminated successfully in the latest call.
    Successful = 0,
    /// Terminated due to a failure in the latest call.
    Failed = -1,
}

/// Why a procedure failed: the VISS error number, reason and description (client-side
/// failures use the VISS numbers that fit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorData {
    pub code: i32,
    pub reason: String,
    pub description: String,
}

impl ErrorData {
    pub fn new(code: i32, reason: &str, description: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.to_owned(),
            description: description.into(),
        }
    }

    /// A service or signal the vehicle does not have (404 `unavailable_data`).
    pub(super) fn unsupported(what: &str) -> Self {
        Self::new(
            404,
            "unavailable_data",
            format!("the vehicle does not support {what}"),
        )
    }

    pub(super) fn invalid(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_data", description)
    }

    pub(super) fn bad_request(description: impl Into<String>) -> Self {
        Self::new(400, "bad_request", description)
    }
}

impl From<ClientError> for ErrorData {
    fn from(error: ClientError) -> Self {
        let description = error.to_string();
        match error {
            ClientError::Viss {
                number,
                reason,
                description,
            } => Self {
                code: number.parse().unwrap_or(0),
                reason,
                description,
            },
            ClientError::InvalidValue { .. } => Self::invalid(description),
            ClientError::Unsupported(_) => Self::bad_request(description),
            ClientError::Timeout => Self::new(408, "request_timeout", description),
            ClientError::TooManyPending => Self::new(429, "too_many_requests", description),
            ClientError::ConnectionLost
            | ClientError::Closed
            | ClientError::Connect(_)
            | ClientError::Protocol(_) => Self::new(503, "service_unavailable", description),
        }
    }
}

/// A value and when it was captured; the value is VISS's as text (`"42"`, `"true"`, a
/// struct or array as JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPoint {
    pub value: String,
    pub timestamp: String,
}

/// The data points of one signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataContainer {
    pub path: String,
    pub signal_data: Vec<DataPoint>,
}

/// A float from 0 to 100.
pub type Percentage = f64;

/// A seat by its row and column names (`Row1`, `DriverSide`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixId {
    pub row_name: String,
    pub column_name: String,
}

impl MatrixId {
    pub fn new(row_name: &str, column_name: &str) -> Self {
        Self {
            row_name: row_name.to_owned(),
            column_name: column_name.to_owned(),
        }
    }
}

/// A movement or massage type a seat supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportData {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnData {
    pub name: String,
    pub movement_support: Vec<SupportData>,
    pub massage_support: Vec<SupportData>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowDef {
    pub row_name: String,
    pub column: Vec<ColumnData>,
}

/// The seats, row by row.
pub type RaggedMatrix = Vec<RowDef>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneralOutput {
    pub status: ProcedureStatus,
    pub error: Option<ErrorData>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOutput {
    pub status: ProcedureStatus,
    pub error: Option<ErrorData>,
    /// The access grant token, when the options name an access-control server and
    /// `client_credentials` was the client's proof; empty otherwise.
    pub lt_credential: String,
}

/// What GetStCredentials answers: an access token for the purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetStCredentialsOutput {
    pub status: ProcedureStatus,
    pub error: Option<ErrorData>,
    /// The access token (empty when the procedure failed).
    pub st_credentials: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetMetadataOutput {
    pub status: ProcedureStatus,
    pub error: Option<ErrorData>,
    /// The metadata of the subtree, as JSON text.
    pub metadata: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetOutput {
    pub status: ProcedureStatus,
    pub error: Option<ErrorData>,
    pub data: Vec<DataContainer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeOutput {
    pub status: ProcedureStatus,
    pub error: Option<ErrorData>,
    pub data: Vec<DataContainer>,
    pub service_id: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetPropertiesSeatingOutput {
    pub status: ProcedureStatus,
    pub error: Option<ErrorData>,
    pub properties: RaggedMatrix,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MoveSeatOutput {
    pub status: ProcedureStatus,
    pub error: Option<ErrorData>,
    pub position: Percentage,
    pub service_id: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MassageOutput {
    pub status: ProcedureStatus,
    pub error: Option<ErrorData>,
    pub service_id: u32,
}

/// What a service reports to while it runs: called from a task of the client's runtime.
pub type Callback<O> = Arc<dyn Fn(O) + Send + Sync>;

/// Calls a service's callback, if any.
pub(super) fn notify<O>(callback: Option<&Callback<O>>, output: O) {
    if let Some(callback) = callback {
        callback(output);
    }
}

// Movement types.
/// Forward-backward direction of the vehicle.
pub const LONGITUDINAL: &str = "longitudinal";
/// Up-down direction of the vehicle.
pub const VERTICAL: &str = "vertical";
/// Seat backrest angular.
pub const BACKREST: &str = "backrest";
/// Seat inflate-deflate lumbar.
pub const LUMBAR: &str = "lumbar";

// Movement directions, as Percentage end points.
pub const FORWARD: Percentage = 0.0;
pub const BACKWARD: Percentage = 100.0;
pub const UP: Percentage = 100.0;
pub const DOWN: Percentage = 0.0;
pub const INFLATE: Percentage = 100.0;
pub const DEFLATE: Percentage = 0.0;
pub const FORWARD_RECLINE: Percentage = 0.0;
pub const BACKWARD_RECLINE: Percentage = 100.0;
