//! The fixed split of the shared photo set (`../shared/data/photos/wikipedia/001.png` .. `049.png`):
//! validation is every photo whose number is 4 mod 5 (004, 009, ..., 049: 10 photos), training the
//! other 39. By file name, so it never depends on directory order.

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

/// The split of a photo by its file name (`NNN.png`); names without a number are training data.
pub fn split_of(file_name: &str) -> Split {
    let digits: String = file_name.chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<u32>() {
        Ok(n) if n % 5 == 4 => Split::Validation,
        _ => Split::Train,
    }
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
}
