//! The image store on disk: blobs, image records, tags, unpacked layers. STUB (owner:
//! store helper).
