//! Deleting photos nothing names any more: pictures replaced, updates deleted or edited,
//! uploads never used, copies of remote pictures a listing dropped, and the leftovers of
//! writes that were cut off.
//!
//! A photo is stored before the update or listing that names it is, so only files untouched
//! for a grace period are taken. Storing a photo again, finding a mirrored copy and checking
//! that a named photo exists all touch the file ([`MediaStore`](crate::MediaStore)), so a
//! photo about to be named again is never taken.

use std::collections::HashSet;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use hromada_domain::Photo;

/// What a sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub files: u64,
    pub bytes: u64,
}

/// Deletes the photos in `dir` not named in `in_use` and the leftovers of cut-off writes, if
/// untouched for `grace`. Other files are left alone. A file that cannot be deleted is
/// logged and skipped.
pub(crate) fn sweep_dir(
    dir: &Path,
    in_use: &HashSet<String>,
    grace: Duration,
) -> io::Result<Swept> {
    let mut swept = Swept::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(swept),
        Err(e) => return Err(e),
    };
    let cutoff = SystemTime::now()
        .checked_sub(grace)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    for entry in entries {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str() else {
            continue;
        };
        let unused = Photo::is_valid_name(name) && !in_use.contains(name);
        if !unused && !is_leftover(name) {
            continue;
        }
        let meta = entry.metadata()?;
        if !meta.is_file() || meta.modified()? > cutoff {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => {
                swept.files += 1;
                swept.bytes += meta.len();
            }
            Err(e) => {
                tracing::warn!(file = %entry.path().display(), error = %e, "cannot delete unused photo")
            }
        }
    }
    Ok(swept)
}

/// A temporary file of [`MediaStore`](crate::MediaStore)'s writes: `.<photo name>.<uuid>`.
fn is_leftover(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|rest| rest.split_once(".jpg."))
        .is_some_and(|(hash, uuid)| {
            Photo::is_valid_name(&format!("{hash}.jpg")) && uuid::Uuid::parse_str(uuid).is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const USED: &str = "0123456789abcdef0123456789abcdef.jpg";
    const UNUSED: &str = "fedcba9876543210fedcba9876543210.jpg";
    const FRESH: &str = "00000000000000000000000000000000.jpg";

    fn file(dir: &Path, name: &str, age: Duration) {
        let path = dir.join(name);
        std::fs::write(&path, b"jpeg").unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
    }

    #[test]
    fn deletes_unused_old_photos_and_leftovers_only() {
        let dir = tempfile::tempdir().unwrap();
        let day = Duration::from_secs(86_400);
        let leftover = format!(".{UNUSED}.{}", uuid::Uuid::new_v4());
        for name in [USED, UNUSED, leftover.as_str(), "notes.txt", ".hidden"] {
            file(dir.path(), name, 2 * day);
        }
        file(dir.path(), FRESH, Duration::from_secs(60));
        let in_use = HashSet::from([USED.to_string()]);

        let swept = sweep_dir(dir.path(), &in_use, day).unwrap();
        assert_eq!(swept, Swept { files: 2, bytes: 8 });
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, [".hidden", FRESH, USED, "notes.txt"]);
    }

    #[test]
    fn a_missing_folder_is_nothing_to_sweep() {
        let dir = tempfile::tempdir().unwrap();
        let swept = sweep_dir(&dir.path().join("media"), &HashSet::new(), Duration::ZERO);
        assert_eq!(swept.unwrap(), Swept::default());
    }
}
