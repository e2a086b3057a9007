//! Files that appear complete or not at all, so a crash never leaves a
//! half-written transcript or model behind: write `NAME.partial`, sync,
//! then rename over `NAME`.

use std::fs::File;
use std::path::{Path, PathBuf};

use std::io::Result;

/// A file being written beside its final path.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    partial: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Prepares to write `path`; the data goes to `path.partial` meanwhile.
    pub fn create(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        Ok(Self {
            path: path.to_owned(),
            partial: partial.into(),
            committed: false,
        })
    }

    /// The temporary path being written.
    pub fn partial_path(&self) -> &Path {
        &self.partial
    }

    /// Opens (truncating) the temporary file for writing.
    pub fn file(&self) -> Result<File> {
        File::create(&self.partial)
    }

    /// Syncs the temporary file and renames it to the final path.
    pub fn commit(mut self) -> Result<()> {
        let f = File::options().write(true).open(&self.partial)?;
        f.sync_all()?;
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

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}
