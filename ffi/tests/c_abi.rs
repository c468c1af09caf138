//! The real `libjnd.so` from real C programs: the example encoder (byte-identical to jndenc), misuse
//! from C, and eight threads with their own encoders; plus the checked-in header is what cbindgen
//! generates now.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The folder holding the `libjnd.so` cargo built for this test run (target/<profile>).
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    for dir in [deps, deps.parent().unwrap()] {
        if dir.join("libjnd.so").exists() {
            return dir.to_path_buf();
        }
    }
    panic!("libjnd.so not found next to {}", exe.display());
}

/// Compiles `source` against the built library with the system C compiler.
fn compile(source: &Path, name: &str, out_dir: &Path) -> PathBuf {
    let lib = lib_dir();
    let exe = out_dir.join(name);
    let out = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-o"])
        .arg(&exe)
        .arg(source)
        .arg(format!("-I{}", root().join("ffi/include").display()))
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-ljnd", "-lpthread"])
        .output()
        .expect("run cc");
    assert!(out.status.success(), "cc {}: {}", source.display(), String::from_utf8_lossy(&out.stderr));
    exe
}

fn run(exe: &Path, args: &[&Path]) -> String {
    let out = Command::new(exe).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}{}",
        exe.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Compiles the example as a user would: flags from `pkg-config` reading `jnd.pc` made from the
/// checked-in template, installed into a temporary prefix that holds the built library and the header.
fn compile_with_pkg_config(out_dir: &Path) -> PathBuf {
    let prefix = out_dir.join("prefix");
    std::fs::create_dir_all(prefix.join("lib/pkgconfig")).unwrap();
    std::fs::create_dir_all(prefix.join("include")).unwrap();
    std::fs::copy(lib_dir().join("libjnd.so"), prefix.join("lib/libjnd.so")).unwrap();
    std::fs::copy(root().join("ffi/include/jnd.h"), prefix.join("include/jnd.h")).unwrap();
    let template = std::fs::read_to_string(root().join("ffi/jnd.pc.in")).unwrap();
    let pc = template
        .replace("@PREFIX@", prefix.to_str().unwrap())
        .replace("@VERSION@", env!("CARGO_PKG_VERSION"));
    std::fs::write(prefix.join("lib/pkgconfig/jnd.pc"), pc).unwrap();
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "jnd"])
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
        .output()
        .expect("run pkg-config");
    assert!(flags.status.success(), "{}", String::from_utf8_lossy(&flags.stderr));
    let flags = String::from_utf8(flags.stdout).unwrap();
    let version = Command::new("pkg-config")
        .args(["--modversion", "jnd"])
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), env!("CARGO_PKG_VERSION"));
    let exe = out_dir.join("encode");
    let out = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&exe)
        .arg(root().join("ffi/examples/encode.c"))
        .args(flags.split_whitespace())
        .arg(format!("-Wl,-rpath,{}", prefix.join("lib").display()))
        .output()
        .expect("run cc");
    assert!(out.status.success(), "cc encode.c {flags}: {}", String::from_utf8_lossy(&out.stderr));
    exe
}

#[test]
fn the_c_example_encodes_like_jndenc() {
    let dir = tempfile::tempdir().unwrap();
    let exe = compile_with_pkg_config(dir.path());
    let input = root().join("fixtures/photo.ppm");
    let output = dir.path().join("out.jpg");
    let said = run(&exe, &[&input, &output]);
    let from_c = std::fs::read(&output).unwrap();
    // The same plan through the library, as the jndenc binary runs it.
    let plan = jndenc::EncodePlan::new(jndenc::Settings::default(), &jndenc::Models::default()).unwrap();
    let image = plan.decode(&std::fs::read(&input).unwrap()).unwrap();
    let expected = plan.encode_pixels(image.clone(), jndenc::Names::pixels()).unwrap();
    assert_eq!(from_c, expected.bytes, "C example vs library");
    let expected = (expected.report.quality, ());
    assert!(said.starts_with(&format!("quality {}, {} bytes", expected.0, from_c.len())), "{said}");
    // And the jndenc binary itself, when this test run built it (cargo test --workspace does).
    let test_exe = std::env::current_exe().unwrap();
    let profile_dir = test_exe.parent().and_then(Path::parent).unwrap();
    let jndenc = profile_dir.join("jndenc");
    if jndenc.exists() {
        let out = Command::new(&jndenc).arg(&input).output().unwrap();
        assert!(out.status.success());
        assert_eq!(from_c, out.stdout, "C example vs jndenc");
    }
    // Fixed quality through C equals fixed quality through the library.
    let fixed_path = dir.path().join("q70.jpg");
    let said = run(&exe, &[Path::new("-q"), Path::new("70"), &input, &fixed_path]);
    assert!(said.starts_with("quality 70,"), "{said}");
    let settings =
        jndenc::Settings { mode: jndenc::settings::Mode::Fixed(70), ..jndenc::Settings::default() };
    let fixed = jndenc::EncodePlan::new(settings, &jndenc::Models::default()).unwrap();
    assert_eq!(
        std::fs::read(&fixed_path).unwrap(),
        fixed.encode_pixels(image, jndenc::Names::pixels()).unwrap().bytes
    );
}

#[test]
fn misuse_from_c_returns_errors_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let exe = compile(&root().join("ffi/tests/c/misuse.c"), "misuse", dir.path());
    assert!(run(&exe, &[]).contains("all checks passed"));
}

#[test]
fn eight_threads_with_their_own_encoders_match_serial() {
    let dir = tempfile::tempdir().unwrap();
    let exe = compile(&root().join("ffi/tests/c/threads.c"), "threads", dir.path());
    assert!(run(&exe, &[]).contains("8 of 8 identical"));
}

#[test]
fn every_setter_the_options_table_names_is_in_the_header() {
    let header = std::fs::read_to_string(root().join("ffi/include/jnd.h")).unwrap();
    for info in jndenc::settings::OPTIONS {
        if let Some(setter) = info.c {
            assert!(header.contains(&format!("int {setter}(")), "{}: {setter} is not in jnd.h", info.name);
        }
    }
    assert!(header.contains("int jnd_encoder_set_option("), "the by-name setter");
}

#[test]
fn header_is_what_cbindgen_generates() {
    let crate_dir = root().join("ffi");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen")
        .write(&mut generated);
    let header_path = crate_dir.join("include/jnd.h");
    if std::env::var_os("JND_UPDATE_HEADER").is_some() {
        std::fs::write(&header_path, &generated).unwrap();
    }
    let committed = std::fs::read(&header_path).unwrap_or_default();
    assert!(
        committed == generated,
        "ffi/include/jnd.h is stale: run JND_UPDATE_HEADER=1 cargo test -p ffi --test c_abi header"
    );
}
