//! Ctrl-C, `kill` and a hang-up, handled so that nothing is left behind.
//!
//! Outside a protected section a signal does what it always does: the
//! process ends (every save of `series/` is atomic, so a kill leaves the
//! old state or the new). While an external process runs, or while a send
//! goes message by message, the section is protected: the signal is
//! noted, the runner stops the child's process group (or, for a message
//! being handed to `git send-email`, waits for that one to finish), and
//! the operation ends cleanly, saying what it did. A second signal ends
//! the process at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A signal arrived.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// The next signal takes the default action (no section is protected,
/// or one signal was noted already).
static ARMED: AtomicBool = AtomicBool::new(true);
/// Protected sections open now.
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// The signals handled: SIGINT, SIGTERM, SIGHUP.
const SIGNALS: [i32; 3] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
];

/// Install the handlers; once, by the command line.
pub fn install() {
    for sig in SIGNALS {
        // The order matters: the default action first, when armed; then
        // note the signal and arm for the next one.
        let _ = signal_hook::flag::register_conditional_default(sig, &ARMED);
        let _ = signal_hook::flag::register(sig, &INTERRUPTED);
        let _ = signal_hook::flag::register(sig, &ARMED);
    }
}

/// Whether a signal asked the process to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// A protected section; it ends when dropped.
pub struct Protected(());

/// Protect the section until the returned value is dropped: a signal is
/// noted for the code to act on, not acted on at once.
pub fn protect() -> Protected {
    OPEN.fetch_add(1, Ordering::SeqCst);
    if !interrupted() {
        ARMED.store(false, Ordering::SeqCst);
    }
    Protected(())
}

impl Drop for Protected {
    fn drop(&mut self) {
        if OPEN.fetch_sub(1, Ordering::SeqCst) == 1 {
            ARMED.store(true, Ordering::SeqCst);
        }
    }
}
