//! Protobuf → JSON: a proto message back into the VISS primary format.

use serde_json::{Map, Value as Json};

use super::proto::filter_expressions::FilterExpression;
use super::proto::filter_expressions::filter_expression::FilterVariant;
use super::proto::{self, SubscribeResponseType};
use super::{Request, Response};

type Object = Map<String, Json>;

/// A JSON object built member by member, in the order the engine writes them.
struct Members(Object);

impl Members {
    fn new(action: &str) -> Self {
        let mut members = Object::new();
        members.insert("action".into(), Json::from(action));
        Self(members)
    }

    fn put(&mut self, key: &str, value: Json) -> &mut Self {
        self.0.insert(key.to_owned(), value);
        self
    }

    /// Adds `key` when the optional string is there.
    fn text(&mut self, key: &str, text: Option<&String>) -> &mut Self {
        if let Some(text) = text {
            self.put(key, Json::from(text.as_str()));
        }
        self
    }

    /// Adds `key` when the non-optional proto string is not empty ("absent").
    fn nonempty(&mut self, key: &str, text: &str) -> &mut Self {
        if !text.is_empty() {
            self.put(key, Json::from(text));
        }
        self
    }

    fn error(&mut self, failure: Option<&proto::ErrorResponseMessage>) -> &mut Self {
        if let Some(failure) = failure {
            let mut error = Object::new();
            error.insert("number".into(), Json::from(failure.number.as_str()));
            error.insert("reason".into(), Json::from(failure.reason.as_str()));
            error.insert(
                "description".into(),
                Json::from(failure.description.as_str()),
            );
            self.put("error", Json::Object(error));
        }
        self
    }

    fn done(&mut self) -> Json {
        Json::Object(std::mem::take(&mut self.0))
    }
}

pub(super) fn request(request: &Request) -> Json {
    match request {
        Request::Get(get) => Members::new("get")
            .put("path", Json::from(get.path.as_str()))
            .filter(get.filter.as_ref())
            .text("dc", get.data_compression.as_ref())
            .text("authorization", get.authorization.as_ref())
            .text("requestId", get.request_id.as_ref())
            .done(),
        Request::Set(set) => Members::new("set")
            .put("path", Json::from(set.path.as_str()))
            .put("value", value(&set.value))
            .text("authorization", set.authorization.as_ref())
            .text("requestId", set.request_id.as_ref())
            .done(),
        Request::Subscribe(subscribe) => Members::new("subscribe")
            .put("path", Json::from(subscribe.path.as_str()))
            .filter(subscribe.filter.as_ref())
            .text("dc", subscribe.data_compression.as_ref())
            .text("authorization", subscribe.authorization.as_ref())
            .nonempty("requestId", &subscribe.request_id)
            .done(),
        Request::Unsubscribe(unsubscribe) => Members::new("unsubscribe")
            .put(
                "subscriptionId",
                Json::from(unsubscribe.subscription_id.as_str()),
            )
            .text("requestId", unsubscribe.request_id.as_ref())
            .done(),
    }
}

pub(super) fn response(response: &Response) -> Json {
    match response {
        Response::Get(get) => {
            let mut members = Members::new("get");
            members.text("requestId", get.request_id.as_ref());
            if let Some(success) = &get.success_response {
                if let Some(data) = &success.data_pack {
                    members.put("data", data_packages(data));
                }
                if let Some(metadata) = &success.metadata {
                    members.put("metadata", metadata_object(metadata));
                }
            }
            members
                .error(get.error_response.as_ref())
                .text("authorization", get.authorization.as_ref())
                .nonempty("ts", &get.ts)
                .done()
        }
        Response::Set(set) => Members::new("set")
            .text("requestId", set.request_id.as_ref())
            .error(set.error_response.as_ref())
            .text("authorization", set.authorization.as_ref())
            .nonempty("ts", &set.ts)
            .done(),
        Response::Subscribe(stream) => subscribe_stream(stream),
        Response::Unsubscribe(unsubscribe) => Members::new("unsubscribe")
            .text("requestId", unsubscribe.request_id.as_ref())
            .error(unsubscribe.error_response.as_ref())
            .nonempty("ts", &unsubscribe.ts)
            .done(),
    }
}

fn subscribe_stream(stream: &proto::SubscribeStreamMessage) -> Json {
    let is_event = stream.m_type == SubscribeResponseType::Event as i32;
    match (&stream.response, &stream.event) {
        (Some(response), _) if !is_event => Members::new("subscribe")
            .nonempty("requestId", &response.request_id)
            .text("subscriptionId", response.subscription_id.as_ref())
            .error(response.error_response.as_ref())
            .text("authorization", response.authorization.as_ref())
            .nonempty("ts", &response.ts)
            .done(),
        (_, Some(event)) => {
            let mut members = Members::new("subscription");
            members.nonempty("subscriptionId", &event.subscription_id);
            if let Some(data) = event
                .success_response
                .as_ref()
                .and_then(|success| success.data_pack.as_ref())
            {
                members.put("data", data_packages(data));
            }
            members
                .error(event.error_response.as_ref())
                .nonempty("ts", &event.ts)
                .done()
        }
        // A stream message with neither part: the action alone.
        _ => Members::new(if is_event {
            "subscription"
        } else {
            "subscribe"
        })
        .done(),
    }
}

impl Members {
    fn filter(&mut self, filter: Option<&proto::FilterExpressions>) -> &mut Self {
        if let Some(filter) = filter {
            let expressions = filter.filter_exp.iter().map(expression).collect();
            self.put("filter", one_or_many(expressions));
        }
        self
    }
}

/// One element as itself, any other number as an array (module docs).
fn one_or_many(mut items: Vec<Json>) -> Json {
    if items.len() == 1 {
        items.swap_remove(0)
    } else {
        Json::Array(items)
    }
}

fn expression(expression: &FilterExpression) -> Json {
    let variant = FilterVariant::try_from(expression.variant).ok();
    let mut members = Object::new();
    let name = variant.map_or("unknown", |variant| match variant {
        FilterVariant::Paths => "paths",
        FilterVariant::Timebased => "timebased",
        FilterVariant::Range => "range",
        FilterVariant::Change => "change",
        FilterVariant::Curvelog => "curvelog",
        FilterVariant::History => "history",
        FilterVariant::Metadata => "metadata",
    });
    members.insert("variant".into(), Json::from(name));
    if let Some(parameter) = variant.and_then(|variant| parameter(expression, variant)) {
        members.insert("parameter".into(), parameter);
    }
    Json::Object(members)
}

/// The parameter of the variant's own value field; `None` when it was not sent.
fn parameter(expression: &FilterExpression, variant: FilterVariant) -> Option<Json> {
    let value = expression.value.as_ref()?;
    let pair = |entries: [(&str, &str); 2]| {
        Json::Object(
            entries
                .into_iter()
                .map(|(key, text)| (key.to_owned(), Json::from(text)))
                .collect(),
        )
    };
    Some(match variant {
        FilterVariant::Paths => Json::from(value.value_paths.as_ref()?.relative_path.clone()),
        FilterVariant::Timebased => {
            let period = value.value_timebased.as_ref()?.period.as_str();
            let mut object = Object::new();
            object.insert("period".into(), Json::from(period));
            Json::Object(object)
        }
        FilterVariant::Range if value.value_range.is_empty() => return None,
        FilterVariant::Range => one_or_many(
            value
                .value_range
                .iter()
                .map(|range| {
                    pair([
                        ("logic-op", &range.logic_operator),
                        ("boundary", &range.boundary),
                    ])
                })
                .collect(),
        ),
        FilterVariant::Change => {
            let change = value.value_change.as_ref()?;
            pair([("logic-op", &change.logic_operator), ("diff", &change.diff)])
        }
        FilterVariant::Curvelog => {
            let curvelog = value.value_curvelog.as_ref()?;
            pair([
                ("maxerr", &curvelog.max_err),
                ("bufsize", &curvelog.buf_size),
            ])
        }
        FilterVariant::History => Json::from(value.value_history.as_ref()?.time_period.as_str()),
        FilterVariant::Metadata => Json::from(value.value_metadata.as_ref()?.tree.as_str()),
    })
}

fn data_packages(data: &proto::DataPackages) -> Json {
    one_or_many(
        data.data
            .iter()
            .map(|package| {
                let mut members = Object::new();
                members.insert("path".into(), Json::from(package.path.as_str()));
                let points = package
                    .dp
                    .iter()
                    .map(|point| {
                        let mut members = Object::new();
                        members.insert("value".into(), value(&point.value));
                        members.insert("ts".into(), Json::from(point.ts.as_str()));
                        Json::Object(members)
                    })
                    .collect();
                members.insert("dp".into(), one_or_many(points));
                Json::Object(members)
            })
            .collect(),
    )
}

/// A proto value string as JSON: an array or object when its text is one, else the string.
fn value(text: &str) -> Json {
    if text.starts_with(['[', '{'])
        && let Ok(json @ (Json::Array(_) | Json::Object(_))) = serde_json::from_str(text)
    {
        return json;
    }
    Json::from(text)
}

/// The metadata object from its JSON text; text that is no JSON object stays a string.
fn metadata_object(text: &str) -> Json {
    match serde_json::from_str(text) {
        Ok(object @ Json::Object(_)) => object,
        _ => Json::from(text),
    }
}
