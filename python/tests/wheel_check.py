"""Checks an installed wheel from the outside (scripts/wheel-test.sh runs it in a fresh virtual
environment): the package and its command encode the README's example as the `jndenc` binary does,
HEIF works exactly when the build has it, and every shared library the extension loaded beyond the
manylinux policy's system set came from inside the wheel (read from /proc/self/maps)."""

import argparse
import os
import pathlib
import subprocess
import sys
import sysconfig
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
PHOTO = ROOT / "fixtures" / "photo.png"
# What a manylinux wheel may take from the system (PEP 600 / auditwheel's policy list), and the
# interpreter's own libraries.
SYSTEM = ("libc.so", "libm.so", "libpthread.so", "libdl.so", "librt.so", "ld-linux", "libgcc_s.so",
          "libstdc++.so", "libutil.so", "libcrypt.so", "libz.so", "libexpat.so", "libffi.so", "libbz2.so",
          "liblzma.so", "libuuid.so", "libsqlite3.so", "libssl.so", "libcrypto.so", "libpython")


def loaded_libraries():
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split(maxsplit=5)[-1].strip()
            if ".so" in os.path.basename(path):
                paths.add(path)
    return sorted(paths)


def run(args):
    done = subprocess.run(args, capture_output=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"{args[0]} failed ({done.returncode}): {done.stderr.decode()}")
    return done.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect-heif", choices=["yes", "no"], required=True)
    parser.add_argument("--expected", required=True,
                        help="a folder with the jndenc binary's outputs: default.jpg (`jndenc photo.png`) "
                             "and q50.heic (`jndenc --format heif -quality 50 photo.png`), made outside "
                             "any namespace that hides the system's libraries")
    args = parser.parse_args()
    import jndenc

    site = pathlib.Path(sysconfig.get_paths()["purelib"])
    where = pathlib.Path(jndenc.__file__).resolve()
    assert site in where.parents, f"jndenc imported from {where}, not the wheel in {site}"
    print(f"jndenc {jndenc.__version__} from {where.parent}")
    # The README's example: the default encode of the fixture, as the binary writes it.
    expected_dir = pathlib.Path(args.expected)
    expected = (expected_dir / "default.jpg").read_bytes()
    data, report = jndenc.encode(PHOTO.read_bytes())
    assert data == expected, f"package: {len(data)} bytes, binary: {len(expected)}"
    print(f"encode: {report['target']} quality {report['quality']}, {len(data)} bytes = the binary's")
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "out.jpg"
        run([sys.executable, "-m", "jndenc", "-outfile", str(out), str(PHOTO)])
        assert out.read_bytes() == expected, "python -m jndenc differs from the binary"
        script = pathlib.Path(sys.executable).parent / "jndenc"
        assert run([str(script), str(PHOTO)]) == expected, "the jndenc script differs from the binary"
        print("python -m jndenc and the jndenc script: the binary's bytes")
    if args.expect_heif == "yes":
        assert jndenc._jndenc.HEIF
        heif, _ = jndenc.encode(PHOTO.read_bytes(), format="heif", quality=50)
        assert heif == (expected_dir / "q50.heic").read_bytes(), "HEIF differs from the binary's"
        print(f"HEIF: {len(heif)} bytes = the binary's")
    else:
        assert not jndenc._jndenc.HEIF
        try:
            jndenc.encode(PHOTO.read_bytes(), format="heif", quality=50)
            sys.exit("HEIF encoded in a build without it")
        except jndenc.UnsupportedError as e:
            print(f"HEIF refused as expected: {e}")
    libraries = loaded_libraries()
    interpreter = pathlib.Path(sys.base_prefix).resolve()
    outside = [p for p in libraries if site not in pathlib.Path(p).parents
               and interpreter not in pathlib.Path(p).resolve().parents
               and not any(os.path.basename(p).startswith(s) for s in SYSTEM)]
    inside = [p for p in libraries if site in pathlib.Path(p).parents]
    print("loaded from the wheels:", *[os.path.relpath(p, site) for p in inside], sep="\n  ")
    print("loaded from the system:", *[p for p in libraries if p not in inside
                                         and interpreter not in pathlib.Path(p).resolve().parents], sep="\n  ")
    assert not outside, f"libraries loaded from outside the wheel: {outside}"
    if args.expect_heif == "yes":
        for name in ("libheif", "libde265", "libx265"):
            assert any(os.path.basename(p).startswith(name) for p in inside), f"{name} is not the wheel's"
    print("wheel check: passed")


if __name__ == "__main__":
    main()
