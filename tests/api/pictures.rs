//! An initiative's avatar and header picture: uploaded by its maintainers, cleaned by the photo
//! pipeline, served from the node, carried by the actor as `icon` and `image`.

use hromada_domain::Role;
use hromada_testkit::Backend;
use image::codecs::jpeg::JpegEncoder;
use reqwest::Method;
use serde_json::Value;

use crate::support::Api;

/// A JPEG whose EXIF names a camera ("SpyCam 3000").
fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_pixel(width, height, image::Rgb([11, 92, 171]));
    let mut plain = Vec::new();
    JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(&picture)
        .unwrap();
    let mut tiff: Vec<u8> = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&[1, 0]);
    tiff.extend_from_slice(&[0x0f, 0x01, 2, 0, 12, 0, 0, 0, 26, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    tiff.extend_from_slice(b"SpyCam 3000\0");
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&segment);
    out.extend_from_slice(&plain[2..]);
    out
}

async fn put(
    api: &Api,
    path: &str,
    token: Option<&str>,
    kind: &str,
    body: Vec<u8>,
) -> crate::support::Reply {
    api.send(
        api.request(Method::PUT, path, token)
            .header("content-type", kind)
            .body(body),
    )
    .await
}

/// Declares a body over the 10 MB limit and sends none of it: the node must refuse at once
/// (sending all of it would only fill the socket of a node that already said no).
async fn declare_oversized(api: &Api, path: &str, token: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(api.node.addr).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: image/jpeg\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        api.node.addr,
        11 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

async fn actor(api: &Api, handle: &str) -> Value {
    reqwest::Client::new()
        .get(api.node.url(&format!("/initiatives/{handle}")))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn pictures_are_cleaned_served_and_federated(backend: Backend) {
    let api = Api::start(backend).await;
    let moderator = api.user("moderator1", Role::Moderator).await;
    let maintainer = api.user("olena", Role::Maintainer).await;
    let stranger = api.user("petro", Role::Maintainer).await;
    api.published("ours", &moderator).await;
    api.post(
        "/api/v1/initiatives/ours/maintainers",
        Some(&moderator),
        serde_json::json!({"username": "olena"}),
    )
    .await
    .expect(204);
    let avatar = "/api/v1/initiatives/ours/avatar";
    let upload = jpeg_with_exif(900, 600);
    assert!(upload.windows(11).any(|w| w == b"SpyCam 3000"));

    // Refusals change nothing.
    put(&api, avatar, None, "image/jpeg", upload.clone())
        .await
        .expect_error(401, "unauthenticated");
    put(&api, avatar, Some(&stranger), "image/jpeg", upload.clone())
        .await
        .expect_error(403, "forbidden");
    put(
        &api,
        avatar,
        Some(&maintainer),
        "text/plain",
        upload.clone(),
    )
    .await
    .expect_error(415, "unsupported_media_type");
    put(
        &api,
        avatar,
        Some(&maintainer),
        "image/png",
        b"GIF89a not a photo".to_vec(),
    )
    .await
    .expect_error(422, "validation_failed")
    .expect_field("avatar", "photo_type");
    let (status, answer) = declare_oversized(&api, avatar, &maintainer).await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer.contains("\"payload_too_large\""), "{answer}");
    put(
        &api,
        "/api/v1/initiatives/nobody/avatar",
        Some(&moderator),
        "image/jpeg",
        upload.clone(),
    )
    .await
    .expect_error(404, "not_found");
    let read = api.get("/api/v1/initiatives/ours", None).await.expect(200);
    assert_eq!(read.json["initiative"]["avatar"], Value::Null);
    assert!(actor(&api, "ours").await.get("icon").is_none());

    // The avatar: resized to 400 px at most, metadata gone, served with long cache headers.
    let set = put(&api, avatar, Some(&maintainer), "image/jpeg", upload)
        .await
        .expect(200);
    let photo = &set.json["avatar"];
    let name = photo["name"].as_str().unwrap().to_string();
    assert_eq!(
        (photo["width"].as_u64(), photo["height"].as_u64()),
        (Some(400), Some(267))
    );
    let media = reqwest::Client::new()
        .get(api.node.url(&format!("/media/{name}")))
        .send()
        .await
        .unwrap();
    assert_eq!(media.status(), 200);
    assert_eq!(media.headers()["content-type"], "image/jpeg");
    assert!(
        media.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let bytes = media.bytes().await.unwrap();
    assert!(!bytes.windows(11).any(|w| w == b"SpyCam 3000"));
    assert!(!bytes.windows(4).any(|w| w == b"Exif"));
    let a = actor(&api, "ours").await;
    assert_eq!(a["icon"]["type"], "Image");
    assert_eq!(a["icon"]["mediaType"], "image/jpeg");
    assert_eq!(a["icon"]["url"], api.node.url(&format!("/media/{name}")));
    assert!(a.get("image").is_none());

    // Shown in search results and on the page.
    let found = api.search("per_page=5", None).await.expect(200);
    assert_eq!(found.json["items"][0]["avatar"]["name"], name.as_str());
    let page = reqwest::Client::new()
        .get(api.node.url("/initiatives/ours"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("src=\"/media/{name}\"")));

    // The header: a PNG, kept larger; moderators may set it too.
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        2000,
        500,
        image::Rgb([1, 2, 3]),
    ))
    .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
    .unwrap();
    let set = put(
        &api,
        "/api/v1/initiatives/ours/header",
        Some(&moderator),
        "image/png",
        png,
    )
    .await
    .expect(200);
    assert_eq!(set.json["header"]["width"], 1600);
    let header = set.json["header"]["name"].as_str().unwrap().to_string();
    assert_eq!(
        actor(&api, "ours").await["image"]["url"],
        api.node.url(&format!("/media/{header}"))
    );

    // Removing.
    api.delete(avatar, Some(&stranger))
        .await
        .expect_error(403, "forbidden");
    let removed = api.delete(avatar, Some(&maintainer)).await.expect(200);
    assert_eq!(removed.json["avatar"], Value::Null);
    assert_eq!(removed.json["header"]["name"], header.as_str());
    let a = actor(&api, "ours").await;
    assert!(a.get("icon").is_none());
    assert!(a.get("image").is_some());
}

/// At start (and then hourly) the node deletes photos nothing names once they are a day old:
/// an old unnamed photo and the leftover of a cut-off write go, a fresh upload not yet named
/// and any other file stay.
pub async fn old_unnamed_photos_are_swept(backend: Backend) {
    let day = std::time::Duration::from_secs(86_400);
    let old = "0123456789abcdef0123456789abcdef.jpg";
    let leftover = format!(".{old}.{}", uuid::Uuid::new_v4());
    let fresh = "fedcba9876543210fedcba9876543210.jpg";
    let mut media = std::path::PathBuf::new();
    let node = hromada_testkit::TestNode::spawn_with(backend, |config| {
        media = config.data_dir.join("media");
        std::fs::create_dir_all(&media).unwrap();
        let put = |name: &str, age| {
            let path = media.join(name);
            std::fs::write(&path, b"not really a jpeg").unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(std::time::SystemTime::now() - age)
                .unwrap();
        };
        put(old, 2 * day);
        put(&leftover, 2 * day);
        put("README.txt", 2 * day);
        put(fresh, std::time::Duration::from_secs(60));
    })
    .await;
    let gone = |name: &str| !media.join(name).exists();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !(gone(old) && gone(&leftover)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the sweep did not run"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!gone(fresh) && !gone("README.txt"));
    let lease = node.store().job_lease("media-sweep").await.unwrap();
    assert!(lease.is_some(), "the sweep holds the hour's lease");
}
