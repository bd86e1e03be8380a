//! Path → node lookup for all 1,367 leaves of the standard VSS tree (every leaf once per
//! iteration; criterion reports time per lookup through `Throughput::Elements`):
//!
//! * `derived_static_index`: `VissTree::lookup_dotted` of the generated tree, the static
//!   open-addressing index `#[derive(VissTree)]` builds at compile time;
//! * `derived_slash_path`: `VissTree::lookup` with `/` delimiters (normalised on the stack);
//! * `derived_segment_match`: `VissBranch::lookup_relative` below the root, the generated
//!   per-segment `match` each branch type has (for lookups below a branch);
//! * `hashmap_str_baseline`: a `HashMap<&str, NodeId>` (std hasher) over the same paths;
//! * `dynamic_tree`: the runtime's `DynamicTree`, built from the same tree at start-up.
//!
//! Run: `cargo bench -p vss-standard --bench lookup`.

mod support;

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use viss_runtime::{NodeId, VissBranch, VissTree};
use vss_standard::{leaf_paths, tree::Vehicle};

fn lookups(c: &mut Criterion) {
    let paths = leaf_paths();
    let slash_paths: Vec<String> = paths.iter().map(|p| p.replace('.', "/")).collect();
    let hashmap: HashMap<&str, NodeId> = paths
        .iter()
        .map(|path| (*path, Vehicle::TREE.lookup_dotted(path).expect("a leaf")))
        .collect();
    let dynamic = support::standard_dynamic_tree();

    let mut group = c.benchmark_group("standard_tree_leaf_lookup");
    group.throughput(Throughput::Elements(paths.len() as u64));
    group.bench_function("derived_static_index", |b| {
        b.iter(|| {
            for path in &paths {
                black_box(Vehicle::TREE.lookup_dotted(black_box(path)));
            }
        })
    });
    group.bench_function("derived_slash_path", |b| {
        b.iter(|| {
            for path in &slash_paths {
                black_box(Vehicle::TREE.lookup(black_box(path)));
            }
        })
    });
    let relative: Vec<&str> = paths
        .iter()
        .map(|path| path.strip_prefix("Vehicle.").unwrap_or(""))
        .collect();
    group.bench_function("derived_segment_match", |b| {
        b.iter(|| {
            for path in &relative {
                black_box(<Vehicle as VissBranch>::lookup_relative(black_box(path), 1));
            }
        })
    });
    group.bench_function("hashmap_str_baseline", |b| {
        b.iter(|| {
            for path in &paths {
                black_box(hashmap.get(black_box(path)));
            }
        })
    });
    group.bench_function("dynamic_tree", |b| {
        b.iter(|| {
            for path in &paths {
                black_box(dynamic.lookup_dotted(black_box(path)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
