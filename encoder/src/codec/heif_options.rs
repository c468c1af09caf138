//! HEIF encoding options (compiled with or without the `heif` feature, so settings can name them).

/// Chroma subsampling of the coded picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeifChroma {
    /// 4:2:0 (the default, as BPG and phones write it).
    #[default]
    C420,
    /// 4:4:4.
    C444,
}

impl HeifChroma {
    /// `4:2:0` or `4:4:4`.
    pub fn name(self) -> &'static str {
        match self {
            HeifChroma::C420 => "4:2:0",
            HeifChroma::C444 => "4:4:4",
        }
    }
}

/// HEIF encoding options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeifOptions {
    /// Chroma subsampling.
    pub chroma: HeifChroma,
    /// x265 preset (`ultrafast` .. `placebo`); `None` keeps libheif's default.
    pub preset: Option<String>,
    /// Write the image's ICC profile.
    pub keep_icc: bool,
    /// Write the image's EXIF.
    pub keep_exif: bool,
}

impl Default for HeifOptions {
    fn default() -> Self {
        HeifOptions { chroma: HeifChroma::C420, preset: None, keep_icc: true, keep_exif: true }
    }
}
