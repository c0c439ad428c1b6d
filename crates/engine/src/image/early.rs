//! Layers unpacked while the archive is still streaming in. An archive says which of its
//! files are layers in metadata that usually comes last (`manifest.json`, `index.json`), so
//! `load` unpacks every compressed blob as soon as it is stored, into a staging directory of
//! its own, and computes its diff id on the way. Once the metadata is read, a staged layer is
//! published under its chain id if the config names that diff id, and discarded otherwise
//! (decision 27).

use std::collections::{HashMap, HashSet};
use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::thread::Scope;

use crate::archive::StoredFile;
use crate::digest::{Digest, DigestReader};
use crate::layer;
use crate::store::StagedLayer;

use super::Images;
use super::load::STREAM_BUFFER;

/// A blob unpacked before anyone asked for it.
pub(super) struct EarlyLayer {
    pub staged: StagedLayer,
    /// The digest of the uncompressed stream, to compare with the config's diff id.
    pub diff_id: Digest,
    /// Bytes of the uncompressed tar.
    pub tar_size: u64,
    /// Bytes unpacked, as the unpacker counts them.
    pub unpacked: u64,
}

/// The staged layers of one `load`; those not taken are removed when this is dropped.
pub(super) struct EarlyLayers<'a> {
    images: &'a Images,
    done: Mutex<HashMap<Digest, EarlyLayer>>,
    cancel: AtomicBool,
    /// Blobs to unpack, shared by the unpackers; the sender goes to the [`Queue`].
    receiver: Mutex<mpsc::Receiver<Digest>>,
    sender: Mutex<Option<mpsc::Sender<Digest>>>,
}

impl<'a> EarlyLayers<'a> {
    pub fn new(images: &'a Images) -> Self {
        let (sender, receiver) = mpsc::channel();
        EarlyLayers {
            images,
            done: Mutex::new(HashMap::new()),
            cancel: AtomicBool::new(false),
            receiver: Mutex::new(receiver),
            sender: Mutex::new(Some(sender)),
        }
    }

    /// The queue that takes the archive's files as they are stored; up to `threads`
    /// unpackers are started in `scope` as blobs arrive. They stop once the queue is dropped
    /// and drained. `None` if it was taken before.
    pub fn queue<'scope, 'env>(
        &'scope self,
        scope: &'scope Scope<'scope, 'env>,
        threads: usize,
    ) -> Option<Queue<'scope, 'env>> {
        let sender = lock(&self.sender).take()?;
        Some(Queue {
            layers: self,
            scope,
            sender,
            threads,
            started: 0,
            known: None,
        })
    }

    /// Stops unpacking: queued blobs are skipped, running unpacks end at their next read.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The staged layer of `blob`, if it was unpacked early; each is handed out once.
    pub fn take(&self, blob: &Digest) -> Option<EarlyLayer> {
        lock(&self.done).remove(blob)
    }

    fn work(&self) {
        loop {
            // The lock is held while waiting: whoever holds it takes the next blob.
            let next = lock(&self.receiver).recv();
            let Ok(blob) = next else { return };
            if self.cancel.load(Ordering::Relaxed) {
                continue;
            }
            if let Some(layer) = self.unpack(&blob) {
                lock(&self.done).insert(blob, layer);
            }
        }
    }

    /// Unpacks a blob into a staging directory. Any failure just means "not unpacked early":
    /// if the blob is a layer, `load` unpacks it again the ordinary way and reports the
    /// error with the layer's diff id.
    fn unpack(&self, blob: &Digest) -> Option<EarlyLayer> {
        let store = self.images.store();
        let staged = store.stage_layer().ok()?;
        let file = store.open_blob(blob).ok()?;
        let plain = layer::decompressed(BufReader::with_capacity(STREAM_BUFFER, file)).ok()?;
        let mut hashed = DigestReader::new(Cancellable {
            inner: plain,
            cancel: &self.cancel,
        });
        // The unpacker reads to the end of the stream, so the digest covers all of it.
        let stats = layer::unpack(
            BufReader::with_capacity(STREAM_BUFFER, &mut hashed),
            staged.diff_dir(),
            &self.images.unpack,
        )
        .ok()?;
        staged.sync().ok()?;
        let (diff_id, tar_size) = hashed.finish();
        Some(EarlyLayer {
            staged,
            diff_id,
            tar_size,
            unpacked: stats.bytes,
        })
    }
}

/// Where the archive reader reports stored files; dropping it closes the queue.
pub(super) struct Queue<'scope, 'env> {
    layers: &'scope EarlyLayers<'scope>,
    scope: &'scope Scope<'scope, 'env>,
    sender: mpsc::Sender<Digest>,
    /// Unpackers to start at most, and started so far (one per queued blob until then).
    threads: usize,
    started: usize,
    /// Compressed blobs of images already in the store: their layers exist, so unpacking
    /// them again would be wasted (read lazily, on the first compressed file).
    known: Option<HashSet<Digest>>,
}

impl Queue<'_, '_> {
    /// Queues a stored file for unpacking if it looks like a compressed layer that the
    /// store does not have yet. Plain tars are left alone: in docker-save archives they are
    /// the uncompressed layers, stored under their diff ids and unpacked from there.
    pub fn offer(&mut self, file: &StoredFile) {
        if !file.compressed || self.layers.cancel.load(Ordering::Relaxed) {
            return;
        }
        let store = self.layers.images.store();
        let known = self.known.get_or_insert_with(|| {
            store
                .images()
                .unwrap_or_default()
                .into_iter()
                .flat_map(|image| image.layers.into_iter().filter_map(|l| l.blob))
                .collect()
        });
        if !known.insert(file.digest.clone()) {
            return;
        }
        if self.started < self.threads {
            let layers = self.layers;
            self.scope.spawn(move || layers.work());
            self.started += 1;
        }
        // Fails only when every unpacker is gone, and then `load` does the work itself.
        let _ = self.sender.send(file.digest.clone());
    }
}

/// A panicking unpacker ends the load anyway (the scope re-raises it); what it held is
/// still consistent, so a poisoned lock is used as it is.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Fails reads once the load is cancelled, so an unpack of a blob nobody needs stops early.
struct Cancellable<'a, R> {
    inner: R,
    cancel: &'a AtomicBool,
}

impl<R: Read> Read for Cancellable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::other("load cancelled"));
        }
        self.inner.read(buf)
    }
}
