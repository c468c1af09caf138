//! `jndenc._jndenc`: the extension module behind the `jndenc` Python package.
//!
//! Thin by design: every call builds the library's [`Settings`] from a few typed arguments
//! ([`Request`]), then runs the same [`EncodePlan`] the `jndenc` binary runs, so the bytes are the
//! CLI's for the same switches. The Python layer (`python/jndenc/__init__.py`) turns Pillow images and
//! numpy arrays into a buffer of 8-bit samples; this module copies it (honouring strides), releases
//! the GIL and encodes. Library errors become one exception class per kind, with the library's
//! message (the text the CLI prints after `jndenc: `).

use std::sync::OnceLock;

use jndenc::auto::Target;
use jndenc::codec::OutputFormat;
use jndenc::plan::{BaseTables, DeciderKind, MapKind, MetadataPolicy, Mode, Models};
use jndenc::report::{ImageReport, Report};
use jndenc::{ColorType, DecodeOptions, EncodePlan, Image, Limits, Metadata, Settings};
use pyo3::buffer::PyBuffer;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;

create_exception!(
    _jndenc,
    JndencError,
    PyException,
    "Any error jndenc reports; the subclasses say which kind."
);
create_exception!(
    _jndenc,
    DecodeError,
    JndencError,
    "The input is empty, in no format jndenc reads, truncated or corrupt."
);
create_exception!(
    _jndenc,
    LimitsError,
    JndencError,
    "The picture is larger than a limit (dimensions, pixels, memory)."
);
create_exception!(
    _jndenc,
    ParameterError,
    JndencError,
    "An argument is out of range or inconsistent with the others."
);
create_exception!(_jndenc, UnsupportedError, JndencError, "Valid, but this codec or build cannot do it.");
create_exception!(_jndenc, EncodeError, JndencError, "The codec failed while encoding.");
create_exception!(_jndenc, ModelError, JndencError, "An embedded model could not be loaded or run.");
create_exception!(
    _jndenc,
    ImageError,
    JndencError,
    "Pixel data that does not form a picture (shape, dtype, channels, size)."
);

/// The library's error as the exception of its kind.
fn to_py(error: jndenc::Error) -> PyErr {
    use jndenc::Error as E;
    let message = error.to_string();
    match error {
        E::UnknownFormat | E::EmptyInput | E::Decode { .. } => DecodeError::new_err(message),
        E::Limits(_) => LimitsError::new_err(message),
        E::Parameter(_) => ParameterError::new_err(message),
        E::Unsupported(_) => UnsupportedError::new_err(message),
        E::Encode { .. } | E::Io { .. } => EncodeError::new_err(message),
        E::Model(_) => ModelError::new_err(message),
        E::Image(_) => ImageError::new_err(message),
        _ => JndencError::new_err(message),
    }
}

/// The models of this process: loaded on first use, shared by every call and thread, on the device
/// `JNDENC_DEVICE` names (the CPU by default), as the CLI does without `--device`.
fn models() -> PyResult<&'static Models> {
    static MODELS: OnceLock<Models> = OnceLock::new();
    if let Some(models) = MODELS.get() {
        return Ok(models);
    }
    let accelerator = jnd_model::Accelerator::from_env().map_err(|e| ModelError::new_err(e.to_string()))?;
    let models = Models::on(accelerator.unwrap_or_default()).map_err(to_py)?;
    Ok(MODELS.get_or_init(|| models))
}

/// What a Python call asks for, mapped to [`Settings`] once, as `jndenc`'s switches of the same names
/// are (`--format`, `--target`, `--distance`, `-quality`, `--strip`, `--decider`).
struct Request {
    format: OutputFormat,
    target: Option<String>,
    distance: Option<f64>,
    quality: Option<u32>,
    strip: String,
    decider: Option<String>,
    visuals: bool,
}

impl Request {
    fn settings(&self) -> PyResult<Settings> {
        let quality = match self.quality {
            Some(q) if q > 100 => {
                return Err(ParameterError::new_err(format!("quality {q} is outside 0..100")));
            }
            Some(q) => Some(q as u8),
            None => None,
        };
        let machine = self.target.as_deref() == Some("machine");
        if machine && self.distance.is_some() {
            return Err(ParameterError::new_err(
                "distance and target=\"machine\" name two operating points: give one",
            ));
        }
        if quality.is_some() && !machine && (self.target.is_some() || self.distance.is_some()) {
            return Err(ParameterError::new_err(
                "quality fixes the output; target and distance steer the search without it: give one",
            ));
        }
        if quality.is_some() && self.decider.is_some() {
            return Err(ParameterError::new_err("decider steers the search: it has no effect with quality"));
        }
        let target = match (self.target.as_deref(), self.distance) {
            (Some(name), Some(_)) if name != "machine" => {
                return Err(ParameterError::new_err(
                    "distance and target name two operating points: give one",
                ));
            }
            (_, Some(d)) => Target::distance(d).map_err(to_py)?,
            (None, None) => Target::default(),
            (Some(name), None) => match Target::from_name(name) {
                Some(target) => target,
                None if name == "machine" => Target::default(),
                None => {
                    return Err(ParameterError::new_err(format!(
                        "unknown target {name:?} (human-first-jnd, sur75, strict or machine)"
                    )));
                }
            },
        };
        let decider = match self.decider.as_deref() {
            None => DeciderKind::default(),
            Some("teacher") => DeciderKind::Teacher,
            Some("model") => DeciderKind::Model,
            Some(other) => {
                return Err(ParameterError::new_err(format!("unknown decider {other:?} (teacher or model)")));
            }
        };
        let mode = if machine {
            if self.decider.is_some() {
                return Err(ParameterError::new_err("decider has no effect with target=\"machine\""));
            }
            Mode::PerBlock {
                map: MapKind::Machine,
                strength: None,
                quality: quality.unwrap_or(75),
                tables: BaseTables::Machine,
            }
        } else if let Some(q) = quality {
            Mode::Fixed(q)
        } else {
            Mode::Auto { target, decider, min_quality: None, max_quality: None, block: 3, prior: true }
        };
        let (keep_icc, keep_exif) = match self.strip.as_str() {
            "none" => (true, true),
            "icc" => (false, true),
            "exif" => (true, false),
            "all" => (false, false),
            other => {
                return Err(ParameterError::new_err(format!(
                    "unknown strip {other:?} (none, icc, exif or all)"
                )));
            }
        };
        Ok(Settings {
            format: Some(self.format),
            mode,
            metadata: MetadataPolicy { keep_icc, keep_exif, icc: None },
            // As the CLI with --report: the report's saving needs the size at the top quality.
            measure_saving: true,
            visuals: self.visuals,
            marker: self.strip != "all",
            ..Settings::default()
        })
    }
}

fn output_format(name: &str) -> PyResult<OutputFormat> {
    match name {
        "jpeg" | "jpg" => Ok(OutputFormat::Jpeg),
        "heif" | "heic" => Ok(OutputFormat::Heif),
        other => Err(ParameterError::new_err(format!("unknown format {other:?} (jpeg or heif)"))),
    }
}

/// Runs the plan on `image` (or on the input file `source`) with the GIL released; returns the
/// output bytes and the report as JSON.
fn run(py: Python<'_>, request: &Request, input: Input, name: &str) -> PyResult<(Py<PyBytes>, String)> {
    let settings = request.settings()?;
    let models = models()?;
    let encoding = py
        .detach(|| {
            let plan = EncodePlan::new(settings, models)?;
            let mut encoding = match input {
                Input::File(bytes) => plan.encode_file(&bytes, name)?,
                Input::Pixels(image) => plan.encode(&plan.apply_metadata(image), None, name)?,
            };
            encoding.report.output = "-".into();
            Ok::<_, jndenc::Error>(encoding)
        })
        .map_err(to_py)?;
    let report = serde_json::to_string(&encoding.report).map_err(|e| JndencError::new_err(e.to_string()))?;
    Ok((PyBytes::new(py, &encoding.bytes).unbind(), report))
}

enum Input {
    File(PyBackedBytes),
    Pixels(Image),
}

/// Copies a buffer of 8-bit samples (any strides) into an [`Image`], checking its shape against the
/// library's limits first. Four channels lose their alpha, as with RGBA inputs on the command line.
fn pixels_image(
    py: Python<'_>,
    buffer: &Bound<'_, PyAny>,
    width: u32,
    height: u32,
    channels: u32,
    metadata: Metadata,
) -> PyResult<Image> {
    if width == 0 || height == 0 {
        return Err(ImageError::new_err(format!("the array is {height}x{width}: a picture needs pixels")));
    }
    if !matches!(channels, 1 | 3 | 4) {
        return Err(ImageError::new_err(format!(
            "the array has {channels} channels: jndenc reads gray (H x W or H x W x 1), RGB (H x W x 3) or RGBA (H x W x 4)"
        )));
    }
    Limits::default().check(width, height).map_err(to_py)?;
    let buffer = PyBuffer::<u8>::get(buffer)
        .map_err(|_| ImageError::new_err("the array's samples must be 8-bit unsigned (dtype uint8)"))?;
    let expected = u64::from(width) * u64::from(height) * u64::from(channels);
    if buffer.item_count() as u64 != expected {
        return Err(ImageError::new_err(format!(
            "the buffer holds {} samples; {height}x{width}x{channels} needs {expected}",
            buffer.item_count()
        )));
    }
    let samples = buffer.to_vec(py)?;
    let (color, pixels) = match channels {
        1 => (ColorType::Gray, samples),
        3 => (ColorType::Rgb, samples),
        _ => (ColorType::Rgb, samples.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect()),
    };
    let mut image = Image::new(width, height, color, pixels).map_err(|e| to_py(e.into()))?;
    image.metadata = metadata;
    Ok(image)
}

/// Encodes an input file's bytes (any format jndenc reads): returns the output and the report (JSON).
#[pyfunction]
#[pyo3(signature = (data, *, name, format, target, distance, quality, strip, decider, visuals))]
#[allow(clippy::too_many_arguments)]
fn encode_file(
    py: Python<'_>,
    data: PyBackedBytes,
    name: &str,
    format: &str,
    target: Option<String>,
    distance: Option<f64>,
    quality: Option<u32>,
    strip: String,
    decider: Option<String>,
    visuals: bool,
) -> PyResult<(Py<PyBytes>, String)> {
    let request =
        Request { format: output_format(format)?, target, distance, quality, strip, decider, visuals };
    run(py, &request, Input::File(data), name)
}

/// Encodes 8-bit pixels from a buffer (height x width x channels, C order or strided).
#[pyfunction]
#[pyo3(signature = (pixels, width, height, channels, *, icc, exif, name, format, target, distance, quality, strip, decider, visuals))]
#[allow(clippy::too_many_arguments)]
fn encode_pixels(
    py: Python<'_>,
    pixels: &Bound<'_, PyAny>,
    width: u32,
    height: u32,
    channels: u32,
    icc: Option<Vec<u8>>,
    exif: Option<Vec<u8>>,
    name: &str,
    format: &str,
    target: Option<String>,
    distance: Option<f64>,
    quality: Option<u32>,
    strip: String,
    decider: Option<String>,
    visuals: bool,
) -> PyResult<(Py<PyBytes>, String)> {
    let request =
        Request { format: output_format(format)?, target, distance, quality, strip, decider, visuals };
    let metadata = Metadata { icc: icc.filter(|p| !p.is_empty()), exif: exif.filter(|e| !e.is_empty()) };
    let image = pixels_image(py, pixels, width, height, channels, metadata)?;
    run(py, &request, Input::Pixels(image), name)
}

fn pixel_model(name: &str) -> PyResult<jnd_model::PixelJndModel> {
    match name {
        "wu2017" => Ok(jnd_model::PixelJndModel::Wu2017),
        "yang2005" => Ok(jnd_model::PixelJndModel::Yang2005),
        other => Err(ParameterError::new_err(format!("unknown JND model {other:?} (wu2017 or yang2005)"))),
    }
}

/// The pixel-wise JND map of an image (`jndenc --jnd-map`'s values, in luma code values per pixel):
/// returns width, height and the map as little-endian f32 bytes, row by row.
fn map_of(py: Python<'_>, image: Image, model: jnd_model::PixelJndModel) -> (u32, u32, Py<PyBytes>) {
    let map = py.detach(|| model.compute(&image));
    let bytes: Vec<u8> = map.values().iter().flat_map(|v| v.to_le_bytes()).collect();
    (map.width(), map.height(), PyBytes::new(py, &bytes).unbind())
}

/// The JND map of an input file's bytes.
#[pyfunction]
#[pyo3(signature = (data, *, model))]
fn jnd_map_file(py: Python<'_>, data: PyBackedBytes, model: &str) -> PyResult<(u32, u32, Py<PyBytes>)> {
    let model = pixel_model(model)?;
    let image = py.detach(|| jndenc::decode::decode(&data, &DecodeOptions::default())).map_err(to_py)?;
    Ok(map_of(py, image, model))
}

/// The JND map of 8-bit pixels from a buffer.
#[pyfunction]
#[pyo3(signature = (pixels, width, height, channels, *, model))]
fn jnd_map_pixels(
    py: Python<'_>,
    pixels: &Bound<'_, PyAny>,
    width: u32,
    height: u32,
    channels: u32,
    model: &str,
) -> PyResult<(u32, u32, Py<PyBytes>)> {
    let model = pixel_model(model)?;
    let image = pixels_image(py, pixels, width, height, channels, Metadata::default())?;
    Ok(map_of(py, image, model))
}

/// A batch report from per-image reports (JSON, as `encode` returns them) and failures
/// (`(input, message)`), with the CLI's totals, as `json`, `csv` or `html` text.
#[pyfunction]
#[pyo3(signature = (images, failures, *, kind))]
fn batch_report(images: Vec<String>, failures: Vec<(String, String)>, kind: &str) -> PyResult<String> {
    let images: Vec<ImageReport> = images
        .iter()
        .map(|text| serde_json::from_str(text))
        .collect::<Result<_, _>>()
        .map_err(|e| ParameterError::new_err(format!("not an image report: {e}")))?;
    let report = Report::new(images, failures);
    match kind {
        "json" => Ok(report.to_json()),
        "csv" => Ok(report.to_csv()),
        "html" => Ok(report.to_html()),
        other => Err(ParameterError::new_err(format!("unknown report kind {other:?} (json, csv or html)"))),
    }
}

/// The extension module.
#[pymodule]
fn _jndenc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", jndenc::VERSION)?;
    m.add("IMAGE_EXTENSIONS", jndenc::batch::IMAGE_EXTENSIONS.to_vec())?;
    m.add_function(wrap_pyfunction!(encode_file, m)?)?;
    m.add_function(wrap_pyfunction!(encode_pixels, m)?)?;
    m.add_function(wrap_pyfunction!(jnd_map_file, m)?)?;
    m.add_function(wrap_pyfunction!(jnd_map_pixels, m)?)?;
    m.add_function(wrap_pyfunction!(batch_report, m)?)?;
    let py = m.py();
    m.add("JndencError", py.get_type::<JndencError>())?;
    m.add("DecodeError", py.get_type::<DecodeError>())?;
    m.add("LimitsError", py.get_type::<LimitsError>())?;
    m.add("ParameterError", py.get_type::<ParameterError>())?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("EncodeError", py.get_type::<EncodeError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("ImageError", py.get_type::<ImageError>())?;
    Ok(())
}
