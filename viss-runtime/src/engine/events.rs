//! Subscription events: samples and timers in, encoded events into session queues.

use jiff::Timestamp;

use super::Engine;
use crate::dc;
use crate::filter::curvelog::Selected;
use crate::protocol::Version;
use crate::response::{begin, finish, key, write_data_objects, write_dp, write_json_str};
use crate::store::Sample;
use crate::subscription::{Subscription, Trigger};
use crate::tree::{NodeId, VissTree};

impl<T: VissTree> Engine<T> {
    pub(super) fn notify(&self, node: NodeId, sample: &Sample) {
        let Some(watchers) = self.watchers.get(node.index()) else {
            return;
        };
        let watchers = watchers.read();
        let now = self.clock.now();
        for subscription in watchers
            .iter()
            .filter(|subscription| subscription.is_active())
        {
            self.on_sample(subscription, node, sample, now);
        }
    }

    pub(super) fn on_sample(
        &self,
        subscription: &Subscription,
        node: NodeId,
        sample: &Sample,
        now: Timestamp,
    ) {
        let fires = match &subscription.trigger {
            Trigger::Range(range) => sample
                .value
                .as_f64()
                .is_some_and(|value| range.matches(value)),
            Trigger::Change(change) => {
                let mut state = subscription.state.lock();
                let previous = state.previous.replace(sample.value.clone());
                previous.is_some_and(|previous| change.fires(&previous, &sample.value))
            }
            Trigger::Curvelog(curvelog) => {
                self.curve_sample(subscription, curvelog.max_error, node, now);
                false
            }
            Trigger::EveryUpdate => true,
            Trigger::Timebased { .. } => false,
        };
        if fires {
            self.push_event(subscription, now);
        }
    }

    pub(super) fn curve_sample(
        &self,
        subscription: &Subscription,
        max_error: f64,
        node: NodeId,
        now: Timestamp,
    ) {
        let mut state = subscription.state.lock();
        let Some(curve) = state
            .curves
            .iter_mut()
            .find(|curve| curve.members.contains(&node))
        else {
            return;
        };
        let Some((ts, row)) = self.group_row(&curve.members, curve.last_time()) else {
            return;
        };
        let first_point = curve.is_empty();
        curve.push(ts, row, false);
        if first_point {
            // No value existed at subscribe time: this sample is the curve's first point.
            let selected = curve.drain(max_error);
            self.push_curve_event(subscription, &curve.members, &selected, now);
        } else if curve.len() >= curve_capacity(subscription) {
            let selected = curve.drain(max_error);
            self.push_curve_event(subscription, &curve.members, &selected, now);
        }
    }

    /// Queues an event with the current values of all addressed signals. Without in-line
    /// errors (switched off, or a VISSv2 session) a signal without a value is left out, and
    /// an event with no value at all is not sent.
    pub(super) fn push_event(&self, subscription: &Subscription, now: Timestamp) {
        let inline = subscription.version == Version::V3 && self.config.inline_errors;
        let has_value = |node: &NodeId| self.store.read(*node, |sample| sample.is_some());
        let present: Vec<NodeId>;
        let nodes: &[NodeId] = if inline || subscription.nodes.iter().all(has_value) {
            &subscription.nodes
        } else {
            present = subscription
                .nodes
                .iter()
                .copied()
                .filter(has_value)
                .collect();
            &present
        };
        if nodes.is_empty() {
            return;
        }
        subscription.queue.push_with(|out| {
            begin_event(out, subscription.id);
            self.write_data(out, nodes, now);
            finish(out, now);
            self.compress_event(subscription, out);
        });
    }

    /// Applies the subscription's `dc` to a finished event.
    fn compress_event(&self, subscription: &Subscription, out: &mut Vec<u8>) {
        if let Some(dc) = subscription.dc {
            let single = subscription.nodes.len() == 1;
            dc::compress(out, dc, single, Some(&mut subscription.path_index.lock()));
        }
    }

    /// Queues a curvelog event: a `dp` array per member.
    pub(super) fn push_curve_event(
        &self,
        subscription: &Subscription,
        members: &[NodeId],
        selected: &Selected,
        now: Timestamp,
    ) {
        if selected.times.is_empty() {
            return;
        }
        let width = members.len();
        subscription.queue.push_with(|out| {
            begin_event(out, subscription.id);
            write_data_objects(
                out,
                members.iter().enumerate(),
                |(_, member)| &self.forest.node(**member).path,
                |out, (column, _)| {
                    let rows = selected.times.iter().enumerate();
                    crate::response::write_json_array(out, rows, |out, (row, ts)| {
                        write_dp(out, selected.values.get(row * width + column), *ts);
                    });
                },
            );
            finish(out, now);
            self.compress_event(subscription, out);
        });
    }
}

fn curve_capacity(subscription: &Subscription) -> usize {
    match subscription.trigger {
        Trigger::Curvelog(curvelog) => curvelog.buffer_size,
        _ => usize::MAX,
    }
}

/// `{"action":"subscription","subscriptionId":"<id>","data":`
fn begin_event(out: &mut Vec<u8>, id: u64) {
    begin(out, Some("subscription"), None);
    key(out, "subscriptionId");
    write_json_str(out, itoa::Buffer::new().format(id));
    key(out, "data");
}
