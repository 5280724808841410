//! Barcode images for tests and benches, drawn by rxing's own encoders and
//! rendered in memory with the image crate. Shared by `tests/image_decode.rs`
//! and `benches/image_decode.rs` (included with `#[path]`).
#![allow(dead_code)]

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageFormat, Luma};
use rxing::common::BitMatrix;
use rxing::{BarcodeFormat, EncodeHintValue, EncodeHints, MultiFormatWriter, Writer};

pub const GS: char = '\u{1d}';
/// rxing's Code 128 writer takes this character for FNC1.
const FNC1_128: char = '\u{f1}';

/// The pharma pack: GTIN, expiry, lot, GS, serial.
pub const PHARMA: &str = "01095060001343521725123110ABC123\u{1d}21XYZ987";
/// The pharma pack data as a scanner sends it from a GS1 DataMatrix.
pub const PHARMA_FRAME: &[u8] = b"]d201095060001343521725123110ABC123\x1d21XYZ987";

/// The modules of a symbol, without quiet zone.
pub fn modules(contents: &str, format: BarcodeFormat, hints: EncodeHints) -> BitMatrix {
    let hints = hints.with(EncodeHintValue::Margin("0".to_owned()));
    MultiFormatWriter
        .encode_with_hints(contents, &format, 0, 0, &hints)
        .unwrap_or_else(|e| panic!("rxing cannot encode {contents:?} as {format:?}: {e}"))
}

/// GS1 DataMatrix of an element string with GS separators.
pub fn gs1_datamatrix(data: &str) -> BitMatrix {
    let hints = EncodeHints::default()
        .with(EncodeHintValue::Gs1Format(true))
        .with(EncodeHintValue::DataMatrixCompact(true));
    modules(data, BarcodeFormat::DATA_MATRIX, hints)
}

/// GS1-128 of an element string with GS separators.
pub fn gs1_128(data: &str) -> BitMatrix {
    let contents: String = std::iter::once(FNC1_128)
        .chain(data.chars().map(|c| if c == GS { FNC1_128 } else { c }))
        .collect();
    modules(&contents, BarcodeFormat::CODE_128, EncodeHints::default())
}

/// GS1 QR Code (FNC1 in first position) of an element string.
pub fn gs1_qr(data: &str) -> BitMatrix {
    let hints = EncodeHints::default().with(EncodeHintValue::Gs1Format(true));
    modules(data, BarcodeFormat::QR_CODE, hints)
}

pub fn plain(data: &str, format: BarcodeFormat) -> BitMatrix {
    modules(data, format, EncodeHints::default())
}

/// Black modules of `module` pixels on white, with a quiet zone of `quiet`
/// modules; a 1D symbol (one row) is drawn `bar_height` modules tall.
pub fn render(matrix: &BitMatrix, module: u32, quiet: u32, bar_height: u32) -> GrayImage {
    let (w, h) = (matrix.getWidth(), matrix.getHeight());
    let rows = if h == 1 { bar_height } else { h };
    let width = (w + 2 * quiet) * module;
    let height = (rows + 2 * quiet) * module;
    GrayImage::from_fn(width, height, |x, y| {
        let (mx, my) = (x / module, y / module);
        let inside = mx >= quiet && mx < quiet + w && my >= quiet && my < quiet + rows;
        let black = inside && matrix.get(mx - quiet, if h == 1 { 0 } else { my - quiet });
        Luma([if black { 0 } else { 255 }])
    })
}

/// A 2D symbol at `module` pixels a module with a 4-module quiet zone.
pub fn render_2d(matrix: &BitMatrix, module: u32) -> GrayImage {
    render(matrix, module, 4, 0)
}

/// A 1D symbol at `module` pixels a module, 10-module quiet zone, 50 tall.
pub fn render_1d(matrix: &BitMatrix, module: u32) -> GrayImage {
    render(matrix, module, 10, 50)
}

/// A white canvas with each image pasted at its position.
pub fn canvas(width: u32, height: u32, items: &[(&GrayImage, u32, u32)]) -> GrayImage {
    let mut out = GrayImage::from_pixel(width, height, Luma([255]));
    for (image, x, y) in items {
        image::imageops::replace(&mut out, *image, i64::from(*x), i64::from(*y));
    }
    out
}

/// A photo-like label: the symbol on a light grey page of `width`x`height`,
/// centred, with a soft gradient and noise of ±`noise` grey levels.
pub fn photo(symbol: &GrayImage, width: u32, height: u32, noise: u8, seed: u64) -> GrayImage {
    let x = (width - symbol.width()) / 2;
    let y = (height - symbol.height()) / 2;
    let mut out = canvas(width, height, &[(symbol, x, y)]);
    let mut rng = seed | 1;
    for (px, py, p) in out.enumerate_pixels_mut() {
        // Light falls off from top-left to bottom-right; ink is not pure black.
        let shade = (px + py) * 40 / (width + height);
        let base = if p[0] < 128 { 30 } else { 235 - shade as u8 };
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let jitter = if noise == 0 {
            0
        } else {
            (rng % (2 * u64::from(noise) + 1)) as i32 - i32::from(noise)
        };
        p[0] = (i32::from(base) + jitter).clamp(0, 255) as u8;
    }
    out
}

/// Salt-and-pepper and grey noise over `image`, deterministic per seed.
pub fn noisy(image: &GrayImage, amplitude: u8, seed: u64) -> GrayImage {
    let mut out = image.clone();
    let mut rng = seed | 1;
    for p in out.pixels_mut() {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let jitter = (rng % (2 * u64::from(amplitude) + 1)) as i32 - i32::from(amplitude);
        p[0] = (i32::from(p[0]) + jitter).clamp(0, 255) as u8;
    }
    out
}

pub fn png(image: &GrayImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .expect("encode PNG");
    out.into_inner()
}

pub fn jpeg(image: &GrayImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .expect("encode JPEG");
    out
}
