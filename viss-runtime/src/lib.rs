//! VISS v3 runtime.
