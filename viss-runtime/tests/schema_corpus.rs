//! Conformance against the normative VISS v3.0 JSON schema: a corpus of valid and invalid
//! requests of every action and filter is run through the engine, and every response and
//! every event must validate.
//!
//! Documented exemptions (both are schema defects; the message is then checked against an
//! in-memory repair of the schema instead, so it is still validated):
//! 1. `set` and `unsubscribe` **error responses**: the success branch of those message
//!    schemas requires only `ts` and forbids nothing, so an error response matches both
//!    the success and the error branch and fails `oneOf`. Not yet listed in viss-core.md
//!    §13 (found by this test; same class as §13's "HTTP response body" row). Repair: the
//!    success branch gets `"not": {"required": ["error"]}`.
//! 2. Error responses to requests **without a valid action** (missing, not a string,
//!    unknown, or the server-only `subscription`): the schema has no error shape without an
//!    `action` const (§13: the schema requires `action`, cf. the "no action" row and
//!    §18-Q23). Checked as a `get` error response with the action replaced.

mod support;

use serde_json::{Value as Json, json};
use support::corpus::{self, Seen};

struct Checker {
    strict: jsonschema::Validator,
    repaired: jsonschema::Validator,
    checked: usize,
    exempt_set_unsubscribe_error: usize,
    exempt_no_action: usize,
}

impl Checker {
    fn new() -> Self {
        let path = test_support::shared_path("schemas/viss-v3-messages.schema.json");
        let schema: Json =
            serde_json::from_str(&std::fs::read_to_string(path).expect("schema readable"))
                .expect("schema is JSON");
        let mut repaired = schema.clone();
        for message in ["set-message", "unsubscribe-message"] {
            let success = &mut repaired["$defs"]
                [format!("https://covesa.global/vissv3.0/{message}.schema.json")]["oneOf"][1];
            assert!(
                success["required"] == json!(["ts"]),
                "the defect is still there"
            );
            success["not"] = json!({"required": ["error"]});
        }
        Self {
            strict: jsonschema::validator_for(&schema).expect("schema compiles"),
            repaired: jsonschema::validator_for(&repaired).expect("repaired schema compiles"),
            checked: 0,
            exempt_set_unsubscribe_error: 0,
            exempt_no_action: 0,
        }
    }

    fn check(&mut self, message: &Json, context: &str) {
        self.checked += 1;
        let action = message.get("action").and_then(Json::as_str);
        let known = matches!(
            action,
            Some("get" | "set" | "subscribe" | "unsubscribe" | "subscription")
        );
        let is_error = message.get("error").is_some();
        let subscription_without_id =
            action == Some("subscription") && message.get("subscriptionId").is_none();
        if is_error && (!known || subscription_without_id) {
            self.exempt_no_action += 1;
            let mut as_get = message.clone();
            as_get["action"] = json!("get");
            self.assert_valid(&self.strict, &as_get, context);
        } else if is_error && matches!(action, Some("set" | "unsubscribe")) {
            self.exempt_set_unsubscribe_error += 1;
            assert!(
                !self.strict.is_valid(message),
                "defect fixed upstream? {message}"
            );
            self.assert_valid(&self.repaired, message, context);
        } else {
            self.assert_valid(&self.strict, message, context);
        }
    }

    fn assert_valid(&self, validator: &jsonschema::Validator, message: &Json, context: &str) {
        let errors: Vec<String> = validator
            .iter_errors(message)
            .map(|error| error.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{context}\n  message: {message}\n  errors: {errors:?}"
        );
    }
}

#[test]
fn every_response_and_event_validates() {
    let mut checker = Checker::new();
    let run = corpus::run(|seen| {
        if let Seen::Message(message, context) = seen {
            checker.check(message, context);
        }
    });
    assert!(run.requests >= 200, "corpus has {} requests", run.requests);
    assert!(
        run.events > 50,
        "the corpus produced only {} events",
        run.events
    );
    assert!(
        run.errors > 100 && run.errors < checker.checked,
        "both valid and invalid requests ({} errors)",
        run.errors
    );
    eprintln!(
        "schema corpus: {} requests x2 rounds, {} messages validated ({} events in the drive phase), exempt: {} set/unsubscribe error responses, {} no-valid-action errors",
        run.requests,
        checker.checked,
        run.events,
        checker.exempt_set_unsubscribe_error,
        checker.exempt_no_action
    );
}

#[test]
fn the_spec_examples_validate_as_a_sanity_check_of_the_validator() {
    let checker = Checker::new();
    let get = json!({"action":"get","requestId":"8756","data":{"path":"Vehicle.Powertrain.CombustionEngine.RPM","dp":{"value":"2372","ts":"2020-04-15T13:37:00Z"}},"ts":"2020-04-15T13:37:05Z"});
    assert!(checker.strict.is_valid(&get));
    let bad_number = json!({"action":"get","requestId":"1","error":{"number":404,"reason":"unavailable_data","description":"x"},"ts":"t"});
    assert!(
        !checker.strict.is_valid(&bad_number),
        "the validator rejects a numeric error number"
    );
    let bad_reason = json!({"action":"subscription","subscriptionId":"1","error":{"number":"401","reason":"expired_token","description":"x"},"ts":"t"});
    assert!(
        !checker.strict.is_valid(&bad_reason),
        "§13: expired_token is outside the enum"
    );
}
