//! Decides at build time whether the browser tests can run here, so that without a browser
//! they show as *ignored* (libtest has no way to skip at run time, and a test that returns
//! early would print `ok`). `STEPDOWN_E2E=1` makes them run regardless, and fail without one.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_browser)");
    println!("cargo::rerun-if-env-changed=STEPDOWN_E2E");
    let mut missing = false;
    for (env, default) in
        [("STEPDOWN_CHROMEDRIVER", "/usr/bin/chromedriver"), ("STEPDOWN_CHROMIUM", "/usr/bin/chromium")]
    {
        println!("cargo::rerun-if-env-changed={env}");
        let path = std::env::var(env).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned());
        // A missing path makes cargo run this script again on every build, so installing the
        // browser later is noticed.
        println!("cargo::rerun-if-changed={path}");
        missing |= !Path::new(&path).is_file();
    }
    let required = std::env::var("STEPDOWN_E2E").is_ok_and(|v| v.trim() == "1");
    if missing && !required {
        println!("cargo::rustc-cfg=no_browser");
    }
}
