//! Attribute names: which are core (VSS's own) for each node type, which members a VSS
//! JSON node may have, and which attributes an export writes.

/// Core attributes every node type knows (`.vspec`).
pub const COMMON: &[&str] = &[
    "type",
    "description",
    "comment",
    "delete",
    "deprecation",
    "constUID",
    "fka",
    "instantiate",
    "fqn",
];

/// Core attributes of branches, besides [`COMMON`].
pub const BRANCH: &[&str] = &[
    "instances",
    "instances_relation",
    "aggregate",
    "is_instance",
];

/// Core attributes of data entries (sensor, actuator, attribute, property), besides [`COMMON`].
pub const DATA: &[&str] = &[
    "datatype",
    "arraysize",
    "min",
    "max",
    "pattern",
    "unit",
    "enum",
    "allowed",
    "default",
];

/// The members a node of a VSS JSON export may have besides extended attributes: no
/// extended attribute may take one of these names.
pub const JSON_MEMBERS: &[&str] = &[
    "type",
    "datatype",
    "description",
    "comment",
    "deprecation",
    "unit",
    "min",
    "max",
    "allowed",
    "default",
    "enum",
    "pattern",
    "fka",
    "constUID",
    "children",
    "instances",
    "uuid",
    "arraysize",
    "aggregate",
];

/// `validate` (VISS CORE §8.8, access-control selection): which requests to a node need a
/// validated access token. For vss-tools it is an extended attribute like any other (so a
/// JSON export writes it where it writes extended attributes); the model, the generator,
/// the derive and the runtime read it as a known property of every node type.
pub const VALIDATE: &str = "validate";

/// The values `validate` takes, as written: the protection, optionally with `+consent`
/// (CORE §9: the data also needs the owner's consent).
pub const VALIDATE_VALUES: [&str; 4] = [
    "write-only",
    "read-write",
    "write-only+consent",
    "read-write+consent",
];

/// True for every attribute name that is core for some node type.
pub fn is_core_anywhere(name: &str) -> bool {
    COMMON.contains(&name) || BRANCH.contains(&name) || DATA.contains(&name)
}

/// True when `name` is a member of VSS JSON nodes, so not free for an extended attribute.
pub fn is_json_member(name: &str) -> bool {
    JSON_MEMBERS.contains(&name)
}

/// An attribute's value as an export sees it, for [`kept_on_export`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Not set (`None`, JSON `null`).
    Absent,
    /// A list with no items.
    EmptyList,
    /// Anything else, an empty string included.
    Present,
}

impl Presence {
    /// The presence of a list of `len` items.
    pub const fn of_list(len: usize) -> Presence {
        if len == 0 {
            Presence::EmptyList
        } else {
            Presence::Present
        }
    }
}

/// The export's drop rule: vss-tools (`VSSRaw.as_dict`) leaves out attributes whose value is
/// `None` or `[]`, and so does every VSS JSON this project writes.
pub const fn kept_on_export(value: Presence) -> bool {
    matches!(value, Presence::Present)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_lists_do_not_overlap() {
        for name in BRANCH.iter().chain(DATA) {
            assert!(!COMMON.contains(name), "{name} listed twice");
        }
        assert!(is_core_anywhere("instances") && is_core_anywhere("datatype"));
        assert!(!is_core_anywhere("children"));
        assert!(is_json_member("children") && !is_json_member("delete"));
    }

    #[test]
    fn validate_is_an_extended_attribute_for_vss_tools() {
        assert!(!is_core_anywhere(VALIDATE) && !is_json_member(VALIDATE));
        assert_eq!(VALIDATE_VALUES.len(), 4);
        assert!(
            VALIDATE_VALUES
                .iter()
                .all(|value| value.starts_with("write-only") || value.starts_with("read-write"))
        );
    }

    #[test]
    fn absent_values_and_empty_lists_are_dropped() {
        assert!(!kept_on_export(Presence::Absent));
        assert!(!kept_on_export(Presence::of_list(0)));
        assert!(kept_on_export(Presence::of_list(1)));
        assert!(kept_on_export(Presence::Present));
    }
}
