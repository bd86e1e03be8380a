//! The VSS metadata beyond limits: `enum`, `pattern`, `fka`, `const_uid` and extended
//! attributes reach the node table typed, and the tree exports itself as VSS JSON.

use viss_runtime::{Attribute, EnumEntry, Extended, Lit, MetaFlags, Sensor, VissTree};

#[derive(Debug, VissTree)]
#[viss(root = "Vehicle", description = "Root.", extended(dbc = "Root", "x-flags" = [1, 2]))]
pub struct Vehicle {
    #[viss(
        enum("NONE" = 0, RAIN = 1, "MIXED_RAIN_SNOW" = 3),
        default = 0,
        fka = ["Vehicle.Weather.Precipitation"],
        const_uid = "0x1234ABCD",
        description = "Precipitation."
    )]
    pub precipitation: Attribute<u8>,
    #[viss(
        pattern = "^[A-HJ-NPR-Z0-9]{17}$",
        extended(dbc = "Vin", priority = 1, scale = 0.5, on = true, none = null,
                 signal = json(r#"{"name": "VIN", "bits": [0, 8]}"#)),
        description = "VIN."
    )]
    pub vin: Attribute<String>,
    #[viss(min = 0.0, max = 100, unit = "percent", description = "Level.")]
    pub level: Sensor<f32>,
    /// VSS does not forbid `allowed` next to `min`/`max`.
    #[viss(allowed = [1, 2, 3], min = 1, max = 3)]
    pub mode: Sensor<u8>,
    #[viss(fka = ["Vehicle.OldBody"], extended(priority = 2))]
    pub body: Body,
}

#[derive(Debug, VissTree)]
pub struct Body {
    #[viss(description = "Doors.")]
    pub doors: Sensor<u8>,
}

#[test]
fn new_metadata_is_in_the_node_table() {
    let tree = Vehicle::TREE;
    assert!(
        tree.node(tree.precipitation.id())
            .meta_flags
            .contains(MetaFlags::ENUM)
    );
    let precipitation = tree.meta(tree.precipitation.id());
    assert_eq!(
        precipitation.enumeration.as_ref(),
        [
            EnumEntry {
                name: "NONE".into(),
                value: Lit::number("0")
            },
            EnumEntry {
                name: "RAIN".into(),
                value: Lit::number("1")
            },
            EnumEntry {
                name: "MIXED_RAIN_SNOW".into(),
                value: Lit::number("3")
            },
        ]
    );
    assert_eq!(
        precipitation.fka.as_ref(),
        ["Vehicle.Weather.Precipitation"]
    );
    assert_eq!(precipitation.const_uid.as_deref(), Some("0x1234ABCD"));
    assert_eq!(tree.node(tree.vin.id()).meta_flags, MetaFlags::PATTERN);
    let vin = tree.meta(tree.vin.id());
    assert_eq!(vin.pattern.as_deref(), Some("^[A-HJ-NPR-Z0-9]{17}$"));
    assert_eq!(
        vin.extended.first(),
        Some(&Extended {
            name: "dbc".into(),
            json: "\"Vin\"".into()
        })
    );
    let body = tree.meta(tree.lookup("Vehicle.Body").expect("the Body branch"));
    assert_eq!(body.fka.as_ref(), ["Vehicle.OldBody"]);
}

#[test]
fn the_tree_exports_itself_as_vss_json() {
    let json = viss_runtime::vss_json::to_string(&Vehicle::TREE);
    assert_eq!(
        json,
        concat!(
            r#"{"Vehicle":{"children":{"#,
            r#""Body":{"children":{"Doors":{"datatype":"uint8","description":"Doors.","type":"sensor"}},"#,
            r#""fka":["Vehicle.OldBody"],"priority":2,"type":"branch"},"#,
            r#""Level":{"datatype":"float","description":"Level.","max":100,"min":0.0,"type":"sensor","unit":"percent"},"#,
            r#""Mode":{"allowed":[1,2,3],"datatype":"uint8","max":3,"min":1,"type":"sensor"},"#,
            r#""Precipitation":{"constUID":"0x1234ABCD","datatype":"uint8","default":0,"#,
            r#""description":"Precipitation.","enum":{"MIXED_RAIN_SNOW":3,"NONE":0,"RAIN":1},"#,
            r#""fka":["Vehicle.Weather.Precipitation"],"type":"attribute"},"#,
            r#""Vin":{"datatype":"string","dbc":"Vin","description":"VIN.","none":null,"on":true,"#,
            r#""pattern":"^[A-HJ-NPR-Z0-9]{17}$","priority":1,"scale":0.5,"#,
            r#""signal":{"name":"VIN","bits":[0,8]},"type":"attribute"}},"#,
            r#""dbc":"Root","description":"Root.","type":"branch","x-flags":[1,2]}}"#
        )
    );
}

#[test]
fn the_start_up_tables_carry_the_defaulted_attribute_with_its_enum_and_the_patterned_node() {
    let tree = Vehicle::TREE;
    let defaults = tree.attribute_defaults();
    let [precipitation] = &*defaults else {
        panic!("one attribute has a default: {defaults:?}");
    };
    assert_eq!(precipitation.id, tree.precipitation.id());
    assert_eq!(&precipitation.node, tree.node(tree.precipitation.id()));
    assert_eq!(
        precipitation.enumeration,
        tree.meta(tree.precipitation.id()).enumeration
    );
    assert_eq!(&*tree.pattern_nodes(), [tree.vin.id()]);
    // The engine starts with the default, read from that table.
    let id = tree.precipitation.id();
    let engine = viss_runtime::Engine::new(tree, viss_runtime::EngineConfig::default());
    let current = engine.store().current(id);
    assert_eq!(
        current.map(|sample| sample.value),
        Some(viss_runtime::Value::UInt(0))
    );
}
