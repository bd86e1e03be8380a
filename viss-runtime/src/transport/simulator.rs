//! The built-in simulator feeder: moves every sensor plausibly within its `min`/`max` (or
//! its datatype's range), `allowed` and `enum` values, so a fresh server shows live data.
//! Attributes get one initial value each. Actuators get one too, then follow their target:
//! after a client's `set`, a numeric actuator's current value halves its distance to the
//! target every round and takes the target exactly once it is within 5% of its range (a
//! few rounds); any other actuator (boolean, string, `allowed`/`enum` values) takes the
//! target in the next round. A node's `enum` is read once, when the simulator starts.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::config::SimulatorConfig;
use crate::tree::{DataType, EnumEntry, NodeId, NodeInfo, NodeKind, ScalarType};
use crate::value::parse_scalar;
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
    /// Cycles through the allowed (or `enum`) values, typed as the node's datatype.
    Choice { allowed: Vec<Value>, index: usize },
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
    /// Indexes into `signals` of the actuators, which follow their targets every round.
    actuators: Vec<usize>,
    rng: Rng,
    cursor: usize,
}

impl Simulator {
    /// A simulator for every scalar leaf of `tree` (arrays and structs are left alone).
    pub fn new<T: VissTree>(tree: &T, seed: u64) -> Self {
        let signals: Vec<Simulated> = tree
            .nodes()
            .iter()
            .enumerate()
            .filter_map(|(index, info)| {
                let node = NodeId(index as u32);
                let motion = motion_for(info, tree.enumeration(node))?;
                Some(Simulated {
                    node,
                    kind: info.kind,
                    motion,
                })
            })
            .collect();
        let actuators = signals
            .iter()
            .enumerate()
            .filter(|(_, signal)| signal.kind == NodeKind::Actuator)
            .map(|(index, _)| index)
            .collect();
        Self {
            signals,
            actuators,
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

    /// Moves the next `count` sensors (a rolling window; 0 = all) and feeds them, then moves
    /// every actuator whose current value differs from its target toward it.
    pub fn step<T: VissTree>(&mut self, engine: &Engine<T>, count: usize) {
        let total = self.signals.len();
        if total == 0 {
            return;
        }
        let count = if count == 0 { total } else { count.min(total) };
        let now = Timestamp::now();
        self.follow_targets(engine, now);
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

    /// One round of target following. Reads each actuator's target and current value in
    /// place (no copies); allocates only when a non-numeric target is taken (a string
    /// target's text, once per accepted `set`).
    fn follow_targets<T: VissTree>(&mut self, engine: &Engine<T>, now: Timestamp) {
        let store = engine.store();
        for &index in &self.actuators {
            let Some(signal) = self.signals.get_mut(index) else {
                continue;
            };
            let node = signal.node;
            let next = store.read_target(node, |target| {
                let target = target?;
                let reached = store.read(node, |current| {
                    current.is_some_and(|current| current.value == target.value)
                });
                if reached {
                    return None;
                }
                Some(follow(&mut signal.motion, &target.value))
            });
            if let Some(value) = next {
                let _ = engine.update(node, value, now);
            }
        }
    }
}

/// Gives every simulated signal its first value now (before the server says where it
/// listens, so no client reads a half-seeded tree), and returns the task that moves them
/// once per period, the first move one period from now, until `stop` resolves.
pub fn run_simulator<T: VissTree + 'static>(
    engine: Arc<Engine<T>>,
    config: SimulatorConfig,
    stop: impl Future<Output = ()>,
) -> impl Future<Output = ()> {
    let seed = Timestamp::now().as_nanosecond() as u64;
    let mut simulator = Simulator::new(engine.tree(), seed);
    simulator.seed_all(&engine);
    tracing::info!(
        signals = simulator.len(),
        period_ms = config.period_ms,
        "simulator feeding sensors"
    );
    async move {
        let period = Duration::from_millis(config.period_ms.max(1));
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return,
                _ = interval.tick() => simulator.step(&engine, config.signals_per_round),
            }
        }
    }
}

/// How the node moves. With an `enum` (read here, once) or `allowed` values it cycles through
/// those of them its own `set` checks accept (limits, `allowed`, `enum`), typed as its
/// datatype; when none is accepted it moves as if it had none.
fn motion_for(info: &NodeInfo, enumeration: &[EnumEntry]) -> Option<Motion> {
    let DataType::Scalar(scalar) = info.datatype.as_ref()? else {
        return None;
    };
    let texts: Vec<&str> = if enumeration.is_empty() {
        info.allowed.iter().map(|lit| lit.as_str()).collect()
    } else {
        enumeration
            .iter()
            .map(|entry| entry.value.as_str())
            .collect()
    };
    let allowed: Vec<Value> = texts
        .into_iter()
        .filter_map(|text| parse_scalar(text, *scalar, info, enumeration).ok())
        .collect();
    if !allowed.is_empty() {
        return Some(Motion::Choice { allowed, index: 0 });
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
        ScalarType::Uint8 => (0.0, 255.0),
        ScalarType::Int16 | ScalarType::Int32 | ScalarType::Int64 => (-1000.0, 1000.0),
        ScalarType::Uint16 | ScalarType::Uint32 | ScalarType::Uint64 => (0.0, 1000.0),
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

/// The next value of an actuator following `target`: a numeric walk halves its distance
/// and takes the target exactly once within 5% of its range (at least 1 for integers); any
/// other motion takes the target at once (and remembers it where it can).
fn follow(motion: &mut Motion, target: &Value) -> Value {
    match motion {
        Motion::Walk {
            scalar,
            low,
            high,
            current,
        } => {
            let Some(goal) = target.as_f64() else {
                return target.clone();
            };
            let integer = !matches!(scalar, ScalarType::Float | ScalarType::Double);
            let close = ((*high - *low) * 0.05)
                .max(goal.abs() * 1e-3)
                .max(if integer { 1.0 } else { 1e-6 });
            let remaining = goal - *current;
            if !remaining.is_finite() || remaining.abs() <= close {
                *current = goal;
                return target.clone();
            }
            *current += remaining / 2.0;
            current_value(motion)
        }
        Motion::Toggle(state) => {
            if let Value::Bool(value) = target {
                *state = *value;
            }
            target.clone()
        }
        Motion::Choice { allowed, index } => {
            if let Some(position) = allowed.iter().position(|value| value == target) {
                *index = position;
            }
            target.clone()
        }
        Motion::Counter(_) => target.clone(),
    }
}

fn current_value(motion: &Motion) -> Value {
    match motion {
        Motion::Walk {
            scalar, current, ..
        } => match scalar {
            ScalarType::Float | ScalarType::Double => Value::Double(*current),
            ScalarType::Uint8 | ScalarType::Uint16 | ScalarType::Uint32 | ScalarType::Uint64 => {
                Value::UInt(current.round().max(0.0) as u64)
            }
            _ => Value::Int(current.round() as i64),
        },
        Motion::Toggle(state) => Value::Bool(*state),
        Motion::Choice { allowed, index } => allowed
            .get(*index)
            .cloned()
            .unwrap_or_else(|| Value::String("".into())),
        Motion::Counter(count) => Value::String(format!("simulated-{count}").into()),
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

    /// Sensors with an `enum` (uint8 with gaps, as the standard tree's
    /// `Vehicle.Exterior.PrecipitationType` but sparser) and actuators of every motion.
    fn enum_and_actuator_engine() -> Engine<DynamicTree> {
        let mut builder = DynamicTree::builder();
        let sensor = |name: &str, datatype: &str| NodeSpec::leaf(name, NodeKind::Sensor, datatype);
        let actuator =
            |name: &str, datatype: &str| NodeSpec::leaf(name, NodeKind::Actuator, datatype);
        for (path, spec) in [
            (
                "Vehicle.Precipitation",
                sensor("Precipitation", "uint8").enumeration([
                    ("NONE", 0),
                    ("RAIN", 1),
                    ("SNOW", 4),
                    ("HAIL", 200),
                ]),
            ),
            (
                "Vehicle.Offset",
                sensor("Offset", "int16").enumeration([("LOW", -7), ("HIGH", 9)]),
            ),
            (
                "Vehicle.Position",
                actuator("Position", "float").min(0.0).max(100.0),
            ),
            ("Vehicle.Level", actuator("Level", "int32")),
            (
                "Vehicle.Mode",
                actuator("Mode", "uint8").enumeration([("A", 1), ("B", 2), ("C", 4)]),
            ),
            ("Vehicle.Lamp", actuator("Lamp", "boolean")),
            ("Vehicle.Label", actuator("Label", "string")),
        ] {
            builder.insert_path(path, spec).unwrap();
        }
        // The simulator moves actuators itself: no state storage (as the server sets it up).
        let config = EngineConfig {
            state_storage: false,
            ..EngineConfig::default()
        };
        Engine::new(builder.build(), config)
    }

    fn enum_values(engine: &Engine<DynamicTree>, node: NodeId) -> Vec<Value> {
        let info = engine.tree().node(node);
        let Some(DataType::Scalar(scalar)) = info.datatype.as_ref() else {
            return Vec::new();
        };
        let enumeration = engine.tree().enumeration(node);
        enumeration
            .iter()
            .map(|entry| parse_scalar(entry.value.as_str(), *scalar, info, enumeration).unwrap())
            .collect()
    }

    #[test]
    fn enum_sensors_take_only_their_enum_values() {
        let engine = enum_and_actuator_engine();
        let enum_sensors: Vec<(NodeId, Vec<Value>)> = (0..engine.tree().nodes().len() as u32)
            .map(NodeId)
            .filter(|&node| engine.tree().node(node).kind == NodeKind::Sensor)
            .map(|node| (node, enum_values(&engine, node)))
            .filter(|(_, values)| !values.is_empty())
            .collect();
        assert_eq!(enum_sensors.len(), 2);
        let mut simulator = Simulator::new(engine.tree(), 11);
        simulator.seed_all(&engine);
        let mut seen = vec![Vec::new(); enum_sensors.len()];
        for _ in 0..1000 {
            simulator.step(&engine, 0);
            for ((node, values), seen) in enum_sensors.iter().zip(&mut seen) {
                let value = engine.store().current(*node).unwrap().value;
                assert!(values.contains(&value), "{value:?} not in {values:?}");
                if !seen.contains(&value) {
                    seen.push(value);
                }
            }
        }
        // The sensors do move: every enum value shows up.
        for ((_, values), seen) in enum_sensors.iter().zip(&seen) {
            assert_eq!(seen.len(), values.len(), "{seen:?}");
        }
    }

    fn set(engine: &Engine<DynamicTree>, path: &str, value: &str) {
        let mut session = engine.open_session();
        let mut out = Vec::new();
        let request =
            format!(r#"{{"action":"set","path":"{path}","value":{value},"requestId":"1"}}"#);
        engine.handle(&mut session, request.as_bytes(), &mut out);
        let response = String::from_utf8(out).unwrap();
        assert!(!response.contains("error"), "{request}: {response}");
    }

    fn current(engine: &Engine<DynamicTree>, path: &str) -> Value {
        let node = engine.tree().lookup(path).unwrap();
        engine.store().current(node).unwrap().value
    }

    fn target(engine: &Engine<DynamicTree>, path: &str) -> Value {
        let node = engine.tree().lookup(path).unwrap();
        engine.store().target(node).unwrap().value
    }

    #[test]
    fn actuators_follow_their_targets() {
        let engine = enum_and_actuator_engine();
        let mut simulator = Simulator::new(engine.tree(), 5);
        simulator.seed_all(&engine);
        let seeded = current(&engine, "Vehicle.Position");
        // No set: actuators keep their initial value.
        for _ in 0..20 {
            simulator.step(&engine, 0);
        }
        assert_eq!(current(&engine, "Vehicle.Position"), seeded);

        let sets = [
            ("Vehicle.Position", r#""97.5""#),
            ("Vehicle.Level", r#""-5000""#),
            ("Vehicle.Mode", r#""4""#),
            ("Vehicle.Lamp", r#""true""#),
            ("Vehicle.Label", r#""parked""#),
        ];
        for (path, value) in sets {
            set(&engine, path, value);
        }
        // One round: non-numeric actuators are there, numeric ones on the way.
        simulator.step(&engine, 0);
        for path in ["Vehicle.Mode", "Vehicle.Lamp", "Vehicle.Label"] {
            assert_eq!(current(&engine, path), target(&engine, path), "{path}");
        }
        let position = current(&engine, "Vehicle.Position").as_f64().unwrap();
        assert!(position > 50.0 && position < 97.5, "{position}");
        // A few more rounds (the rolling window of one signal per round also gets there).
        for _ in 0..20 {
            simulator.step(&engine, 1);
        }
        for (path, _) in sets {
            assert_eq!(current(&engine, path), target(&engine, path), "{path}");
        }
        // A new target moves it again; a reached target stays put.
        set(&engine, "Vehicle.Position", r#""3""#);
        for _ in 0..20 {
            simulator.step(&engine, 0);
        }
        assert_eq!(current(&engine, "Vehicle.Position"), Value::Float(3.0));
    }
}
