//! Uploads on disk: `<upload_dir>/<id>.part` holds the bytes received,
//! `<id>.json` what the upload is ([`Upload`]).
//!
//! The offset is the part file's length, read after an fsync: a byte
//! reported to a client is on disk, so a server killed mid-upload loses
//! nothing it acknowledged, and the client resumes from `HEAD`. The
//! record is replaced atomically (written beside, fsynced, renamed). A
//! finished upload is hashed and moved to the media directory as
//! `<sha256>.<ext>`; its record stays, so that a job can name it.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::probe;

/// The length of an upload id: 16 random bytes as hex.
const ID_CHARS: usize = 32;

/// An upload, as its record says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    /// Its id (32 lowercase hex digits).
    pub id: String,
    /// The account that created it; only it (or an admin) may touch it.
    pub owner: String,
    /// The size announced at creation, in bytes.
    pub length: u64,
    /// `Upload-Metadata` (file name, title, date …), NFC.
    pub metadata: BTreeMap<String, String>,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// Set once every byte is in and the file is stored.
    pub finished: Option<Finished>,
}

/// A finished upload's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finished {
    /// The SHA-256 of its bytes (lowercase hex).
    pub sha256: String,
    /// Its path in the media directory.
    pub path: PathBuf,
    /// The audio container its first bytes name (`wav`, `flac` …), or
    /// `None` when they name none: such a file cannot become a job.
    pub format: Option<String>,
    /// Whether the media directory held a file of the same hash already.
    pub duplicate: bool,
}

/// The upload directory and the media directory.
#[derive(Debug, Clone)]
pub struct UploadStore {
    dir: PathBuf,
    media: PathBuf,
}

/// The part files some request is writing, in this process. One set for
/// all: every router built over the same directory (tests build one per
/// request) must see the same holds.
fn busy() -> &'static Mutex<HashSet<PathBuf>> {
    static BUSY: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    BUSY.get_or_init(Mutex::default)
}

/// An upload held for writing until dropped: one writer at a time.
#[derive(Debug)]
pub struct Hold {
    part: PathBuf,
}

impl Drop for Hold {
    fn drop(&mut self) {
        busy()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.part);
    }
}

/// Whether `id` could be an upload's id (so that no path is built from
/// anything else).
pub fn valid_id(id: &str) -> bool {
    id.len() == ID_CHARS && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl UploadStore {
    /// Uploads kept in `dir`, finished ones stored in `media`. Nothing is
    /// created until the first upload.
    pub fn new(dir: PathBuf, media: PathBuf) -> Self {
        Self { dir, media }
    }

    fn record_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Where an unfinished upload's bytes are.
    pub fn part_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.part"))
    }

    /// Holds `id` for writing; `None` while another request does.
    pub fn hold(&self, id: &str) -> Option<Hold> {
        let part = self.part_path(id);
        let mut busy = busy().lock().unwrap_or_else(PoisonError::into_inner);
        // Built only when inserted: a Hold's drop frees its part.
        busy.insert(part.clone()).then(|| Hold { part })
    }

    /// Creates an empty upload.
    pub fn create(
        &self,
        owner: &str,
        length: u64,
        metadata: BTreeMap<String, String>,
        now: i64,
    ) -> io::Result<Upload> {
        fs::create_dir_all(&self.dir)?;
        let mut bytes = [0u8; ID_CHARS / 2];
        getrandom::fill(&mut bytes).map_err(io::Error::other)?;
        let upload = Upload {
            id: hex::encode(bytes),
            owner: owner.to_owned(),
            length,
            metadata,
            created_at: now,
            finished: None,
        };
        File::create_new(self.part_path(&upload.id))?.sync_all()?;
        self.save(&upload)?;
        Ok(upload)
    }

    /// Replaces `upload`'s record atomically.
    pub fn save(&self, upload: &Upload) -> io::Result<()> {
        let path = self.record_path(&upload.id);
        let tmp = path.with_extension("json.tmp");
        let mut file = File::create(&tmp)?;
        file.write_all(&serde_json::to_vec(upload).map_err(io::Error::other)?)?;
        file.sync_all()?;
        fs::rename(&tmp, &path)?;
        sync_dir(&self.dir)
    }

    /// The upload `id`, if there is one.
    pub fn get(&self, id: &str) -> io::Result<Option<Upload>> {
        if !valid_id(id) {
            return Ok(None);
        }
        match fs::read(self.record_path(id)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(io::Error::other),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// How many bytes of `upload` are on disk (fsynced first, so that the
    /// answer survives a crash).
    pub fn offset(&self, upload: &Upload) -> io::Result<u64> {
        if upload.finished.is_some() {
            return Ok(upload.length);
        }
        match File::options()
            .append(true)
            .open(self.part_path(&upload.id))
        {
            Ok(file) => {
                file.sync_data()?;
                Ok(file.metadata()?.len())
            }
            // Moved to the media directory, the record not yet saved: the
            // bytes were all in.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(upload.length),
            Err(e) => Err(e),
        }
    }

    /// How many unfinished uploads `owner` holds.
    pub fn open_count(&self, owner: &str) -> io::Result<usize> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut n = 0;
        for entry in entries {
            let name = entry?.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".part")) else {
                continue;
            };
            if self.get(id)?.is_some_and(|u| u.owner == owner) {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Hashes a complete upload, probes its container, and moves it to the
    /// media directory as `<sha256>.<ext>` (a file of the same hash there
    /// already is kept, and this one dropped). Safe to run again after a
    /// crash at any point.
    pub fn finish(&self, mut upload: Upload) -> io::Result<Upload> {
        if upload.finished.is_some() {
            return Ok(upload);
        }
        let part = self.part_path(&upload.id);
        let head = {
            let mut head = Vec::with_capacity(probe::HEAD_BYTES);
            File::open(&part)?
                .take(probe::HEAD_BYTES as u64)
                .read_to_end(&mut head)?;
            head
        };
        let format = probe::container(&head);
        let sha256 = hash_file(&part)?;
        let ext = format.map_or("bin", probe::Container::extension);
        fs::create_dir_all(&self.media)?;
        let target = self.media.join(format!("{sha256}.{ext}"));
        let duplicate = target.exists();
        if duplicate {
            fs::remove_file(&part)?;
        } else {
            move_file(&part, &target)?;
            sync_dir(&self.media)?;
        }
        upload.finished = Some(Finished {
            sha256,
            path: target,
            format: format.map(|f| f.extension().to_owned()),
            duplicate,
        });
        self.save(&upload)?;
        Ok(upload)
    }

    /// Removes an upload: its bytes if unfinished, and its record. A
    /// finished upload's stored file stays (a job may use it).
    pub fn remove(&self, id: &str) -> io::Result<()> {
        for path in [self.part_path(id), self.record_path(id)] {
            match fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        sync_dir(&self.dir)
    }
}

/// The SHA-256 of a file, read in 1 MiB blocks.
fn hash_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Renames `from` to `to`; across file systems, copies beside `to`,
/// fsyncs, renames, then removes `from`, so that `to` is whole or absent.
fn move_file(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::CrossesDevices => {
            let tmp = to.with_extension("partial");
            fs::copy(from, &tmp)?;
            OpenOptions::new().write(true).open(&tmp)?.sync_all()?;
            fs::rename(&tmp, to)?;
            fs::remove_file(from)
        }
        Err(e) => Err(e),
    }
}

/// Makes a directory's entries (a rename, a new file) durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_upload_is_created_counted_finished_and_deduplicated() {
        let dir = tempfile::tempdir().unwrap();
        let store = UploadStore::new(dir.path().join("up"), dir.path().join("media"));
        let wav = b"RIFF\x24\0\0\0WAVEfmt rest of it";
        let make = || {
            let u = store
                .create("lan", wav.len() as u64, BTreeMap::new(), 1)
                .unwrap();
            fs::write(store.part_path(&u.id), wav).unwrap();
            u
        };
        let first = make();
        assert!(valid_id(&first.id));
        assert_eq!(store.open_count("lan").unwrap(), 1);
        assert_eq!(store.open_count("minh").unwrap(), 0);
        assert_eq!(store.offset(&first).unwrap(), wav.len() as u64);
        let done = store.finish(first).unwrap();
        let f = done.finished.clone().unwrap();
        assert_eq!(f.format.as_deref(), Some("wav"));
        assert!(!f.duplicate);
        assert_eq!(fs::read(&f.path).unwrap(), wav);
        assert_eq!(store.get(&done.id).unwrap(), Some(done.clone()));
        assert_eq!(store.open_count("lan").unwrap(), 0);

        let again = store.finish(make()).unwrap().finished.unwrap();
        assert!(again.duplicate);
        assert_eq!(again.path, f.path);

        assert_eq!(store.get("../../etc/passwd").unwrap(), None);
        store.remove(&done.id).unwrap();
        assert_eq!(store.get(&done.id).unwrap(), None);
        assert!(f.path.exists(), "the stored file stays");
    }

    #[test]
    fn one_writer_at_a_time() {
        let store = UploadStore::new("a".into(), "b".into());
        let hold = store.hold("x").unwrap();
        assert!(store.hold("x").is_none());
        assert!(store.hold("x").is_none(), "a refusal frees nothing");
        // Another store over the same directory sees the same holds.
        let same = UploadStore::new("a".into(), "c".into());
        assert!(same.hold("x").is_none());
        assert!(UploadStore::new("d".into(), "b".into()).hold("x").is_some());
        drop(hold);
        assert!(same.hold("x").is_some());
    }
}
