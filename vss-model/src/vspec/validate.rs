//! Per-node resolution and validation (§4–§8): turns a node's raw attributes into
//! [`NodeKind`] + [`NodeData`], reporting every problem at the attribute that causes it.
//! vss-tools stops at the first bad node; this reports all of them.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde_json::{Number, Value};

use super::build::{BId, BuildTree};
use super::instances;
use super::raw::Attr;
use crate::datatype::{Datatype, ElementType, Primitive, split_array_suffix};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{NodeData, NodeKind, UnitTable, Validate};
use crate::source::SourceLocation;

pub use vss_vocab::attribute::is_core_anywhere;
use vss_vocab::attribute::{BRANCH, COMMON, DATA, VALIDATE, VALIDATE_VALUES};

fn is_core_for(kind: NodeKind, name: &str) -> bool {
    COMMON.contains(&name)
        || match kind {
            NodeKind::Branch => BRANCH.contains(&name),
            NodeKind::Struct => false,
            _ => DATA.contains(&name),
        }
}

/// What resolution needs to know about the rest of the model.
#[derive(Debug)]
pub struct Context<'a> {
    pub units: &'a UnitTable,
    /// Fully qualified names of every struct known as a datatype.
    pub structs: &'a HashSet<String>,
    /// Members of each struct (name, datatype), for struct `default` values.
    pub struct_members: &'a HashMap<String, Vec<(String, Datatype)>>,
    /// True while resolving a types tree (leaf-name struct references allowed).
    pub in_types_tree: bool,
}

/// A resolved node.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub kind: NodeKind,
    pub data: NodeData,
    pub delete: bool,
}

/// Resolves one node; `None` when it is unusable (errors were reported).
pub fn resolve_node(
    tree: &BuildTree,
    id: BId,
    path: &str,
    ctx: &Context<'_>,
    diags: &mut Diagnostics,
) -> Option<Resolved> {
    let node = tree.node(id);
    let mut v = NodeValidator {
        path,
        attrs: &node.attrs,
        node_loc: node.loc,
        diags,
        ok: true,
    };
    let kind = v.kind()?;
    let mut data = NodeData::default();
    v.extras(kind, &mut data);
    v.validate_tag(&mut data);
    v.common(&mut data);
    let delete = v.flag("delete").unwrap_or(false);
    v.flag("instantiate");
    match kind {
        NodeKind::Branch => v.branch(&mut data),
        NodeKind::Struct => {}
        _ => {
            let parent_branch = types_branch_of(tree, id);
            v.data_entry(&mut data, ctx, parent_branch.as_deref());
        }
    }
    v.ok.then_some(Resolved { kind, data, delete })
}

/// For leaf-name struct references: the path of the nearest branch above the node.
fn types_branch_of(tree: &BuildTree, id: BId) -> Option<String> {
    let mut current = tree.node(id).parent;
    while let Some(p) = current {
        if tree.attr_str(p, "type") == Some("branch") {
            return Some(tree.path(p));
        }
        current = tree.node(p).parent;
    }
    None
}

struct NodeValidator<'a> {
    path: &'a str,
    attrs: &'a IndexMap<String, Attr>,
    node_loc: Option<SourceLocation>,
    diags: &'a mut Diagnostics,
    ok: bool,
}

impl NodeValidator<'_> {
    fn error(&mut self, code: &'static str, message: String, at: Option<SourceLocation>) {
        self.diags.push(
            Diagnostic::error(code, format!("'{}': {message}", self.path)).at(at.or(self.node_loc)),
        );
        self.ok = false;
    }

    fn warn(&mut self, code: &'static str, message: String, at: Option<SourceLocation>) {
        self.diags.push(
            Diagnostic::warning(code, format!("'{}': {message}", self.path))
                .at(at.or(self.node_loc)),
        );
    }

    fn get(&self, key: &str) -> Option<&Attr> {
        self.attrs.get(key).filter(|a| !a.value.is_null())
    }

    fn kind(&mut self) -> Option<NodeKind> {
        let Some(attr) = self.get("type") else {
            self.error("vss::missing-type", "'type' Field required".into(), None);
            return None;
        };
        let at = Some(attr.value_loc);
        match attr.value.as_str().and_then(NodeKind::from_name) {
            Some(kind) => Some(kind),
            None => {
                let text = display(&attr.value);
                self.error(
                    "vss::invalid-type",
                    format!(
                        "'{text}': Input should be 'branch', 'attribute', 'sensor', 'actuator', 'struct' or 'property'"
                    ),
                    at,
                );
                None
            }
        }
    }

    /// Extended attributes go to `data.extended`; a core attribute of another node type is
    /// fatal (vss-tools: "Forbidden extra attribute (core attribute)").
    fn extras(&mut self, kind: NodeKind, data: &mut NodeData) {
        for (name, attr) in self.attrs {
            if is_core_for(kind, name) {
                continue;
            }
            if is_core_anywhere(name) {
                let message = format!(
                    "Forbidden extra attribute (core attribute): '{name}' on a {}",
                    kind.name()
                );
                self.error("vss::forbidden-attribute", message, Some(attr.key_loc));
                continue;
            }
            data.extended.insert(name.clone(), attr.value.clone());
        }
    }

    /// `validate` (VISS CORE §8.8) on any node kind: one of the four tags, or null for none.
    /// The attribute itself stays in `data.extended` (see [`NodeData::validate`]).
    fn validate_tag(&mut self, data: &mut NodeData) {
        let Some(attr) = self.get(VALIDATE) else {
            return;
        };
        match attr.value.as_str().and_then(Validate::parse) {
            Some(tag) => data.validate = Some(tag),
            None => {
                let (at, text) = (attr.value_loc, display(&attr.value));
                let expected = VALIDATE_VALUES.map(|value| format!("'{value}'")).join(", ");
                self.error(
                    "vss::invalid-validate",
                    format!("'{VALIDATE}': '{text}' Input should be one of {expected}"),
                    Some(at),
                );
            }
        }
    }

    fn string(&mut self, key: &str) -> Option<String> {
        let attr = self.get(key)?;
        match &attr.value {
            Value::String(s) => Some(s.clone()),
            other => {
                let (at, text) = (attr.value_loc, display(other));
                self.error(
                    "vss::invalid-value",
                    format!("'{key}': '{text}' Input should be a valid string"),
                    Some(at),
                );
                None
            }
        }
    }

    fn flag(&mut self, key: &str) -> Option<bool> {
        let attr = self.get(key)?;
        match &attr.value {
            Value::Bool(b) => Some(*b),
            other => {
                let (at, text) = (attr.value_loc, display(other));
                self.error(
                    "vss::invalid-value",
                    format!("'{key}': '{text}' Input should be a valid boolean"),
                    Some(at),
                );
                None
            }
        }
    }

    fn common(&mut self, data: &mut NodeData) {
        data.description = self.string("description");
        data.comment = self.string("comment");
        data.deprecation = self.string("deprecation");
        if let Some(attr) = self.get("fka") {
            let at = attr.value_loc;
            match &attr.value {
                Value::Array(items) if items.iter().all(Value::is_string) => {
                    data.fka = items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_owned))
                        .collect();
                }
                _ => self.error(
                    "vss::invalid-value",
                    "'fka': Input should be a valid list of strings".into(),
                    Some(at),
                ),
            }
        }
        if let Some(uid) = self.string("constUID") {
            let valid = uid.len() == 10
                && uid.starts_with("0x")
                && uid[2..].bytes().all(|b| b.is_ascii_hexdigit());
            if valid {
                data.const_uid = Some(uid);
            } else {
                let at = self.get("constUID").map(|a| a.value_loc);
                self.error(
                    "vss::invalid-value",
                    format!("'{uid}' is not a valid 'constUID'"),
                    at,
                );
            }
        }
        if data.description.is_none() {
            self.warn(
                "vss::missing-description",
                "node has no description".into(),
                None,
            );
        }
    }

    fn branch(&mut self, data: &mut NodeData) {
        if let Some(attr) = self.get("instances") {
            let at = Some(attr.value_loc);
            let value = attr.value.clone();
            // vss-tools' `fill_instances` normalises a string `s` to `[s]`.
            match &value {
                Value::String(s) => {
                    data.instances = Some(Value::Array(vec![Value::String(s.clone())]));
                }
                Value::Array(_) => {
                    if instances::nested_garbage(&value) {
                        self.warn(
                            "vss::instances-nesting",
                            "'instances' nests lists more than two levels deep; vss-tools turns the inner list into a node name".into(),
                            at,
                        );
                    }
                    data.instances = Some(value.clone());
                }
                other => {
                    let text = display(other);
                    self.error(
                        "vss::invalid-instances",
                        format!("'{text}' is not a valid 'instances' content"),
                        at,
                    );
                }
            }
        }
        if let Some(relation) = self.string("instances_relation") {
            match relation.as_str() {
                "sibling" => data.instances_relation_sibling = true,
                "child" => {}
                other => {
                    let at = self.get("instances_relation").map(|a| a.value_loc);
                    self.error(
                        "vss::invalid-value",
                        format!("'instances_relation': '{other}' should be 'child' or 'sibling'"),
                        at,
                    );
                }
            }
        }
        data.aggregate = self.flag("aggregate");
    }

    fn data_entry(&mut self, data: &mut NodeData, ctx: &Context<'_>, branch: Option<&str>) {
        let Some(datatype) = self.datatype(ctx, branch) else {
            return;
        };
        self.arraysize(data, &datatype);
        self.unit(data, &datatype, ctx);
        let element = datatype.primitive_element();
        self.min_max(data, &datatype);
        self.allowed(data, &datatype);
        self.enumeration(data, &datatype);
        self.pattern(data, element);
        self.default(data, &datatype, ctx);
        data.datatype = Some(datatype);
    }

    fn datatype(&mut self, ctx: &Context<'_>, branch: Option<&str>) -> Option<Datatype> {
        let Some(attr) = self.get("datatype") else {
            self.error(
                "vss::missing-datatype",
                "'datatype' Field required".into(),
                None,
            );
            return None;
        };
        let at = Some(attr.value_loc);
        let text = display(&attr.value);
        let resolved = resolve_datatype(&text, ctx, branch);
        match resolved {
            Some(dt) => {
                if matches!(
                    dt.primitive_element(),
                    Some(Primitive::Numeric | Primitive::Int)
                ) {
                    self.warn(
                        "vss::pseudo-datatype",
                        format!("'{text}' is a units-file pseudo-type, not a VSS datatype"),
                        at,
                    );
                }
                Some(dt)
            }
            None => {
                self.error(
                    "vss::unknown-datatype",
                    format!("'{text}' is not a valid datatype"),
                    at,
                );
                None
            }
        }
    }

    fn arraysize(&mut self, data: &mut NodeData, datatype: &Datatype) {
        let Some(attr) = self.get("arraysize") else {
            return;
        };
        let at = Some(attr.value_loc);
        match attr.value.as_u64() {
            Some(size) if datatype.is_array => data.arraysize = Some(size),
            Some(_) => self.error(
                "vss::invalid-arraysize",
                "'arraysize' set on a non array datatype".into(),
                at,
            ),
            None => {
                let text = display(&attr.value);
                self.error(
                    "vss::invalid-arraysize",
                    format!("'arraysize': '{text}' is not a valid integer"),
                    at,
                );
            }
        }
    }

    fn unit(&mut self, data: &mut NodeData, datatype: &Datatype, ctx: &Context<'_>) {
        let Some(attr) = self.get("unit") else {
            return;
        };
        let at = Some(attr.value_loc);
        let text = display(&attr.value);
        let Some(element) = datatype.primitive_element() else {
            self.error(
                "vss::unit-datatype",
                "Cannot use 'unit' with complex datatype".into(),
                at,
            );
            return;
        };
        let Some(unit) = ctx.units.lookup(&text) else {
            self.error(
                "vss::unknown-unit",
                format!("'{text}' is not a valid unit"),
                at,
            );
            return;
        };
        let allowed = unit.allowed_datatypes.iter().any(|a| {
            Primitive::from_name(split_array_suffix(a).0).is_some_and(|p| element.is_subtype_of(p))
        });
        if !allowed {
            self.error(
                "vss::unit-datatype",
                format!(
                    "'{}' is not allowed for unit '{}'",
                    element.name(),
                    unit.key
                ),
                at,
            );
        }
        if let Some(note) = &unit.deprecation {
            self.warn(
                "vss::deprecated-unit",
                format!("unit '{}' is deprecated: {note}", unit.key),
                at,
            );
        }
        data.unit = Some(unit.key.clone());
    }

    fn min_max(&mut self, data: &mut NodeData, datatype: &Datatype) {
        for key in ["min", "max"] {
            let Some(attr) = self.get(key) else {
                continue;
            };
            let at = Some(attr.value_loc);
            let element = datatype.primitive_element().filter(|p| p.is_numeric());
            let Some(element) = element else {
                self.error(
                    "vss::min-max-datatype",
                    format!("Cannot define min/max for datatype '{datatype}'"),
                    at,
                );
                continue;
            };
            let Some(number) = coerce_number(&attr.value) else {
                let text = display(&attr.value);
                self.error(
                    "vss::invalid-value",
                    format!("'{key}': '{text}' Input should be a valid number"),
                    at,
                );
                continue;
            };
            if check_value(&Value::Number(number.clone()), element) != Fit::Yes {
                self.error(
                    "vss::invalid-value",
                    format!("{key} '{number}' is not an '{element}'"),
                    at,
                );
                continue;
            }
            if key == "min" {
                data.min = Some(number);
            } else {
                data.max = Some(number);
            }
        }
        if let (Some(min), Some(max)) = (&data.min, &data.max)
            && as_f64(min) > as_f64(max)
        {
            let at = self.get("min").map(|a| a.value_loc);
            self.warn(
                "vss::min-greater-than-max",
                format!("min {min} is greater than max {max}"),
                at,
            );
        }
    }

    fn allowed(&mut self, data: &mut NodeData, datatype: &Datatype) {
        let Some(attr) = self.get("allowed") else {
            return;
        };
        let at = Some(attr.value_loc);
        let Value::Array(items) = &attr.value else {
            self.error(
                "vss::invalid-value",
                "'allowed' Input should be a valid list".into(),
                at,
            );
            return;
        };
        let items = items.clone();
        let Some(element) = datatype.primitive_element() else {
            self.error(
                "vss::allowed-struct",
                "'allowed' cannot be used with struct datatype".into(),
                at,
            );
            return;
        };
        if self.get("min").is_some() || self.get("max").is_some() {
            self.error(
                "vss::allowed-min-max",
                "'min/max' and 'allowed' cannot be used together".into(),
                at,
            );
        }
        if self.get("enum").is_some() {
            self.error(
                "vss::allowed-enum",
                "Cannot use 'allowed' and 'enum'".into(),
                at,
            );
        }
        for item in &items {
            self.check_member(item, element, "allowed", at);
        }
        data.allowed = Some(items);
    }

    fn check_member(
        &mut self,
        value: &Value,
        element: Primitive,
        what: &str,
        at: Option<SourceLocation>,
    ) {
        if element == Primitive::Float
            && value
                .as_f64()
                .is_some_and(|v| v.is_finite() && v.abs() > f64::from(f32::MAX))
        {
            self.warn(
                "vss::float-range",
                format!(
                    "{what} value '{}' does not fit in a 32-bit float",
                    display(value)
                ),
                at,
            );
        }
        match check_value(value, element) {
            Fit::Yes => {}
            Fit::BoolAsInt => self.warn(
                "vss::bool-as-int",
                format!(
                    "{what} value '{}' is a boolean used as '{element}'",
                    display(value)
                ),
                at,
            ),
            Fit::No => self.error(
                "vss::value-type",
                format!("{what}: '{}' is not of type '{element}'", display(value)),
                at,
            ),
        }
    }

    fn enumeration(&mut self, data: &mut NodeData, datatype: &Datatype) {
        let Some(attr) = self.get("enum") else {
            return;
        };
        let at = Some(attr.value_loc);
        let Value::Object(map) = &attr.value else {
            self.error(
                "vss::invalid-enum",
                "'enum' must be a mapping NAME: integer".into(),
                at,
            );
            return;
        };
        let map = map.clone();
        let element = match datatype.primitive_element() {
            None => {
                self.error(
                    "vss::invalid-enum",
                    "'enum' cannot be used with struct datatype".into(),
                    at,
                );
                return;
            }
            Some(p) if !p.is_integer() => {
                self.error(
                    "vss::invalid-enum",
                    "'datatype' needs to be an int when using 'enum'".into(),
                    at,
                );
                return;
            }
            Some(p) => p,
        };
        if self.get("min").is_some() || self.get("max").is_some() {
            self.error(
                "vss::invalid-enum",
                "'min/max' and 'enum' cannot be used together".into(),
                at,
            );
        }
        if self.get("pattern").is_some() {
            self.error(
                "vss::invalid-enum",
                "'enum' cannot be used together with 'pattern'".into(),
                at,
            );
        }
        let mut seen = HashSet::new();
        for (key, value) in &map {
            if !vss_vocab::name::is_enum_key(key) {
                self.error("vss::invalid-enum", format!("Invalid enum key '{key}'"), at);
            } else if !vss_vocab::name::is_enum_key_style(key) {
                self.warn(
                    "vss::enum-key-style",
                    format!("enum key '{key}' does not match [A-Z][A-Z_0-9]*"),
                    at,
                );
            }
            self.check_member(value, element, "enum", at);
            if !seen.insert(value.to_string()) {
                self.error(
                    "vss::invalid-enum",
                    format!("Duplicated enum value '{value}'"),
                    at,
                );
            }
        }
        data.enumeration = Some(map.into_iter().collect());
    }

    fn pattern(&mut self, data: &mut NodeData, element: Option<Primitive>) {
        let Some(pattern) = self.string("pattern") else {
            return;
        };
        let at = self.get("pattern").map(|a| a.value_loc);
        if element != Some(Primitive::String) {
            self.error(
                "vss::invalid-pattern",
                "Field 'pattern' is not allowed for type".into(),
                at,
            );
            return;
        }
        let regex = match fancy_regex::Regex::new(&format!("^(?:{pattern})")) {
            Ok(regex) => regex,
            Err(error) => {
                self.error(
                    "vss::invalid-pattern",
                    format!("'pattern' is not a valid regular expression: {error}"),
                    at,
                );
                return;
            }
        };
        let mut values: Vec<(Value, &'static str)> = Vec::new();
        if let Some(Value::Array(items)) = self.get("allowed").map(|a| &a.value) {
            values.extend(items.iter().map(|i| (i.clone(), "allowed")));
        }
        if let Some(default) = self.get("default") {
            match &default.value {
                Value::Array(items) => values.extend(items.iter().map(|i| (i.clone(), "default"))),
                other => values.push((other.clone(), "default")),
            }
        }
        for (value, what) in values {
            if let Some(text) = value.as_str()
                && !regex.is_match(text).unwrap_or(false)
            {
                self.error(
                    "vss::pattern-mismatch",
                    format!(
                        "Specified '{what}' value '{text}' must match defined pattern '{pattern}'"
                    ),
                    at,
                );
            }
        }
        data.pattern = Some(pattern);
    }

    fn default(&mut self, data: &mut NodeData, datatype: &Datatype, ctx: &Context<'_>) {
        let Some(attr) = self.get("default") else {
            return;
        };
        let at = Some(attr.value_loc);
        let value = attr.value.clone();
        if let ElementType::Struct(name) = &datatype.element {
            self.struct_default(&value, name, datatype.is_array, ctx, at);
            data.default = Some(value);
            return;
        }
        let Some(element) = datatype.primitive_element() else {
            return;
        };
        let items: Vec<Value> = match (&value, datatype.is_array) {
            (Value::Array(items), true) => items.clone(),
            (Value::Array(_), false) | (_, true) => {
                let kind = if value.is_array() { "list" } else { "scalar" };
                self.error(
                    "vss::default-shape",
                    format!("'default' ({kind}) does not match datatype '{datatype}'"),
                    at,
                );
                return;
            }
            (scalar, false) => vec![scalar.clone()],
        };
        if let (Some(size), true) = (data.arraysize, datatype.is_array)
            && items.len() as u64 != size
        {
            self.error(
                "vss::invalid-arraysize",
                "'default' array size does not match 'arraysize'".into(),
                at,
            );
        }
        for item in &items {
            self.check_member(item, element, "default", at);
            self.default_in_range(item, data, at);
            self.default_in_allowed(item, data, at);
        }
        data.default = Some(value);
    }

    fn default_in_range(&mut self, item: &Value, data: &NodeData, at: Option<SourceLocation>) {
        let Some(v) = item.as_f64() else {
            return;
        };
        let round = |x: f64| (x * 1e6).round() / 1e6;
        if let Some(max) = &data.max
            && round(v) > round(as_f64(max)) + 1e-6
        {
            self.error(
                "vss::default-out-of-range",
                format!("'default' greater than 'max': {item}>{max}"),
                at,
            );
        }
        if let Some(min) = &data.min
            && round(v) < round(as_f64(min)) - 1e-6
        {
            self.error(
                "vss::default-out-of-range",
                format!("'default' smaller than 'min': {item}<{min}"),
                at,
            );
        }
    }

    /// vss-tools skips these checks for falsy defaults (`0`, `""`, `false`); we report those
    /// as warnings (vss-tools accepts them) and the rest as errors.
    fn default_in_allowed(&mut self, item: &Value, data: &NodeData, at: Option<SourceLocation>) {
        let falsy = is_falsy(item);
        if let Some(allowed) = &data.allowed
            && !allowed.iter().any(|a| values_equal(a, item))
        {
            let message = format!("default value '{}' is not in 'allowed' list", display(item));
            if falsy {
                self.warn("vss::falsy-default-not-allowed", message, at);
            } else {
                self.error("vss::default-not-allowed", message, at);
            }
        }
        if let Some(map) = &data.enumeration
            && !map.values().any(|v| values_equal(v, item))
        {
            let message = format!(
                "default value '{}' is not a valid enum value",
                display(item)
            );
            if falsy {
                self.warn("vss::falsy-default-not-allowed", message, at);
            } else {
                self.error("vss::default-not-allowed", message, at);
            }
        }
    }

    fn struct_default(
        &mut self,
        value: &Value,
        name: &str,
        is_array: bool,
        ctx: &Context<'_>,
        at: Option<SourceLocation>,
    ) {
        let values: Vec<&Value> = match (value, is_array) {
            (Value::Array(items), true) => items.iter().collect(),
            (_, true) => {
                self.error(
                    "vss::struct-default",
                    format!("invalid 'default' format for datatype '{name}[]': not a list"),
                    at,
                );
                return;
            }
            (v, false) => vec![v],
        };
        for v in values {
            let mut problems = Vec::new();
            check_struct_value(v, name, ctx, 0, &mut problems);
            for (fatal, problem) in problems {
                if fatal {
                    self.error(
                        "vss::struct-default",
                        format!("invalid 'default' format for datatype '{name}': {problem}"),
                        at,
                    );
                } else {
                    self.warn("vss::struct-default-extra", problem, at);
                }
            }
        }
    }
}

/// Resolves a datatype name: primitives, absolute struct names, and (in types trees) struct
/// names relative to the enclosing branch.
pub fn resolve_datatype(text: &str, ctx: &Context<'_>, branch: Option<&str>) -> Option<Datatype> {
    if let Some(dt) = Datatype::parse_primitive(text) {
        return Some(dt);
    }
    let (base, is_array) = split_array_suffix(text);
    if ctx.structs.contains(base) {
        return Some(Datatype {
            element: ElementType::Struct(base.to_owned()),
            is_array,
        });
    }
    if ctx.in_types_tree
        && let Some(branch) = branch
    {
        let candidate = format!("{branch}.{base}");
        if ctx.structs.contains(&candidate) {
            return Some(Datatype {
                element: ElementType::Struct(candidate),
                is_array,
            });
        }
    }
    None
}

/// The JSON-schema check vss-tools generates for struct defaults: every member required,
/// member types checked, extra keys accepted (reported as warnings here).
fn check_struct_value(
    value: &Value,
    name: &str,
    ctx: &Context<'_>,
    depth: usize,
    out: &mut Vec<(bool, String)>,
) {
    if depth > 32 {
        return;
    }
    let Value::Object(map) = value else {
        out.push((true, format!("{} is not of type 'object'", display(value))));
        return;
    };
    let Some(members) = ctx.struct_members.get(name) else {
        return;
    };
    for (member, datatype) in members {
        let Some(v) = map.get(member) else {
            out.push((true, format!("'{member}' is a required property")));
            continue;
        };
        let elements: Vec<&Value> = match (v, datatype.is_array) {
            (Value::Array(items), true) => items.iter().collect(),
            (_, true) => {
                out.push((true, format!("{} is not of type 'array'", display(v))));
                continue;
            }
            (v, false) => vec![v],
        };
        for e in elements {
            match &datatype.element {
                ElementType::Struct(inner) => check_struct_value(e, inner, ctx, depth + 1, out),
                ElementType::Primitive(p) => {
                    let fits = match p {
                        Primitive::Boolean => e.is_boolean(),
                        Primitive::String => e.is_string(),
                        _ => e.is_number(),
                    };
                    if !fits {
                        out.push((
                            true,
                            format!("{} is not of type '{}'", display(e), p.name()),
                        ));
                    }
                }
            }
        }
    }
    for key in map.keys() {
        if !members.iter().any(|(m, _)| m == key) {
            out.push((false, format!("struct '{name}' has no member '{key}'")));
        }
    }
}

/// How well a value fits a primitive type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    Yes,
    /// Accepted by vss-tools because Python booleans are integers.
    BoolAsInt,
    No,
}

/// vss-tools' value check for a primitive datatype.
pub fn check_value(value: &Value, element: Primitive) -> Fit {
    match (value, element) {
        (Value::Bool(_), Primitive::Boolean) => Fit::Yes,
        (Value::Bool(_), p) if p.is_numeric() => Fit::BoolAsInt,
        (Value::String(_), Primitive::String) => Fit::Yes,
        (Value::Number(n), p) if p.is_integer() => {
            let in_range = match (n.as_i64(), n.as_u64(), p.integer_range()) {
                (Some(i), _, Some((lo, hi))) => (lo..=hi).contains(&i128::from(i)),
                (_, Some(u), Some((lo, hi))) => (lo..=hi).contains(&i128::from(u)),
                (Some(_) | None, _, None) => n.is_i64() || n.is_u64(),
                _ => false,
            };
            if in_range { Fit::Yes } else { Fit::No }
        }
        (Value::Number(_), Primitive::Float | Primitive::Double | Primitive::Numeric) => Fit::Yes,
        _ => Fit::No,
    }
}

/// pydantic's `int | float` coercion for min/max: numbers as they are, numeric strings
/// (`"1e3"` from YAML 1.1) parsed, int before float.
fn coerce_number(value: &Value) -> Option<Number> {
    match value {
        Value::Number(n) => Some(n.clone()),
        Value::Bool(b) => Some(Number::from(i64::from(*b))),
        Value::String(s) => {
            let t = s.trim();
            if let Ok(i) = t.replace('_', "").parse::<i64>() {
                return Some(Number::from(i));
            }
            t.parse::<f64>().ok().and_then(Number::from_f64)
        }
        _ => None,
    }
}

fn as_f64(n: &Number) -> f64 {
    n.as_f64().unwrap_or(0.0)
}

/// Python truthiness of a scalar/list value.
fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Python `==` between two values (1 == 1.0, True == 1).
fn values_equal(a: &Value, b: &Value) -> bool {
    let numeric = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    };
    match (numeric(a), numeric(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A value as text for messages (strings without quotes).
pub fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn value_checks_follow_vss_tools() {
        assert_eq!(check_value(&json!(255), Primitive::Uint8), Fit::Yes);
        assert_eq!(check_value(&json!(256), Primitive::Uint8), Fit::No);
        assert_eq!(check_value(&json!(-1), Primitive::Uint8), Fit::No);
        assert_eq!(check_value(&json!(1.0), Primitive::Uint8), Fit::No);
        assert_eq!(check_value(&json!(true), Primitive::Uint8), Fit::BoolAsInt);
        assert_eq!(check_value(&json!(1), Primitive::Float), Fit::Yes);
        assert_eq!(check_value(&json!("true"), Primitive::Boolean), Fit::No);
        assert_eq!(check_value(&json!(123), Primitive::String), Fit::No);
    }

    #[test]
    fn min_max_coercion_reads_yaml_1_1_strings() {
        assert_eq!(
            coerce_number(&json!("1e3")).and_then(|n| n.as_f64()),
            Some(1000.0)
        );
        assert_eq!(coerce_number(&json!("10")), Some(Number::from(10)));
        assert!(coerce_number(&json!("ten")).is_none());
    }
}
