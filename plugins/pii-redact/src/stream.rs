//! What a guard remembers of the streams under way: whether the host already sent text of a
//! choice, so that the text it shows again no longer starts where the stream did.

use std::cell::RefCell;
use std::collections::HashSet;

/// Streams are told apart by request id and choice.
pub(crate) type Key = (String, u32);

/// The choices whose text the host sent some of (the instance is single-threaded).
#[derive(Default)]
pub(crate) struct Streams(RefCell<HashSet<Key>>);

/// More than this many choices under way means streams ended without their last call (the
/// client went away): forget them all.
const MAX_STREAMS: usize = 4096;

impl Streams {
    /// Whether the next text of `key` starts after text the host already sent.
    pub fn mid(&self, key: &Key) -> bool {
        self.0.borrow().contains(key)
    }

    /// Records what the guard let through for `key` (`None` when the stream ends): the host
    /// sends all of `out` but its last `look_behind` bytes (moved back to a char boundary) and
    /// shows those again with the next delta.
    pub fn after(&self, key: Key, out: Option<&str>, look_behind: usize) {
        let mut map = self.0.borrow_mut();
        match out {
            None => {
                map.remove(&key);
            }
            Some(out) => {
                let mut cut = out.len().saturating_sub(look_behind);
                while !out.is_char_boundary(cut) {
                    cut -= 1;
                }
                if cut > 0 {
                    if map.len() >= MAX_STREAMS {
                        map.clear();
                    }
                    map.insert(key);
                }
            }
        }
    }
}
