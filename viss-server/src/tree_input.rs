//! Loads the trees to serve (vss-model's shared loader) and converts them for the engine.

use viss_runtime::DynamicTree;
use viss_runtime::model_tree::dynamic_tree_from_model;
use vss_model::cli::TreeArgs;
use vss_model::input::Report;

/// The served trees, in the order given, or a message saying why there are none
/// (diagnostics go to stderr).
///
/// Loading passes through a JSON document and the IR, each several times the size of the
/// tree that is kept. Freed between the kept tree's own allocations, their many small ones
/// would leave a heap of holes that the allocator cannot give back: on the standard tree,
/// a 3.4 MB heap for 1.4 MB of live tree. So the trees are loaded on a thread of their own
/// (glibc gives it a malloc arena of its own) and copied into the main heap; the pages of the
/// loading arena, then free but for a few blocks, are given back to the system: 2.0 MB of
/// heap and anonymous mappings at idle instead of 3.6 MB, and 1.5 MB since the tree keeps
/// its cold metadata packed (tests/real_clients.rs checks it).
/// Called before the server starts any other thread.
pub fn load(args: &TreeArgs) -> Result<Vec<DynamicTree>, String> {
    keep_trimming_freed_memory();
    let loaded = std::thread::scope(|scope| {
        let loader = std::thread::Builder::new()
            .name("tree-loader".into())
            // the main thread's stack size: the loaders recurse once per tree level
            .stack_size(LOADER_STACK_BYTES)
            .spawn_scoped(scope, || load_and_convert(args))
            .map_err(|error| format!("cannot start the tree loader: {error}"))?;
        loader
            .join()
            .map_err(|_| "the tree loader panicked".to_string())
    })??;
    let trees = loaded.iter().map(DynamicTree::clone).collect();
    drop_on_a_thread_of_its_own(loaded);
    release_free_memory();
    Ok(trees)
}

const LOADER_STACK_BYTES: usize = 8 << 20;

/// Frees the loaded trees on a short-lived thread. Freed on this thread, glibc would keep
/// up to 7 blocks of each small size in this thread's cache of free blocks (its tcache)
/// until this thread asks for those sizes again; cached blocks count as in use, so on the
/// standard tree some 200 of them (55 KB) kept 730 KB of the loading arena's pages resident
/// between them. A thread's cache is emptied into the arenas when the thread ends, before
/// `join` returns, so `release_free_memory` then finds those pages free.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn drop_on_a_thread_of_its_own(loaded: Vec<DynamicTree>) {
    let dropper = std::thread::Builder::new()
        .name("tree-release".into())
        .spawn(move || drop(loaded));
    // A thread that cannot start drops `loaded` with its closure, here: the cached blocks
    // then cost memory, nothing else. A panic in a drop has been reported on stderr.
    if let Ok(dropper) = dropper {
        let _ = dropper.join();
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn drop_on_a_thread_of_its_own(loaded: Vec<DynamicTree>) {
    drop(loaded);
}

fn load_and_convert(args: &TreeArgs) -> Result<Vec<DynamicTree>, String> {
    let models = args.load_all("viss-server", Report::ErrorsOnly)?;
    models
        .iter()
        .map(|model| {
            dynamic_tree_from_model(model)
                .map_err(|error| format!("cannot serve the tree: {error}"))
        })
        .collect()
}

/// Fixes glibc's trim threshold at its initial 128 KiB. By default glibc raises it to twice
/// the largest block it ever gave back (the IR's node table, 1.5 MB), and an arena whose
/// free top is below the threshold is never given back: the loading arena would keep its
/// 1.7 MB for good. This holds for the whole process and its life: the mmap threshold stays
/// at its initial 128 KiB too, so every block of 128 KiB or more (a large answer, say) is
/// mapped and unmapped on its own rather than reused from the heap.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn keep_trimming_freed_memory() {
    // SAFETY: mallopt takes no pointer and only changes the allocator's tuning. glibc marks
    // it MT-Unsafe; it runs before the server starts any other thread.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_trimming_freed_memory() {}

/// Gives back to the system the free pages between the few blocks of the loading arena that
/// outlive loading; by itself glibc gives back only an arena's free top.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_free_memory() {
    // SAFETY: malloc_trim takes no pointer and only returns free pages to the kernel; it is
    // safe to call at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() {}
