//! Writing results: atomically (a temporary file in the destination's folder, then a rename), and
//! never over the input file.

use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// True when `a` and `b` name the same existing file (by device and inode on Unix).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(ma), Ok(mb)) => ma.dev() == mb.dev() && ma.ino() == mb.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (a.canonicalize(), b.canonicalize()) {
            (Ok(ca), Ok(cb)) => ca == cb,
            _ => false,
        }
    }
}

/// Writes `bytes` to `destination` atomically: readers see the old file or the whole new one, never a
/// partial one, even if the process is killed mid-write. Refuses to replace `input`.
pub fn write_atomic(destination: &Path, bytes: &[u8], input: Option<&Path>) -> Result<()> {
    if let Some(input) = input
        && same_file(destination, input)
    {
        return Err(Error::Parameter(format!(
            "refusing to overwrite the input file {}",
            destination.display()
        )));
    }
    if destination.is_dir() {
        return Err(Error::io(
            destination,
            std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        ));
    }
    // A device, FIFO or socket (`-outfile /dev/null`, `/dev/stdout`, a named pipe) is written in
    // place, as cjpeg does: renaming over it would replace the device node with a regular file
    // (which root is allowed to do, and which breaks every program reading /dev/null afterwards).
    if let Ok(meta) = std::fs::metadata(destination)
        && !meta.is_file()
    {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(destination)
            .map_err(|e| Error::io(destination, e))?;
        return file.write_all(bytes).and_then(|()| file.flush()).map_err(|e| Error::io(destination, e));
    }
    // Through a symlink, replace the file it points to, not the link.
    let resolved;
    let destination = if std::fs::symlink_metadata(destination).is_ok_and(|m| m.file_type().is_symlink()) {
        resolved = std::fs::canonicalize(destination).map_err(|e| Error::io(destination, e))?;
        resolved.as_path()
    } else {
        destination
    };
    let folder = match destination.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".jndenc-")
        .suffix(".tmp")
        .tempfile_in(folder)
        .map_err(|e| Error::io(destination, e))?;
    temp.write_all(bytes).map_err(|e| Error::io(destination, e))?;
    temp.as_file().sync_all().map_err(|e| Error::io(destination, e))?;
    // tempfile creates files 0600; give the output the usual permissions (0644 less the umask).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = 0o666 & !current_umask();
        let _ = std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(mode));
    }
    temp.persist(destination).map_err(|e| Error::io(destination, e.error))?;
    Ok(())
}

#[cfg(unix)]
fn current_umask() -> u32 {
    // Reading the umask means setting it; read it once per process and restore it at once.
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        // SAFETY: umask is always safe to call; we put the old value back immediately.
        unsafe {
            let old = libc_umask(0o022);
            libc_umask(old);
            old
        }
    })
}

#[cfg(unix)]
unsafe extern "C" {
    #[link_name = "umask"]
    fn libc_umask(mask: u32) -> u32;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_file_and_refuses_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.png");
        std::fs::write(&input, b"input").unwrap();
        let out = dir.path().join("out.jpg");
        write_atomic(&out, b"hello", Some(&input)).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"hello");
        let err = write_atomic(&input, b"x", Some(&input)).unwrap_err();
        assert!(err.to_string().contains("overwrite the input"));
        assert_eq!(std::fs::read(&input).unwrap(), b"input");
        // No temporary files left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_written_in_place_and_symlinks_followed() {
        use std::os::unix::fs::FileTypeExt;
        // /dev/null stays a character device (a rename over it would make it a regular file).
        write_atomic(Path::new("/dev/null"), b"discarded", None).unwrap();
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
        // A symlink keeps pointing at the file, which gets the new bytes.
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.jpg");
        std::fs::write(&target, b"old").unwrap();
        let link = dir.path().join("link.jpg");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new", None).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn missing_folder_is_an_error_naming_the_path() {
        let err = write_atomic(Path::new("/nonexistent-dir/x/out.jpg"), b"x", None).unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir/x/out.jpg"), "{err}");
    }
}
