//! CIFAR-10 loaders: the ImageFolder layout (`train/<class>/NNNN.jpg`, `test/<class>/NNNN.jpg`) as a
//! `.tar.gz` or an extracted folder, and the standard binary batches (`data_batch_1.bin` ..
//! `data_batch_5.bin`, `test_batch.bin`: one label byte then 1,024 R, 1,024 G, 1,024 B bytes per record).
//!
//! Images are kept as planar 32x32 RGB bytes, the layout [`jnd_model::dmvjnd`] reads. Order is
//! deterministic: class folders in CIFAR's class order, files by name; binary batches in file order.

use std::io::Read;
use std::path::Path;

use jnd_model::dmvjnd::{CLASS_NAMES, IMAGE_BYTES, PIXELS, SIDE};
use rayon::prelude::*;

use crate::{Error, Result, format_error, io_error};

/// Bytes per record of the binary format.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;

/// Which half of CIFAR-10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The 50,000 training images.
    Train,
    /// The 10,000 test images.
    Test,
}

impl Part {
    fn folder(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Test => "test",
        }
    }

    fn batch_files(self) -> Vec<String> {
        match self {
            Self::Train => (1..=5).map(|i| format!("data_batch_{i}.bin")).collect(),
            Self::Test => vec!["test_batch.bin".to_string()],
        }
    }
}

/// A set of labelled 32x32 images.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CifarSet {
    /// Planar RGB bytes, [`IMAGE_BYTES`] per image.
    pub images: Vec<u8>,
    /// Class index (0..10) per image.
    pub labels: Vec<u8>,
}

impl CifarSet {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The planar bytes of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES]
    }

    /// Every `step`-th image from `start` (a deterministic subset).
    pub fn every(&self, start: usize, step: usize) -> CifarSet {
        let mut out = CifarSet::default();
        for i in (start..self.len()).step_by(step.max(1)) {
            out.images.extend_from_slice(self.image(i));
            out.labels.push(self.labels[i]);
        }
        out
    }

    /// Every image's content moved `shift` pixels right and down, the top rows and left columns
    /// repeating the first ones (the last `shift` rows and columns drop out). CIFAR-10's JPEG copies
    /// carry the 8x8 block grid of their q75 encoding; a shift of 1..=7 takes that grid off the one a
    /// re-encoding uses, so re-encoding at the source quality no longer returns the source.
    pub fn shifted(&self, shift: usize) -> CifarSet {
        let mut out = CifarSet { images: Vec::with_capacity(self.images.len()), labels: self.labels.clone() };
        for i in 0..self.len() {
            let image = self.image(i);
            for c in 0..3 {
                for y in 0..SIDE {
                    for x in 0..SIDE {
                        let (sx, sy) = (x.saturating_sub(shift), y.saturating_sub(shift));
                        out.images.push(image[c * PIXELS + sy * SIDE + sx]);
                    }
                }
            }
        }
        out
    }

    fn append(&mut self, other: CifarSet) {
        self.images.extend(other.images);
        self.labels.extend(other.labels);
    }
}

/// Loads one part of CIFAR-10 from `path`: a `.tar.gz` of the ImageFolder layout, an extracted
/// ImageFolder folder (holding `train/` and `test/`), a folder of binary batches (or one holding
/// `cifar-10-batches-bin/`), or a single binary batch file.
pub fn load(path: &Path, part: Part) -> Result<CifarSet> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if path.is_file() {
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            return load_tar_gz(path, part);
        }
        let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
        return parse_binary(&bytes, &path.display().to_string());
    }
    if !path.is_dir() {
        return Err(io_error(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        ));
    }
    if path.join(part.folder()).is_dir() {
        return load_image_folder(&path.join(part.folder()));
    }
    for dir in [path.to_path_buf(), path.join("cifar-10-batches-bin")] {
        let files = part.batch_files();
        if files.iter().all(|f| dir.join(f).is_file()) {
            let mut set = CifarSet::default();
            for file in files {
                let file = dir.join(file);
                let bytes = std::fs::read(&file).map_err(|e| io_error(&file, e))?;
                set.append(parse_binary(&bytes, &file.display().to_string())?);
            }
            return Ok(set);
        }
    }
    Err(Error::Insufficient(format!(
        "{}: neither a CIFAR-10 ImageFolder (with {}/<class>/) nor binary batches ({})",
        path.display(),
        part.folder(),
        part.batch_files().join(", ")
    )))
}

/// Parses binary-format records (label byte + planar RGB); `what` names the source in errors.
pub fn parse_binary(bytes: &[u8], what: &str) -> Result<CifarSet> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD_BYTES) {
        return Err(format_error(
            what,
            0,
            format!("{} bytes is not a whole number of {RECORD_BYTES}-byte CIFAR-10 records", bytes.len()),
        ));
    }
    let mut set = CifarSet::default();
    for (i, record) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        let label = record[0];
        if usize::from(label) >= CLASS_NAMES.len() {
            return Err(format_error(
                what,
                i + 1,
                format!("record {i}: label {label} is not a class (0..9)"),
            ));
        }
        set.labels.push(label);
        set.images.extend_from_slice(&record[1..]);
    }
    Ok(set)
}

/// Serialises a set in the binary format (for fixtures and for users who want the batches).
pub fn to_binary(set: &CifarSet) -> Vec<u8> {
    let mut out = Vec::with_capacity(set.len() * RECORD_BYTES);
    for i in 0..set.len() {
        out.push(set.labels[i]);
        out.extend_from_slice(set.image(i));
    }
    out
}

fn class_of(folder: &str) -> Option<u8> {
    CLASS_NAMES.iter().position(|&c| c == folder).and_then(|i| u8::try_from(i).ok())
}

/// Decodes one 32x32 image file (any format jndenc reads, with jndenc's decoder: the JPEG copies go
/// through libjpeg like every JPEG the encoder sees) to planar RGB.
pub fn decode_planar(bytes: &[u8], what: &str) -> Result<Vec<u8>> {
    let decoded = jndenc::decode::decode(bytes, &jndenc::DecodeOptions::default())
        .map_err(|e| format_error(what, 0, format!("not a decodable image: {e}")))?
        .to_rgb();
    if decoded.width() as usize != SIDE || decoded.height() as usize != SIDE {
        return Err(format_error(
            what,
            0,
            format!("{}x{} image; CIFAR-10 images are 32x32", decoded.width(), decoded.height()),
        ));
    }
    Ok(to_planar(&decoded))
}

/// A 32x32 RGB picture as planar RGB (the layout of CIFAR-10's binary batches and of the models'
/// input). Other sizes give a buffer of their own pixel count.
pub fn to_planar(image: &jnd_model::Image) -> Vec<u8> {
    let pixels = image.pixels().len() / 3;
    let mut planar = vec![0u8; pixels * 3];
    for (i, pixel) in image.pixels().chunks_exact(3).enumerate() {
        for c in 0..3 {
            planar[c * pixels + i] = pixel[c];
        }
    }
    planar
}

/// (class, file name, encoded bytes) of one image entry.
type Entry = (u8, String, Vec<u8>);

fn decode_entries(mut entries: Vec<Entry>) -> Result<CifarSet> {
    entries.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let decoded: Vec<Vec<u8>> =
        entries.par_iter().map(|(_, name, bytes)| decode_planar(bytes, name)).collect::<Result<_>>()?;
    let mut set = CifarSet::default();
    for ((class, _, _), planar) in entries.iter().zip(decoded) {
        set.labels.push(*class);
        set.images.extend(planar);
    }
    if set.is_empty() {
        return Err(Error::Insufficient("no CIFAR-10 images found".into()));
    }
    Ok(set)
}

fn load_image_folder(dir: &Path) -> Result<CifarSet> {
    let mut entries = Vec::new();
    for (class, name) in CLASS_NAMES.iter().enumerate() {
        let class_dir = dir.join(name);
        let listing = std::fs::read_dir(&class_dir).map_err(|e| io_error(&class_dir, e))?;
        for item in listing {
            let item = item.map_err(|e| io_error(&class_dir, e))?;
            let path = item.path();
            if path.is_file() {
                let bytes = std::fs::read(&path).map_err(|e| io_error(&path, e))?;
                entries.push((class as u8, path.display().to_string(), bytes));
            }
        }
    }
    decode_entries(entries)
}

fn load_tar_gz(path: &Path, part: Part) -> Result<CifarSet> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let mut entries = Vec::new();
    for entry in archive.entries().map_err(|e| io_error(path, e))? {
        let mut entry = entry.map_err(|e| io_error(path, e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(|e| io_error(path, e))?.to_string_lossy().into_owned();
        // `[prefix/]<part>/<class>/<file>`
        let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
        let [.., folder, class, _file] = parts.as_slice() else { continue };
        if *folder != part.folder() {
            continue;
        }
        let Some(class) = class_of(class) else { continue };
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(|e| io_error(path, e))?;
        entries.push((class, name, bytes));
    }
    decode_entries(entries)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn generated(n: usize) -> CifarSet {
        let mut set = CifarSet::default();
        for i in 0..n {
            set.labels.push((i % 10) as u8);
            set.images.extend((0..IMAGE_BYTES).map(|p| ((p * 7 + i * 13) % 256) as u8));
        }
        set
    }

    #[test]
    fn shifting_moves_content_and_repeats_the_edge() {
        let set = generated(2);
        assert_eq!(set.shifted(0), set);
        let shifted = set.shifted(3);
        assert_eq!(shifted.labels, set.labels);
        let (a, b) = (set.image(1), shifted.image(1));
        for c in 0..3 {
            let at = |img: &[u8], x: usize, y: usize| img[c * PIXELS + y * SIDE + x];
            assert_eq!(at(b, 10, 20), at(a, 7, 17));
            assert_eq!(at(b, 31, 31), at(a, 28, 28));
            assert_eq!(at(b, 0, 0), at(a, 0, 0));
            assert_eq!(at(b, 2, 9), at(a, 0, 6), "left columns repeat the first");
        }
    }

    #[test]
    fn binary_batches_round_trip_and_load_from_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        let train: Vec<CifarSet> = (0..5).map(|b| generated(3 + b)).collect();
        for (b, set) in train.iter().enumerate() {
            std::fs::write(dir.path().join(format!("data_batch_{}.bin", b + 1)), to_binary(set)).unwrap();
        }
        let test = generated(4);
        std::fs::write(dir.path().join("test_batch.bin"), to_binary(&test)).unwrap();

        let loaded = load(dir.path(), Part::Train).unwrap();
        assert_eq!(loaded.len(), 3 + 4 + 5 + 6 + 7);
        assert_eq!(loaded.image(0), train[0].image(0));
        assert_eq!(loaded.image(3), train[1].image(0));
        assert_eq!(load(dir.path(), Part::Test).unwrap(), test);
        // One record's planes: R first.
        let record = to_binary(&test);
        assert_eq!(record[0], 0);
        assert_eq!(&record[1..1 + PIXELS], &test.image(0)[..PIXELS]);
    }

    #[test]
    fn malformed_binary_records_are_refused_with_their_position() {
        let mut bytes = to_binary(&generated(2));
        let err = parse_binary(&bytes[..bytes.len() - 1], "cut.bin").unwrap_err().to_string();
        assert!(err.contains("not a whole number"), "{err}");
        bytes[RECORD_BYTES] = 10;
        let err = parse_binary(&bytes, "bad.bin").unwrap_err().to_string();
        assert!(err.contains("bad.bin:2") && err.contains("label 10"), "{err}");
    }

    #[test]
    fn image_folders_decode_to_planar_rgb_in_class_order() {
        let dir = tempfile::tempdir().unwrap();
        for (class, name) in [(1usize, "automobile"), (0, "airplane")] {
            let folder = dir.path().join("test").join(name);
            std::fs::create_dir_all(&folder).unwrap();
            let rgb = image::RgbImage::from_fn(32, 32, |x, y| {
                image::Rgb([x as u8 * 8, y as u8 * 8, class as u8 * 200])
            });
            rgb.save(folder.join("0000.png")).unwrap();
        }
        for name in CLASS_NAMES.iter().skip(2) {
            std::fs::create_dir_all(dir.path().join("test").join(name)).unwrap();
        }
        let set = load(dir.path(), Part::Test).unwrap();
        assert_eq!(set.labels, vec![0, 1]);
        let second = set.image(1);
        assert_eq!(second[5], 40); // R of (5, 0)
        assert_eq!(second[PIXELS + 32 * 3], 24); // G of (0, 3)
        assert_eq!(second[2 * PIXELS], 200); // B
    }
}
