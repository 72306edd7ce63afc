//! Photos: uploads are checked (type by content, size, dimensions), turned upright, resized to
//! at most 1600 px, and re-encoded as JPEG. Re-encoding from pixels keeps nothing of the
//! original file: no EXIF, no GPS position, no camera serial, no XMP, no comments — GPS
//! positions in photos can reveal where volunteers are.
//!
//! Files are named by a hash of their content and never change, so they are served with
//! year-long cache headers.

mod sweep;

use std::collections::HashSet;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hromada_domain::Photo;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use sha2::{Digest, Sha256};

pub use sweep::Swept;

/// Largest upload accepted, per photo.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// Longest side of a stored photo.
pub const MAX_SIDE: u32 = 1600;
/// Largest decoded picture (in pixels) accepted: guards against decompression bombs.
const MAX_PIXELS: u64 = 50_000_000;
const JPEG_QUALITY: u8 = 82;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    #[error("the file is empty")]
    Empty,
    #[error("the photo is larger than {} MB", MAX_UPLOAD_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("only JPEG, PNG and WebP photos are accepted")]
    UnsupportedType,
    #[error("the photo could not be read")]
    Unreadable,
    #[error("the photo could not be stored")]
    Storage,
}

impl PhotoError {
    /// A stable code for translated messages (`error.photo_…`).
    pub fn code(&self) -> &'static str {
        match self {
            PhotoError::Empty => "photo_empty",
            PhotoError::TooLarge => "photo_too_large",
            PhotoError::UnsupportedType => "photo_type",
            PhotoError::Unreadable => "photo_unreadable",
            PhotoError::Storage => "photo_storage",
        }
    }
}

/// A photo ready to store: JPEG bytes without metadata.
#[derive(Debug, Clone)]
pub struct CleanPhoto {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Longest side of an initiative's avatar (shown small; Mastodon uses 400 px).
pub const AVATAR_SIDE: u32 = 400;

/// Checks, orients, resizes and re-encodes an upload. CPU-heavy: call it on a blocking thread
/// (see [`MediaStore::save_upload`]).
pub fn clean_photo(bytes: &[u8]) -> Result<CleanPhoto, PhotoError> {
    clean_photo_within(bytes, MAX_SIDE)
}

/// [`clean_photo`], resized so that no side is longer than `max_side`.
pub fn clean_photo_within(bytes: &[u8], max_side: u32) -> Result<CleanPhoto, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(PhotoError::TooLarge);
    }
    // The type comes from the content, never from the file name or the browser's claim.
    let format = image::guess_format(bytes).map_err(|_| PhotoError::UnsupportedType)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(PhotoError::UnsupportedType);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    // 50 megapixels at 8 bits per channel fit; 16-bit ones (which phones do not take) could
    // need 400 MB each.
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| PhotoError::Unreadable)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(PhotoError::TooLarge);
    }
    // Phones store "rotate me" in EXIF; apply it now, since the EXIF is about to go.
    let orientation = decoder.orientation().ok();
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|_| PhotoError::Unreadable)?;
    if let Some(o) = orientation {
        picture.apply_orientation(o);
    }
    if picture.width() > max_side || picture.height() > max_side {
        picture = picture.resize(max_side, max_side, image::imageops::FilterType::Triangle);
    }
    let rgb = flatten_on_white(picture);
    let (width, height) = rgb.dimensions();
    let mut jpeg = Vec::with_capacity(256 * 1024);
    JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(|_| PhotoError::Unreadable)?;
    Ok(CleanPhoto {
        jpeg,
        width,
        height,
    })
}

/// JPEG has no transparency; transparent parts become white rather than black.
fn flatten_on_white(picture: DynamicImage) -> RgbImage {
    if !picture.color().has_alpha() {
        return picture.to_rgb8();
    }
    let rgba = picture.to_rgba8();
    let (w, h) = rgba.dimensions();
    RgbImage::from_fn(w, h, |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let mix = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([mix(r), mix(g), mix(b)])
    })
}

/// Photos decoded at once in this process. A decoded photo takes ~3 bytes per pixel (36 MB
/// for 12 megapixels, 150 MB at the pixel limit; the decoder refuses more than `max_alloc`):
/// uploads and copies of remote pictures arriving together wait their turn instead of adding
/// up on a small server.
const DECODES_AT_ONCE: usize = 2;
static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(DECODES_AT_ONCE);

async fn clean_off_thread(bytes: Vec<u8>, max_side: u32) -> Result<CleanPhoto, PhotoError> {
    let turn = DECODES.acquire().await.map_err(|_| PhotoError::Storage)?;
    // The turn goes with the decoding thread: when the request is dropped (its client gone),
    // the decoding goes on, and so must the turn, or a client hanging up again and again
    // would start any number of decodes at once.
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        clean_photo_within(&bytes, max_side)
    })
    .await
    .map_err(|_| PhotoError::Unreadable)?
}

/// The local file name of a mirrored photo: made from its source URL, in the same shape as
/// the content names of uploads.
fn mirror_name(source_url: &str) -> String {
    let digest = Sha256::digest(format!("hromada-mirror:{source_url}").as_bytes());
    format!("{}.jpg", &hex::encode(digest)[..32])
}

/// The folder photos live in.
#[derive(Debug, Clone)]
pub struct MediaStore {
    dir: PathBuf,
}

impl MediaStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Cleans an upload and stores it; returns the photo to attach to an update.
    pub async fn save_upload(&self, bytes: Vec<u8>, alt: &str) -> Result<Photo, PhotoError> {
        self.save_within(bytes, alt, MAX_SIDE).await
    }

    /// Cleans an upload, resized to at most `max_side`, and stores it under a name made from
    /// its content.
    pub async fn save_within(
        &self,
        bytes: Vec<u8>,
        alt: &str,
        max_side: u32,
    ) -> Result<Photo, PhotoError> {
        let clean = clean_off_thread(bytes, max_side).await?;
        let name = format!("{}.jpg", &hex::encode(Sha256::digest(&clean.jpeg))[..32]);
        self.write(&name, &clean).await?;
        Ok(Photo {
            name,
            alt: alt.trim().chars().take(1_500).collect(),
            width: clean.width,
            height: clean.height,
        })
    }

    /// The local copy of a photo fetched from another server, if it was mirrored before.
    /// Remote media URLs name their content (they never change), so one copy per URL is kept.
    pub async fn mirrored(&self, source_url: &str) -> Option<Photo> {
        self.stored(mirror_name(source_url), "").await
    }

    /// A photo stored earlier under `name` (an upload kept while its form is corrected, or one
    /// an API update names) with its real dimensions, made fresh for the sweep; `None` if
    /// there is no such file.
    pub async fn stored(&self, name: String, alt: &str) -> Option<Photo> {
        if !Photo::is_valid_name(&name) {
            return None;
        }
        let path = self.dir.join(&name);
        let (width, height) = tokio::task::spawn_blocking(move || {
            touch(&path);
            ImageReader::open(path).ok()?.into_dimensions().ok()
        })
        .await
        .ok()??;
        Some(Photo {
            name,
            alt: alt.trim().chars().take(1_500).collect(),
            width,
            height,
        })
    }

    /// Cleans a photo fetched from `source_url` exactly like an upload and keeps it as that
    /// URL's local copy (see [`MediaStore::mirrored`]).
    pub async fn save_mirror(
        &self,
        source_url: &str,
        bytes: Vec<u8>,
        alt: &str,
        max_side: u32,
    ) -> Result<Photo, PhotoError> {
        let clean = clean_off_thread(bytes, max_side).await?;
        let name = mirror_name(source_url);
        self.write(&name, &clean).await?;
        Ok(Photo {
            name,
            alt: alt.trim().chars().take(1_500).collect(),
            width: clean.width,
            height: clean.height,
        })
    }

    async fn write(&self, name: &str, clean: &CleanPhoto) -> Result<(), PhotoError> {
        let path = self.dir.join(name);
        // Stored already: made fresh for the sweep, which may run between now and its use.
        // When that fails (the sweep took it meanwhile), it is written anew.
        let fresh = path.clone();
        if tokio::task::spawn_blocking(move || touch(&fresh))
            .await
            .unwrap_or(false)
        {
            return Ok(());
        }
        tokio::fs::create_dir_all(&self.dir).await.map_err(|e| {
            tracing::error!(dir = %self.dir.display(), error = %e, "cannot create media dir");
            PhotoError::Storage
        })?;
        // Written under a temporary name and renamed, so a half-written file is never served.
        let tmp = self.dir.join(format!(".{name}.{}", uuid::Uuid::new_v4()));
        let written = async {
            tokio::fs::write(&tmp, &clean.jpeg).await?;
            tokio::fs::rename(&tmp, &path).await
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&tmp).await;
            tracing::error!(path = %path.display(), error = %e, "cannot store photo");
            return Err(PhotoError::Storage);
        }
        Ok(())
    }

    /// Deletes the photos not named in `in_use` (by any listing or update) and the leftovers
    /// of cut-off writes, once untouched for `grace` (see `sweep.rs`).
    pub async fn sweep(&self, in_use: HashSet<String>, grace: Duration) -> std::io::Result<Swept> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || sweep::sweep_dir(&dir, &in_use, grace))
            .await
            .map_err(std::io::Error::other)?
    }

    /// The bytes of a stored photo, if the name is one we make and the file exists.
    pub async fn read(&self, name: &str) -> Option<Vec<u8>> {
        if !Photo::is_valid_name(name) {
            return None;
        }
        tokio::fs::read(self.dir.join(name)).await.ok()
    }
}

/// Marks a stored file as just used; whether it exists.
fn touch(path: &Path) -> bool {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(SystemTime::now()))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG with an EXIF APP1 segment holding a GPS position (50°N 36°E, near Kharkiv), a
    /// camera make, and orientation 6 ("rotate 90° clockwise"), made by hand: the test must not
    /// trust the library it checks.
    pub fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
        let picture = RgbImage::from_fn(width, height, |x, _| {
            if x < width / 2 {
                image::Rgb([200, 30, 30])
            } else {
                image::Rgb([30, 30, 200])
            }
        });
        let mut plain = Vec::new();
        JpegEncoder::new_with_quality(&mut plain, 90)
            .encode_image(&picture)
            .unwrap();
        let exif = exif_segment();
        // Insert APP1 right after SOI (FF D8).
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&exif);
        out.extend_from_slice(&plain[2..]);
        out
    }

    fn exif_segment() -> Vec<u8> {
        // TIFF, little endian. IFD0: Make, Orientation, GPS IFD pointer. GPS IFD: lat/long.
        let mut tiff: Vec<u8> = Vec::new();
        let u16le = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
        let u32le = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
        tiff.extend_from_slice(b"II");
        u16le(&mut tiff, 42);
        u32le(&mut tiff, 8);
        // IFD0 at 8: 3 entries (12 bytes each) + next-IFD offset = 2 + 36 + 4 = 42 → ends at 50.
        let make_offset = 50u32; // "HromadaCam\0" = 11 bytes → 61
        let gps_ifd = 62u32; // word aligned
        u16le(&mut tiff, 3);
        // Make (0x010F), ASCII, count 11, offset
        u16le(&mut tiff, 0x010F);
        u16le(&mut tiff, 2);
        u32le(&mut tiff, 11);
        u32le(&mut tiff, make_offset);
        // Orientation (0x0112), SHORT, 1, value 6
        u16le(&mut tiff, 0x0112);
        u16le(&mut tiff, 3);
        u32le(&mut tiff, 1);
        u32le(&mut tiff, 6);
        // GPS IFD pointer (0x8825), LONG, 1
        u16le(&mut tiff, 0x8825);
        u16le(&mut tiff, 4);
        u32le(&mut tiff, 1);
        u32le(&mut tiff, gps_ifd);
        u32le(&mut tiff, 0);
        tiff.extend_from_slice(b"HromadaCam\0");
        tiff.push(0);
        assert_eq!(tiff.len() as u32, gps_ifd);
        // GPS IFD: 4 entries → 2 + 48 + 4 = 54 → rationals start at 116.
        let lat_values = gps_ifd + 54;
        let long_values = lat_values + 24;
        u16le(&mut tiff, 4);
        u16le(&mut tiff, 0x0001); // GPSLatitudeRef "N"
        u16le(&mut tiff, 2);
        u32le(&mut tiff, 2);
        tiff.extend_from_slice(b"N\0\0\0");
        u16le(&mut tiff, 0x0002); // GPSLatitude
        u16le(&mut tiff, 5);
        u32le(&mut tiff, 3);
        u32le(&mut tiff, lat_values);
        u16le(&mut tiff, 0x0003); // GPSLongitudeRef "E"
        u16le(&mut tiff, 2);
        u32le(&mut tiff, 2);
        tiff.extend_from_slice(b"E\0\0\0");
        u16le(&mut tiff, 0x0004); // GPSLongitude
        u16le(&mut tiff, 5);
        u32le(&mut tiff, 3);
        u32le(&mut tiff, long_values);
        u32le(&mut tiff, 0);
        for (deg, min) in [(50u32, 0u32), (36, 13)] {
            for (n, d) in [(deg, 1u32), (min, 1), (0, 1)] {
                u32le(&mut tiff, n);
                u32le(&mut tiff, d);
            }
        }
        let mut seg = vec![0xFF, 0xE1];
        let len = (2 + 6 + tiff.len()) as u16;
        seg.extend_from_slice(&len.to_be_bytes());
        seg.extend_from_slice(b"Exif\0\0");
        seg.extend_from_slice(&tiff);
        seg
    }

    /// The markers of a JPEG's segments before the image data.
    pub fn jpeg_markers(bytes: &[u8]) -> Vec<u8> {
        let mut markers = Vec::new();
        let mut i = 2;
        while i + 4 <= bytes.len() && bytes[i] == 0xFF {
            let marker = bytes[i + 1];
            markers.push(marker);
            if marker == 0xDA {
                break;
            }
            let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
            i += 2 + len;
        }
        markers
    }

    #[test]
    fn gps_and_all_metadata_are_gone_and_orientation_applied() {
        let upload = jpeg_with_gps(40, 20);
        assert!(
            jpeg_markers(&upload).contains(&0xE1),
            "the fixture has EXIF"
        );
        assert!(upload.windows(10).any(|w| w == b"HromadaCam"));
        let clean = clean_photo(&upload).unwrap();
        let markers = jpeg_markers(&clean.jpeg);
        // Only structural segments: no APPn other than JFIF's APP0, no comments.
        assert!(
            markers
                .iter()
                .all(|m| !(0xE1..=0xEF).contains(m) && *m != 0xFE),
            "{markers:x?}"
        );
        assert!(!clean.jpeg.windows(4).any(|w| w == b"Exif"));
        assert!(!clean.jpeg.windows(10).any(|w| w == b"HromadaCam"));
        // Orientation 6 turned the 40×20 picture upright: now 20×40.
        assert_eq!((clean.width, clean.height), (20, 40));
    }

    #[test]
    fn big_photos_are_resized_and_bad_ones_refused() {
        let big = RgbImage::from_pixel(3200, 1000, image::Rgb([10, 120, 10]));
        let mut png = Vec::new();
        DynamicImage::ImageRgb8(big)
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let clean = clean_photo(&png).unwrap();
        assert_eq!((clean.width, clean.height), (1600, 500));
        assert_eq!(clean_photo(b"").unwrap_err(), PhotoError::Empty);
        assert_eq!(
            clean_photo(b"GIF89a....").unwrap_err(),
            PhotoError::UnsupportedType
        );
        assert_eq!(
            clean_photo(b"<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap_err(),
            PhotoError::UnsupportedType
        );
        let mut broken = jpeg_with_gps(8, 8);
        broken.truncate(60);
        assert_eq!(clean_photo(&broken).unwrap_err(), PhotoError::Unreadable);
        assert_eq!(
            clean_photo(&vec![0xFF; MAX_UPLOAD_BYTES + 1]).unwrap_err(),
            PhotoError::TooLarge
        );
    }

    #[tokio::test]
    async fn decodes_wait_for_their_turn() {
        let all_turns = DECODES.acquire_many(DECODES_AT_ONCE as u32).await.unwrap();
        let clean = tokio::spawn(clean_off_thread(jpeg_with_gps(30, 30), MAX_SIDE));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!clean.is_finished(), "decoded while every turn was taken");
        drop(all_turns);
        assert_eq!(clean.await.unwrap().unwrap().width, 30);
    }

    #[tokio::test]
    async fn stored_under_a_content_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::new(dir.path().join("media"));
        let photo = store
            .save_upload(jpeg_with_gps(30, 30), " Аптечки ")
            .await
            .unwrap();
        assert!(Photo::is_valid_name(&photo.name), "{}", photo.name);
        assert_eq!(photo.alt, "Аптечки");
        let again = store.save_upload(jpeg_with_gps(30, 30), "").await.unwrap();
        assert_eq!(again.name, photo.name);
        assert!(store.read(&photo.name).await.is_some());
        assert!(store.read("../etc/passwd").await.is_none());
    }

    #[tokio::test]
    async fn mirrors_are_cleaned_and_kept_per_source_url() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::new(dir.path().join("media"));
        let url = "https://c.example/media/0123456789abcdef0123456789abcdef.jpg";
        assert!(store.mirrored(url).await.is_none());
        let photo = store
            .save_mirror(url, jpeg_with_gps(900, 300), "", AVATAR_SIDE)
            .await
            .unwrap();
        assert!(Photo::is_valid_name(&photo.name));
        // Upright (orientation applied) and within the avatar size.
        assert_eq!((photo.width, photo.height), (133, 400));
        let bytes = store.read(&photo.name).await.unwrap();
        assert!(!bytes.windows(10).any(|w| w == b"HromadaCam"));
        let again = store.mirrored(url).await.unwrap();
        assert_eq!(again, photo);
        assert!(
            store
                .mirrored("https://c.example/other.jpg")
                .await
                .is_none()
        );
    }
}
