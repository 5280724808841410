//! Barcodes in photos: a PNG or JPEG in, the frames a scanner would have
//! sent out (AIM symbology identifier + data, GS as FNC1), ready for
//! `gs1::parse_scan`.
//!
//! Pure CPU work on bytes: no I/O, no global state, so the daemon can call
//! [`decode`] from a blocking thread for each uploaded photo. Time and memory
//! are bounded by [`Limits`] (bytes, pixels, and the size at which the
//! reader works), and a panic inside the image decoder or the barcode reader
//! becomes an [`ImageError`] instead of taking the caller down.
//!
//! Barcodes are read by rxing (a port of ZXing). What it returns is turned
//! into the scanner's form here:
//! - the symbology identifier is rxing's `SYMBOLOGY_IDENTIFIER` metadata;
//! - Code 128 is read with rxing's GS1 mode, so FNC1 survives: rxing then
//!   writes `]C1` at the start of the text itself (dropped here, the
//!   identifier is already in front) and GS for every later FNC1;
//! - GS1 DataBar comes back as a bare 14-digit GTIN (omnidirectional) or in
//!   bracketed form `(01)...(10)...` (expanded): both become `]e0` + the
//!   unbracketed element string, GS after each variable-length value;
//! - UPC-A comes back as 12 digits: a scanner sends it as EAN-13 with a
//!   leading zero under `]E0`, and so does this module.
//!
//! DataMatrix and QR Code already give FNC1 as GS (0x1D) and `]d2`/`]Q3`.
//!
//! Scan knows nothing of GS1 (`scan/mod.rs`): the one GS1 fact DataBar
//! Expanded needs, which AIs end with a separator, comes from the caller as
//! a [`SeparatorFollows`].

use std::collections::HashSet;
use std::fmt;
use std::io::Cursor;
use std::panic::{self, AssertUnwindSafe};

use ::image::{DynamicImage, GrayImage, ImageFormat, ImageReader};
use rxing::common::HybridBinarizer;
use rxing::multi::{GenericMultipleBarcodeReader, MultipleBarcodeReader};
use rxing::{
    BarcodeFormat, BinaryBitmap, DecodeHints, Luma8Source, MultiUseMultiFormatReader, RXingResult,
    RXingResultMetadataType, RXingResultMetadataValue,
};
use serde::Serialize;

/// ASCII group separator: how scanners send FNC1 inside the data.
const GS: u8 = 0x1D;

/// Whether FNC1 (GS) ends the value of the AI `ai` when another element
/// follows it. The caller passes the GS1 dictionary's answer
/// (`gs1::dictionary::separator_follows`); it is asked only to rebuild GS1
/// DataBar Expanded frames from rxing's bracketed text.
pub type SeparatorFollows = fn(ai: &[u8]) -> bool;

/// How much work one image may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest encoded image accepted, in bytes.
    pub max_bytes: usize,
    /// Largest image accepted, in pixels (width × height), checked from the
    /// header before anything is decoded.
    pub max_pixels: u64,
    /// Images with more pixels than this are scaled down to about this many
    /// before the barcode reader sees them.
    pub decode_pixels: u64,
}

impl Default for Limits {
    /// 25 MiB, 40 megapixels, read at up to 3 megapixels: room for any
    /// handheld or dock-camera photo, about 200 MB of memory at worst, and
    /// well under a second of one core for a photo without a barcode.
    fn default() -> Self {
        Limits {
            max_bytes: 25 << 20,
            max_pixels: 40_000_000,
            decode_pixels: 3_000_000,
        }
    }
}

/// One barcode found in an image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecodedBarcode {
    /// What a scanner would have sent: AIM symbology identifier (`]d2`,
    /// `]C1`, `]Q1`, ...) and the data, with GS (0x1D) for FNC1.
    pub frame: Vec<u8>,
    /// The symbology rxing found, e.g. `Data Matrix`, `Code 128`.
    pub format: String,
    /// Where it is: the corner or finder points rxing reports, in pixels of
    /// the original image (two points along the scan line for 1D codes).
    pub points: Vec<(f32, f32)>,
}

/// Why an image gave no barcodes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// The upload had no bytes.
    #[error("the image is empty (0 bytes); send the photo file itself")]
    Empty,
    /// The upload is larger than the byte limit.
    #[error(
        "the image is {size} bytes, more than the limit of {limit} bytes; \
         send a smaller photo (lower resolution or JPEG)"
    )]
    TooManyBytes {
        /// The upload's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The bytes are neither PNG nor JPEG.
    #[error("not a PNG or JPEG image ({found}); send the photo as PNG or JPEG")]
    NotAnImage {
        /// What the first bytes look like instead.
        found: String,
    },
    /// A PNG or JPEG that cannot be decoded (damaged or cut short).
    #[error(
        "the {format} image cannot be read ({reason}); the file is damaged or \
         was cut short: take or send the photo again"
    )]
    Damaged {
        /// `PNG` or `JPEG`.
        format: &'static str,
        /// The decoder's error.
        reason: String,
    },
    /// The image has more pixels than the limit allows to decode.
    #[error(
        "the image is {width}x{height} pixels ({} megapixels), more than the \
         limit of {} megapixels; take the photo at a lower resolution or crop it \
         to the label", megapixels(*width, *height), limit / 1_000_000
    )]
    TooManyPixels {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The limit in pixels.
        limit: u64,
    },
    /// The reader found no barcode it could read.
    #[error(
        "no barcode found in the {width}x{height} image; make sure the label \
         is sharp, well lit and fills a good part of the photo"
    )]
    NoBarcode {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The barcode reader (rxing) failed in a way a photo should never cause: a
    /// bug to report.
    #[error(
        "the barcode reader failed on this image ({0}); this is a bug in the \
         reader: report it with the image"
    )]
    ReaderFailed(String),
}

fn megapixels(width: u32, height: u32) -> String {
    format!("{:.1}", f64::from(width) * f64::from(height) / 1e6)
}

/// The symbologies scantrail reads from images.
pub const FORMATS: [BarcodeFormat; 8] = [
    BarcodeFormat::DATA_MATRIX,
    BarcodeFormat::QR_CODE,
    BarcodeFormat::CODE_128,
    BarcodeFormat::RSS_14,
    BarcodeFormat::RSS_EXPANDED,
    BarcodeFormat::EAN_13,
    BarcodeFormat::EAN_8,
    BarcodeFormat::UPC_A,
];

/// Every barcode in a PNG or JPEG image, as scanner frames, ordered by
/// position (top to bottom, then left to right, by the points rxing reports:
/// the corners of a 2D code, the scan line of a 1D code). The same frame
/// found twice in one image is returned once. `separator_follows` says
/// where GS goes in GS1 DataBar Expanded data.
pub fn decode(
    bytes: &[u8],
    limits: &Limits,
    separator_follows: SeparatorFollows,
) -> Result<Vec<DecodedBarcode>, ImageError> {
    let image = load(bytes, limits)?;
    let (width, height) = image.dimensions();
    let (gray, scale) = downscale(image, limits.decode_pixels);
    // Up to three passes, each only if the ones before found nothing: most
    // photos are read by the first, fast one.
    let mut results = read_barcodes(&gray, false)?;
    if results.is_empty() {
        // rxing's "try harder": 1D codes turned 90°, more rows, a slower
        // DataMatrix detector. About four times the work of the first pass.
        results = read_barcodes(&gray, true)?;
    }
    if results.is_empty() {
        // Sensor noise breaks the 1D readers' edge finding (they scan single
        // rows and do not smooth): a pass on a smoothed copy.
        results = read_barcodes(&::image::imageops::blur(&gray, 1.0), false)?;
    }
    let mut found: Vec<DecodedBarcode> = Vec::new();
    for result in &results {
        let Some(barcode) = barcode_of(result, scale, separator_follows) else {
            continue;
        };
        if !found.iter().any(|b| b.frame == barcode.frame) {
            found.push(barcode);
        }
    }
    if found.is_empty() {
        return Err(ImageError::NoBarcode { width, height });
    }
    found.sort_by(|a, b| {
        let (ax, ay) = top_left(&a.points);
        let (bx, by) = top_left(&b.points);
        ay.total_cmp(&by).then(ax.total_cmp(&bx))
    });
    Ok(found)
}

fn top_left(points: &[(f32, f32)]) -> (f32, f32) {
    points
        .iter()
        .fold((f32::MAX, f32::MAX), |(x, y), p| (x.min(p.0), y.min(p.1)))
}

/// Checks the limits on the header, then decodes to 8-bit gray.
fn load(bytes: &[u8], limits: &Limits) -> Result<GrayImage, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(ImageError::TooManyBytes {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let format = match ::image::guess_format(bytes) {
        Ok(ImageFormat::Png) => ImageFormat::Png,
        Ok(ImageFormat::Jpeg) => ImageFormat::Jpeg,
        Ok(other) => {
            return Err(ImageError::NotAnImage {
                found: format!("a {other:?} image"),
            })
        }
        Err(_) => {
            return Err(ImageError::NotAnImage {
                found: describe_start(bytes),
            })
        }
    };
    let name = if format == ImageFormat::Png {
        "PNG"
    } else {
        "JPEG"
    };
    let damaged = |e: ::image::ImageError| ImageError::Damaged {
        format: name,
        reason: e.to_string(),
    };
    let reader = || {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        let mut image_limits = ::image::Limits::default();
        // Gray or RGBA at 16 bits per channel at most, plus the decoder's own
        // buffers: 8 bytes a pixel and a little more.
        image_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8) + (64 << 20));
        reader.limits(image_limits);
        reader
    };
    let (width, height) = reader().into_dimensions().map_err(damaged)?;
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ImageError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    let decoded = guarded(|| reader().decode())?.map_err(damaged)?;
    Ok(to_gray(decoded))
}

fn to_gray(image: DynamicImage) -> GrayImage {
    match image {
        DynamicImage::ImageLuma8(gray) => gray,
        other => other.into_luma8(),
    }
}

/// What the bytes look like when they are not an image, for the message.
fn describe_start(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(16)];
    if head.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!(
            "it starts with the text {:?}",
            String::from_utf8_lossy(head)
        )
    } else {
        let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("it starts with the bytes {}", hex.join(" "))
    }
}

/// Scales `image` down to about `max_pixels` (never up), returning the image
/// and the factor from its pixels back to the original's.
fn downscale(image: GrayImage, max_pixels: u64) -> (GrayImage, f32) {
    let (width, height) = image.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels <= max_pixels || max_pixels == 0 {
        return (image, 1.0);
    }
    let ratio = (max_pixels as f64 / pixels as f64).sqrt();
    let new_width = ((f64::from(width) * ratio) as u32).max(1);
    let new_height = ((f64::from(height) * ratio) as u32).max(1);
    let small = ::image::imageops::thumbnail(&image, new_width, new_height);
    (small, width as f32 / new_width as f32)
}

/// Runs rxing over the whole image, looking for several barcodes.
fn read_barcodes(gray: &GrayImage, try_harder: bool) -> Result<Vec<RXingResult>, ImageError> {
    let (width, height) = gray.dimensions();
    let hints = DecodeHints {
        TryHarder: Some(try_harder),
        AssumeGs1: Some(true),
        PossibleFormats: Some(HashSet::from(FORMATS)),
        ..DecodeHints::default()
    };
    guarded(move || {
        let source =
            Luma8Source::new_with_slice(gray.as_raw(), width, height).map_err(|e| e.to_string())?;
        let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
        let mut reader = GenericMultipleBarcodeReader::new(MultiUseMultiFormatReader::default());
        // rxing answers "not found" as an error: no barcode is not a failure.
        Ok::<_, String>(
            reader
                .decode_multiple_with_hints(&mut bitmap, &hints)
                .unwrap_or_default(),
        )
    })?
    .map_err(ImageError::ReaderFailed)
}

/// Runs `work`, turning a panic inside it into [`ImageError::ReaderFailed`].
fn guarded<T>(work: impl FnOnce() -> T) -> Result<T, ImageError> {
    panic::catch_unwind(AssertUnwindSafe(work)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned());
        tracing::error!(%message, "barcode image decoding panicked");
        ImageError::ReaderFailed(format!("panicked: {message}"))
    })
}

/// The scanner frame for one rxing result; `None` (logged) when rxing gave no
/// symbology identifier, so that nothing is guessed.
fn barcode_of(
    result: &RXingResult,
    scale: f32,
    separator_follows: SeparatorFollows,
) -> Option<DecodedBarcode> {
    let format = *result.getBarcodeFormat();
    let aim = match result
        .getRXingResultMetadata()
        .get(&RXingResultMetadataType::SYMBOLOGY_IDENTIFIER)
    {
        Some(RXingResultMetadataValue::SymbologyIdentifier(aim)) => aim.clone(),
        _ => {
            tracing::warn!(format = %format_name(format), "rxing gave no symbology identifier; barcode skipped");
            return None;
        }
    };
    let mut text = result.getText();
    let mut aim = aim.as_str();
    if format == BarcodeFormat::CODE_128 {
        (aim, text) = code_128_fixes(aim, text, result.getRawBytes());
    }
    Some(DecodedBarcode {
        frame: frame_of(aim, text, format, separator_follows),
        format: format_name(format).to_owned(),
        points: result
            .getPoints()
            .iter()
            .map(|p| (tenth(p.x * scale), tenth(p.y * scale)))
            .collect(),
    })
}

/// Rounded to a tenth of a pixel: rxing's sub-pixel digits are noise.
fn tenth(v: f32) -> f32 {
    (v * 10.0).round() / 10.0
}

/// Code 128 values of FNC1 and FNC2 (code sets A and B), and of STOP.
const CODE_128_FNC1: u8 = 102;
const CODE_128_FNC2: u8 = 97;
const CODE_128_STOP: u8 = 106;

/// Undoes two slips of rxing 0.9.3's Code 128 reader (inherited from
/// ZXing), both from decoding the check character like a data character:
/// - a check character of value 97 reads as FNC2 and sets the identifier to
///   `]C4`, even over `]C1` (GS1-128);
/// - a check character of value 102 reads as FNC1 and, in GS1 mode, leaves a
///   GS at the end of the text.
///
/// `raw` is rxing's codes: start, data, check character, stop.
fn code_128_fixes<'a>(aim: &'a str, text: &'a str, raw: &[u8]) -> (&'a str, &'a str) {
    let mut aim = aim;
    let mut text = text;
    if let [_start, data @ .., check, CODE_128_STOP] = raw {
        if *check == CODE_128_FNC1 {
            text = text.strip_suffix('\u{1d}').unwrap_or(text);
        }
        if *check == CODE_128_FNC2 && aim == "]C4" && !data.contains(&CODE_128_FNC2) {
            aim = "]C0";
        }
    }
    // rxing writes `]C1` into the text exactly when FNC1 follows the start.
    if text.starts_with("]C1") {
        aim = "]C1";
    }
    (aim, text)
}

/// A name for people.
pub fn format_name(format: BarcodeFormat) -> &'static str {
    match format {
        BarcodeFormat::DATA_MATRIX => "Data Matrix",
        BarcodeFormat::QR_CODE => "QR Code",
        BarcodeFormat::CODE_128 => "Code 128",
        BarcodeFormat::RSS_14 => "GS1 DataBar",
        BarcodeFormat::RSS_EXPANDED => "GS1 DataBar Expanded",
        BarcodeFormat::EAN_13 => "EAN-13",
        BarcodeFormat::EAN_8 => "EAN-8",
        BarcodeFormat::UPC_A => "UPC-A",
        _ => "other",
    }
}

/// The frame a scanner sends for rxing's text `text` of symbology `aim`;
/// `separator_follows` places GS in bracketed DataBar Expanded data.
pub fn frame_of(
    aim: &str,
    text: &str,
    format: BarcodeFormat,
    separator_follows: SeparatorFollows,
) -> Vec<u8> {
    let mut frame = aim.as_bytes().to_vec();
    match (aim, format) {
        // rxing's GS1 mode puts `]C1` into the text for a leading FNC1.
        ("]C1", _) => frame.extend_from_slice(text.strip_prefix("]C1").unwrap_or(text).as_bytes()),
        ("]e0", _) if text.len() == 14 && text.bytes().all(|b| b.is_ascii_digit()) => {
            frame.extend_from_slice(b"01");
            frame.extend_from_slice(text.as_bytes());
        }
        ("]e0", _) if text.starts_with('(') => match unbracket(text, separator_follows) {
            Some(data) => frame.extend_from_slice(&data),
            None => frame.extend_from_slice(text.as_bytes()),
        },
        (_, BarcodeFormat::UPC_A) if text.len() == 12 => {
            frame.push(b'0');
            frame.extend_from_slice(text.as_bytes());
        }
        _ => frame.extend_from_slice(text.as_bytes()),
    }
    frame
}

/// `(01)09506000134352(10)ABC` to `010950600013435210ABC`, GS after each
/// variable-length value that is not last. `None` if it is not bracketed.
/// (rxing does not escape `(` in DataBar values; DataBar's character set has
/// no `(` in practice, see the README.)
fn unbracket(text: &str, separator_follows: SeparatorFollows) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    let mut separate = false;
    while !rest.is_empty() {
        let body = rest.strip_prefix('(')?;
        let close = body.find(')')?;
        let ai = &body[..close];
        if ai.is_empty() || !ai.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let after = &body[close + 1..];
        let end = after.find('(').unwrap_or(after.len());
        if separate {
            out.push(GS);
        }
        out.extend_from_slice(ai.as_bytes());
        out.extend_from_slice(&after.as_bytes()[..end]);
        separate = separator_follows(ai.as_bytes());
        rest = &after[end..];
    }
    Some(out)
}

impl fmt::Display for DecodedBarcode {
    /// `Data Matrix ]d2...` with GS shown as `^`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = String::from_utf8_lossy(&self.frame).replace(char::from(GS), "^");
        write!(f, "{} {}", self.format, shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The real GS1 dictionary, as the callers pass it.
    use crate::gs1::dictionary::separator_follows;

    fn shown(frame: &[u8]) -> String {
        String::from_utf8_lossy(frame).replace('\u{1d}', "^")
    }

    #[test]
    fn gs1_128_loses_the_identifier_rxing_puts_in_the_text() {
        let frame = frame_of(
            "]C1",
            "]C10109506000134352\u{1d}21X",
            BarcodeFormat::CODE_128,
            separator_follows,
        );
        assert_eq!(shown(&frame), "]C10109506000134352^21X");
    }

    #[test]
    fn databar_gtin_gets_its_ai() {
        let frame = frame_of(
            "]e0",
            "09506000134352",
            BarcodeFormat::RSS_14,
            separator_follows,
        );
        assert_eq!(frame, b"]e00109506000134352");
    }

    #[test]
    fn databar_expanded_is_unbracketed_with_gs_after_variable_values() {
        let frame = frame_of(
            "]e0",
            "(01)09506000134352(3103)001750(10)ABC(21)XYZ",
            BarcodeFormat::RSS_EXPANDED,
            separator_follows,
        );
        assert_eq!(
            shown(&frame),
            "]e001095060001343523103001750".to_owned() + "10ABC^21XYZ"
        );
        // Not bracketed after all: left as rxing gave it.
        let odd = frame_of("]e0", "(01", BarcodeFormat::RSS_EXPANDED, separator_follows);
        assert_eq!(odd, b"]e0(01");
    }

    #[test]
    fn upc_a_goes_out_as_ean_13() {
        assert_eq!(
            frame_of(
                "]E0",
                "036000291452",
                BarcodeFormat::UPC_A,
                separator_follows
            ),
            b"]E00036000291452"
        );
        assert_eq!(
            frame_of(
                "]E0",
                "9506000134352",
                BarcodeFormat::EAN_13,
                separator_follows
            ),
            b"]E09506000134352"
        );
    }

    #[test]
    fn other_symbologies_pass_through() {
        assert_eq!(
            frame_of("]Q1", "héllo", BarcodeFormat::QR_CODE, separator_follows),
            "]Q1héllo".as_bytes()
        );
        assert_eq!(
            shown(&frame_of(
                "]d2",
                "01095060001343521\u{1d}",
                BarcodeFormat::DATA_MATRIX,
                separator_follows
            )),
            "]d201095060001343521^"
        );
    }

    #[test]
    fn code_128_check_character_slips_are_undone() {
        // start B, data, check 97, stop
        assert_eq!(
            code_128_fixes("]C4", "PALLET-42", &[104, 48, 97, 106]),
            ("]C0", "PALLET-42")
        );
        // A real FNC2 in the data keeps ]C4.
        assert_eq!(
            code_128_fixes("]C4", "AB", &[104, 97, 33, 97, 106]),
            ("]C4", "AB")
        );
        // GS1-128 whose check character is 97.
        assert_eq!(
            code_128_fixes("]C4", "]C10109506000134352", &[105, 102, 1, 97, 106]),
            ("]C1", "]C10109506000134352")
        );
        // Check character 102 leaves a GS behind.
        assert_eq!(
            code_128_fixes("]C1", "]C121S1\u{1d}", &[105, 102, 21, 102, 106]),
            ("]C1", "]C121S1")
        );
    }

    #[test]
    fn downscale_keeps_small_images_and_shrinks_large_ones() {
        let (same, scale) = downscale(GrayImage::new(100, 100), 10_000);
        assert_eq!((same.dimensions(), scale), ((100, 100), 1.0));
        let (small, scale) = downscale(GrayImage::new(4000, 3000), 1_200_000);
        assert_eq!(small.dimensions(), (1264, 948));
        assert!((scale - 4000.0 / 1264.0).abs() < 1e-4);
    }

    #[test]
    fn a_panic_in_the_reader_becomes_an_error() {
        let result: Result<(), _> = guarded(|| panic!("index out of bounds"));
        assert_eq!(
            result,
            Err(ImageError::ReaderFailed(
                "panicked: index out of bounds".to_owned()
            ))
        );
    }

    #[test]
    fn non_images_are_described() {
        assert_eq!(
            describe_start(b"hello"),
            "it starts with the text \"hello\""
        );
        assert_eq!(
            describe_start(&[0, 1, 2, 255]),
            "it starts with the bytes 00 01 02 ff"
        );
    }

    #[test]
    fn default_limits_bound_the_work() {
        let limits = Limits::default();
        assert_eq!(limits.max_bytes, 25 << 20);
        assert!(limits.decode_pixels < limits.max_pixels);
    }
}
