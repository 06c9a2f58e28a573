//! A tar reader for hostile layers: it walks the 512-byte headers of a stream (ustar, GNU and
//! PAX, as Docker, BuildKit and other image builders write them) and applies the extension
//! headers (GNU long names and long links, PAX `path`, `linkpath` and `size`) itself, reading
//! each only after checking its size against [`Limits`]. The `tar` crate reads those headers
//! whole into memory whatever their size, which let a 522 KB layer take gigabytes; it is used
//! here only to decode the fields of a header block.
//!
//! Entry data is skipped unless the caller reads it; nothing is written to disk.

use std::io::{self, Read};

use super::limits::{over, Limits, Problem};
use crate::text::thousands;

const BLOCK: u64 = 512;

/// An error of reading a layer: a problem of the image, or of the stream under it.
#[derive(Debug)]
pub enum TarError {
    Problem(Problem),
    Io(io::Error),
}

impl From<Problem> for TarError {
    fn from(p: Problem) -> Self {
        TarError::Problem(p)
    }
}

impl From<io::Error> for TarError {
    fn from(e: io::Error) -> Self {
        TarError::Io(e)
    }
}

/// The kind of an entry, as far as the checks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Symlink,
    HardLink,
    Directory,
    Other,
}

/// One entry of the archive, with its extension headers applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path as the archive spells it (lossily UTF-8).
    pub path: String,
    /// The link target of a symlink or hard link.
    pub link: Option<String>,
    pub kind: Kind,
    /// Bytes of data in the archive.
    pub size: u64,
}

/// Reads the entries of one layer.
pub struct TarStream<'a, R: Read> {
    inner: &'a mut R,
    limits: &'a Limits,
    /// Data of the current entry not read yet, and its padding.
    remaining: u64,
    padding: u64,
    /// Headers read (extension headers included).
    pub headers: u64,
    done: bool,
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` on a clean end before the first byte.
fn read_block(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the layer ends inside a tar header",
                ))
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn skip(r: &mut impl Read, n: u64) -> io::Result<()> {
    let copied = io::copy(&mut r.take(n), &mut io::sink())?;
    if copied < n {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the layer ends inside a tar entry",
        ));
    }
    Ok(())
}

fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

fn malformed(what: impl Into<String>) -> TarError {
    TarError::Problem(Problem::Malformed(what.into()))
}

/// The NUL-terminated text of an extension header's data.
fn until_nul(mut data: Vec<u8>) -> Vec<u8> {
    if let Some(end) = data.iter().position(|b| *b == 0) {
        data.truncate(end);
    }
    data
}

/// The records of a PAX extended header (`<length> <key>=<value>\n`, the length counting the
/// whole record); the keys the reader uses.
#[derive(Debug, Default, PartialEq, Eq)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
}

fn parse_pax(data: &[u8]) -> Result<Pax, TarError> {
    let mut pax = Pax::default();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.iter().all(|b| *b == 0) {
            break;
        }
        let space = rest
            .iter()
            .take(20)
            .position(|b| *b == b' ')
            .ok_or_else(|| malformed("a PAX header record without a length"))?;
        let length: usize = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|n| *n > space + 1 && *n <= rest.len())
            .ok_or_else(|| malformed("a PAX header record with a bad length"))?;
        let record = &rest[space + 1..length];
        rest = &rest[length..];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        let Some(eq) = record.iter().position(|b| *b == b'=') else {
            return Err(malformed("a PAX header record without `=`"));
        };
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        match key {
            b"path" => pax.path = Some(value.to_vec()),
            b"linkpath" => pax.linkpath = Some(value.to_vec()),
            b"size" => {
                pax.size = Some(
                    std::str::from_utf8(value)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| malformed("a PAX `size` that is not a number"))?,
                )
            }
            _ => {}
        }
    }
    Ok(pax)
}

impl<'a, R: Read> TarStream<'a, R> {
    pub fn new(inner: &'a mut R, limits: &'a Limits) -> Self {
        TarStream {
            inner,
            limits,
            remaining: 0,
            padding: 0,
            headers: 0,
            done: false,
        }
    }

    /// The data of an extension header, at most `max` bytes (checked before it is read).
    fn extension(
        &mut self,
        size: u64,
        max: u64,
        key: &'static str,
        what: &str,
    ) -> Result<Vec<u8>, TarError> {
        if size > max {
            return Err(over(key, max, format!("{what} of {} bytes", thousands(size))).into());
        }
        let mut data = vec![0; size as usize];
        if !read_block(self.inner, &mut data)? && size > 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the layer ends inside a tar header",
            )
            .into());
        }
        skip(self.inner, padding(size))?;
        Ok(data)
    }

    fn name(&self, bytes: Vec<u8>, what: &str) -> Result<String, TarError> {
        if bytes.len() as u64 > self.limits.max_name_bytes {
            return Err(over(
                "max_name_bytes",
                self.limits.max_name_bytes,
                format!("{what} of {} bytes", thousands(bytes.len() as u64)),
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The next entry, after skipping what is left of the current one; `None` at the end of
    /// the archive.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, TarError> {
        if self.done {
            return Ok(None);
        }
        // Saturating: a header may claim 2^64 - 1 bytes; skipping then ends at the stream's end.
        skip(self.inner, self.remaining.saturating_add(self.padding))?;
        self.remaining = 0;
        self.padding = 0;
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax: Option<Pax> = None;
        let mut block = [0u8; BLOCK as usize];
        loop {
            if !read_block(self.inner, &mut block)? {
                if long_name.is_some() || long_link.is_some() || pax.is_some() {
                    return Err(malformed("the layer ends after an extension header"));
                }
                self.done = true;
                return Ok(None);
            }
            if block.iter().all(|b| *b == 0) {
                // The end of the archive (two zero blocks; the rest is drained by the caller).
                self.done = true;
                return Ok(None);
            }
            self.headers += 1;
            if self.headers > self.limits.max_entries_per_layer {
                return Err(over(
                    "max_entries_per_layer",
                    self.limits.max_entries_per_layer,
                    format!(
                        "more than {} tar headers",
                        thousands(self.limits.max_entries_per_layer)
                    ),
                )
                .into());
            }
            let header = tar::Header::from_byte_slice(&block);
            let stored = header
                .cksum()
                .map_err(|_| malformed("a tar header with an unreadable checksum"))?;
            let sum: u32 = block[..148]
                .iter()
                .chain(&block[156..])
                .map(|b| u32::from(*b))
                .sum::<u32>()
                + 8 * 32;
            if sum != stored {
                return Err(malformed("a tar header whose checksum does not match"));
            }
            let size = header
                .entry_size()
                .map_err(|_| malformed("a tar header with an unreadable size"))?;
            let kind = header.entry_type();
            if kind.is_gnu_longname() {
                if long_name.is_some() {
                    return Err(malformed("two GNU long names for one entry"));
                }
                let data = self.extension(
                    size,
                    self.limits.max_name_bytes,
                    "max_name_bytes",
                    "a GNU long name",
                )?;
                long_name = Some(until_nul(data));
                continue;
            }
            if kind.is_gnu_longlink() {
                if long_link.is_some() {
                    return Err(malformed("two GNU long link names for one entry"));
                }
                let data = self.extension(
                    size,
                    self.limits.max_name_bytes,
                    "max_name_bytes",
                    "a GNU long link name",
                )?;
                long_link = Some(until_nul(data));
                continue;
            }
            if kind.is_pax_local_extensions() {
                if pax.is_some() {
                    return Err(malformed("two PAX headers for one entry"));
                }
                let data = self.extension(
                    size,
                    self.limits.max_header_bytes,
                    "max_header_bytes",
                    "a PAX header",
                )?;
                pax = Some(parse_pax(&data)?);
                continue;
            }
            if kind.is_pax_global_extensions() {
                // Global defaults: read within the limit and not used.
                self.extension(
                    size,
                    self.limits.max_header_bytes,
                    "max_header_bytes",
                    "a PAX global header",
                )?;
                continue;
            }
            if kind.is_gnu_sparse() {
                // The sparse map may go on in extension blocks after the header.
                let mut extended = block[482] != 0;
                let mut read = 0u64;
                while extended {
                    read += BLOCK;
                    if read > self.limits.max_header_bytes {
                        return Err(over(
                            "max_header_bytes",
                            self.limits.max_header_bytes,
                            format!(
                                "a GNU sparse map of more than {} bytes",
                                thousands(self.limits.max_header_bytes)
                            ),
                        )
                        .into());
                    }
                    let mut ext = [0u8; BLOCK as usize];
                    if !read_block(self.inner, &mut ext)? {
                        return Err(malformed("the layer ends inside a GNU sparse map"));
                    }
                    extended = ext[504] != 0;
                }
            }
            let pax = pax.unwrap_or_default();
            let size = pax.size.unwrap_or(size);
            let path = match long_name.or(pax.path) {
                Some(p) => p,
                None => header.path_bytes().into_owned(),
            };
            let path = self.name(path, "an entry name")?;
            let link = match long_link.or(pax.linkpath) {
                Some(l) => Some(l),
                None => header.link_name_bytes().map(|l| l.into_owned()),
            };
            let link = match link {
                Some(l) if !l.is_empty() => Some(self.name(l, "a link target")?),
                _ => None,
            };
            // A sparse file's data is not its content: it is skipped, never kept.
            let kind = if kind.is_file() || kind.is_contiguous() {
                Kind::File
            } else if kind.is_symlink() {
                Kind::Symlink
            } else if kind.is_hard_link() {
                Kind::HardLink
            } else if kind.is_dir() {
                Kind::Directory
            } else {
                Kind::Other
            };
            self.remaining = size;
            self.padding = padding(size);
            return Ok(Some(Entry {
                path,
                link,
                kind,
                size,
            }));
        }
    }

    /// The whole data of the current entry (the caller checks its size first).
    pub fn read_data(&mut self) -> Result<Vec<u8>, TarError> {
        let mut data = vec![0; self.remaining as usize];
        if !data.is_empty() && !read_block(self.inner, &mut data)? {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the layer ends inside a tar entry",
            )
            .into());
        }
        self.remaining = 0;
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(archive: &[u8], limits: &Limits) -> Result<Vec<Entry>, TarError> {
        let mut r = archive;
        let mut s = TarStream::new(&mut r, limits);
        let mut out = Vec::new();
        while let Some(e) = s.next_entry()? {
            out.push(e);
        }
        Ok(out)
    }

    fn gnu_long_name(name: &str, content: &[u8]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, content).unwrap();
        b.into_inner().unwrap()
    }

    #[test]
    fn long_names_links_and_pax_paths_are_applied() {
        let long = format!("usr/lib/jvm/{}/release", "j".repeat(300));
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o644);
        b.append_data(&mut h, &long, &b"abc"[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "etc/os-release", format!("../{}", "l".repeat(200)))
            .unwrap();
        // A PAX path over a short ustar name.
        let mut h = tar::Header::new_ustar();
        h.set_size(2);
        h.set_mode(0o644);
        b.append_pax_extensions([("path", "opt/java/openjdk/release".as_bytes())])
            .unwrap();
        b.append_data(&mut h, "short", &b"hi"[..]).unwrap();
        let archive = b.into_inner().unwrap();
        let got = entries(&archive, &Limits::default()).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].path, long);
        assert_eq!(got[0].kind, Kind::File);
        assert_eq!(got[1].kind, Kind::Symlink);
        assert_eq!(
            got[1].link.as_deref(),
            Some(format!("../{}", "l".repeat(200)).as_str())
        );
        assert_eq!(got[2].path, "opt/java/openjdk/release");
        assert_eq!(got[2].size, 2);

        let mut r = &archive[..];
        let limits = Limits::default();
        let mut s = TarStream::new(&mut r, &limits);
        s.next_entry().unwrap();
        assert_eq!(s.read_data().unwrap(), b"abc");
        assert_eq!(s.next_entry().unwrap().unwrap().kind, Kind::Symlink);
    }

    #[test]
    fn a_long_name_over_the_limit_is_refused_before_it_is_read() {
        // The name's size is what the header says: the data is never read.
        let mut archive = gnu_long_name(&"a".repeat(5000), b"x");
        let e = entries(&archive, &Limits::default()).unwrap_err();
        let TarError::Problem(p) = e else {
            panic!("{e:?}")
        };
        assert_eq!(
            p.to_string(),
            "a GNU long name of 5,001 bytes: over `check.limits.max_name_bytes` (4,096)"
        );
        // A header that claims a name of 1 TiB in a short stream: the same, no allocation.
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::GNULongName);
        h.set_size(1 << 40);
        h.set_cksum();
        archive = h.as_bytes().to_vec();
        archive.extend_from_slice(&[0; 1024]);
        let TarError::Problem(p) = entries(&archive, &Limits::default()).unwrap_err() else {
            panic!()
        };
        assert!(
            p.to_string()
                .starts_with("a GNU long name of 1,099,511,627,776 bytes"),
            "{p}"
        );
    }

    #[test]
    fn pax_headers_and_entry_counts_are_bounded() {
        let mut b = tar::Builder::new(Vec::new());
        let big = "x".repeat(2000);
        b.append_pax_extensions([("comment", big.as_bytes())])
            .unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_size(0);
        b.append_data(&mut h, "a", &b""[..]).unwrap();
        let archive = b.into_inner().unwrap();
        let limits = Limits {
            max_header_bytes: 1000,
            ..Limits::default()
        };
        let TarError::Problem(p) = entries(&archive, &limits).unwrap_err() else {
            panic!()
        };
        assert!(p.to_string().contains("a PAX header of 2,0"), "{p}");
        assert!(
            p.to_string()
                .ends_with("over `check.limits.max_header_bytes` (1,000)"),
            "{p}"
        );

        let mut b = tar::Builder::new(Vec::new());
        for i in 0..5 {
            let mut h = tar::Header::new_gnu();
            h.set_size(0);
            b.append_data(&mut h, format!("f{i}"), &b""[..]).unwrap();
        }
        let archive = b.into_inner().unwrap();
        let limits = Limits {
            max_entries_per_layer: 4,
            ..Limits::default()
        };
        let TarError::Problem(p) = entries(&archive, &limits).unwrap_err() else {
            panic!()
        };
        assert_eq!(
            p.to_string(),
            "more than 4 tar headers: over `check.limits.max_entries_per_layer` (4)"
        );
        assert_eq!(entries(&archive, &Limits::default()).unwrap().len(), 5);
    }

    #[test]
    fn corrupt_and_truncated_archives_are_malformed_or_io_errors() {
        let mut archive = gnu_long_name("etc/os-release", b"ID=debian\n");
        archive[100] ^= 0xff; // the mode field: the checksum no longer matches
        let TarError::Problem(p) = entries(&archive, &Limits::default()).unwrap_err() else {
            panic!()
        };
        assert_eq!(
            p,
            Problem::Malformed("a tar header whose checksum does not match".into())
        );
        let archive = gnu_long_name("etc/os-release", &[7; 2000]);
        let mut r = &archive[..700];
        let limits = Limits::default();
        let mut s = TarStream::new(&mut r, &limits);
        s.next_entry().unwrap();
        assert!(matches!(s.next_entry(), Err(TarError::Io(_))));
        assert!(matches!(
            parse_pax(b"99 path=x\n"),
            Err(TarError::Problem(Problem::Malformed(_)))
        ));
        assert_eq!(
            parse_pax(b"13 path=abcd\n11 size=42\n").unwrap(),
            Pax {
                path: Some(b"abcd".to_vec()),
                linkpath: None,
                size: Some(42)
            }
        );
    }
}
