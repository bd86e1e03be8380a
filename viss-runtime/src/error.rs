//! The VISS v3 error table (TRANSPORT §4.1) and the descriptions the spec allows.
//!
//! Every error the engine can report is a variant of [`VissError`]; each variant maps to
//! one row of the ten-row status table plus either the table's default description or one
//! of the alternative descriptions TRANSPORT §4.1.2–§4.1.6 lists. There is no constructor
//! taking free text, so an error outside the table cannot be written.

/// One row of the status table: number, reason and default description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    InvalidData,
    InvalidToken,
    ForbiddenRequest,
    UnavailableData,
    RequestTimeout,
    TooManyRequests,
    BadGateway,
    ServiceUnavailable,
    GatewayTimeout,
}

impl ErrorKind {
    /// All ten rows, in table order.
    pub const ALL: [ErrorKind; 10] = [
        Self::BadRequest,
        Self::InvalidData,
        Self::InvalidToken,
        Self::ForbiddenRequest,
        Self::UnavailableData,
        Self::RequestTimeout,
        Self::TooManyRequests,
        Self::BadGateway,
        Self::ServiceUnavailable,
        Self::GatewayTimeout,
    ];

    /// The error number as the string the payload carries.
    pub const fn number(self) -> &'static str {
        match self {
            Self::BadRequest | Self::InvalidData => "400",
            Self::InvalidToken => "401",
            Self::ForbiddenRequest => "403",
            Self::UnavailableData => "404",
            Self::RequestTimeout => "408",
            Self::TooManyRequests => "429",
            Self::BadGateway => "502",
            Self::ServiceUnavailable => "503",
            Self::GatewayTimeout => "504",
        }
    }

    /// The error reason.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::InvalidData => "invalid_data",
            Self::InvalidToken => "invalid_token",
            Self::ForbiddenRequest => "forbidden_request",
            Self::UnavailableData => "unavailable_data",
            Self::RequestTimeout => "request_timeout",
            Self::TooManyRequests => "too_many_requests",
            Self::BadGateway => "bad_gateway",
            Self::ServiceUnavailable => "service_unavailable",
            Self::GatewayTimeout => "gateway_timeout",
        }
    }

    /// The table's default description.
    pub const fn default_description(self) -> &'static str {
        match self {
            Self::BadRequest => "The request is malformed",
            Self::InvalidData => "Data in the request is invalid",
            Self::InvalidToken => "Access token is invalid",
            Self::ForbiddenRequest => "The server refuses to carry out the request",
            Self::UnavailableData => "The requested data was not found",
            Self::RequestTimeout => "Subscribe duration limit exceeded",
            Self::TooManyRequests => "Rate-limiting due to too many requests",
            Self::BadGateway => "The upstream server response was invalid",
            Self::ServiceUnavailable => "The server is temporarily unable to handle the request",
            Self::GatewayTimeout => "The upstream server took too long to respond",
        }
    }
}

/// An error the engine reports: a table row plus a description the spec names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VissError {
    /// Any row with its default description.
    Default(ErrorKind),
    // 400 bad_request alternatives (TRANSPORT §4.1.3) and the common scenarios table.
    InvalidAction,
    InvalidPath,
    InvalidFilter,
    InvalidValue,
    IncorrectFilter,
    // 400 invalid_data alternatives (TRANSPORT §4.1.4).
    SensorUpdate,
    BranchAction,
    OutsideLimit,
    IncorrectDataType,
    // 401 invalid_token alternatives (TRANSPORT §4.1.5), and the access-control denials
    // of CORE §8.4.4, which all answer `401 invalid_token` and say why in the description.
    TokenExpired,
    TokenMissing,
    /// Malformed, badly signed, or signed with an algorithm or key the server does not
    /// accept (the table's default text: no more detail to an attacker).
    TokenInvalid,
    TokenNotYetValid,
    TokenOtherVehicle,
    TokenOtherAudience,
    /// The token's scope does not cover every addressed node.
    TokenScope,
    /// A read-only permission used for a `set`.
    TokenReadOnly,
    /// Data tagged `+consent` without the owner's consent in the token.
    TokenConsent,
    /// A token handle this session was not given, or one whose token has expired.
    TokenHandleUnknown,
    // 404 unavailable_data alternatives (TRANSPORT §4.1.2, §4.1.6).
    DataTemporarilyUnaccessible,
    DataUnknown,
    UnknownSubscriptionId,
    UnsupportedFeature,
    /// VISSv2's answer to an unknown `subscriptionId` (400 `invalid_data`, A7).
    InvalidSubscriptionId,
}

impl VissError {
    /// The table row this error belongs to.
    pub const fn kind(self) -> ErrorKind {
        match self {
            Self::Default(kind) => kind,
            Self::InvalidAction
            | Self::InvalidPath
            | Self::InvalidFilter
            | Self::InvalidValue
            | Self::IncorrectFilter => ErrorKind::BadRequest,
            Self::SensorUpdate
            | Self::BranchAction
            | Self::OutsideLimit
            | Self::IncorrectDataType
            | Self::InvalidSubscriptionId => ErrorKind::InvalidData,
            Self::TokenExpired
            | Self::TokenMissing
            | Self::TokenInvalid
            | Self::TokenNotYetValid
            | Self::TokenOtherVehicle
            | Self::TokenOtherAudience
            | Self::TokenScope
            | Self::TokenReadOnly
            | Self::TokenConsent
            | Self::TokenHandleUnknown => ErrorKind::InvalidToken,
            Self::DataTemporarilyUnaccessible
            | Self::DataUnknown
            | Self::UnknownSubscriptionId
            | Self::UnsupportedFeature => ErrorKind::UnavailableData,
        }
    }

    /// The error number string.
    pub const fn number(self) -> &'static str {
        self.kind().number()
    }

    /// The error reason string.
    pub const fn reason(self) -> &'static str {
        self.kind().reason()
    }

    /// The description written into the payload.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Default(kind) => kind.default_description(),
            Self::InvalidAction => "Missing or invalid action",
            Self::InvalidPath => "Missing or invalid path",
            Self::InvalidFilter => "Missing or invalid filter",
            Self::InvalidValue => "Missing or invalid value",
            Self::IncorrectFilter => "Incorrect filter",
            Self::SensorUpdate => "Update of a sensor is not supported",
            Self::BranchAction => "Requested action on a branch is not supported",
            Self::OutsideLimit => "Data value outside limit",
            Self::IncorrectDataType => "Incorrect data type",
            Self::TokenExpired => "Access token has expired",
            Self::TokenMissing => "Access token is missing",
            Self::TokenInvalid => "Access token is invalid",
            Self::TokenNotYetValid => "Access token is not yet valid",
            Self::TokenOtherVehicle => "Access token is for another vehicle",
            Self::TokenOtherAudience => "Access token is for another audience",
            Self::TokenScope => "Access token does not cover the requested data",
            Self::TokenReadOnly => "Access token does not permit writes",
            Self::TokenConsent => "Consent for the requested data is missing",
            Self::TokenHandleUnknown => "Unknown token handle",
            Self::DataTemporarilyUnaccessible => "Data temporarily unaccessible",
            Self::DataUnknown => "Data is unknown",
            Self::UnknownSubscriptionId | Self::InvalidSubscriptionId => "Unknown subscription Id",
            Self::UnsupportedFeature => "Unsupported feature",
        }
    }

    /// The VISSv2 number and reason (VISSv2 TRANSPORT §4.1): v2 names missing and expired
    /// tokens apart and has no 502/504 rows (they become 503 `service_unavailable`).
    pub const fn v2_number_and_reason(self) -> (&'static str, &'static str) {
        match self {
            Self::TokenMissing => ("401", "missing_token"),
            Self::TokenExpired => ("401", "expired_token"),
            _ => match self.kind() {
                ErrorKind::BadGateway | ErrorKind::GatewayTimeout => ("503", "service_unavailable"),
                kind => (kind.number(), kind.reason()),
            },
        }
    }

    /// The malformed-request error with the table's default text.
    pub const fn bad_request() -> Self {
        Self::Default(ErrorKind::BadRequest)
    }
}

impl std::fmt::Display for VissError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.number(),
            self.reason(),
            self.description()
        )
    }
}

impl std::error::Error for VissError {}

/// An error and the errors under it, `: `-joined: libraries that wrap an I/O or TLS failure
/// (tonic's "transport error", tokio-postgres' "error performing TLS handshake") say why
/// only in their sources (e.g. the certificate's issuer is unknown).
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_ten_distinct_rows() {
        let reasons: std::collections::HashSet<_> =
            ErrorKind::ALL.iter().map(|kind| kind.reason()).collect();
        assert_eq!(reasons.len(), 10);
        assert_eq!(ErrorKind::RequestTimeout.number(), "408");
        assert_eq!(
            ErrorKind::ServiceUnavailable.default_description(),
            "The server is temporarily unable to handle the request"
        );
    }

    #[test]
    fn alternative_descriptions_belong_to_their_rows() {
        assert_eq!(
            (
                VissError::DataUnknown.number(),
                VissError::DataUnknown.reason()
            ),
            ("404", "unavailable_data")
        );
        assert_eq!(VissError::IncorrectFilter.kind(), ErrorKind::BadRequest);
        assert_eq!(VissError::OutsideLimit.kind(), ErrorKind::InvalidData);
        assert_eq!(VissError::TokenMissing.kind(), ErrorKind::InvalidToken);
        assert_eq!(
            VissError::UnknownSubscriptionId.to_string(),
            "404 unavailable_data: Unknown subscription Id"
        );
    }
}
