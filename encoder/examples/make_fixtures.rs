//! Regenerates the small test fixtures in `fixtures/` from the shared photo set.
//!
//! ```sh
//! cargo run -p encoder --example make_fixtures -- ../shared/data/photos/wikipedia fixtures
//! ```
//!
//! Deterministic: the same photos give byte-identical fixtures.

use std::io::Write;
use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage};
use jndenc::codec::{Codec, JpegOptions, MozJpeg};
use jndenc::{ColorType, Image};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn crop(path: &Path, x: u32, y: u32, w: u32, h: u32) -> Res<RgbImage> {
    let img = image::open(path)?.to_rgb8();
    Ok(image::imageops::crop_imm(&img, x, y, w, h).to_image())
}

/// A flat-colour graphic with hard edges, diagonal lines and a gradient bar.
fn graphic(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as i32, y as i32);
        if (xf - 40).pow(2) + (yf - 40).pow(2) < 28 * 28 {
            image::Rgb([220, 30, 40])
        } else if x > 90 && x < 150 && y > 20 && y < 70 {
            image::Rgb([20, 60, 200])
        } else if (xf + yf) % 16 < 2 {
            image::Rgb([10, 10, 10])
        } else if y > 90 {
            let v = (x * 255 / (w - 1)) as u8;
            image::Rgb([v, 255 - v, 128])
        } else {
            image::Rgb([250, 250, 245])
        }
    })
}

/// A minimal little-endian EXIF TIFF structure holding Orientation = `orientation` and a
/// Software string, so round trips can check both an integer and an ASCII tag.
fn exif_with_orientation(orientation: u16) -> Vec<u8> {
    let software = b"jndenc fixtures\0";
    let mut t = Vec::new();
    t.extend_from_slice(b"II*\0");
    t.extend_from_slice(&8u32.to_le_bytes()); // IFD0 offset
    t.extend_from_slice(&2u16.to_le_bytes()); // 2 entries
    // Orientation (0x0112), SHORT, count 1, value inline.
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&orientation.to_le_bytes());
    t.extend_from_slice(&0u16.to_le_bytes());
    // Software (0x0131), ASCII, at offset after the IFD.
    let data_offset = 8 + 2 + 2 * 12 + 4;
    t.extend_from_slice(&0x0131u16.to_le_bytes());
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&(software.len() as u32).to_le_bytes());
    t.extend_from_slice(&(data_offset as u32).to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    t.extend_from_slice(software);
    t
}

fn write_png(
    path: &Path,
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    icc: Option<&[u8]>,
) -> Res<()> {
    let file = std::fs::File::create(path)?;
    let mut info = png::Info::with_size(width, height);
    info.color_type = color;
    info.bit_depth = depth;
    if let Some(icc) = icc {
        info.icc_profile = Some(icc.to_vec().into());
    }
    let encoder = png::Encoder::with_info(std::io::BufWriter::new(file), info)?;
    let mut writer = encoder.write_header()?;
    writer.write_image_data(data)?;
    writer.finish()?;
    Ok(())
}

/// Binary PPM (P6) or PGM (P5), which cjpeg reads (the `image` crate's default is PAM).
fn write_pnm(path: &Path, img: &image::DynamicImage) -> Res<()> {
    use image::codecs::pnm::{PnmEncoder, PnmSubtype, SampleEncoding};
    let subtype = match img {
        image::DynamicImage::ImageLuma8(_) => PnmSubtype::Graymap(SampleEncoding::Binary),
        _ => PnmSubtype::Pixmap(SampleEncoding::Binary),
    };
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    img.write_with_encoder(PnmEncoder::new(file).with_subtype(subtype))?;
    Ok(())
}

fn main() -> Res<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [photos, out] = args.as_slice() else {
        return Err("usage: make_fixtures <photos dir> <fixtures dir>".into());
    };
    std::fs::create_dir_all(out)?;

    // photo: a 192x128 crop of 001.png (tiger fur and foliage: texture and edges).
    let photo = crop(&photos.join("001.png"), 540, 300, 192, 128)?;
    photo.save_with_format(out.join("photo.png"), ImageFormat::Png)?;
    write_pnm(&out.join("photo.ppm"), &image::DynamicImage::ImageRgb8(photo.clone()))?;
    photo.save_with_format(out.join("photo.bmp"), ImageFormat::Bmp)?;
    photo.save_with_format(out.join("photo.tga"), ImageFormat::Tga)?;

    // graphic: synthetic flat colours and hard edges, and the same as GIF.
    let g = graphic(160, 120);
    g.save_with_format(out.join("graphic.png"), ImageFormat::Png)?;
    g.save_with_format(out.join("graphic.gif"), ImageFormat::Gif)?;

    // gray: 128x96 luma of a crop of 010.png (a townscape).
    let town = crop(&photos.join("010.png"), 600, 380, 128, 96)?;
    let gray = image::DynamicImage::ImageRgb8(town).to_luma8();
    write_pnm(&out.join("gray.pgm"), &image::DynamicImage::ImageLuma8(gray))?;

    // photo16: 16-bit RGB PNG whose low bytes are not just copies of the high ones.
    let small = crop(&photos.join("001.png"), 700, 400, 64, 48)?;
    let mut data16 = Vec::with_capacity(small.len() * 2);
    for (i, &v) in small.as_raw().iter().enumerate() {
        let s = (u16::from(v) * 257) ^ ((i as u16).wrapping_mul(7919) & 0x7F);
        data16.extend_from_slice(&s.to_be_bytes());
    }
    write_png(&out.join("photo16.png"), 64, 48, png::ColorType::Rgb, png::BitDepth::Sixteen, &data16, None)?;

    // icc: the photo crop with the sRGB profile from icc-profiles-free (zlib licence) in iCCP.
    let icc = std::fs::read(out.join("srgb.icc"))?;
    let icc_crop = crop(&photos.join("001.png"), 300, 200, 96, 64)?;
    write_png(
        &out.join("icc.png"),
        96,
        64,
        png::ColorType::Rgb,
        png::BitDepth::Eight,
        icc_crop.as_raw(),
        Some(&icc),
    )?;

    // photo16.tif: the same crop as 16-bit RGB TIFF (each sample v * 257, so 8 bits give it back
    // exactly) with the sRGB profile; photo.webp: the crop as lossless WebP with the profile and an
    // EXIF block (Orientation = 1, Software).
    {
        use image::ImageEncoder;
        let samples: Vec<u8> =
            icc_crop.as_raw().iter().flat_map(|&v| (u16::from(v) * 257).to_ne_bytes()).collect();
        let mut tiff = image::codecs::tiff::TiffEncoder::new(std::io::BufWriter::new(std::fs::File::create(
            out.join("photo16.tif"),
        )?));
        tiff.set_icc_profile(icc.clone())?;
        tiff.write_image(&samples, 96, 64, image::ExtendedColorType::Rgb16)?;
        let mut webp = image::codecs::webp::WebPEncoder::new_lossless(std::io::BufWriter::new(
            std::fs::File::create(out.join("photo.webp"))?,
        ));
        webp.set_icc_profile(icc.clone())?;
        webp.set_exif_metadata(exif_with_orientation(1))?;
        webp.write_image(icc_crop.as_raw(), 96, 64, image::ExtendedColorType::Rgb8)?;
    }

    // exif-orientation: a JPEG carrying EXIF Orientation = 6 (rotate 90 CW to display).
    let exif_crop = crop(&photos.join("001.png"), 100, 100, 64, 96)?;
    let mut image = Image::new(64, 96, ColorType::Rgb, exif_crop.into_raw())?;
    image.metadata.exif = Some(exif_with_orientation(6));
    let jpeg = MozJpeg::new(JpegOptions::default()).encode(&image, 90)?;
    std::fs::File::create(out.join("exif-orientation.jpg"))?.write_all(&jpeg.bytes)?;
    println!("fixtures written to {}", out.display());
    Ok(())
}
