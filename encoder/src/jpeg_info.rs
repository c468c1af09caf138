//! A small JPEG marker reader: what a JPEG file declares (frame type, size, components and their
//! sampling, quantisation tables, restart interval, scans, ICC profile and EXIF), without decoding
//! the entropy-coded data. Used to check jndenc's output and, later, to inspect JPEG inputs.

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
}

impl JpegInfo {
    /// True for a progressive (SOF2 or SOF10) frame.
    pub fn is_progressive(&self) -> bool {
        self.sof == 2 || self.sof == 10
    }
}

/// Most scans accepted in one JPEG file. Progressive files need about 10; thousands of scans make
/// decoding time grow with scans x pixels (zune-jpeg, our pixel decoder, stops at the same count;
/// libjpeg-turbo has `djpeg -maxscans` for the same reason). This is jndenc's decoding-time bound for JPEG input.
pub const MAX_SCANS: usize = 100;

fn bad(message: impl Into<String>) -> Error {
    Error::Decode { format: "JPEG", message: message.into() }
}

/// Reads the markers of a JPEG file up to EOI.
pub fn parse(bytes: &[u8]) -> Result<JpegInfo> {
    if bytes.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err(bad("no SOI marker"));
    }
    let mut info = JpegInfo::default();
    let mut icc_chunks: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut pos = 2;
    let mut saw_frame = false;
    loop {
        // Find the next marker, skipping fill bytes.
        while pos < bytes.len() && bytes[pos] != 0xFF {
            pos += 1;
        }
        while pos < bytes.len() && bytes[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return Err(bad("the file ends before EOI"));
        };
        pos += 1;
        match marker {
            0xD9 => break,
            0xD0..=0xD7 | 0x01 => continue,
            _ => {}
        }
        let len = bytes
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| bad("truncated marker length"))?;
        let body = bytes
            .get(pos + 2..pos + len)
            .filter(|_| len >= 2)
            .ok_or_else(|| bad(format!("marker 0x{marker:02X} runs past the end")))?;
        pos += len;
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
                // Skip entropy-coded data: up to the next marker that is not a stuffed 0xFF00 or RSTn.
                while pos + 1 < bytes.len() {
                    if bytes[pos] == 0xFF && !matches!(bytes[pos + 1], 0x00 | 0xD0..=0xD7 | 0xFF) {
                        break;
                    }
                    pos += 1;
                }
            }
            0xE0 if body.starts_with(b"JFIF\0") => info.jfif = true,
            0xE1 if body.starts_with(b"Exif\0\0") => info.exif = Some(body[6..].to_vec()),
            0xE2 if body.starts_with(b"ICC_PROFILE\0") && body.len() >= 14 => {
                icc_chunks.push((body[12], body[14..].to_vec()));
            }
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
