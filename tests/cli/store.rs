//! Saves are transactions: a process killed at any point of a save leaves
//! `series/` as the old state or the new one, never a mix, and the next run
//! finishes or undoes what was interrupted.

use std::fs;

use crate::common::*;

#[test]
fn a_save_killed_at_any_step_leaves_old_or_new() {
    for point in ["staged", "moved-aside", "swapped"] {
        let env = Env::new();
        env.base("v4.11-rc2");
        env.write("mm/memory.c", "changed\n");
        env.commit("mm: change\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
        env.init(&["--base", "v4.11-rc2"]);
        fs::write(env.series_dir().join("NOTES"), "my notes\n").unwrap();
        let old = Env::snapshot(&env.series_dir());
        let tree = env.tree();
        let args = [
            "--tree",
            tree.to_str().unwrap(),
            "format",
            "--to",
            "linux-mm",
        ];

        // A clean run gives the new state.
        let probe = Env::new();
        drop(probe);
        let out = env.series_env(&args, &[("SERIES_CRASH_AT", point)]);
        assert!(
            !out.status.success(),
            "{point}: the crash hook did not fire"
        );

        // The next command recovers; then series/ is old or new.
        let status = env.series(&["status"]);
        assert_ok(&status);
        let now = Env::snapshot(&env.series_dir());
        let manifest = |s: &Vec<(std::path::PathBuf, Vec<u8>)>| {
            String::from_utf8_lossy(
                &s.iter()
                    .find(|(p, _)| p.ends_with("series.toml"))
                    .unwrap()
                    .1,
            )
            .into_owned()
        };
        if now != old {
            assert!(
                manifest(&now).contains("linux-mm = \"linux-mm@kvack.org\""),
                "{point}: neither old nor new"
            );
            let rest = |s: &Vec<(std::path::PathBuf, Vec<u8>)>| {
                s.iter()
                    .filter(|(p, _)| !p.ends_with("series.toml"))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(rest(&now), rest(&old), "{point}: other files changed");
        }
        // Nothing is left beside series/.
        let leftovers: Vec<_> = fs::read_dir(env.work())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{point}: {leftovers:?}");
        // And a second run completes the save.
        assert_ok(&env.series(&args));
        assert!(manifest(&Env::snapshot(&env.series_dir())).contains("linux-mm = "));
        assert!(
            env.series_dir().join("NOTES").exists(),
            "unmanaged files survive saves"
        );
    }
}
