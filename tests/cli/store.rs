//! Saves are transactions: a process killed at any point of a save leaves
//! `series/` as the old state or the new one, never a mix; a reader sees one
//! of them without changing anything, and the next writer clears what was
//! interrupted.

use std::fs;

use crate::common::*;

#[test]
fn a_save_killed_at_any_step_leaves_old_or_new() {
    // The last three take the path of file systems without an atomic
    // exchange (SERIES_NO_EXCHANGE).
    for (point, exchange) in [
        ("staged", true),
        ("swapped", true),
        ("staged", false),
        ("moved-aside", false),
        ("swapped", false),
    ] {
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
        let mut vars = vec![("SERIES_CRASH_AT", point)];
        if !exchange {
            vars.push(("SERIES_NO_EXCHANGE", "1"));
        }
        let out = env.series_env(&args, &vars);
        assert!(
            !out.status.success(),
            "{point}: the crash hook did not fire"
        );

        // A reader sees old or new, and changes nothing beside series/.
        let beside = || -> Vec<String> {
            let mut v: Vec<String> = fs::read_dir(env.work())
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.'))
                .collect();
            v.sort();
            v
        };
        let left = beside();
        let status = env.series(&["status"]);
        assert_read(&status);
        assert_eq!(
            beside(),
            left,
            "{point}: a read changed what lies beside series/"
        );
        let now = if env.series_dir().exists() {
            Env::snapshot(&env.series_dir())
        } else {
            // Moved aside and not yet back: the reader read the old copy.
            Env::snapshot(&env.work().join(".series.old"))
        };
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
        // The next writer completes the save and leaves nothing beside.
        assert_ok(&env.series(&args));
        assert!(beside().is_empty(), "{point}: {:?}", beside());
        assert!(manifest(&Env::snapshot(&env.series_dir())).contains("linux-mm = "));
        assert!(
            env.series_dir().join("NOTES").exists(),
            "unmanaged files survive saves"
        );
    }
}
