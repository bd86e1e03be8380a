use viss_runtime::{Actuator, Engine, EngineConfig, TypedEngine, VissEnum, VissTree};

#[derive(Debug, Clone, Copy, PartialEq, Eq, VissEnum)]
pub enum Level {
    Sae0,
    Sae1,
    #[viss(name = "SAE_2_DISENGAGING")]
    Sae2Disengaging,
}

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(allowed = ["SAE0", "SAE1", "SAE_2_DISENGAGING"])]
    pub level: Actuator<Level>,
}

// A provider answering with a misspelt value.
fn current_level() -> Level {
    Level::Sae2Disenganging
}

fn main() {
    let engine = Engine::new(Vehicle::TREE, EngineConfig::default());
    // A string where the leaf takes the enum.
    let _ = engine.feed(Vehicle::TREE.level, "SAE_2_DISENGAGING".to_owned(), jiff::Timestamp::now());
    let _ = current_level();
}
