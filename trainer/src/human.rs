//! Real human JND data: loaders for MCL-JCI's subject matrix and KonJND-1k's
//! `subjective_ratings.csv`, and the picture-wise JND derived from them.
//!
//! - MCL-JCI (`jnd_first.csv` as distributed here): header `image,s01,...,s30`, one row per source
//!   image, each value the JPEG QF of that subject's first JND (the highest QF at which they still saw
//!   a difference from QF 100). The images themselves must be supplied by the user.
//! - KonJND-1k: `image_id, Compression type, No. of ratings, mean, std, ratings`, `ratings` a JSON
//!   list of per-subject JND points (quoted, since it contains commas); compression type `JPEG` or
//!   `BPG`.

use crate::{Result, format_error};

/// How to turn a subject distribution into one picture-wise JND.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PwJnd {
    /// The mean over subjects.
    Mean,
    /// The satisfied-user-ratio point: the quality above which the given fraction of subjects see no
    /// difference, i.e. that quantile of the subjects' JNDs (0.75 for SUR-75 %).
    Sur(f64),
}

/// The `p` quantile (0..=1) of `values`, linearly interpolated (R's type 7, numpy's default).
pub fn quantile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let h = (v.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (h - lo as f64)
}

fn reduce(values: &[f64], how: PwJnd) -> f64 {
    match how {
        PwJnd::Mean => values.iter().sum::<f64>() / values.len() as f64,
        PwJnd::Sur(p) => quantile(values, p),
    }
}

/// MCL-JCI's JND matrix: per image, every subject's JND quality.
#[derive(Debug, Clone, PartialEq)]
pub struct MclJci {
    /// `(image id, subject JND QFs)` in file order.
    pub images: Vec<(u32, Vec<f64>)>,
}

impl MclJci {
    /// Parses the CSV text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines.next().ok_or_else(|| format_error(file, 1, "empty file"))?;
        let columns: Vec<&str> = header.split(',').map(str::trim).collect();
        if columns.first() != Some(&"image") || columns.len() < 2 {
            return Err(format_error(file, 1, "expected a header 'image,s01,s02,...'"));
        }
        let subjects = columns.len() - 1;
        let mut images = Vec::new();
        for (i, line) in lines {
            let n = i + 1;
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != subjects + 1 {
                return Err(format_error(
                    file,
                    n,
                    format!("expected {} fields, found {}", subjects + 1, fields.len()),
                ));
            }
            let id = fields[0]
                .parse::<u32>()
                .map_err(|_| format_error(file, n, format!("image id '{}' is not a number", fields[0])))?;
            let qfs = fields[1..]
                .iter()
                .enumerate()
                .map(|(s, v)| {
                    v.parse::<f64>().ok().filter(|q| (0.0..=100.0).contains(q)).ok_or_else(|| {
                        format_error(
                            file,
                            n,
                            format!("subject {} QF '{v}' is not in 0..=100", columns[s + 1]),
                        )
                    })
                })
                .collect::<Result<Vec<f64>>>()?;
            images.push((id, qfs));
        }
        if images.is_empty() {
            return Err(format_error(file, 2, "no images"));
        }
        Ok(MclJci { images })
    }

    /// The picture-wise JND of every image, in file order.
    pub fn picture_jnd(&self, how: PwJnd) -> Vec<(u32, f64)> {
        self.images.iter().map(|(id, v)| (*id, reduce(v, how))).collect()
    }
}

/// One KonJND-1k row.
#[derive(Debug, Clone, PartialEq)]
pub struct KonJndRow {
    /// The image identifier.
    pub image_id: String,
    /// `JPEG` or `BPG`.
    pub compression: String,
    /// The published mean JND.
    pub mean: f64,
    /// The published standard deviation.
    pub std: f64,
    /// Every subject's JND point.
    pub ratings: Vec<f64>,
}

impl KonJndRow {
    /// The picture-wise JND: the published mean, or a SUR quantile of the ratings.
    pub fn picture_jnd(&self, how: PwJnd) -> f64 {
        match how {
            PwJnd::Mean => self.mean,
            PwJnd::Sur(_) => reduce(&self.ratings, how),
        }
    }
}

/// Splits one CSV line, honouring double quotes (RFC 4180, `""` inside quotes is a quote).
fn split_csv(line: &str) -> std::result::Result<Vec<String>, &'static str> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote");
    }
    fields.push(field);
    Ok(fields.into_iter().map(|f| f.trim().to_string()).collect())
}

/// Parses KonJND-1k's `subjective_ratings.csv`.
pub fn parse_konjnd(text: &str, file: &str) -> Result<Vec<KonJndRow>> {
    const HEADER: [&str; 6] = ["image_id", "Compression type", "No. of ratings", "mean", "std", "ratings"];
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| format_error(file, 1, "empty file"))?;
    let columns = split_csv(header).map_err(|e| format_error(file, 1, e))?;
    if columns != HEADER {
        return Err(format_error(file, 1, format!("expected the header '{}'", HEADER.join(", "))));
    }
    let mut rows = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        let f = split_csv(line).map_err(|e| format_error(file, n, e))?;
        if f.len() != 6 {
            return Err(format_error(file, n, format!("expected 6 fields, found {}", f.len())));
        }
        let number = |j: usize| {
            f[j].parse::<f64>()
                .map_err(|_| format_error(file, n, format!("{} '{}' is not a number", HEADER[j], f[j])))
        };
        let count = f[2]
            .parse::<usize>()
            .map_err(|_| format_error(file, n, format!("No. of ratings '{}' is not a count", f[2])))?;
        let ratings: Vec<f64> = serde_json::from_str(&f[5])
            .map_err(|e| format_error(file, n, format!("ratings are not a JSON list of numbers: {e}")))?;
        if ratings.len() != count {
            return Err(format_error(
                file,
                n,
                format!("No. of ratings says {count} but the list has {}", ratings.len()),
            ));
        }
        let compression = f[1].to_ascii_uppercase();
        if compression != "JPEG" && compression != "BPG" {
            return Err(format_error(file, n, format!("compression type '{}' is not JPEG or BPG", f[1])));
        }
        rows.push(KonJndRow {
            image_id: f[0].clone(),
            compression,
            mean: number(3)?,
            std: number(4)?,
            ratings,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [10.0, 20.0, 30.0, 40.0];
        assert_eq!(quantile(&v, 0.5), 25.0);
        assert_eq!(quantile(&v, 0.75), 32.5);
        assert_eq!(quantile(&v, 0.0), 10.0);
        assert_eq!(quantile(&v, 1.0), 40.0);
    }

    #[test]
    fn csv_split_handles_quoted_json() {
        let f = split_csv(r#"img1,JPEG,3,40.0,2.0,"[38, 40, 42]""#).unwrap();
        assert_eq!(f, ["img1", "JPEG", "3", "40.0", "2.0", "[38, 40, 42]"]);
        assert!(split_csv(r#"a,"unterminated"#).is_err());
    }
}
