//! ICC profile and EXIF of a TIFF input, read from its first directory. The profile is one tag
//! (34675). EXIF is tags of the image's own directory (Make, Model, Orientation, ...) plus an Exif
//! and a GPS sub-directory, so there is no block to copy as in JPEG, PNG or WebP: this module reads
//! those tags and writes them as a standalone EXIF structure (a small TIFF holding only metadata),
//! which is what the other formats carry. Values are copied as they are, in the file's byte order;
//! anything inconsistent gives no metadata rather than an error, since the picture itself is still
//! good.

/// Tags of the image directory that are metadata rather than the picture's layout.
const IFD0_TAGS: &[u16] = &[
    0x010E, // ImageDescription
    0x010F, // Make
    0x0110, // Model
    0x0112, // Orientation
    0x011A, // XResolution
    0x011B, // YResolution
    0x0128, // ResolutionUnit
    0x0131, // Software
    0x0132, // DateTime
    0x013B, // Artist
    0x8298, // Copyright
];
const ICC_PROFILE: u16 = 34675;
const EXIF_IFD: u16 = 0x8769;
const GPS_IFD: u16 = 0x8825;
/// Sub-directories of the Exif directory that are not copied (Interoperability).
const SKIPPED_POINTERS: &[u16] = &[0xA005];
/// The EXIF block must fit one JPEG APP1 segment.
const MAX_EXIF: usize = 65_000;
/// The largest value read (an ICC profile may be larger than an EXIF block).
const MAX_VALUE: usize = 16 << 20;
const MAX_ENTRIES: usize = 512;

#[derive(Clone, Copy)]
struct Reader<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

impl Reader<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    }
}

/// One directory entry: its tag, type, count and the raw bytes of its value.
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    value: Vec<u8>,
}

/// Bytes per value of a TIFF field type; `None` for types this module does not know.
fn type_size(kind: u16) -> Option<usize> {
    match kind {
        1 | 2 | 6 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 | 13 => Some(4),
        5 | 10 | 12 => Some(8),
        _ => None,
    }
}

/// The entries of the directory at `offset`.
fn directory(reader: Reader<'_>, offset: usize) -> Option<Vec<Entry>> {
    let count = usize::from(reader.u16(offset)?);
    if count > MAX_ENTRIES {
        return None;
    }
    let mut entries = Vec::with_capacity(count);
    for i in 0..count {
        let at = offset + 2 + 12 * i;
        let (tag, kind, n) = (reader.u16(at)?, reader.u16(at + 2)?, reader.u32(at + 4)?);
        let Some(size) = type_size(kind) else { continue };
        let len = size.checked_mul(n as usize)?;
        if len > MAX_VALUE {
            return None;
        }
        let start = if len <= 4 { at + 8 } else { reader.u32(at + 8)? as usize };
        let value = reader.bytes.get(start..start.checked_add(len)?)?.to_vec();
        entries.push(Entry { tag, kind, count: n, value });
    }
    Some(entries)
}

/// A directory's entries written after `base`: the directory, then the values too long to sit in
/// their entry; pointers to sub-directories get `pointers(tag)` when it says where they will be.
struct Writer {
    out: Vec<u8>,
    big_endian: bool,
}

impl Writer {
    fn put_u16(&mut self, at: usize, v: u16) {
        let b = if self.big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
        self.out[at..at + 2].copy_from_slice(&b);
    }

    fn put_u32(&mut self, at: usize, v: u32) {
        let b = if self.big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
        self.out[at..at + 4].copy_from_slice(&b);
    }

    /// Appends a directory of `entries` (sorted by tag, as TIFF requires); returns where each
    /// entry's value field is, by tag, so sub-directory pointers can be filled in later.
    fn directory(&mut self, entries: &[Entry]) -> Vec<(u16, usize)> {
        let start = self.out.len();
        let size = 2 + 12 * entries.len() + 4;
        self.out.resize(start + size, 0);
        self.put_u16(start, entries.len() as u16);
        let mut fields = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let at = start + 2 + 12 * i;
            self.put_u16(at, e.tag);
            self.put_u16(at + 2, e.kind);
            self.put_u32(at + 4, e.count);
            if e.value.len() <= 4 {
                self.out[at + 8..at + 8 + e.value.len()].copy_from_slice(&e.value);
            } else {
                if self.out.len() % 2 == 1 {
                    self.out.push(0);
                }
                let offset = self.out.len() as u32;
                self.out.extend_from_slice(&e.value);
                self.put_u32(at + 8, offset);
            }
            fields.push((e.tag, at + 8));
        }
        if self.out.len() % 2 == 1 {
            self.out.push(0);
        }
        fields
    }
}

/// The first directory of the TIFF file `bytes`, and how to read it.
fn first_directory(bytes: &[u8]) -> Option<(Reader<'_>, Vec<Entry>)> {
    let big_endian = match bytes.get(..4)? {
        [b'I', b'I', 42, 0] => false,
        [b'M', b'M', 0, 42] => true,
        _ => return None,
    };
    let reader = Reader { bytes, big_endian };
    let entries = directory(reader, reader.u32(4)? as usize)?;
    Some((reader, entries))
}

/// The ICC profile of the TIFF file `bytes` (its first image), or `None` when it has none.
pub(crate) fn icc(bytes: &[u8]) -> Option<Vec<u8>> {
    let (_, entries) = first_directory(bytes)?;
    entries
        .into_iter()
        .find(|e| e.tag == ICC_PROFILE && matches!(e.kind, 1 | 7))
        .map(|e| e.value)
        .filter(|v| !v.is_empty())
}

/// The EXIF of the TIFF file `bytes` (its first image), or `None` when it has none.
pub(crate) fn exif(bytes: &[u8]) -> Option<Vec<u8>> {
    let (reader, ifd0) = first_directory(bytes)?;
    let big_endian = reader.big_endian;
    let sub = |tag: u16| -> Option<Vec<Entry>> {
        let pointer = ifd0.iter().find(|e| e.tag == tag && e.value.len() == 4)?;
        let offset = Reader { bytes: &pointer.value, big_endian }.u32(0)? as usize;
        let mut entries = directory(reader, offset)?;
        entries.retain(|e| !SKIPPED_POINTERS.contains(&e.tag));
        Some(entries)
    };
    let (exif_ifd, gps_ifd) = (sub(EXIF_IFD), sub(GPS_IFD));
    let placeholder = |tag| Entry { tag, kind: 4, count: 1, value: vec![0; 4] };
    let mut top: Vec<Entry> = ifd0.into_iter().filter(|e| IFD0_TAGS.contains(&e.tag)).collect();
    if exif_ifd.is_some() {
        top.push(placeholder(EXIF_IFD));
    }
    if gps_ifd.is_some() {
        top.push(placeholder(GPS_IFD));
    }
    if top.is_empty() {
        return None;
    }
    top.sort_by_key(|e| e.tag);
    let mut writer = Writer { out: Vec::new(), big_endian };
    writer.out.extend_from_slice(if big_endian { b"MM\0*" } else { b"II*\0" });
    writer.out.resize(8, 0);
    writer.put_u32(4, 8);
    let fields = writer.directory(&top);
    for (tag, entries) in [(EXIF_IFD, exif_ifd), (GPS_IFD, gps_ifd)] {
        let Some(mut entries) = entries else { continue };
        entries.sort_by_key(|e| e.tag);
        let offset = writer.out.len() as u32;
        writer.directory(&entries);
        if let Some(&(_, at)) = fields.iter().find(|(t, _)| *t == tag) {
            writer.put_u32(at, offset);
        }
    }
    (writer.out.len() <= MAX_EXIF).then_some(writer.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little TIFF: width (layout, dropped), Orientation 6, Software, and an Exif directory with
    /// DateTimeOriginal; in either byte order.
    fn tiff(big_endian: bool) -> Vec<u8> {
        let mut w = Writer { out: Vec::new(), big_endian };
        w.out.extend_from_slice(if big_endian { b"MM\0*" } else { b"II*\0" });
        w.out.resize(8, 0);
        w.put_u32(4, 8);
        let short = |v: u16| if big_endian { v.to_be_bytes().to_vec() } else { v.to_le_bytes().to_vec() };
        let top = [
            Entry { tag: 0x0100, kind: 3, count: 1, value: short(64) },
            Entry { tag: 0x0112, kind: 3, count: 1, value: short(6) },
            Entry { tag: 0x0131, kind: 2, count: 12, value: b"jndenc test\0".to_vec() },
            Entry { tag: EXIF_IFD, kind: 4, count: 1, value: vec![0; 4] },
        ];
        let fields = w.directory(&top);
        let offset = w.out.len() as u32;
        w.directory(&[Entry { tag: 0x9003, kind: 2, count: 20, value: b"2026:12:02 10:00:00\0".to_vec() }]);
        w.put_u32(fields[3].1, offset);
        w.out
    }

    #[test]
    fn metadata_tags_and_the_exif_directory_are_kept_layout_is_dropped() {
        for big_endian in [false, true] {
            let exif = exif(&tiff(big_endian)).unwrap();
            let reader = Reader { bytes: &exif, big_endian };
            let top = directory(reader, reader.u32(4).unwrap() as usize).unwrap();
            let tags: Vec<u16> = top.iter().map(|e| e.tag).collect();
            assert_eq!(tags, [0x0112, 0x0131, EXIF_IFD], "width is layout, not metadata");
            assert_eq!(Reader { bytes: &top[0].value, big_endian }.u16(0), Some(6));
            assert_eq!(top[1].value, b"jndenc test\0");
            let sub = Reader { bytes: &top[2].value, big_endian }.u32(0).unwrap() as usize;
            let inner = directory(reader, sub).unwrap();
            assert_eq!(inner.len(), 1);
            assert_eq!(inner[0].value, b"2026:12:02 10:00:00\0");
            // What it writes reads back to itself.
            assert_eq!(super::exif(&exif).unwrap(), exif);
        }
    }

    #[test]
    fn the_profile_is_read_from_its_tag() {
        let mut w = Writer { out: Vec::new(), big_endian: false };
        w.out.extend_from_slice(b"II*\0");
        w.out.resize(8, 0);
        w.put_u32(4, 8);
        w.directory(&[Entry { tag: ICC_PROFILE, kind: 7, count: 6, value: b"icc...".to_vec() }]);
        assert_eq!(icc(&w.out).as_deref(), Some(&b"icc..."[..]));
        assert!(icc(&tiff(false)).is_none());
    }

    #[test]
    fn broken_directories_give_no_exif() {
        let good = tiff(false);
        assert!(exif(&good[..12]).is_none());
        let mut bad_offset = good.clone();
        bad_offset[4..8].copy_from_slice(&60_000u32.to_le_bytes());
        assert!(exif(&bad_offset).is_none());
        assert!(exif(b"II*\0\x08\0\0\0\0\0\0\0\0\0").is_none(), "an empty directory has nothing to carry");
    }
}
