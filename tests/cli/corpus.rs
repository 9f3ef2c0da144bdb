//! The saved fuzz corpus (fuzz/corpus/TARGET/*), replayed through the same
//! entry points the fuzz targets call, so CI covers every input found.

use std::path::Path;

#[test]
fn the_fuzz_corpus_replays_without_a_failure() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut total = 0;
    for (name, target) in series::fuzz::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no corpus for {name}");
        for f in files {
            // A file a running fuzzer removed meanwhile (it minimises the
            // corpus) is skipped; any other read error fails.
            let data = match std::fs::read(&f) {
                Ok(d) => d,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("{}: {e}", f.display()),
            };
            if std::panic::catch_unwind(|| target(&data)).is_err() {
                panic!("fuzz target {name} fails on {}", f.display());
            }
            total += 1;
        }
    }
    assert!(total >= series::fuzz::TARGETS.len());
}

/// Replay one input named by SERIES_FUZZ_INPUT=TARGET:FILE, a crash found
/// by scripts/fuzz.sh: `cargo test --test cli replay -- --ignored`.
#[test]
#[ignore = "a tool for one fuzz input: set SERIES_FUZZ_INPUT=TARGET:FILE"]
fn replay_one_fuzz_input() {
    let spec = std::env::var("SERIES_FUZZ_INPUT").expect("SERIES_FUZZ_INPUT=TARGET:FILE");
    let (name, file) = spec.split_once(':').expect("TARGET:FILE");
    let target = series::fuzz::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a known target")
        .1;
    target(&std::fs::read(file).unwrap());
}
