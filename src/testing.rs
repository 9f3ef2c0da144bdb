//! Test hooks and trace counters, compiled in only with the `testing` cargo
//! feature (the tests turn it on through a dev-dependency on this crate);
//! without it every hook is an empty inline function and a release build
//! holds none of them.
//!
//! - `SERIES_CRASH_AT=POINT`: the process aborts at [`crash_point`] `POINT`,
//!   to prove that an interruption there leaves old or new, never a mix.
//! - `SERIES_NO_EXCHANGE=1`: saves take the path of file systems without an
//!   atomic exchange ([`no_exchange`]).
//! - `SERIES_TRACE=1`: [`trace`] gives one line of counters (loads of
//!   `series/`, renders of a version) for the command line to print.

/// What is counted for `SERIES_TRACE`.
#[derive(Clone, Copy, Debug)]
pub enum Counter {
    /// A read of `series/`.
    Load,
    /// A render of a version's mails.
    Render,
}

#[cfg(feature = "testing")]
mod on {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::sync::OnceLock;

    use super::Counter;

    struct Hooks {
        crash_at: Option<String>,
        no_exchange: bool,
        trace: bool,
    }

    static HOOKS: OnceLock<Hooks> = OnceLock::new();
    static LOADS: AtomicUsize = AtomicUsize::new(0);
    static RENDERS: AtomicUsize = AtomicUsize::new(0);

    fn hooks() -> &'static Hooks {
        HOOKS.get_or_init(|| {
            let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
            Hooks {
                crash_at: var("SERIES_CRASH_AT"),
                no_exchange: var("SERIES_NO_EXCHANGE").is_some(),
                trace: var("SERIES_TRACE").is_some_and(|v| v == "1"),
            }
        })
    }

    pub fn crash_point(point: &str) {
        if hooks().crash_at.as_deref() == Some(point) {
            std::process::abort();
        }
    }

    pub fn no_exchange() -> bool {
        hooks().no_exchange
    }

    pub fn count(c: Counter) {
        match c {
            Counter::Load => LOADS.fetch_add(1, Relaxed),
            Counter::Render => RENDERS.fetch_add(1, Relaxed),
        };
    }

    pub fn trace() -> Option<String> {
        hooks().trace.then(|| {
            format!(
                "trace: {} loads of series/, {} renders",
                LOADS.load(Relaxed),
                RENDERS.load(Relaxed)
            )
        })
    }
}

#[cfg(feature = "testing")]
pub use on::{count, crash_point, no_exchange, trace};

/// Abort here when `SERIES_CRASH_AT` names `point` (testing builds only).
#[cfg(not(feature = "testing"))]
#[inline(always)]
pub fn crash_point(_point: &str) {}

/// Whether saves should act as on a file system without an atomic
/// exchange (testing builds only).
#[cfg(not(feature = "testing"))]
#[inline(always)]
pub fn no_exchange() -> bool {
    false
}

/// Count one event for `SERIES_TRACE` (testing builds only).
#[cfg(not(feature = "testing"))]
#[inline(always)]
pub fn count(_c: Counter) {}

/// The trace line, when `SERIES_TRACE=1` (testing builds only).
#[cfg(not(feature = "testing"))]
#[inline(always)]
pub fn trace() -> Option<String> {
    None
}
