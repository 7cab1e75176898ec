//! An ordered index over a store of customers, so that a list page is a
//! range of it rather than a pass over the whole store.
//!
//! The store stays a `Vec` in the order customers were added (nothing is
//! ever removed); the index holds `(key, position)` pairs sorted by key,
//! ties going by position, which is the order a stable sort of the store
//! by that key gives. Finding where a page starts is a binary search, and
//! the page is the slice after it.
//!
//! Every emulator uses it (ChartMogul by `customer-since` and `id`,
//! Fusebill by `id` and by `modifiedTimestamp`, Everlytic by `id`).

/// The positions of a store's customers, sorted by a key of each.
///
/// Whoever changes a stored customer re-files it with [`set`](Self::set)
/// (a no-op when its key did not change), and whoever adds customers files
/// them with [`extend`](Self::extend).
#[derive(Debug, Clone, Default)]
pub(crate) struct SortedIndex<K> {
    /// `(key, position)`, sorted.
    entries: Vec<(K, usize)>,
    /// The key each position is filed under.
    keys: Vec<K>,
}

impl<K: Ord + Copy> SortedIndex<K> {
    /// An index of the store whose customers have `keys`, in store order.
    pub(crate) fn new(keys: impl IntoIterator<Item = K>) -> SortedIndex<K> {
        let mut index = SortedIndex {
            entries: Vec::new(),
            keys: Vec::new(),
        };
        index.extend(keys);
        index
    }

    /// Files the customers added after the ones indexed (the next
    /// positions of the store), with these keys.
    pub(crate) fn extend(&mut self, keys: impl IntoIterator<Item = K>) {
        let sorted = self.entries.len();
        for key in keys {
            let position = self.keys.len();
            self.keys.push(key);
            self.entries.push((key, position));
        }
        // Two sorted runs (the old entries and the new ones, which usually
        // come in rising order): a stable sort merges them in linear time,
        // and is skipped when the new run simply goes last.
        if !self.entries[sorted.saturating_sub(1)..].is_sorted() {
            self.entries.sort();
        }
    }

    /// How many customers are indexed.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key `position` is filed under.
    pub(crate) fn key(&self, position: usize) -> K {
        self.keys[position]
    }

    /// Re-files the customer at `position` under `key` (nothing to do
    /// when its key is unchanged).
    pub(crate) fn set(&mut self, position: usize, key: K) {
        let old = self.keys[position];
        if old == key {
            return;
        }
        if let Ok(at) = self.entries.binary_search(&(old, position)) {
            self.entries.remove(at);
        }
        let at = self.entries.partition_point(|e| *e < (key, position));
        self.entries.insert(at, (key, position));
        self.keys[position] = key;
    }

    /// Every `(key, position)`, in order.
    pub(crate) fn entries(&self) -> &[(K, usize)] {
        &self.entries
    }

    /// The entries whose key is above `key`, in order.
    pub(crate) fn after(&self, key: &K) -> &[(K, usize)] {
        let at = self.entries.partition_point(|(k, _)| k <= key);
        &self.entries[at..]
    }

    /// The entries with `lower <= key < upper` (a missing bound does not
    /// limit), in order.
    pub(crate) fn range(&self, lower: Option<&K>, upper: Option<&K>) -> &[(K, usize)] {
        let start = lower.map_or(0, |l| self.entries.partition_point(|(k, _)| k < l));
        let end = upper.map_or(self.entries.len(), |u| {
            self.entries.partition_point(|(k, _)| k < u)
        });
        &self.entries[start..end.max(start)]
    }

    /// The entries whose key is `key`, in order.
    pub(crate) fn equal(&self, key: &K) -> &[(K, usize)] {
        let start = self.entries.partition_point(|(k, _)| k < key);
        let end = self.entries.partition_point(|(k, _)| k <= key);
        &self.entries[start..end]
    }
}

#[cfg(test)]
mod tests {
    use super::SortedIndex;

    fn positions(entries: &[(i64, usize)]) -> Vec<usize> {
        entries.iter().map(|(_, p)| *p).collect()
    }

    /// What the index must agree with: a stable sort of the positions by
    /// key.
    fn sorted_by_key(keys: &[i64]) -> Vec<usize> {
        let mut positions: Vec<usize> = (0..keys.len()).collect();
        positions.sort_by_key(|&p| keys[p]);
        positions
    }

    #[test]
    fn entries_follow_a_stable_sort_through_adds_and_moves() {
        let mut keys = vec![5, 3, 9, 3];
        let mut index = SortedIndex::new(keys.iter().copied());
        assert_eq!(positions(index.entries()), sorted_by_key(&keys));
        index.extend([10, 11, 1, 3]);
        keys.extend([10, 11, 1, 3]);
        assert_eq!(positions(index.entries()), sorted_by_key(&keys));
        for (position, key) in [(0, 12), (4, 0), (7, 3), (2, 3), (2, 3), (6, 20)] {
            index.set(position, key);
            keys[position] = key;
            assert_eq!(positions(index.entries()), sorted_by_key(&keys));
        }
        assert_eq!(index.len(), keys.len());
        assert_eq!(index.key(0), 12);
    }

    #[test]
    fn ranges() {
        let index = SortedIndex::new([5, 3, 9, 3, 7]);
        assert_eq!(positions(index.after(&3)), [0, 4, 2]);
        assert_eq!(positions(index.after(&9)), Vec::<usize>::new());
        assert_eq!(positions(index.range(Some(&3), Some(&7))), [1, 3, 0]);
        assert_eq!(positions(index.range(None, Some(&5))), [1, 3]);
        assert_eq!(positions(index.range(Some(&6), None)), [4, 2]);
        assert_eq!(
            positions(index.range(Some(&8), Some(&4))),
            Vec::<usize>::new()
        );
        assert_eq!(positions(index.equal(&3)), [1, 3]);
        assert_eq!(positions(index.equal(&4)), Vec::<usize>::new());
    }
}
