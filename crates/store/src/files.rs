//! The files that hold records: the data directory, the SQLite database with its `-wal` and
//! `-shm` companions, and backups. Each is created for the service account alone (directory
//! 0700, files 0600) whatever the umask, because under the usual 022 a database file is
//! readable by every local account, and with it every record.
//!
//! SQLite creates the `-wal` and `-shm` files with the database file's own permission bits
//! (its unix VFS copies them), so a database created 0600 keeps its companions 0600 too.

use std::io;
use std::path::{Path, PathBuf};

/// Permission bits of the data directory.
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// Permission bits of the database, its companions, backups and checkpoint files.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// Creates `dir` and any missing parents, each 0700. An existing directory is left as it is
/// (see [`too_open`]).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(PRIVATE_DIR_MODE);
    }
    // The umask can only take bits away from 0700, so a new directory needs no chmod.
    builder.create(dir)
}

/// Opens `path` for writing, created 0600 if missing (the umask can only narrow 0600, never
/// widen it). With `create_new`, fails when it exists.
pub fn open_private(path: &Path, create_new: bool, append: bool) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).append(append);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(PRIVATE_FILE_MODE);
    }
    options.open(path)
}

/// Creates an empty file 0600 unless `path` already exists; true when it created one. An
/// empty file is a valid, empty SQLite database, so creating it before SQLite opens it fixes
/// the database's permissions (and through them its companions').
pub fn create_private_file(path: &Path) -> io::Result<bool> {
    match open_private(path, true, false) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Sets `path` to 0600 (for a file we have just written, e.g. a copy that kept its source's
/// bits).
pub fn make_private(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE_FILE_MODE))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The permission bits of `path` when it exists and grants anything to group or others;
/// `None` when it is private or absent.
pub fn too_open(path: &Path) -> io::Result<Option<u32>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(m) => {
                let mode = m.permissions().mode() & 0o777;
                Ok((mode & 0o077 != 0).then_some(mode))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}

/// The file behind a `sqlite:` URL, or `None` for another backend or an in-memory database.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    let in_memory = path.is_empty() || path == ":memory:" || query.split('&').any(|kv| kv == "mode=memory");
    (!in_memory).then(|| PathBuf::from(path))
}

/// The database file and the companions SQLite keeps beside it in WAL mode.
pub fn sqlite_files(database: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [database.to_path_buf(), with("-wal"), with("-shm")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(sqlite_path("sqlite://data/stepdown.db?mode=rwc"), Some(PathBuf::from("data/stepdown.db")));
        assert_eq!(sqlite_path("sqlite:///srv/s.db"), Some(PathBuf::from("/srv/s.db")));
        assert_eq!(sqlite_path("sqlite:s.db"), Some(PathBuf::from("s.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("sqlite://x.db?mode=memory"), None);
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
    }

    #[test]
    fn companions_sit_beside_the_database() {
        let [db, wal, shm] = sqlite_files(Path::new("/d/stepdown.db"));
        assert_eq!(
            (db, wal, shm),
            (PathBuf::from("/d/stepdown.db"), PathBuf::from("/d/stepdown.db-wal"), PathBuf::from("/d/stepdown.db-shm"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn created_files_and_directories_are_private_and_wider_ones_are_found() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("stepdown-files-{}", uuid::Uuid::new_v4().simple()));
        create_private_dir(&dir.join("inner")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.join("inner")), 0o700);
        let file = dir.join("inner/db");
        assert!(create_private_file(&file).unwrap());
        assert!(!create_private_file(&file).unwrap(), "an existing file is kept");
        assert_eq!(mode(&file), 0o600);
        assert_eq!(too_open(&file).unwrap(), None);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(too_open(&file).unwrap(), Some(0o644));
        make_private(&file).unwrap();
        assert_eq!(too_open(&file).unwrap(), None);
        assert_eq!(too_open(&dir.join("absent")).unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
