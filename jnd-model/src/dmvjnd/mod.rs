//! DMV-JND: how much each pixel may change before machine classifiers change their decision
//! (Jin et al., "Just Noticeable Difference for Deep Machine Vision").
//!
//! Four CIFAR-10 classifiers ([`CamClassifiers`]) each give a class activation map (CAM) of their
//! predicted class; the maps are merged by averaging ([`merge_cams`]); the encoder-decoder
//! [`DmvJndNet`] reads the image with its merged CAM and emits the signed DMV-JND image. The distorted
//! image `x + jnd` is meant to be classified as `x` by all four.
//!
//! Images are batches of 32x32 RGB in planar order (all R, then G, then B per image, as in CIFAR's
//! binary format), normalised the paper's way by [`normalize`].

pub mod classifiers;
mod net;
pub mod sensitivity;

pub use classifiers::{CamClassifiers, ClassifierKind, ClassifierOutput, FEATURE_SIDE};
pub use net::{DmvJndNet, JND_LIMIT};
pub use sensitivity::{ClassifierGradients, Objective, PixelGradients, Plane};

use burn::tensor::{Device, Tensor, TensorData};

use crate::weights::{load, save};

use crate::pixel_jnd::JndMap;
use crate::{ColorType, Error, Image, Result};

/// Side of the classifiers' input, in pixels.
pub const SIDE: usize = 32;
/// Pixels per image.
pub const PIXELS: usize = SIDE * SIDE;
/// Bytes per planar RGB image.
pub const IMAGE_BYTES: usize = 3 * PIXELS;
/// Number of classes.
pub const CLASSES: usize = 10;
/// CIFAR-10's classes in their standard order.
pub const CLASS_NAMES: [&str; CLASSES] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/// The embedded classifier weights (burnpack; see `weights/DMVJND-MODEL-CARD.md`).
pub static EMBEDDED_CLASSIFIERS: &[u8] = include_bytes!("../../weights/dmvjnd-classifiers.bpk");
/// The embedded DMV-JND-NET weights (burnpack; see `weights/DMVJND-MODEL-CARD.md`).
pub static EMBEDDED_NET: &[u8] = include_bytes!("../../weights/dmvjnd-net.bpk");

/// The machine quantisation tables as a cjpeg `-qtables` file (luma, then chroma, natural order): the
/// steps per DCT frequency the four classifiers are equally sensitive to (`jnd-train machine-tables`;
/// see `weights/DMVJND-MODEL-CARD.md`).
pub static MACHINE_QTABLES: &str = include_str!("../../weights/machine-qtables.txt");

/// Images per forward pass when analysing large batches.
const CHUNK: usize = 500;

/// The paper's normalisation, `(v / 255 - 0.5) / 0.5`: 8-bit samples to [-1, 1].
pub fn normalize(v: u8) -> f32 {
    f32::from(v) / 127.5 - 1.0
}

/// The inverse of [`normalize`], rounded and clamped to 8 bits.
pub fn denormalize(v: f32) -> u8 {
    ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8
}

/// Planar 32x32 RGB images as a normalised `[n, 3, 32, 32]` tensor.
pub fn images_tensor(planar: &[u8], device: &Device) -> Result<Tensor<4>> {
    if planar.is_empty() || !planar.len().is_multiple_of(IMAGE_BYTES) {
        return Err(Error::InvalidImage(format!(
            "{} bytes is not a whole number of 32x32 RGB images ({IMAGE_BYTES} bytes each)",
            planar.len()
        )));
    }
    let n = planar.len() / IMAGE_BYTES;
    let values: Vec<f32> = planar.iter().map(|&v| normalize(v)).collect();
    Ok(Tensor::from_data(TensorData::new(values, [n, 3, SIDE, SIDE]), device))
}

/// Bilinear upsampling of an 8x8 map to 32x32 (half-pixel centres, edges clamped).
pub fn upsample_cam(cam: &[f32]) -> Vec<f32> {
    let scale = (SIDE / FEATURE_SIDE) as f32;
    let last = FEATURE_SIDE as f32 - 1.0;
    let coordinate = |d: usize| ((d as f32 + 0.5) / scale - 0.5).clamp(0.0, last);
    let mut out = Vec::with_capacity(PIXELS);
    for y in 0..SIDE {
        let sy = coordinate(y);
        let (y0, fy) = (sy.floor() as usize, sy.fract());
        let y1 = (y0 + 1).min(FEATURE_SIDE - 1);
        for x in 0..SIDE {
            let sx = coordinate(x);
            let (x0, fx) = (sx.floor() as usize, sx.fract());
            let x1 = (x0 + 1).min(FEATURE_SIDE - 1);
            let at = |yy: usize, xx: usize| cam[yy * FEATURE_SIDE + xx];
            let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
            let bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    out
}

/// Class activation maps of each image's predicted class: the head's weights for that class applied
/// to the final feature map, min-max normalised to [0, 1] and upsampled to 32x32 (a flat map, which
/// says nothing about where the classifier looks, becomes all ones: no pixel is called redundant).
/// Returns the predicted classes and `n * 1024` values.
pub fn class_activation_maps(
    classifiers: &CamClassifiers,
    kind: ClassifierKind,
    output: &ClassifierOutput,
) -> Result<(Vec<usize>, Vec<f32>)> {
    let [n, c, h, w] = output.features.dims();
    let features = to_vec(output.features.clone().into_data())?;
    let logits = to_vec(output.logits.clone().into_data())?;
    let weights = to_vec(classifiers.head_weights(kind).into_data())?;
    let mut predicted = Vec::with_capacity(n);
    let mut cams = Vec::with_capacity(n * PIXELS);
    for i in 0..n {
        let class = argmax(&logits[i * CLASSES..(i + 1) * CLASSES]);
        predicted.push(class);
        let mut raw = vec![0.0f32; h * w];
        for ch in 0..c {
            let weight = weights[ch * CLASSES + class];
            let plane = &features[(i * c + ch) * h * w..(i * c + ch + 1) * h * w];
            for (r, &f) in raw.iter_mut().zip(plane) {
                *r += weight * f;
            }
        }
        let lo = raw.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = raw.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let range = hi - lo;
        let normalised: Vec<f32> = if range > 1e-12 && range.is_finite() {
            raw.iter().map(|&r| (r - lo) / range).collect()
        } else {
            vec![1.0; h * w]
        };
        cams.extend(upsample_cam(&normalised));
    }
    Ok((predicted, cams))
}

/// The paper's merging operation: the pixel-wise mean of the classifiers' CAMs.
pub fn merge_cams(cams: &[Vec<f32>]) -> Vec<f32> {
    let Some(first) = cams.first() else { return Vec::new() };
    let scale = 1.0 / cams.len() as f32;
    (0..first.len()).map(|i| cams.iter().map(|cam| cam[i]).sum::<f32>() * scale).collect()
}

/// The index of the largest value (the first on ties).
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best })
        .0
}

fn to_vec(data: TensorData) -> Result<Vec<f32>> {
    data.convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::Model(format!("reading a tensor: {e:?}")))
}

/// What the four classifiers say about a batch of images.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Predicted class per classifier ([`ClassifierKind::ALL`] order), per image.
    pub labels: [Vec<usize>; 4],
    /// Each classifier's CAM of its predicted class, `n * 1024` values in [0, 1].
    pub cams: [Vec<f32>; 4],
    /// The merged CAM, `n * 1024` values in [0, 1].
    pub merged_cam: Vec<f32>,
}

/// The whole DMV-JND model: the four CAM classifiers and the encoder-decoder.
#[derive(Debug, Clone)]
pub struct DmvJnd {
    classifiers: CamClassifiers,
    net: DmvJndNet,
    device: Device,
}

impl DmvJnd {
    /// The embedded classifiers and network on `device`.
    pub fn embedded(device: &Device) -> Result<Self> {
        Self::from_bytes(EMBEDDED_CLASSIFIERS, EMBEDDED_NET, device)
    }

    /// Classifiers and network from burnpack bytes (as written by [`DmvJnd::classifiers_to_bytes`] and
    /// [`DmvJnd::net_to_bytes`]).
    pub fn from_bytes(classifiers: &[u8], net: &[u8], device: &Device) -> Result<Self> {
        Ok(Self {
            classifiers: Self::load_classifiers(classifiers, device)?,
            net: load(DmvJndNet::new(device), net, "DMV-JND-NET")?,
            device: device.clone(),
        })
    }

    /// Loads only the classifiers' weights; the encoder-decoder stays freshly initialised (for
    /// training it).
    pub fn with_classifiers(classifiers: &[u8], device: &Device) -> Result<Self> {
        Ok(Self {
            classifiers: Self::load_classifiers(classifiers, device)?,
            net: DmvJndNet::new(device),
            device: device.clone(),
        })
    }

    /// Wraps modules (e.g. ones being trained).
    pub fn from_parts(classifiers: CamClassifiers, net: DmvJndNet, device: &Device) -> Self {
        Self { classifiers, net, device: device.clone() }
    }

    /// Loads classifier weights into freshly initialised classifiers of whichever width
    /// ([`classifiers::WIDTHS`]) they fit.
    pub fn load_classifiers(bytes: &[u8], device: &Device) -> Result<CamClassifiers> {
        let mut first_error = None;
        for k in classifiers::WIDTHS {
            match load(CamClassifiers::with_width(k, device), bytes, "CAM classifier") {
                Ok(model) => return Ok(model),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| Error::Model("no classifier width".into())))
    }

    /// Loads DMV-JND-NET weights alone (e.g. to continue training them).
    pub fn load_net(bytes: &[u8], device: &Device) -> Result<DmvJndNet> {
        load(DmvJndNet::new(device), bytes, "DMV-JND-NET")
    }

    /// The classifiers.
    pub fn classifiers(&self) -> &CamClassifiers {
        &self.classifiers
    }

    /// The encoder-decoder.
    pub fn net(&self) -> &DmvJndNet {
        &self.net
    }

    /// The device it runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The classifiers' weights as burnpack bytes.
    pub fn classifiers_to_bytes(&self) -> Result<Vec<u8>> {
        save(&self.classifiers, "CAM classifiers")
    }

    /// The encoder-decoder's weights as burnpack bytes.
    pub fn net_to_bytes(&self) -> Result<Vec<u8>> {
        save(&self.net, "DMV-JND-NET")
    }

    /// Labels and CAMs of planar 32x32 images.
    pub fn analyse(&self, planar: &[u8]) -> Result<Analysis> {
        let mut labels: [Vec<usize>; 4] = Default::default();
        let mut cams: [Vec<f32>; 4] = Default::default();
        for chunk in planar.chunks(CHUNK * IMAGE_BYTES) {
            let images = images_tensor(chunk, &self.device)?;
            for (k, kind) in ClassifierKind::ALL.into_iter().enumerate() {
                let output = self.classifiers.forward(kind, images.clone());
                let (predicted, maps) = class_activation_maps(&self.classifiers, kind, &output)?;
                labels[k].extend(predicted);
                cams[k].extend(maps);
            }
        }
        let merged_cam = merge_cams(&cams);
        Ok(Analysis { labels, cams, merged_cam })
    }

    /// Predicted classes of each classifier for planar 32x32 images.
    pub fn classify(&self, planar: &[u8]) -> Result<[Vec<usize>; 4]> {
        let mut labels: [Vec<usize>; 4] = Default::default();
        for chunk in planar.chunks(CHUNK * IMAGE_BYTES) {
            let images = images_tensor(chunk, &self.device)?;
            for (k, kind) in ClassifierKind::ALL.into_iter().enumerate() {
                let logits = to_vec(self.classifiers.forward(kind, images.clone()).logits.into_data())?;
                labels[k].extend(logits.chunks(CLASSES).map(argmax));
            }
        }
        Ok(labels)
    }

    /// The signed DMV-JND of planar 32x32 images given their merged CAMs, in normalised units
    /// (multiply by 127.5 for 8-bit levels), planar like the input.
    pub fn jnd(&self, planar: &[u8], merged_cam: &[f32]) -> Result<Vec<f32>> {
        let n = planar.len() / IMAGE_BYTES;
        if merged_cam.len() != n * PIXELS {
            return Err(Error::Mismatch(format!("{} CAM values for {n} images", merged_cam.len())));
        }
        let mut out = Vec::with_capacity(planar.len());
        for (chunk, cam) in planar.chunks(CHUNK * IMAGE_BYTES).zip(merged_cam.chunks(CHUNK * PIXELS)) {
            let images = images_tensor(chunk, &self.device)?;
            let m = cam.len() / PIXELS;
            let cam = Tensor::from_data(TensorData::new(cam.to_vec(), [m, 1, SIDE, SIDE]), &self.device);
            out.extend(to_vec(self.net.forward(images, cam).into_data())?);
        }
        Ok(out)
    }

    /// The DMV-JND map of a picture of any size, in 8-bit code values per pixel: the picture is cut
    /// into 32x32 tiles (the classifiers' input size; edges replicated), each tile gets its merged CAM and
    /// DMV-JND, and a pixel's value is the mean magnitude of its three channels' DMV-JND. Grey pictures
    /// are read as RGB with equal channels.
    pub fn machine_jnd_map(&self, image: &Image) -> Result<JndMap> {
        let [map] = self.tiled_maps(image, None, |r, g, b| [(r.abs() + g.abs() + b.abs()) / 3.0 * 127.5])?;
        Ok(map)
    }

    /// The DMV-JND of a picture split into JPEG's components: the signed RGB DMV-JND of each pixel
    /// (tiled as in [`DmvJnd::machine_jnd_map`]) taken through JFIF's RGB-to-YCbCr matrix, giving the
    /// change each of Y, Cb and Cr may take. Luma is `|dY|`, chroma the mean of `|dCb|` and `|dCr|`,
    /// in 8-bit code values.
    pub fn machine_jnd_components(&self, image: &Image) -> Result<ComponentJnd> {
        self.components(image, None)
    }

    /// [`DmvJnd::machine_jnd_components`] from the merged CAM of the picture's tiles computed elsewhere
    /// (`n * 1024` values, the tiles in [`DmvJnd::machine_jnd_map`]'s order), as
    /// [`ClassifierGradients::picture_with_cam`] gives it alongside the gradients: the classifiers
    /// then run once for both.
    pub fn machine_jnd_components_from_cam(&self, image: &Image, merged_cam: &[f32]) -> Result<ComponentJnd> {
        self.components(image, Some(merged_cam))
    }

    fn components(&self, image: &Image, merged_cam: Option<&[f32]>) -> Result<ComponentJnd> {
        let [luma, chroma] = self.tiled_maps(image, merged_cam, |r, g, b| {
            let (luma, chroma) = ycbcr_jnd(r, g, b);
            [luma, chroma]
        })?;
        Ok(ComponentJnd { luma, chroma })
    }

    /// Tiles `image`, runs the DMV-JND on every tile (the classifiers too unless the tiles' merged CAM
    /// is given) and maps each pixel's signed RGB JND (normalised units) to `N` values.
    fn tiled_maps<const N: usize>(
        &self,
        image: &Image,
        merged_cam: Option<&[f32]>,
        per_pixel: impl Fn(f32, f32, f32) -> [f32; N],
    ) -> Result<[JndMap; N]> {
        let (width, height) = (image.width() as usize, image.height() as usize);
        let Tiles { planar, columns: tiles_x, rows: tiles_y } = tile_picture(image);
        let jnd = match merged_cam {
            Some(cam) => self.jnd(&planar, cam)?,
            None => self.jnd(&planar, &self.analyse(&planar)?.merged_cam)?,
        };
        let mut values: [Vec<f32>; N] = std::array::from_fn(|_| vec![0.0f32; width * height]);
        for ty in 0..tiles_y {
            for tx in 0..tiles_x {
                let tile = &jnd[(ty * tiles_x + tx) * IMAGE_BYTES..(ty * tiles_x + tx + 1) * IMAGE_BYTES];
                for y in 0..SIDE.min(height - ty * SIDE) {
                    for x in 0..SIDE.min(width - tx * SIDE) {
                        let i = y * SIDE + x;
                        let out = per_pixel(tile[i], tile[PIXELS + i], tile[2 * PIXELS + i]);
                        for (plane, value) in values.iter_mut().zip(out) {
                            plane[(ty * SIDE + y) * width + tx * SIDE + x] = value;
                        }
                    }
                }
            }
        }
        let maps: Vec<JndMap> = values
            .into_iter()
            .map(|v| JndMap::new(image.width(), image.height(), v))
            .collect::<Result<_>>()?;
        maps.try_into().map_err(|_| Error::Model("DMV-JND map count".into()))
    }

    /// The DMV-JND-distorted images: `x + jnd * scale`, rounded and clamped to 8 bits (planar).
    pub fn distort(planar: &[u8], jnd: &[f32], scale: f32) -> Vec<u8> {
        planar.iter().zip(jnd).map(|(&v, &j)| denormalize(normalize(v) + j * scale)).collect()
    }
}

/// A picture cut into the classifiers' 32x32 tiles.
struct Tiles {
    /// Planar RGB tiles, row by row.
    planar: Vec<u8>,
    /// Tiles per row.
    columns: usize,
    /// Rows of tiles.
    rows: usize,
}

/// Cuts `image` into 32x32 tiles, row by row; the last row and column repeat the picture's edge, and
/// grey pictures are read as RGB with equal channels.
fn tile_picture(image: &Image) -> Tiles {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let (columns, rows) = (width.div_ceil(SIDE), height.div_ceil(SIDE));
    let channels = match image.color() {
        ColorType::Rgb => 3,
        ColorType::Gray => 1,
    };
    let pixels = image.pixels();
    let mut planar = Vec::with_capacity(columns * rows * IMAGE_BYTES);
    for ty in 0..rows {
        for tx in 0..columns {
            for c in 0..3 {
                for y in 0..SIDE {
                    let sy = (ty * SIDE + y).min(height - 1);
                    for x in 0..SIDE {
                        let sx = (tx * SIDE + x).min(width - 1);
                        planar.push(pixels[(sy * width + sx) * channels + c.min(channels - 1)]);
                    }
                }
            }
        }
    }
    Tiles { planar, columns, rows }
}

/// The DMV-JND of a picture per JPEG component, in 8-bit code values per pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentJnd {
    /// How much Y may change.
    pub luma: JndMap,
    /// How much Cb and Cr may change (mean of the two magnitudes).
    pub chroma: JndMap,
}

/// A signed RGB JND (normalised units: 1 = 127.5 levels) as the magnitudes of the Y change and the mean
/// Cb/Cr change it makes through JFIF's matrix, in 8-bit code values.
pub fn ycbcr_jnd(r: f32, g: f32, b: f32) -> (f32, f32) {
    let [y, cb, cr] = crate::image::ycbcr(r, g, b);
    (y.abs() * 127.5, (cb.abs() + cr.abs()) / 2.0 * 127.5)
}
