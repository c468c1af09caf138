//! The fixed splits of the shared photo sets, by file name, so they never depend on directory order:
//! - `../shared/data/photos/wikipedia/001.png` .. `049.png`: validation is every photo whose number is
//!   4 mod 5 (004, 009, ..., 049: 10 photos), training the other 39;
//! - `../shared/data/photos/cid22-512/` (201 images named by their CID22 number, 5 to 7 digits):
//!   validation is every image whose name's FNV-1a hash (64-bit, of the name without `.png`) is 0 mod
//!   5 (45 images), training the other 156. A hash rather than the number, because CID22's numbers
//!   end in 0 or 5 far more often than in other digits.

/// Which side of the split a photo is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// Used to fit and train.
    Train,
    /// Held out for every reported number.
    Validation,
}

impl Split {
    /// Lower-case name, as written in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
        }
    }
}

/// The split of a photo by its file name: `NNN.png` (three digits) by the number, any other name by
/// its hash (CID22's); see the module docs.
pub fn split_of(file_name: &str) -> Split {
    let stem = file_name.strip_suffix(".png").unwrap_or(file_name);
    if stem.len() == 3 && stem.bytes().all(|b| b.is_ascii_digit()) {
        return match stem.parse::<u32>() {
            Ok(n) if n % 5 == 4 => Split::Validation,
            _ => Split::Train,
        };
    }
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for b in stem.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    if hash.is_multiple_of(5) { Split::Validation } else { Split::Train }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_of_forty_nine_are_validation() {
        let names: Vec<String> = (1..=49).map(|n| format!("{n:03}.png")).collect();
        let validation: Vec<&String> = names.iter().filter(|n| split_of(n) == Split::Validation).collect();
        assert_eq!(validation.len(), 10);
        assert_eq!(validation[0], "004.png");
        assert_eq!(validation[9], "049.png");
    }

    #[test]
    fn cid22_names_split_by_hash() {
        // Five of the 45 validation images of the shared CID22-512 folder, and training neighbours.
        for name in ["1130683.png", "1200348.png", "1287145.png", "1370704.png", "1459534.png"] {
            assert_eq!(split_of(name), Split::Validation, "{name}");
        }
        for name in ["1001682.png", "1028637.png", "1029604.png", "106399.png"] {
            assert_eq!(split_of(name), Split::Train, "{name}");
        }
    }
}
