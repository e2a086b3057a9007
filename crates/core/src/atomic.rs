//! Files that appear complete or not at all, so a crash never leaves a
//! half-written transcript or model behind: write `NAME.partial`, sync,
//! then rename over `NAME`.
//!
//! The partial file is locked while it is written, so a second writer of
//! the same target (another `tocky` run on the same output folder) gets a
//! clear error instead of interleaving its bytes with the first one's. The
//! lock dies with its process, so a crash's leftover is simply reused.

use std::fs::{File, TryLockError};
use std::io::{Error, ErrorKind, Result, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A file being written beside its final path.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    partial: PathBuf,
    /// The open, locked partial file.
    handle: File,
    committed: bool,
}

impl AtomicFile {
    /// Prepares to write `path`; the data goes to `path.partial` meanwhile.
    ///
    /// Fails with [`ErrorKind::ResourceBusy`] while another writer (in this
    /// process or another) has the same target open.
    pub fn create(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        // Not truncated on open: the bytes may be another writer's until the
        // lock says otherwise.
        let handle = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&partial)?;
        match handle.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Error::new(
                    ErrorKind::ResourceBusy,
                    format!(
                        "{} is being written by another process (or another task of this one)",
                        path.display()
                    ),
                ));
            }
            Err(TryLockError::Error(e)) => return Err(e),
        }
        // A writer that just finished may have removed or renamed the file
        // between our open and our lock: then it is no longer the partial
        // file, and writing it would be lost.
        if !same_file(&handle, &partial) {
            return Err(Error::new(
                ErrorKind::ResourceBusy,
                format!(
                    "{} was being written by another task; try again",
                    path.display()
                ),
            ));
        }
        handle.set_len(0)?;
        Ok(Self {
            path: path.to_owned(),
            partial,
            handle,
            committed: false,
        })
    }

    /// The temporary path being written.
    pub fn partial_path(&self) -> &Path {
        &self.partial
    }

    /// The temporary file, emptied, for writing from its start.
    pub fn file(&self) -> Result<File> {
        // A clone shares the lock (and the offset) with `handle`.
        let mut file = self.handle.try_clone()?;
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    }

    /// Syncs the temporary file and renames it to the final path.
    pub fn commit(mut self) -> Result<()> {
        self.handle.sync_all()?;
        std::fs::rename(&self.partial, &self.path)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable; not all filesystems allow this.
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        self.committed = true;
        Ok(())
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let target = AtomicFile::create(path)?;
    std::io::Write::write_all(&mut target.file()?, bytes)?;
    target.commit()
}

/// Whether `path` still names the file open as `handle`.
fn same_file(handle: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (handle.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (handle, path);
        true
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            // Removed while still locked, so no other writer can have
            // started on it meanwhile.
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_target_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/a.json");
        let target = AtomicFile::create(&path).unwrap();
        target.file().unwrap().write_all(b"whole").unwrap();
        assert!(!path.exists());
        assert!(target.partial_path().exists());
        target.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
        assert!(!dir.path().join("out/a.json.partial").exists());
    }

    #[test]
    fn an_abandoned_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        std::fs::write(&path, b"old").unwrap();
        {
            let target = AtomicFile::create(&path).unwrap();
            target.file().unwrap().write_all(b"half").unwrap();
        }
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert!(!dir.path().join("a.json.partial").exists());
    }

    #[test]
    fn a_second_writer_of_the_same_target_is_refused_until_the_first_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        let first = AtomicFile::create(&path).unwrap();
        first.file().unwrap().write_all(b"first").unwrap();
        let err = AtomicFile::create(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ResourceBusy);
        assert!(err.to_string().contains("a.json"), "{err}");
        // The refused writer did not touch the first one's bytes.
        assert_eq!(std::fs::read(first.partial_path()).unwrap(), b"first");
        first.commit().unwrap();
        write(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
    }

    #[test]
    fn a_crashed_writers_leftover_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        // What a killed process leaves: the partial file, unlocked.
        std::fs::write(dir.path().join("a.json.partial"), b"a much longer leftover").unwrap();
        write(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert!(!dir.path().join("a.json.partial").exists());
    }
}
