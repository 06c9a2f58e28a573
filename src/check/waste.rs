//! The bytes an image wastes: files a later layer overwrites or deletes (a whiteout, an opaque
//! directory) are still pulled and stored in the earlier layer. [`Waste`] is told each entry
//! as the layers stream by (`layers::FileView::apply_layer`), so the figure costs no second
//! read; it keeps each path's size and layer, never contents, and at most
//! `check.limits.max_tracked_paths` paths of `max_tracked_path_bytes` bytes together: past
//! that, new paths are counted in the total but not followed, the wasted bytes are a lower
//! bound and `capped` says so. The check that judges the figure is `checks::efficiency_check`.

use std::collections::BTreeMap;

use super::limits::Limits;

/// What the layers hold and waste, as far as it has been followed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waste {
    /// Path to (size, layer) of regular files with data, as the layers left them so far.
    tracked: BTreeMap<String, (u64, u32)>,
    /// The bytes of the paths in `tracked`.
    path_bytes: u64,
    /// The layer being read (the first is 1).
    layer: u32,
    /// Bytes of regular files in all layers read.
    pub file_bytes: u64,
    /// Bytes of those files that a later entry overwrote or deleted.
    pub wasted_bytes: u64,
    /// Paths were left unfollowed (over the limits): `wasted_bytes` is a lower bound.
    pub capped: bool,
    /// Layers that were not read (zstd): the figure leaves them out.
    pub skipped_layers: u32,
}

impl Waste {
    /// A new layer begins.
    pub fn begin_layer(&mut self) {
        self.layer += 1;
    }

    fn drop_path(&mut self, path: &str) {
        if let Some((size, _)) = self.tracked.remove(path) {
            self.wasted_bytes = self.wasted_bytes.saturating_add(size);
            self.path_bytes = self.path_bytes.saturating_sub(path.len() as u64);
        }
    }

    /// Drops what earlier layers left under `prefix` (every path when it is empty).
    fn drop_under(&mut self, prefix: &str) {
        let layer = self.layer;
        let gone: Vec<String> = self
            .tracked
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(p, _)| p.starts_with(prefix))
            .filter(|(_, (_, l))| *l < layer)
            .map(|(p, _)| p.clone())
            .collect();
        for p in gone {
            self.drop_path(&p);
        }
    }

    /// A regular file of `size` bytes at `path` (clean, without a leading `/`).
    pub fn file(&mut self, path: &str, size: u64, limits: &Limits) {
        self.file_bytes = self.file_bytes.saturating_add(size);
        self.replaced(path);
        if size == 0 {
            return;
        }
        let bytes = path.len() as u64;
        if self.tracked.len() as u64 >= limits.max_tracked_paths
            || self.path_bytes.saturating_add(bytes) > limits.max_tracked_path_bytes
        {
            self.capped = true;
            return;
        }
        self.path_bytes += bytes;
        self.tracked.insert(path.to_owned(), (size, self.layer));
    }

    /// An entry that is not a regular file at `path`: a directory keeps what is under it, a
    /// link or device hides what was there.
    pub fn other(&mut self, path: &str, directory: bool) {
        if directory {
            self.drop_path(path);
        } else {
            self.replaced(path);
        }
    }

    /// Whatever was at `path` (and under it, when it was a directory) is replaced.
    fn replaced(&mut self, path: &str) {
        self.drop_path(path);
        let under = format!("{path}/");
        if self
            .tracked
            .range::<str, _>((
                std::ops::Bound::Included(under.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .next()
            .is_some_and(|(p, _)| p.starts_with(&under))
        {
            self.drop_under(&under);
        }
    }

    /// A whiteout of `target`: it and what is under it, from lower layers, are deleted.
    pub fn whiteout(&mut self, target: &str) {
        let layer = self.layer;
        if self.tracked.get(target).is_some_and(|(_, l)| *l < layer) {
            self.drop_path(target);
        }
        self.drop_under(&format!("{target}/"));
    }

    /// An opaque directory (`dir` empty: the root): what lower layers had in it is hidden.
    pub fn opaque(&mut self, dir: &str) {
        if dir.is_empty() {
            self.drop_under("");
        } else {
            self.drop_under(&format!("{dir}/"));
        }
    }

    /// The share of file bytes not wasted, in percent (100 when there are none).
    pub fn percent(&self) -> f64 {
        if self.file_bytes == 0 {
            100.0
        } else {
            (self.file_bytes - self.wasted_bytes.min(self.file_bytes)) as f64 * 100.0
                / self.file_bytes as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overwritten_and_deleted_files_are_wasted() {
        let limits = Limits::default();
        let mut w = Waste::default();
        w.begin_layer();
        w.file("app/big.bin", 1000, &limits);
        w.file("app/keep", 10, &limits);
        w.file("cache/a", 300, &limits);
        w.file("cache/b", 200, &limits);
        w.file("etc/conf", 50, &limits);
        w.begin_layer();
        w.file("app/big.bin", 900, &limits); // overwritten: 1000 wasted
        w.whiteout("cache"); // 500 wasted
        w.opaque("etc"); // 50 wasted
        w.file("etc/conf", 5, &limits); // this layer's own: kept
        assert_eq!(w.file_bytes, 1000 + 10 + 300 + 200 + 50 + 900 + 5);
        assert_eq!(w.wasted_bytes, 1550);
        let p = w.percent();
        assert!((p - (915.0 * 100.0 / 2465.0)).abs() < 1e-9, "{p}");
        assert!(!w.capped);
        // A link over a file, a file over a directory.
        w.begin_layer();
        w.other("app/keep", false);
        w.file("app", 1, &limits);
        assert_eq!(w.wasted_bytes, 1550 + 10 + 900);
    }

    #[test]
    fn paths_are_capped_and_the_figure_is_a_lower_bound() {
        let limits = Limits {
            max_tracked_paths: 2,
            ..Limits::default()
        };
        let mut w = Waste::default();
        w.begin_layer();
        for p in ["a", "b", "c"] {
            w.file(p, 10, &limits);
        }
        assert!(w.capped);
        w.begin_layer();
        w.whiteout("c");
        w.whiteout("a");
        assert_eq!(w.wasted_bytes, 10, "`c` was not followed");
        let limits = Limits {
            max_tracked_path_bytes: 3,
            ..Limits::default()
        };
        let mut w = Waste::default();
        w.begin_layer();
        w.file("abcd", 1, &limits);
        assert!(w.capped);
        assert_eq!(Waste::default().percent(), 100.0);
    }
}
