//! `pow` and `log` for server binaries (feature `server`, Linux with glibc), so that the
//! dynamic loader does not map `libm.so.6` for them. They are the only functions of libm a
//! server calls (tokio's scheduler and SQLite's FTS5 ranking), and loading libm cost an idle
//! viss-server 516 KB of RSS (`/proc/PID/smaps`, 2026-12-07): the loader runs libm's IFUNC
//! resolvers and reads its symbol tables, and the kernel maps 64 KiB around every page
//! touched. With these two defined in the binary, and rustc's `--as-needed`, the linker
//! leaves libm out of the binary's `DT_NEEDED`. The implementations are the `libm` crate's
//! (musl's algorithms, as glibc's within an ulp of the exact result).
//!
//! A program that links `viss-runtime` with `server` calls these for `pow` and `log`
//! wherever they are called from, C code included.

/// `pow(3)`.
// The C symbol is the point: it takes the place of libm's.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

/// `log(3)`.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn log(x: f64) -> f64 {
    libm::log(x)
}

#[cfg(test)]
mod tests {
    #[test]
    fn pow_and_log_agree_with_the_exact_results() {
        assert_eq!(super::pow(2.0, 10.0), 1024.0);
        assert_eq!(super::pow(9.0, 0.5), 3.0);
        assert!(super::pow(-8.0, 1.0 / 3.0).is_nan());
        assert_eq!(super::log(1.0), 0.0);
        assert!((super::log(std::f64::consts::E) - 1.0).abs() <= f64::EPSILON);
        assert_eq!(super::log(0.0), f64::NEG_INFINITY);
    }
}
