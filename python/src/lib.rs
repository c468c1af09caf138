//! `jndenc._jndenc`: the extension module behind the `jndenc` Python package.
//!
//! Thin by design: `jndenc.encode`'s keywords go one by one into the library's vocabulary
//! ([`Request::set`]: the names and checks of `docs/options.md`), which resolves them into settings,
//! then the same [`EncodePlan`] the `jndenc` binary runs encodes, so the bytes are the CLI's for the
//! same switches. The Python layer (`python/jndenc/__init__.py`) turns Pillow images and numpy arrays
//! into a buffer of 8-bit samples; this module reads it through the library's [`PixelView`] (the
//! buffer's own strides), releases the GIL and encodes. Library errors become one exception class per
//! kind, with the library's message (options spelled as keywords); warnings come back as text for
//! the Python layer to issue as [`JndencWarning`]s.

use std::sync::OnceLock;

use jnd_model::Accelerator;
use jndenc::pixels::{PixelLayout, PixelView, Strides};
use jndenc::report::{ImageReport, Report};
use jndenc::settings::{OPTIONS, Opt, Request, Value};
use jndenc::{DecodeOptions, EncodePlan, Image, Metadata, Models, Names};
use pyo3::buffer::PyBuffer;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyUserWarning};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyString};

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
    DeviceError,
    JndencError,
    "The device asked for is not compiled in or cannot run on this machine."
);
create_exception!(
    _jndenc,
    ImageError,
    JndencError,
    "Pixel data that does not form a picture (shape, dtype, channels, size)."
);
create_exception!(
    _jndenc,
    JndencWarning,
    PyUserWarning,
    "An option given has no effect in this mode (the command line's exit status 2)."
);

/// An option's Python spelling (its keyword of `jndenc.encode`).
fn keyword(option: Opt) -> String {
    option.info().python.map_or_else(|| option.name().to_string(), str::to_string)
}

/// The library's error as the exception of its kind (options spelled as keywords).
fn to_py(error: jndenc::Error) -> PyErr {
    use jndenc::Error as E;
    match error {
        E::Option(e) => ParameterError::new_err(e.describe(keyword)),
        E::UnknownFormat | E::EmptyInput | E::Decode { .. } => DecodeError::new_err(error.to_string()),
        E::Limits(_) => LimitsError::new_err(error.to_string()),
        E::Parameter(_) => ParameterError::new_err(error.to_string()),
        E::Unsupported(_) => UnsupportedError::new_err(error.to_string()),
        E::Encode { .. } | E::Io { .. } => EncodeError::new_err(error.to_string()),
        E::Device(_) => DeviceError::new_err(error.to_string()),
        E::Model(_) => ModelError::new_err(error.to_string()),
        E::Pixels(_) => ImageError::new_err(error.to_string()),
        _ => JndencError::new_err(error.to_string()),
    }
}

/// The models of this process on `device`: loaded on first use, shared by every call and thread.
fn models(device: Accelerator) -> PyResult<&'static Models> {
    static MODELS: [OnceLock<Models>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = &MODELS[Accelerator::ALL.iter().position(|&a| a == device).unwrap_or(0)];
    if let Some(models) = slot.get() {
        return Ok(models);
    }
    let models = Models::on(device).map_err(to_py)?;
    Ok(slot.get_or_init(|| models))
}

/// A Python value as the vocabulary's [`Value`] (text, whole number, number or flag).
fn value_of<'a>(object: &'a Bound<'_, PyAny>, text: &'a mut String) -> PyResult<Value<'a>> {
    if object.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(object.extract()?));
    }
    if object.is_instance_of::<PyInt>() {
        return Ok(Value::Int(object.extract()?));
    }
    if object.is_instance_of::<PyFloat>() {
        return Ok(Value::Float(object.extract()?));
    }
    if object.is_instance_of::<PyString>() {
        *text = object.extract()?;
        return Ok(Value::Text(text));
    }
    Err(ParameterError::new_err(format!(
        "expected text, a number or a flag, got {}",
        object.get_type().name()?
    )))
}

/// The request of `jndenc.encode`'s keywords: each keyword to its option, checked by the vocabulary.
fn request_of(options: &Bound<'_, PyDict>, visuals: bool) -> PyResult<Request> {
    let mut request = Request { visuals, measure_saving: true, ..Request::default() };
    for (key, value) in options.iter() {
        if value.is_none() {
            continue;
        }
        let name: String = key.extract()?;
        let option = OPTIONS
            .iter()
            .find(|info| info.python == Some(name.as_str()))
            .map(|info| info.opt)
            .ok_or_else(|| ParameterError::new_err(format!("unknown option {name:?}")))?;
        let mut text = String::new();
        let value = value_of(&value, &mut text)
            .map_err(|e| ParameterError::new_err(format!("{name}: {}", e.value(options.py()))))?;
        request.set(option, value).map_err(|e| to_py(e.into()))?;
    }
    Ok(request)
}

/// Runs the plan of `request` on the input with the GIL released; returns the output bytes, the
/// report as JSON and the warnings.
fn run(
    py: Python<'_>,
    request: &Request,
    input: Input,
    name: &str,
) -> PyResult<(Py<PyBytes>, String, Vec<String>)> {
    let resolved = request.resolve().map_err(to_py)?;
    let warnings = resolved.warnings.iter().map(|w| w.describe(keyword)).collect();
    let models = models(resolved.device)?;
    let settings = resolved.settings;
    let encoding = py
        .detach(|| {
            let plan = EncodePlan::new(settings, models)?;
            let names = Names { input: name, output: "-" };
            match input {
                Input::File(bytes) => plan.encode_file(&bytes, names),
                Input::Pixels(image) => plan.encode_pixels(image, names),
            }
        })
        .map_err(to_py)?;
    let report = serde_json::to_string(&encoding.report).map_err(|e| JndencError::new_err(e.to_string()))?;
    Ok((PyBytes::new(py, &encoding.bytes).unbind(), report, warnings))
}

enum Input {
    File(PyBackedBytes),
    Pixels(Image),
}

/// Copies a buffer of 8-bit samples into an [`Image`] through the library's checked [`PixelView`]:
/// borrowed with the buffer's own strides when none is negative, else copied to C order first. Four
/// channels lose their alpha, as with RGBA inputs on the command line.
fn pixels_image(
    py: Python<'_>,
    buffer: &Bound<'_, PyAny>,
    width: u32,
    height: u32,
    channels: u32,
    metadata: Metadata,
) -> PyResult<Image> {
    let layout = PixelLayout::from_channels(channels as usize).map_err(to_py)?;
    if width == 0 || height == 0 {
        return Err(ImageError::new_err(format!("the array is {height}x{width}: an empty picture")));
    }
    jndenc::Limits::default().check(width, height).map_err(to_py)?;
    let buffer = PyBuffer::<u8>::get(buffer)
        .map_err(|_| ImageError::new_err("the array's samples must be 8-bit unsigned (dtype uint8)"))?;
    let expected = u64::from(width) * u64::from(height) * u64::from(channels);
    if buffer.item_count() as u64 != expected {
        return Err(ImageError::new_err(format!(
            "the buffer holds {} samples; {height}x{width}x{channels} needs {expected}",
            buffer.item_count()
        )));
    }
    let strides = buffer.strides();
    let borrowed = match (buffer.dimensions(), strides) {
        (2, &[row, pixel]) if channels == 1 => Some((row, pixel, 1)),
        (3, &[row, pixel, sample]) => Some((row, pixel, sample)),
        _ => None,
    }
    .and_then(|(row, pixel, sample)| {
        Some(Strides {
            row: usize::try_from(row).ok()?,
            pixel: usize::try_from(pixel).ok()?,
            sample: usize::try_from(sample).ok()?,
        })
    });
    match borrowed {
        Some(strides) => {
            let span = PixelView::span(width, height, layout, strides).map_err(to_py)?;
            // SAFETY: the buffer protocol guarantees every element at `sum(index * stride)` for indices
            // within its shape is readable while `buffer` is held (it is, until this function returns,
            // and the GIL is held throughout); with no negative stride the last is at `span - 1`.
            let samples = unsafe { std::slice::from_raw_parts(buffer.buf_ptr().cast::<u8>(), span) };
            let view = PixelView::new(samples, width, height, layout, strides).map_err(to_py)?;
            view.to_image(metadata).map_err(to_py)
        }
        None => {
            let samples = buffer.to_vec(py)?;
            let row = width as usize * layout.channels();
            let view = PixelView::packed(&samples, width, height, row, layout).map_err(to_py)?;
            view.to_image(metadata).map_err(to_py)
        }
    }
}

/// Encodes an input file's bytes (any format jndenc reads) with `options` (the keywords of
/// `jndenc.encode`, in the vocabulary of `docs/options.md`): returns the output, the report (JSON) and
/// the warnings.
#[pyfunction]
#[pyo3(signature = (data, *, name, options, visuals))]
fn encode_file(
    py: Python<'_>,
    data: PyBackedBytes,
    name: &str,
    options: &Bound<'_, PyDict>,
    visuals: bool,
) -> PyResult<(Py<PyBytes>, String, Vec<String>)> {
    let request = request_of(options, visuals)?;
    run(py, &request, Input::File(data), name)
}

/// Encodes 8-bit pixels from a buffer (height x width x channels, C order or strided).
#[pyfunction]
#[pyo3(signature = (pixels, width, height, channels, *, icc, exif, name, options, visuals))]
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
    options: &Bound<'_, PyDict>,
    visuals: bool,
) -> PyResult<(Py<PyBytes>, String, Vec<String>)> {
    let request = request_of(options, visuals)?;
    let metadata = Metadata { icc: icc.filter(|p| !p.is_empty()), exif: exif.filter(|e| !e.is_empty()) };
    let image = pixels_image(py, pixels, width, height, channels, metadata)?;
    run(py, &request, Input::Pixels(image), name)
}

fn pixel_model(name: &str) -> PyResult<jnd_model::PixelJndModel> {
    let mut request = Request::default();
    request.set(Opt::PixelModel, Value::Text(name)).map_err(|e| to_py(e.into()))?;
    Ok(request.pixel_model.unwrap_or_default())
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

/// Runs the `jndenc` command line on `argv` (the program name first) with the GIL released, and
/// returns its exit status (0, 1, or 2 for success with warnings): `python -m jndenc` and the
/// `jndenc` script of the wheel are the same program as the binary.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<String>) -> u8 {
    let args: Vec<std::ffi::OsString> = argv.into_iter().map(Into::into).collect();
    py.detach(|| jndenc::cli::run(args))
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
    m.add_function(wrap_pyfunction!(main, m)?)?;
    m.add("HEIF", cfg!(feature = "heif"))?;
    let keywords: Vec<&str> = OPTIONS.iter().filter_map(|info| info.python).collect();
    m.add("OPTIONS", keywords)?;
    let py = m.py();
    m.add("JndencError", py.get_type::<JndencError>())?;
    m.add("DecodeError", py.get_type::<DecodeError>())?;
    m.add("LimitsError", py.get_type::<LimitsError>())?;
    m.add("ParameterError", py.get_type::<ParameterError>())?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("EncodeError", py.get_type::<EncodeError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("ImageError", py.get_type::<ImageError>())?;
    m.add("DeviceError", py.get_type::<DeviceError>())?;
    m.add("JndencWarning", py.get_type::<JndencWarning>())?;
    Ok(())
}
