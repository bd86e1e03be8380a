//! JSON → protobuf: a VISS message in the primary format into its proto message.

use serde_json::{Map, Value as Json};

use super::proto::data_packages::DataPackage;
use super::proto::data_packages::data_package::DataPoint;
use super::proto::filter_expressions::FilterExpression;
use super::proto::filter_expressions::filter_expression::{
    FilterValue, FilterVariant, filter_value,
};
use super::proto::{self, ResponseStatus, SubscribeResponseType};
use super::{Request, Response};

/// Why a JSON message has no protobuf form: it is not a VISS message (a member of the
/// wrong type, an unknown action or filter variant), or it says what the v3.0 proto cannot
/// (`combination-op` `OR`, a number or boolean as a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(pub String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

fn error(message: impl Into<String>) -> EncodeError {
    EncodeError(message.into())
}

type Object = Map<String, Json>;

fn object<'a>(json: &'a Json, what: &str) -> Result<&'a Object, EncodeError> {
    json.as_object()
        .ok_or_else(|| error(format!("{what} is not a JSON object")))
}

/// A string member, if present.
fn text(object: &Object, key: &str) -> Result<Option<String>, EncodeError> {
    match object.get(key) {
        None => Ok(None),
        Some(Json::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(error(format!("`{key}` is not a string"))),
    }
}

/// A string member that must be there.
fn required(object: &Object, key: &str) -> Result<String, EncodeError> {
    text(object, key)?.ok_or_else(|| error(format!("`{key}` is missing")))
}

/// A non-optional proto string: absent is empty.
fn text_or_empty(object: &Object, key: &str) -> Result<String, EncodeError> {
    Ok(text(object, key)?.unwrap_or_default())
}

pub(super) fn request(json: &Json) -> Result<Request, EncodeError> {
    let object = object(json, "a request")?;
    let filter = |object: &Object| object.get("filter").map(filter).transpose();
    Ok(match text(object, "action")?.as_deref() {
        Some("get") => Request::Get(proto::GetRequestMessage {
            path: required(object, "path")?,
            filter: filter(object)?,
            authorization: text(object, "authorization")?,
            data_compression: text(object, "dc")?,
            request_id: text(object, "requestId")?,
        }),
        Some("set") => Request::Set(proto::SetRequestMessage {
            path: required(object, "path")?,
            value: value(
                object
                    .get("value")
                    .ok_or_else(|| error("`value` is missing"))?,
            )?,
            authorization: text(object, "authorization")?,
            request_id: text(object, "requestId")?,
        }),
        Some("subscribe") => Request::Subscribe(proto::SubscribeRequestMessage {
            path: required(object, "path")?,
            filter: filter(object)?,
            authorization: text(object, "authorization")?,
            data_compression: text(object, "dc")?,
            request_id: text_or_empty(object, "requestId")?,
        }),
        Some("unsubscribe") => Request::Unsubscribe(proto::UnsubscribeRequestMessage {
            subscription_id: required(object, "subscriptionId")?,
            request_id: text(object, "requestId")?,
        }),
        Some(other) => return Err(error(format!("`{other}` is not a request action"))),
        None => return Err(error("`action` is missing")),
    })
}

pub(super) fn response(json: &Json) -> Result<Response, EncodeError> {
    let object = object(json, "a response")?;
    let failure = object.get("error").map(error_message).transpose()?;
    let status = if failure.is_some() {
        ResponseStatus::Error
    } else {
        ResponseStatus::Success
    } as i32;
    let ts = text_or_empty(object, "ts")?;
    let request_id = text(object, "requestId")?;
    let authorization = text(object, "authorization")?;
    Ok(match text(object, "action")?.as_deref() {
        // An error to a request with no valid action is sent as a get error (module docs).
        Some("get") | None => Response::Get(proto::GetResponseMessage {
            status,
            success_response: get_success(object)?,
            error_response: failure,
            request_id,
            ts,
            authorization,
        }),
        Some("set") => Response::Set(proto::SetResponseMessage {
            status,
            error_response: failure,
            request_id,
            ts,
            authorization,
        }),
        Some("subscribe") => Response::Subscribe(proto::SubscribeStreamMessage {
            m_type: SubscribeResponseType::Response as i32,
            status,
            response: Some(proto::subscribe_stream_message::SubscribeResponseMessage {
                error_response: failure,
                subscription_id: text(object, "subscriptionId")?,
                request_id: request_id.unwrap_or_default(),
                ts,
                authorization,
            }),
            event: None,
        }),
        Some("subscription") => {
            use proto::subscribe_stream_message::subscribe_event_message::SuccessResponseMessage;
            let data_pack = object.get("data").map(data_packages).transpose()?;
            Response::Subscribe(proto::SubscribeStreamMessage {
                m_type: SubscribeResponseType::Event as i32,
                status,
                response: None,
                event: Some(proto::subscribe_stream_message::SubscribeEventMessage {
                    subscription_id: text_or_empty(object, "subscriptionId")?,
                    success_response: data_pack.map(|data_pack| SuccessResponseMessage {
                        data_pack: Some(data_pack),
                    }),
                    error_response: failure,
                    ts,
                }),
            })
        }
        Some("unsubscribe") => Response::Unsubscribe(proto::UnsubscribeResponseMessage {
            status,
            error_response: failure,
            request_id,
            ts,
        }),
        Some(other) => return Err(error(format!("`{other}` is not a response action"))),
    })
}

/// The success part of a get response: `data`, or `metadata` as its JSON text.
fn get_success(
    object: &Object,
) -> Result<Option<proto::get_response_message::SuccessResponseMessage>, EncodeError> {
    let data_pack = object.get("data").map(data_packages).transpose()?;
    let metadata = match object.get("metadata") {
        None => None,
        Some(metadata @ Json::Object(_)) => Some(metadata.to_string()),
        Some(_) => return Err(error("`metadata` is not an object")),
    };
    Ok((data_pack.is_some() || metadata.is_some()).then_some(
        proto::get_response_message::SuccessResponseMessage {
            data_pack,
            metadata,
        },
    ))
}

fn error_message(json: &Json) -> Result<proto::ErrorResponseMessage, EncodeError> {
    let object = object(json, "`error`")?;
    Ok(proto::ErrorResponseMessage {
        number: text_or_empty(object, "number")?,
        reason: text_or_empty(object, "reason")?,
        description: text_or_empty(object, "description")?,
    })
}

/// One object or an array of them: the repeated field's elements.
fn one_or_many<'a>(json: &'a Json, what: &str) -> Result<Vec<&'a Json>, EncodeError> {
    match json {
        Json::Array(items) => Ok(items.iter().collect()),
        Json::Object(_) => Ok(vec![json]),
        _ => Err(error(format!("{what} is neither an object nor an array"))),
    }
}

fn data_packages(json: &Json) -> Result<proto::DataPackages, EncodeError> {
    let data = one_or_many(json, "`data`")?
        .into_iter()
        .map(|package| {
            let package = object(package, "a `data` element")?;
            let dp = match package.get("dp") {
                None => Vec::new(),
                Some(dp) => one_or_many(dp, "`dp`")?
                    .into_iter()
                    .map(data_point)
                    .collect::<Result<_, _>>()?,
            };
            Ok(DataPackage {
                path: text_or_empty(package, "path")?,
                dp,
            })
        })
        .collect::<Result<_, EncodeError>>()?;
    Ok(proto::DataPackages { data })
}

fn data_point(json: &Json) -> Result<DataPoint, EncodeError> {
    let point = object(json, "a `dp` element")?;
    Ok(DataPoint {
        value: point
            .get("value")
            .map(value)
            .transpose()?
            .unwrap_or_default(),
        ts: text_or_empty(point, "ts")?,
    })
}

/// A VISS value as the proto's string (module docs: strings as themselves, arrays and
/// objects as their JSON text).
fn value(json: &Json) -> Result<String, EncodeError> {
    match json {
        Json::String(text) => Ok(text.clone()),
        Json::Array(_) | Json::Object(_) => Ok(json.to_string()),
        other => Err(error(format!(
            "the value {other} is not a VISS v3 value (a string, an array or an object)"
        ))),
    }
}

fn filter(json: &Json) -> Result<proto::FilterExpressions, EncodeError> {
    let filter_exp = match json {
        Json::Array(items) => items.iter().map(expression).collect::<Result<_, _>>()?,
        _ => vec![expression(json)?],
    };
    Ok(proto::FilterExpressions { filter_exp })
}

fn expression(json: &Json) -> Result<FilterExpression, EncodeError> {
    let object = object(json, "a filter")?;
    let variant = required(object, "variant")?;
    let parameter = object.get("parameter");
    let mut value = FilterValue::default();
    let kind = match variant.as_str() {
        "paths" => {
            value.value_paths = parameter.map(paths).transpose()?;
            FilterVariant::Paths
        }
        "timebased" => {
            value.value_timebased = parameter
                .map(|parameter| {
                    let period = member(parameter, "period")?;
                    Ok::<_, EncodeError>(filter_value::TimebasedValue { period })
                })
                .transpose()?;
            FilterVariant::Timebased
        }
        "range" => {
            value.value_range = match parameter {
                None => Vec::new(),
                Some(parameter) => range(parameter)?,
            };
            FilterVariant::Range
        }
        "change" => {
            value.value_change = parameter
                .map(|parameter| {
                    Ok::<_, EncodeError>(filter_value::ChangeValue {
                        logic_operator: member(parameter, "logic-op")?,
                        diff: member(parameter, "diff")?,
                    })
                })
                .transpose()?;
            FilterVariant::Change
        }
        "curvelog" => {
            value.value_curvelog = parameter
                .map(|parameter| {
                    Ok::<_, EncodeError>(filter_value::CurvelogValue {
                        max_err: member(parameter, "maxerr")?,
                        buf_size: member(parameter, "bufsize")?,
                    })
                })
                .transpose()?;
            FilterVariant::Curvelog
        }
        "history" => {
            value.value_history = parameter
                .map(|parameter| {
                    Ok::<_, EncodeError>(filter_value::HistoryValue {
                        time_period: string(parameter, "the history parameter")?,
                    })
                })
                .transpose()?;
            FilterVariant::History
        }
        "metadata" => {
            value.value_metadata = parameter
                .map(|parameter| {
                    Ok::<_, EncodeError>(filter_value::MetadataValue {
                        tree: string(parameter, "the metadata parameter")?,
                    })
                })
                .transpose()?;
            FilterVariant::Metadata
        }
        other => return Err(error(format!("`{other}` is not a VISS v3 filter variant"))),
    };
    Ok(FilterExpression {
        variant: kind as i32,
        value: Some(value),
    })
}

fn string(json: &Json, what: &str) -> Result<String, EncodeError> {
    json.as_str()
        .map(str::to_owned)
        .ok_or_else(|| error(format!("{what} is not a string")))
}

/// A string member of a filter parameter object.
fn member(parameter: &Json, key: &str) -> Result<String, EncodeError> {
    required(object(parameter, "the filter parameter")?, key)
}

fn paths(parameter: &Json) -> Result<filter_value::PathsValue, EncodeError> {
    let relative_path = match parameter {
        Json::String(path) => vec![path.clone()],
        Json::Array(items) => items
            .iter()
            .map(|item| string(item, "a `paths` parameter element"))
            .collect::<Result<_, _>>()?,
        _ => return Err(error("the `paths` parameter is not a string or an array")),
    };
    Ok(filter_value::PathsValue { relative_path })
}

fn range(parameter: &Json) -> Result<Vec<filter_value::RangeValue>, EncodeError> {
    one_or_many(parameter, "the `range` parameter")?
        .into_iter()
        .map(|boundary| {
            let boundary = object(boundary, "a range boundary")?;
            match text(boundary, "combination-op")?.as_deref() {
                None | Some("AND") => {}
                Some(other) => {
                    return Err(error(format!(
                        "`combination-op` `{other}` cannot be expressed in the VISS v3.0 \
                         protobuf encoding, whose two range boundaries are always ANDed"
                    )));
                }
            }
            Ok(filter_value::RangeValue {
                logic_operator: required(boundary, "logic-op")?,
                boundary: required(boundary, "boundary")?,
            })
        })
        .collect()
}
