//! A small JPEG marker reader: what a JPEG file declares (frame type, size, components and their
//! sampling, quantisation tables, restart interval, scans, ICC profile and EXIF), without decoding
//! the entropy-coded data), the marker walk under it ([`segments`]), and a metadata rewriter
//! ([`rewrite_metadata`]). Used on inputs (limits, colour, restart markers), on outputs in tests, and to
//! keep an input JPEG's bytes with the metadata asked for.

use crate::{Error, Result};

/// Natural (row-major) index of each zigzag position.
pub const ZIGZAG_TO_NATURAL: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
    14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39,
    46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// One frame component as declared in the SOF marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    /// Component identifier.
    pub id: u8,
    /// Horizontal sampling factor.
    pub h: u8,
    /// Vertical sampling factor.
    pub v: u8,
    /// Quantisation table slot.
    pub table: u8,
}

/// What a JPEG file declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JpegInfo {
    /// The SOF marker's low nibble: 0 baseline, 1 extended sequential, 2 progressive, 9/10 arithmetic.
    pub sof: u8,
    /// Sample precision in bits.
    pub precision: u8,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Components in frame order.
    pub components: Vec<Component>,
    /// Quantisation tables by slot, in natural order (the last definition of each slot).
    pub quant_tables: [Option<[u16; 64]>; 4],
    /// Restart interval in MCUs from the DRI marker, if any non-zero one was written.
    pub restart_interval: Option<u16>,
    /// Number of SOS markers (scans).
    pub scans: usize,
    /// Whether a JFIF APP0 marker is present.
    pub jfif: bool,
    /// The ICC profile reassembled from its APP2 chunks.
    pub icc: Option<Vec<u8>>,
    /// The EXIF TIFF structure from APP1 (without `Exif\0\0`).
    pub exif: Option<Vec<u8>>,
    /// Whether an Adobe APP14 marker is present (CMYK is then stored inverted).
    pub adobe: bool,
    /// The payloads of the COM (comment) segments, in file order.
    pub comments: Vec<Vec<u8>>,
}

/// How jndenc's own marker (a COM segment) begins.
pub const MARKER_PREFIX: &str = "jndenc/";

impl JpegInfo {
    /// jndenc's marker, when a COM segment carries one (the file was written by jndenc).
    pub fn jndenc_marker(&self) -> Option<String> {
        self.comments
            .iter()
            .find(|c| c.starts_with(MARKER_PREFIX.as_bytes()))
            .map(|c| String::from_utf8_lossy(c).into_owned())
    }

    /// True for a progressive (SOF2 or SOF10) frame.
    pub fn is_progressive(&self) -> bool {
        self.sof == 2 || self.sof == 10
    }
}

/// Most scans accepted in one JPEG file. Progressive files need about 10; thousands of scans make
/// decoding time grow with scans x pixels (libjpeg-turbo has `djpeg -maxscans` for the same reason;
/// libjpeg, jndenc's JPEG decoder, has no such bound of its own). This is jndenc's decoding-time bound for JPEG input.
pub const MAX_SCANS: usize = 100;

fn bad(message: impl Into<String>) -> Error {
    Error::Decode { format: "JPEG", message: message.into() }
}

/// One marker segment of a JPEG file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// The marker code (the byte after `0xFF`).
    pub marker: u8,
    /// Offset of the marker's `0xFF` in the file (fill bytes before it excluded).
    pub start: usize,
    /// The payload after the length field (empty for markers without one: RSTn, TEM, EOI).
    pub body: &'a [u8],
    /// For SOS: the entropy-coded data that follows the header, up to the next marker that is neither
    /// a stuffed `0xFF00` nor RSTn. Empty otherwise.
    pub entropy: &'a [u8],
    /// Offset just past this segment (and its entropy-coded data).
    pub end: usize,
}

/// Walks a JPEG file's marker segments from SOI to EOI (EOI included), the one marker walk of the
/// crate: [`parse`], [`entropy_coded_bytes`] and [`rewrite_metadata`] use it. Yields an error and
/// stops when the structure is broken (no SOI, a length past the end, the end before EOI).
pub fn segments(bytes: &[u8]) -> impl Iterator<Item = Result<Segment<'_>>> {
    let mut pos = 2;
    let mut state = if bytes.get(..2) == Some(&[0xFF, 0xD8]) { 0 } else { 2 };
    std::iter::from_fn(move || {
        match state {
            2 => {
                state = 1;
                return Some(Err(bad("no SOI marker")));
            }
            1 => return None,
            _ => {}
        }
        let mut fail = |message: String| {
            state = 1;
            Some(Err(bad(message)))
        };
        // Find the next marker, skipping fill bytes.
        while pos < bytes.len() && bytes[pos] != 0xFF {
            pos += 1;
        }
        let start = pos;
        while pos < bytes.len() && bytes[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return fail("the file ends before EOI".into());
        };
        pos += 1;
        if matches!(marker, 0xD9 | 0xD0..=0xD7 | 0x01) {
            if marker == 0xD9 {
                state = 1;
            }
            return Some(Ok(Segment { marker, start, body: &[], entropy: &[], end: pos }));
        }
        let Some(len) = bytes.get(pos..pos + 2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]]))) else {
            return fail("truncated marker length".into());
        };
        let Some(body) = bytes.get(pos + 2..pos + len).filter(|_| len >= 2) else {
            return fail(format!("marker 0x{marker:02X} runs past the end"));
        };
        pos += len;
        let mut entropy: &[u8] = &[];
        if marker == 0xDA {
            // Skip entropy-coded data: up to the next marker that is not a stuffed 0xFF00 or RSTn.
            let data_start = pos;
            while pos + 1 < bytes.len() {
                if bytes[pos] == 0xFF && !matches!(bytes[pos + 1], 0x00 | 0xD0..=0xD7 | 0xFF) {
                    break;
                }
                pos += 1;
            }
            entropy = &bytes[data_start..pos];
        }
        Some(Ok(Segment { marker, start, body, entropy, end: pos }))
    })
}

/// Reads the markers of a JPEG file up to EOI.
pub fn parse(bytes: &[u8]) -> Result<JpegInfo> {
    let mut info = JpegInfo::default();
    let mut icc_chunks: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut saw_frame = false;
    for segment in segments(bytes) {
        let Segment { marker, body, .. } = segment?;
        match marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                if body.len() < 6 {
                    return Err(bad("short SOF"));
                }
                info.sof = marker - 0xC0;
                info.precision = body[0];
                info.height = u16::from_be_bytes([body[1], body[2]]);
                info.width = u16::from_be_bytes([body[3], body[4]]);
                let n = usize::from(body[5]);
                let comps = body.get(6..6 + 3 * n).ok_or_else(|| bad("short SOF"))?;
                info.components = comps
                    .chunks_exact(3)
                    .map(|c| Component { id: c[0], h: c[1] >> 4, v: c[1] & 15, table: c[2] })
                    .collect();
                saw_frame = true;
            }
            0xDB => {
                let mut rest = body;
                while let Some((&pq_tq, tail)) = rest.split_first() {
                    let (precision16, slot) = (pq_tq >> 4 == 1, usize::from(pq_tq & 15));
                    let size = if precision16 { 128 } else { 64 };
                    let data = tail.get(..size).ok_or_else(|| bad("short DQT"))?;
                    if slot > 3 {
                        return Err(bad(format!("DQT slot {slot}")));
                    }
                    let mut table = [0u16; 64];
                    for (k, &natural) in ZIGZAG_TO_NATURAL.iter().enumerate() {
                        table[natural] = if precision16 {
                            u16::from_be_bytes([data[2 * k], data[2 * k + 1]])
                        } else {
                            u16::from(data[k])
                        };
                    }
                    info.quant_tables[slot] = Some(table);
                    rest = &tail[size..];
                }
            }
            0xDD => {
                let interval = body.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])).unwrap_or(0);
                info.restart_interval = (interval > 0).then_some(interval);
            }
            0xDA => {
                info.scans += 1;
                if info.scans > MAX_SCANS {
                    return Err(bad(format!("more than {MAX_SCANS} scans (a decoding-time bomb)")));
                }
            }
            0xE0 if body.starts_with(b"JFIF\0") => info.jfif = true,
            0xE1 if body.starts_with(b"Exif\0\0") => info.exif = Some(body[6..].to_vec()),
            0xE2 if body.starts_with(ICC_SIGNATURE) && body.len() >= 14 => {
                icc_chunks.push((body[12], body[14..].to_vec()));
            }
            0xEE if body.starts_with(b"Adobe") => info.adobe = true,
            0xFE => info.comments.push(body.to_vec()),
            _ => {}
        }
    }
    if !saw_frame {
        return Err(bad("no SOF marker"));
    }
    if !icc_chunks.is_empty() {
        icc_chunks.sort_by_key(|(seq, _)| *seq);
        info.icc = Some(icc_chunks.into_iter().flat_map(|(_, d)| d).collect());
    }
    Ok(info)
}

/// Bytes of entropy-coded data in a JPEG file (what the rate of a coding scheme is measured in):
/// the sum over scans of the data after each SOS header. A broken file counts up to the break.
pub fn entropy_coded_bytes(jpeg: &[u8]) -> usize {
    segments(jpeg).map_while(|s| s.ok()).map(|s| s.entropy.len()).sum()
}

const ICC_SIGNATURE: &[u8] = b"ICC_PROFILE\0";

/// What [`rewrite_metadata`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataEdit<'a> {
    /// Keep the file's EXIF (APP1 `Exif`) segments.
    pub keep_exif: bool,
    /// Keep the file's ICC profile (APP2 `ICC_PROFILE`) segments.
    pub keep_icc: bool,
    /// A profile to write instead of the file's (implies dropping the file's).
    pub icc: Option<&'a [u8]>,
}

/// The same JPEG with its EXIF and ICC segments kept, dropped or the profile replaced, every other
/// byte untouched (the entropy-coded data is copied, never decoded). Used when jndenc keeps an input
/// JPEG rather than re-encode it, so `--strip` and `-icc` hold for the copy too.
pub fn rewrite_metadata(bytes: &[u8], edit: &MetadataEdit<'_>) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() + edit.icc.map_or(0, <[u8]>::len) + 64);
    out.extend_from_slice(&bytes[..2]);
    let mut icc_written = edit.icc.is_none();
    for segment in segments(bytes) {
        let segment = segment?;
        let drop = match segment.marker {
            0xE1 => !edit.keep_exif && segment.body.starts_with(b"Exif\0\0"),
            0xE2 => (!edit.keep_icc || edit.icc.is_some()) && segment.body.starts_with(ICC_SIGNATURE),
            _ => false,
        };
        // A replacement profile goes before the first segment that is not APP0/APP1 (JFIF, EXIF).
        if !icc_written && !matches!(segment.marker, 0xE0 | 0xE1) {
            if let Some(icc) = edit.icc {
                write_icc_segments(&mut out, icc)?;
            }
            icc_written = true;
        }
        if !drop {
            out.extend_from_slice(&bytes[segment.start..segment.end]);
        }
    }
    Ok(out)
}

/// The same JPEG with a COM segment holding `text` after the leading APPn segments (JFIF, EXIF, ICC),
/// every other byte untouched. Text longer than one segment is refused.
pub fn insert_comment(bytes: &[u8], text: &str) -> Result<Vec<u8>> {
    if text.len() > 65_533 {
        return Err(Error::Parameter(format!(
            "a comment of {} bytes does not fit one COM segment",
            text.len()
        )));
    }
    let mut out = Vec::with_capacity(bytes.len() + text.len() + 4);
    out.extend_from_slice(bytes.get(..2).ok_or_else(|| bad("no SOI marker"))?);
    let mut written = false;
    for segment in segments(bytes) {
        let segment = segment?;
        if !written && !(0xE0..=0xEF).contains(&segment.marker) {
            out.extend_from_slice(&[0xFF, 0xFE]);
            out.extend_from_slice(&((text.len() + 2) as u16).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
            written = true;
        }
        out.extend_from_slice(&bytes[segment.start..segment.end]);
    }
    Ok(out)
}

/// Appends `icc` as APP2 `ICC_PROFILE` chunks (at most 65,519 bytes each, numbered from 1).
fn write_icc_segments(out: &mut Vec<u8>, icc: &[u8]) -> Result<()> {
    const CHUNK: usize = 65_533 - 14;
    let chunks: Vec<&[u8]> = icc.chunks(CHUNK).collect();
    if chunks.len() > 255 {
        return Err(Error::Parameter(format!("an ICC profile of {} bytes does not fit in JPEG", icc.len())));
    }
    for (i, chunk) in chunks.iter().enumerate() {
        out.extend_from_slice(&[0xFF, 0xE2]);
        out.extend_from_slice(&((chunk.len() + 16) as u16).to_be_bytes());
        out.extend_from_slice(ICC_SIGNATURE);
        out.extend_from_slice(&[(i + 1) as u8, chunks.len() as u8]);
        out.extend_from_slice(chunk);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_is_a_permutation() {
        let mut seen = [false; 64];
        for &n in &ZIGZAG_TO_NATURAL {
            seen[n] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn rejects_non_jpeg_and_truncated() {
        assert!(parse(b"PNG").is_err());
        assert!(parse(&[0xFF, 0xD8, 0xFF, 0xDB, 0x00]).is_err());
    }
}
