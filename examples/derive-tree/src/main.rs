//! Builds the VISS engine over the derived tree, feeds a value, answers a `get` and prints it.

use derive_tree::VEHICLE;
use viss_runtime::{Engine, EngineConfig, TypedEngine, VissTree};

fn main() {
    let engine = Engine::new(VEHICLE, EngineConfig::default());
    let now = jiff::Timestamp::now();
    if let Err(error) = engine.feed(engine.tree().speed, 87.5, now) {
        eprintln!("feeding Vehicle.Speed failed: {error:?}");
        std::process::exit(1);
    }
    println!(
        "{} nodes, speed = {:?} km/h",
        engine.tree().nodes().len(),
        engine.current(VEHICLE.speed)
    );
    let mut session = engine.open_session();
    let mut response = Vec::new();
    for request in [
        r#"{"action":"get","path":"Vehicle.Speed","requestId":"1"}"#,
        r#"{"action":"get","path":"Vehicle.VehicleIdentification.FuelTypes","requestId":"2"}"#,
        r#"{"action":"get","path":"Vehicle.Cabin.Door.Row1.DriverSide.Window.Position","requestId":"3","filter":{"variant":"metadata","parameter":"1"}}"#,
    ] {
        engine.handle(&mut session, request.as_bytes(), &mut response);
        println!("{request}\n  -> {}", String::from_utf8_lossy(&response));
    }
}
