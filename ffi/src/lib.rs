//! # libjnd: the C ABI
//!
//! This crate will own `libjnd.so`/`libjnd.a`: an opaque `JndEncoder*` handle, NULL-safe free,
//! `jnd_predict_quality`, `jnd_encode`, the JND-map functions, integer status codes with a per-handle
//! last-error string, a cbindgen-generated `jnd.h` and a `jnd.pc` (see the C-ABI issue). For now it
//! exposes only the runtime version, so the crate, its linkage and its place in the workspace exist.

use std::ffi::{CStr, c_char};

/// The library version as a NUL-terminated string, valid for the life of the process.
#[unsafe(no_mangle)]
pub extern "C" fn jnd_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_matches_the_crate() {
        // SAFETY: jnd_version returns a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(super::jnd_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        assert_eq!(v.to_str().unwrap(), jndenc::VERSION);
    }
}
