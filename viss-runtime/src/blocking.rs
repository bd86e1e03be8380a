//! Work that may block (hashing a large file, an `fsync`, a database round trip) run from
//! code that may be on an async worker thread: on a multi-thread tokio runtime the worker
//! hands its other tasks to a fresh thread first (`block_in_place`), so one slow call does
//! not stall every connection on that worker; elsewhere it simply runs.

/// Runs `work`, telling a multi-thread tokio runtime first that it may block.
pub(crate) fn may_block<R>(work: impl FnOnce() -> R) -> R {
    #[cfg(any(
        feature = "ws",
        feature = "http",
        feature = "grpc",
        feature = "mqtt",
        feature = "postgres"
    ))]
    if let Ok(runtime) = tokio::runtime::Handle::try_current()
        && runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
    {
        return tokio::task::block_in_place(work);
    }
    work()
}
