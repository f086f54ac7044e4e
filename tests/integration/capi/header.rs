//! `include/fastiam.h` is exactly what the pinned cbindgen generates from `src/capi/`.

use std::path::Path;

/// Generates the header from `src/capi/` (only: the rest of the crate's public constants
/// are not the C ABI) with `cbindgen.toml`.
fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_src(root.join("src/capi/mod.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn header_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/fastiam.h");
    let generated = generate();
    if std::env::var_os("FASTIAM_WRITE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/fastiam.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or(
                committed.lines().count().min(generated.lines().count()),
                |i| i,
            )
            + 1;
        panic!(
            "include/fastiam.h differs from what cbindgen generates from src/capi/ (first at line {line}).\n\
             Regenerate it and commit the result:\n    \
             FASTIAM_WRITE_HEADER=1 cargo test --test integration capi::header"
        );
    }
}
