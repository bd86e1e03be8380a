//! Per-node slots that exist only once something is written to them.
//!
//! A tree has a slot index for every node, but an idle server has written almost none of
//! them: no feeder has sent a value, no client has set a target or subscribed. [`NodeSlots`]
//! allocates its slots a chunk of [`CHUNK`] neighbouring nodes at a time, on the first
//! write into the chunk, so a server's memory follows the signals in use rather than the
//! size of the tree. Reads of a slot that was never written cost one atomic load and find
//! nothing; once a chunk exists, reads and writes allocate nothing.

use std::sync::OnceLock;

/// Nodes per chunk: neighbours in tree order (one branch's leaves) share a chunk.
pub const CHUNK: usize = 64;

/// `len` slots of `T`, allocated a chunk at a time.
pub struct NodeSlots<T> {
    chunks: Box<[OnceLock<Box<[T]>>]>,
    len: usize,
}

impl<T: Default> NodeSlots<T> {
    /// Room for `len` slots; nothing is allocated but the chunk table.
    pub fn new(len: usize) -> Self {
        Self {
            chunks: (0..len.div_ceil(CHUNK)).map(|_| OnceLock::new()).collect(),
            len,
        }
    }

    /// How many slots there are room for.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    /// The slot at `index` if its chunk was ever written (`None` reads as "nothing here").
    pub fn get(&self, index: usize) -> Option<&T> {
        let chunk = self.chunks.get(index / CHUNK)?.get()?;
        chunk.get(index % CHUNK)
    }

    /// The slot at `index`, allocating its chunk on first use; `None` when out of range.
    pub fn get_or_create(&self, index: usize) -> Option<&T> {
        if index >= self.len {
            return None;
        }
        let first = index - index % CHUNK;
        let chunk = self.chunks.get(index / CHUNK)?.get_or_init(|| {
            let size = CHUNK.min(self.len - first);
            (0..size).map(|_| T::default()).collect()
        });
        chunk.get(index % CHUNK)
    }

    /// Every slot that exists, with its index, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.chunks
            .iter()
            .enumerate()
            .filter_map(|(number, chunk)| Some((number * CHUNK, chunk.get()?)))
            .flat_map(|(first, chunk)| {
                chunk
                    .iter()
                    .enumerate()
                    .map(move |(offset, slot)| (first + offset, slot))
            })
    }
}

impl<T> std::fmt::Debug for NodeSlots<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let allocated = self.chunks.iter().filter(|chunk| chunk.get().is_some());
        f.debug_struct("NodeSlots")
            .field("len", &self.len)
            .field("allocated_chunks", &allocated.count())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_exist_only_after_a_write_into_their_chunk() {
        let slots: NodeSlots<u32> = NodeSlots::new(150);
        assert_eq!(slots.len(), 150);
        assert!(slots.get(0).is_none());
        assert!(slots.get(149).is_none());
        assert!(slots.get_or_create(70).is_some());
        // The whole chunk of 70 (64..128) now exists, the others still do not.
        assert!(slots.get(64).is_some() && slots.get(127).is_some());
        assert!(slots.get(63).is_none() && slots.get(128).is_none());
        let indices: Vec<usize> = slots.iter().map(|(index, _)| index).collect();
        assert_eq!(indices, (64..128).collect::<Vec<_>>());
    }

    #[test]
    fn the_last_chunk_is_cut_to_the_length_and_nothing_past_it_exists() {
        let slots: NodeSlots<u8> = NodeSlots::new(130);
        assert!(slots.get_or_create(129).is_some());
        assert_eq!(slots.iter().count(), 2);
        assert!(slots.get_or_create(130).is_none());
        assert!(slots.get(130).is_none());
        assert!(NodeSlots::<u8>::new(0).get_or_create(0).is_none());
    }
}
