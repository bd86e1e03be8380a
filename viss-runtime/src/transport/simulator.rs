//! The built-in simulator feeder: moves every sensor plausibly within its `min`/`max` (or
//! its datatype's range) and `allowed` values, so a fresh server shows live data. Actuators
//! and attributes get one initial value each, then change only when a client sets them.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::config::SimulatorConfig;
use crate::tree::{DataType, NodeId, NodeInfo, NodeKind, ScalarType};
use crate::{Engine, Value, VissTree};

/// How one simulated signal moves.
#[derive(Debug, Clone)]
enum Motion {
    /// A bounded random walk; `step` is a fraction of the range.
    Walk {
        scalar: ScalarType,
        low: f64,
        high: f64,
        current: f64,
    },
    /// Flips now and then.
    Toggle(bool),
    /// Cycles through the allowed values.
    Choice { allowed: Vec<String>, index: usize },
    /// Strings without allowed values: a counter in text.
    Counter(u64),
}

/// One simulated signal.
#[derive(Debug, Clone)]
struct Simulated {
    node: NodeId,
    kind: NodeKind,
    motion: Motion,
}

/// A tiny deterministic PRNG (xorshift64*): plausibility, not statistics.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        bits as f64 / (1u64 << 53) as f64
    }
}

/// The simulator's state over one tree.
#[derive(Debug)]
pub struct Simulator {
    signals: Vec<Simulated>,
    rng: Rng,
    cursor: usize,
}

impl Simulator {
    /// A simulator for every scalar leaf of `tree` (arrays and structs are left alone).
    pub fn new<T: VissTree>(tree: &T, seed: u64) -> Self {
        let signals = tree
            .nodes()
            .iter()
            .enumerate()
            .filter_map(|(index, info)| {
                let motion = motion_for(info)?;
                Some(Simulated {
                    node: NodeId(index as u32),
                    kind: info.kind,
                    motion,
                })
            })
            .collect();
        Self {
            signals,
            rng: Rng(seed | 1),
            cursor: 0,
        }
    }

    /// Number of simulated signals.
    pub fn len(&self) -> usize {
        self.signals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.signals.is_empty()
    }

    /// Writes an initial value for every simulated signal.
    pub fn seed_all<T: VissTree>(&mut self, engine: &Engine<T>) {
        let now = Timestamp::now();
        for signal in &self.signals {
            let _ = engine.update(signal.node, current_value(&signal.motion), now);
        }
    }

    /// Moves the next `count` sensors (a rolling window; 0 = all) and feeds them.
    pub fn step<T: VissTree>(&mut self, engine: &Engine<T>, count: usize) {
        let total = self.signals.len();
        if total == 0 {
            return;
        }
        let count = if count == 0 { total } else { count.min(total) };
        let now = Timestamp::now();
        for _ in 0..count {
            let index = self.cursor % total;
            self.cursor = self.cursor.wrapping_add(1);
            let Some(signal) = self.signals.get_mut(index) else {
                continue;
            };
            if signal.kind != NodeKind::Sensor {
                continue;
            }
            advance(&mut signal.motion, &mut self.rng);
            let _ = engine.update(signal.node, current_value(&signal.motion), now);
        }
    }
}

/// Runs the simulator until `stop` resolves.
pub async fn run_simulator<T: VissTree + 'static>(
    engine: Arc<Engine<T>>,
    config: SimulatorConfig,
    stop: impl Future<Output = ()>,
) {
    let seed = Timestamp::now().as_nanosecond() as u64;
    let mut simulator = Simulator::new(engine.tree(), seed);
    simulator.seed_all(&engine);
    tracing::info!(
        signals = simulator.len(),
        period_ms = config.period_ms,
        "simulator feeding sensors"
    );
    let mut interval = tokio::time::interval(Duration::from_millis(config.period_ms.max(1)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = interval.tick() => simulator.step(&engine, config.signals_per_round),
        }
    }
}

fn motion_for(info: &NodeInfo) -> Option<Motion> {
    let DataType::Scalar(scalar) = info.datatype.as_ref()? else {
        return None;
    };
    if !info.allowed.is_empty() {
        return Some(Motion::Choice {
            allowed: info.allowed.iter().map(|text| text.to_string()).collect(),
            index: 0,
        });
    }
    Some(match scalar {
        ScalarType::Boolean => Motion::Toggle(false),
        ScalarType::String => Motion::Counter(0),
        numeric => {
            let (type_low, type_high) = type_range(*numeric);
            let low = info.min.unwrap_or(type_low).max(type_low);
            let high = info.max.unwrap_or(type_high).min(type_high).max(low);
            Motion::Walk {
                scalar: *numeric,
                low,
                high,
                current: low + (high - low) / 2.0,
            }
        }
    })
}

/// A plausible range per type when the tree gives no limits (kept small: these are
/// demo values, not the type's full range).
fn type_range(scalar: ScalarType) -> (f64, f64) {
    match scalar {
        ScalarType::Int8 => (-128.0, 127.0),
        ScalarType::UInt8 => (0.0, 255.0),
        ScalarType::Int16 | ScalarType::Int32 | ScalarType::Int64 => (-1000.0, 1000.0),
        ScalarType::UInt16 | ScalarType::UInt32 | ScalarType::UInt64 => (0.0, 1000.0),
        _ => (0.0, 100.0),
    }
}

fn advance(motion: &mut Motion, rng: &mut Rng) {
    match motion {
        Motion::Walk {
            low, high, current, ..
        } => {
            let step = (*high - *low) * 0.02 * (rng.next_unit() * 2.0 - 1.0);
            *current = (*current + step).clamp(*low, *high);
        }
        Motion::Toggle(state) => {
            if rng.next_unit() < 0.1 {
                *state = !*state;
            }
        }
        Motion::Choice { allowed, index } => {
            if rng.next_unit() < 0.1 && !allowed.is_empty() {
                *index = (*index + 1) % allowed.len();
            }
        }
        Motion::Counter(count) => *count = count.wrapping_add(1),
    }
}

fn current_value(motion: &Motion) -> Value {
    match motion {
        Motion::Walk {
            scalar, current, ..
        } => match scalar {
            ScalarType::Float | ScalarType::Double => Value::Double(*current),
            ScalarType::UInt8 | ScalarType::UInt16 | ScalarType::UInt32 | ScalarType::UInt64 => {
                Value::UInt(current.round().max(0.0) as u64)
            }
            _ => Value::Int(current.round() as i64),
        },
        Motion::Toggle(state) => Value::Bool(*state),
        Motion::Choice { allowed, index } => {
            Value::String(allowed.get(*index).cloned().unwrap_or_default())
        }
        Motion::Counter(count) => Value::String(format!("simulated-{count}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DynamicTree, EngineConfig, NodeSpec};

    fn engine() -> Engine<DynamicTree> {
        let mut builder = DynamicTree::builder();
        let speed = NodeSpec::leaf("Speed", NodeKind::Sensor, "float")
            .min(0.0)
            .max(250.0);
        builder.insert_path("Vehicle.Speed", speed).unwrap();
        let gear = NodeSpec::leaf("Mode", NodeKind::Sensor, "string").allowed(["eco", "sport"]);
        builder.insert_path("Vehicle.Mode", gear).unwrap();
        let count = NodeSpec::leaf("Count", NodeKind::Sensor, "uint8");
        builder.insert_path("Vehicle.Count", count).unwrap();
        Engine::new(builder.build(), EngineConfig::default())
    }

    #[test]
    fn values_stay_within_limits_and_allowed() {
        let engine = engine();
        let mut simulator = Simulator::new(engine.tree(), 7);
        assert_eq!(simulator.len(), 3);
        simulator.seed_all(&engine);
        for _ in 0..500 {
            simulator.step(&engine, 0);
            let speed = engine.tree().lookup("Vehicle.Speed").unwrap();
            let value = engine
                .store()
                .current(speed)
                .unwrap()
                .value
                .as_f64()
                .unwrap();
            assert!((0.0..=250.0).contains(&value), "{value}");
            let mode = engine.tree().lookup("Vehicle.Mode").unwrap();
            let mode = engine.store().current(mode).unwrap().value;
            assert!(matches!(&mode, Value::String(text) if text == "eco" || text == "sport"));
        }
    }
}
