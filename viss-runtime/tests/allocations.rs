//! Zero heap allocations on the hot paths, after warm-up: a `get` of a numeric leaf
//! (request bytes → response bytes) and a change event (feeder sample → encoded event in
//! the queue → popped by the transport); and the `enum`/`pattern` checks of a `set` add no
//! allocation to it (a numeric `set` allocates nothing, a free string `set` its strings).
//! A leaf typed with a `#[derive(VissEnum)]` enum allocates nothing at all: its `set`
//! stores the tree's static string, its typed feed the enum's, and get and events follow.

mod support;

use support::Fixture;
use test_support::allocations_during;
use viss_runtime::{Value, VissTree};

#[global_allocator]
static ALLOCATOR: test_support::CountingAllocator = test_support::CountingAllocator;

const GET: &[u8] =
    br#"{"action":"get","path":"Vehicle.Powertrain.CombustionEngine.RPM","requestId":"8756"}"#;

#[test]
fn get_of_a_numeric_leaf_does_not_allocate() {
    let mut fixture = Fixture::new();
    fixture.feed("Vehicle.Powertrain.CombustionEngine.RPM", Value::UInt(2372));
    for _ in 0..10 {
        fixture
            .engine
            .handle(&mut fixture.session, GET, &mut fixture.out);
    }
    let ((), allocations) = allocations_during(|| {
        for _ in 0..1000 {
            fixture
                .engine
                .handle(&mut fixture.session, GET, &mut fixture.out);
        }
    });
    assert!(
        fixture.out.windows(6).any(|window| window == b"\"2372\""),
        "the response carries the value"
    );
    assert_eq!(allocations, 0, "allocations in 1000 gets");
}

#[test]
fn float_and_slash_path_gets_do_not_allocate() {
    let mut fixture = Fixture::new();
    fixture.feed("Vehicle.Speed", Value::Float(88.25));
    let request = br#"{"action":"get","path":"Vehicle/Speed","requestId":"1"}"#;
    fixture
        .engine
        .handle(&mut fixture.session, request, &mut fixture.out);
    let ((), allocations) = allocations_during(|| {
        for _ in 0..1000 {
            fixture
                .engine
                .handle(&mut fixture.session, request, &mut fixture.out);
        }
    });
    assert!(fixture.out.windows(7).any(|window| window == b"\"88.25\""));
    assert_eq!(allocations, 0);
}

#[test]
fn change_event_encoding_does_not_allocate() {
    let mut fixture = Fixture::new();
    fixture.subscribe(
        "Vehicle.Speed",
        r#"{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}"#,
    );
    let node = fixture.engine.tree().lookup("Vehicle.Speed").unwrap();
    let now = fixture.now();
    let mut event = Vec::with_capacity(256);
    // Warm-up: fills the history ring (100 samples) and circulates the queue's buffers.
    for step in 0..300u16 {
        fixture
            .engine
            .update(node, Value::Float(f32::from(step)), now)
            .unwrap();
        while fixture.session.next_event(&mut event) {}
    }
    let (events, allocations) = allocations_during(|| {
        let mut events = 0;
        for step in 0..1000u16 {
            fixture
                .engine
                .update(node, Value::Float(f32::from(step % 7)), now)
                .unwrap();
            while fixture.session.next_event(&mut event) {
                events += 1;
            }
        }
        events
    });
    assert_eq!(events, 1000, "every sample differs from the previous one");
    assert!(event.starts_with(br#"{"action":"subscription","subscriptionId":"1","data":{"path":"Vehicle.Speed","dp":{"value":"#));
    assert_eq!(allocations, 0, "allocations in 1000 change events");
}

/// Allocations of 1000 `set`s of `value` on `path`, after warm-up.
fn set_allocations<T: VissTree>(engine: &viss_runtime::Engine<T>, path: &str, value: &str) -> u64 {
    let request =
        format!(r#"{{"action":"set","path":"{path}","value":"{value}","requestId":"1"}}"#);
    let mut session = engine.open_session();
    let mut out = Vec::with_capacity(512);
    // Warm-up: buffers the set path reuses reach their steady size (the last growth is
    // after about 60 sets).
    for _ in 0..200 {
        out.clear();
        engine.handle(&mut session, request.as_bytes(), &mut out);
    }
    assert!(
        !out.windows(7).any(|window| window == b"\"error\""),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let ((), allocations) = allocations_during(|| {
        for _ in 0..1000 {
            out.clear();
            engine.handle(&mut session, request.as_bytes(), &mut out);
        }
    });
    allocations
}

#[test]
fn enum_and_pattern_checks_add_no_allocation_to_set() {
    use viss_runtime::{DynamicTree, Engine, EngineConfig, NodeKind::Actuator, NodeSpec};
    let mut builder = DynamicTree::builder();
    for (path, spec) in [
        ("Vehicle.Level", NodeSpec::leaf("Level", Actuator, "uint8")),
        (
            "Vehicle.Kind",
            NodeSpec::leaf("Kind", Actuator, "uint8").enumeration([("NONE", 0), ("RAIN", 2)]),
        ),
        ("Vehicle.Name", NodeSpec::leaf("Name", Actuator, "string")),
        (
            "Vehicle.Vin",
            NodeSpec::leaf("Vin", Actuator, "string").pattern("^[A-HJ-NPR-Z0-9]{17}$"),
        ),
    ] {
        builder.insert_path(path, spec).expect("fixture node");
    }
    let engine = Engine::new(builder.build(), EngineConfig::default());
    let plain_number = set_allocations(&engine, "Vehicle.Level", "2");
    let enumerated = set_allocations(&engine, "Vehicle.Kind", "2");
    assert_eq!(enumerated, plain_number, "the enum check allocates");
    let plain_string = set_allocations(&engine, "Vehicle.Name", "WVWZZZ1JZXW000001");
    let patterned = set_allocations(&engine, "Vehicle.Vin", "WVWZZZ1JZXW000001");
    assert_eq!(patterned, plain_string, "the pattern check allocates");
    println!(
        "allocations per 1000 sets: uint8 {plain_number}, uint8 with enum {enumerated}, \
         string {plain_string}, string with pattern {patterned}"
    );
}

mod enum_tree {
    use viss_derive::{VissEnum, VissTree};
    use viss_runtime::Actuator;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, VissEnum)]
    pub enum Mode {
        Eco,
        Normal,
        Sport,
    }

    #[derive(Debug, VissTree)]
    #[viss(root)]
    pub struct Vehicle {
        #[viss(allowed = ["ECO", "NORMAL", "SPORT"])]
        pub mode: Actuator<Mode>,
        pub name: Actuator<String>,
    }
}

#[test]
fn an_enum_leaf_allocates_nothing_on_set_get_feed_and_event() {
    use enum_tree::{Mode, Vehicle};
    use viss_runtime::{Engine, EngineConfig, TypedEngine as _};

    let engine = Engine::new(Vehicle::TREE, EngineConfig::default());
    let enum_sets = set_allocations(&engine, "Vehicle.Mode", "SPORT");
    let string_sets = set_allocations(&engine, "Vehicle.Name", "SPORT");
    assert_eq!(enum_sets, 0, "allocations in 1000 sets of an enum leaf");
    assert!(
        string_sets >= 1000,
        "a free string leaf allocates its String per set"
    );

    let mut session = engine.open_session();
    let mut out = Vec::with_capacity(512);
    let get = br#"{"action":"get","path":"Vehicle.Mode","requestId":"1"}"#;
    let subscribe = br#"{"action":"subscribe","path":"Vehicle.Mode","requestId":"2","filter":{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}}"#;
    engine.handle(&mut session, subscribe, &mut out);
    assert!(
        out.windows(16).any(|w| w == b"\"subscriptionId\""),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let now = jiff::Timestamp::now();
    let modes = [Mode::Eco, Mode::Normal, Mode::Sport];
    let mut event = Vec::with_capacity(256);
    // Warm-up: the queue's buffers circulate, the output buffer has grown.
    for step in 0..300 {
        engine
            .feed(Vehicle::TREE.mode, modes[step % 3], now)
            .unwrap();
        while session.next_event(&mut event) {}
        out.clear();
        engine.handle(&mut session, get, &mut out);
    }
    let (events, allocations) = allocations_during(|| {
        let mut events = 0;
        for step in 0..1000 {
            engine
                .feed(Vehicle::TREE.mode, modes[step % 3], now)
                .unwrap();
            while session.next_event(&mut event) {
                events += 1;
            }
            out.clear();
            engine.handle(&mut session, get, &mut out);
        }
        events
    });
    assert_eq!(events, 1000, "every feed changes the mode");
    // The last feed (step 999) was `Eco`.
    assert!(
        event.windows(5).any(|w| w == b"\"ECO\""),
        "{}",
        String::from_utf8_lossy(&event)
    );
    assert!(
        out.windows(5).any(|w| w == b"\"ECO\""),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(
        allocations, 0,
        "allocations in 1000 typed feeds + events + gets"
    );
    println!(
        "allocations per 1000: enum set {enum_sets}, string set {string_sets}, \
         enum feed + event + get {allocations}"
    );
}
