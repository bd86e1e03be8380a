//! Properties of the Python-compatible JSON writer over many generated values: the output is
//! pure-ASCII JSON that parses back to the same value (floats included), with keys sorted.
//!
//! Values come from a small seeded xorshift generator, so runs are reproducible without a
//! property-testing dependency; a failure names the seed.

use serde_json::{Map, Number, Value};
use vssgen::export::pyjson;

/// xorshift64*: deterministic, good enough to spread values over every shape and range.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Any finite f64, from raw bits (covers subnormals and huge exponents), or a "round" one.
    fn float(&mut self) -> f64 {
        loop {
            let float = match self.below(3) {
                0 => f64::from_bits(self.next()),
                1 => (self.next() as i64 as f64) / 10f64.powi(self.below(20) as i32),
                _ => self.below(1000) as f64,
            };
            if float.is_finite() {
                return float;
            }
        }
    }

    fn string(&mut self) -> String {
        const PICKS: [char; 12] = [
            'a', 'Z', '"', '\\', '\n', '\t', '\u{1}', '\u{7f}', 'é', '€', '😀', '/',
        ];
        (0..self.below(6))
            .map(|_| PICKS[self.below(PICKS.len() as u64) as usize])
            .collect()
    }

    fn value(&mut self, depth: u32) -> Value {
        let kinds = if depth == 0 { 6 } else { 8 };
        match self.below(kinds) {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 1),
            2 => Value::Number((self.next() as i64).into()),
            3 => Value::Number(self.next().into()),
            4 => Number::from_f64(self.float()).map_or(Value::Null, Value::Number),
            5 => Value::String(self.string()),
            6 => Value::Array((0..self.below(5)).map(|_| self.value(depth - 1)).collect()),
            _ => Value::Object(
                (0..self.below(5))
                    .map(|_| (self.string(), self.value(depth - 1)))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// True when every object's keys, in document order, are strictly increasing.
fn keys_sorted(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            let keys: Vec<_> = map.keys().collect();
            keys.windows(2).all(|w| w[0] < w[1]) && map.values().all(keys_sorted)
        }
        Value::Array(items) => items.iter().all(keys_sorted),
        _ => true,
    }
}

#[test]
fn output_parses_back_to_the_same_value_with_sorted_keys() {
    for seed in 1..=2000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let value = rng.value(4);
        for indent in [None, Some(2)] {
            let text = pyjson::to_string(&value, indent);
            assert!(text.is_ascii(), "seed {seed}: {text}");
            let parsed: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(parsed, value, "seed {seed}: {text}");
            assert!(keys_sorted(&parsed), "seed {seed}: {text}");
        }
    }
}

#[test]
fn python_float_repr_round_trips_and_always_looks_like_a_float() {
    let mut rng = Rng(0x5EED);
    for _ in 0..100_000 {
        let float = rng.float();
        let text = pyjson::python_float_repr(float);
        assert_eq!(text.parse::<f64>().ok(), Some(float), "{text}");
        assert!(text.contains('.') || text.contains('e'), "{text}");
    }
}
