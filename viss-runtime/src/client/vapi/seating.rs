//! VAPI's seating group on a VISS tree: the seats and what they support, read from the
//! metadata of `Vehicle.Cabin.Seat` at run time, and how a Percentage maps onto an
//! actuator's `min..max`.
//!
//! The seats are the branches two levels below the seating branch (row, then column:
//! `Row1.DriverSide`). A seat supports a movement type when it has a numeric actuator with
//! `min < max` at one of the movement's relative paths ([`MOVEMENTS`]), and a massage type
//! per numeric actuator named `Massage` (its name is the relative path in lower case; its
//! levels are its `allowed` values, else any value in `min..max`).

use serde_json::{Map, Value as Json};

use super::types::{BACKREST, LONGITUDINAL, LUMBAR, VERTICAL};
use super::types::{ColumnData, ErrorData, Percentage, RaggedMatrix, RowDef, SupportData};

/// Movement type, relative paths below a seat in order of preference, description.
pub(super) const MOVEMENTS: [(&str, &[&str], &str); 4] = [
    (
        LONGITUDINAL,
        &["Position"],
        "Forward-backward direction of the vehicle",
    ),
    (VERTICAL, &["Height"], "Up-down direction of the vehicle"),
    (BACKREST, &["Backrest.Recline"], "Seat backrest angular"),
    (
        LUMBAR,
        &["Backrest.Lumbar.Support", "Backrest.Lumbar"],
        "Seat inflate-deflate lumbar",
    ),
];

const INTEGERS: [&str; 8] = [
    "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
];
const FLOATS: [&str; 2] = ["float", "double"];

/// A numeric actuator of a seat.
#[derive(Debug, Clone)]
pub(super) struct Actuator {
    pub path: String,
    integer: bool,
    pub low: f64,
    pub high: f64,
}

impl Actuator {
    /// A numeric actuator (with `min < max` when `need_limits`), else `None`.
    fn of(path: String, meta: &Map<String, Json>, need_limits: bool) -> Option<Self> {
        let datatype = meta.get("datatype")?.as_str()?;
        let integer = INTEGERS.contains(&datatype);
        if meta.get("type")?.as_str()? != "actuator" || !(integer || FLOATS.contains(&datatype)) {
            return None;
        }
        let min = meta.get("min").and_then(number);
        let max = meta.get("max").and_then(number);
        let limited = matches!((min, max), (Some(min), Some(max)) if min < max);
        if need_limits && !limited {
            return None;
        }
        Some(Self {
            path,
            integer,
            low: min.unwrap_or(0.0),
            high: max.unwrap_or(0.0),
        })
    }

    /// The value as the JSON the server reads: VISS values are strings (`"120"`; an
    /// integer for integer datatypes).
    pub fn encode(&self, value: f64) -> Result<String, ErrorData> {
        if !value.is_finite() {
            return Err(ErrorData::invalid(format!(
                "{}: {value} is not a number",
                self.path
            )));
        }
        let text = if self.integer {
            format!("{}", value.round() as i64)
        } else {
            value.to_string()
        };
        Ok(format!("\"{text}\""))
    }
}

/// A movement type of a seat: an actuator whose `min..max` is 0..100 %.
#[derive(Debug, Clone)]
pub(super) struct Axis {
    pub movement: &'static str,
    pub description: &'static str,
    pub actuator: Actuator,
}

impl Axis {
    fn tolerance(&self) -> f64 {
        ((self.actuator.high - self.actuator.low) * 0.005).max(1e-9)
    }

    pub fn value_at(&self, percent: Percentage) -> f64 {
        let Actuator { low, high, .. } = self.actuator;
        let value = low + (high - low) * percent / 100.0;
        if self.actuator.integer {
            value.round()
        } else {
            value
        }
    }

    pub fn percent_of(&self, value: f64) -> Percentage {
        let Actuator { low, high, .. } = self.actuator;
        ((value - low) / (high - low) * 100.0).clamp(0.0, 100.0)
    }

    pub fn reached(&self, value: f64, target: f64) -> bool {
        (value - target).abs() <= self.tolerance()
    }
}

/// A massage type of a seat.
#[derive(Debug, Clone)]
pub(super) struct Massage {
    pub name: String,
    pub description: String,
    pub actuator: Actuator,
    /// The allowed levels, ascending; empty: any value in `low..high`.
    levels: Vec<f64>,
}

impl Massage {
    /// The lowest level: the massage switched off.
    pub fn off(&self) -> f64 {
        self.levels.first().copied().unwrap_or(self.actuator.low)
    }

    /// 0 % is off; any other intensity at least the lowest level above off.
    pub fn level_at(&self, intensity: Percentage) -> f64 {
        if !self.levels.is_empty() {
            let steps = self.levels.len() - 1;
            let step = ((intensity / 100.0) * steps as f64).ceil() as usize;
            return self.levels[step.min(steps)];
        }
        let Actuator { low, high, .. } = self.actuator;
        let value = low + (high - low) * intensity / 100.0;
        if self.actuator.integer {
            value.ceil()
        } else {
            value
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Seat {
    pub row: String,
    pub column: String,
    pub axes: Vec<Axis>,
    pub massages: Vec<Massage>,
}

impl Seat {
    pub fn axis(&self, movement: &str) -> Option<&Axis> {
        self.axes.iter().find(|axis| axis.movement == movement)
    }

    pub fn massage(&self, name: &str) -> Option<&Massage> {
        self.massages.iter().find(|massage| massage.name == name)
    }

    fn of(branch: &str, row: &str, column: &str, children: &Map<String, Json>) -> Self {
        let mut found = Vec::new();
        leaves(children, "", &mut found);
        let base = format!("{branch}.{row}.{column}");
        let meta_of = |relative: &str| {
            found
                .iter()
                .find(|(path, _)| path == relative)
                .map(|(_, meta)| *meta)
        };
        let axes = MOVEMENTS
            .iter()
            .filter_map(|&(movement, candidates, description)| {
                candidates.iter().find_map(|relative| {
                    let actuator =
                        Actuator::of(format!("{base}.{relative}"), meta_of(relative)?, true)?;
                    Some(Axis {
                        movement,
                        description,
                        actuator,
                    })
                })
            })
            .collect();
        let massages = found
            .iter()
            .filter_map(|(relative, meta)| massage(&base, relative, meta))
            .collect();
        Self {
            row: row.to_owned(),
            column: column.to_owned(),
            axes,
            massages,
        }
    }
}

fn massage(base: &str, relative: &str, meta: &Map<String, Json>) -> Option<Massage> {
    let segments: Vec<&str> = relative.split('.').collect();
    if segments.last() != Some(&"Massage") || segments.contains(&"Switch") {
        return None;
    }
    let mut levels: Vec<f64> = meta
        .get("allowed")
        .and_then(Json::as_array)
        .map(|allowed| allowed.iter().filter_map(number).collect())
        .unwrap_or_default();
    levels.sort_by(f64::total_cmp);
    let actuator = Actuator::of(format!("{base}.{relative}"), meta, levels.is_empty())?;
    let description = match meta.get("description").and_then(Json::as_str) {
        Some(text) if !text.is_empty() => text.to_owned(),
        _ => relative.to_owned(),
    };
    Some(Massage {
        name: relative.to_lowercase(),
        description,
        actuator,
        levels,
    })
}

/// The leaves below a metadata node's children, by relative path, in tree order.
fn leaves<'a>(
    children: &'a Map<String, Json>,
    prefix: &str,
    found: &mut Vec<(String, &'a Map<String, Json>)>,
) {
    for (name, node) in children {
        let Some(node) = node.as_object() else {
            continue;
        };
        let path = format!("{prefix}{name}");
        match node.get("children").and_then(Json::as_object) {
            Some(grandchildren) => leaves(grandchildren, &format!("{path}."), found),
            None => found.push((path, node)),
        }
    }
}

/// The seats of a metadata answer for `branch` that support at least one movement or
/// massage, row by row.
pub(super) fn seating(branch: &str, metadata: &Json) -> Vec<Seat> {
    let name = branch.rsplit('.').next().unwrap_or(branch);
    let rows = metadata
        .get(name)
        .and_then(|root| root.get("children"))
        .and_then(Json::as_object);
    let mut seats = Vec::new();
    for (row, row_node) in rows.into_iter().flatten() {
        let columns = row_node.get("children").and_then(Json::as_object);
        for (column, column_node) in columns.into_iter().flatten() {
            let Some(children) = column_node.get("children").and_then(Json::as_object) else {
                continue;
            };
            let seat = Seat::of(branch, row, column, children);
            if !seat.axes.is_empty() || !seat.massages.is_empty() {
                seats.push(seat);
            }
        }
    }
    seats
}

/// What GetPropertiesSeating reports of `seats`.
pub(super) fn properties(seats: &[Seat]) -> RaggedMatrix {
    let mut rows: RaggedMatrix = Vec::new();
    for seat in seats {
        let column = ColumnData {
            name: seat.column.clone(),
            movement_support: seat
                .axes
                .iter()
                .map(|axis| SupportData {
                    name: axis.movement.to_owned(),
                    description: axis.description.to_owned(),
                })
                .collect(),
            massage_support: seat
                .massages
                .iter()
                .map(|massage| SupportData {
                    name: massage.name.clone(),
                    description: massage.description.clone(),
                })
                .collect(),
        };
        match rows.iter_mut().find(|row| row.row_name == seat.row) {
            Some(row) => row.column.push(column),
            None => rows.push(RowDef {
                row_name: seat.row.clone(),
                column: vec![column],
            }),
        }
    }
    rows
}

/// A JSON number, or a string holding one (VISS writes values as either).
pub(super) fn number(value: &Json) -> Option<f64> {
    match value {
        Json::Number(number) => number.as_f64(),
        Json::String(text) if !text.trim().is_empty() => text.trim().parse().ok(),
        _ => None,
    }
    .filter(|number: &f64| number.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> Json {
        serde_json::json!({"Seat": {"type": "branch", "children": {
            "Row1": {"type": "branch", "children": {
                "DriverSide": {"type": "branch", "children": {
                    "Position": {"type": "actuator", "datatype": "uint16", "min": 0, "max": 500},
                    "Height": {"type": "actuator", "datatype": "uint16"},
                    "Backrest": {"type": "branch", "children": {
                        "Lumbar": {"type": "branch", "children": {
                            "Support": {"type": "actuator", "datatype": "float", "min": "0", "max": "100"}
                        }}
                    }},
                    "Massage": {"type": "actuator", "datatype": "uint8", "allowed": ["3", "0", "1", "2"],
                                "description": "Massage level."},
                    "Switch": {"type": "branch", "children": {
                        "Massage": {"type": "actuator", "datatype": "uint8", "min": 0, "max": 3}
                    }}
                }},
                "Passenger": {"type": "branch", "children": {
                    "IsOccupied": {"type": "sensor", "datatype": "boolean"}
                }}
            }}
        }}})
    }

    #[test]
    fn seats_and_what_they_support_come_from_the_metadata() {
        let seats = seating("Vehicle.Cabin.Seat", &metadata());
        // The passenger seat has no actuator VAPI moves: it is not a seating seat.
        assert_eq!(seats.len(), 1);
        let seat = &seats[0];
        assert_eq!(
            (seat.row.as_str(), seat.column.as_str()),
            ("Row1", "DriverSide")
        );
        let movements: Vec<&str> = seat.axes.iter().map(|axis| axis.movement).collect();
        // Height has no limits: no vertical movement.
        assert_eq!(movements, [LONGITUDINAL, LUMBAR]);
        assert_eq!(
            seat.axis(LUMBAR).map(|axis| axis.actuator.path.as_str()),
            Some("Vehicle.Cabin.Seat.Row1.DriverSide.Backrest.Lumbar.Support")
        );
        // Switch.Massage is a switch, not a massage type.
        let names: Vec<&str> = seat.massages.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["massage"]);
        let properties = properties(&seats);
        assert_eq!(
            properties[0].column[0].massage_support[0].description,
            "Massage level."
        );
    }

    #[test]
    fn percentages_map_onto_the_actuators_range() {
        let seats = seating("Vehicle.Cabin.Seat", &metadata());
        let axis = seats[0].axis(LONGITUDINAL).expect("longitudinal");
        assert_eq!(axis.value_at(0.0), 0.0);
        assert_eq!(axis.value_at(24.0), 120.0);
        assert_eq!(axis.percent_of(250.0), 50.0);
        assert!(axis.reached(121.0, 120.0) && !axis.reached(123.0, 120.0));
        assert_eq!(axis.actuator.encode(119.6).as_deref(), Ok("\"120\""));
        let massage = seats[0].massage("massage").expect("massage");
        assert_eq!(massage.off(), 0.0);
        assert_eq!(massage.level_at(0.0), 0.0);
        assert_eq!(massage.level_at(1.0), 1.0);
        assert_eq!(massage.level_at(100.0), 3.0);
    }
}
