//! `openat2(RESOLVE_IN_ROOT)` fails with `EAGAIN` when any mount on the host races with the
//! resolution of a `..`; berth's confined opens must retry instead of failing a container
//! start or a layer unpack because another container was starting. Runs as root.

use std::fs;
use std::os::unix::fs::symlink;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use berth_engine::in_root::open_in_root;
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::mount::{MountFlags, UnmountFlags};

#[test]
fn a_confined_open_survives_concurrent_mounts() {
    assert!(
        rustix::process::geteuid().is_root(),
        "this test mounts tmpfs to race openat2; run it as root, as CI does"
    );
    let base = std::env::temp_dir().join(format!("berth-test-{}-inroot", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let root = base.join("root");
    fs::create_dir_all(root.join("a/b/c")).unwrap();
    fs::write(root.join("a/b/c/file"), "x").unwrap();
    // `..` components and a relative symlink that climbs: each `..` is a point where the
    // kernel checks for a racing mount.
    symlink("../../../a/b/c/file", root.join("a/b/c/up")).unwrap();
    let mnt = base.join("mnt");
    fs::create_dir(&mnt).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let mounter = {
        let (stop, mnt) = (stop.clone(), mnt.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                rustix::mount::mount("tmpfs", &mnt, "tmpfs", MountFlags::empty(), None).unwrap();
                rustix::mount::unmount(&mnt, UnmountFlags::empty()).unwrap();
                n += 1;
            }
            n
        })
    };

    let dir = rustix::fs::open(&root, OFlags::DIRECTORY | OFlags::PATH, Mode::empty()).unwrap();
    let path = "a/b/c/../../b/c/../c/up";
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut raced, mut opened) = (0u32, 0u32);
    let mut failure = None;
    // Until the raw call has been seen to race a few times (the premise), the confined
    // open must succeed every time.
    while raced < 5 && failure.is_none() && Instant::now() < deadline {
        match rustix::fs::openat2(
            &dir,
            path,
            OFlags::RDONLY,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(Errno::AGAIN) => raced += 1,
            Err(e) => failure = Some(format!("raw openat2: {e}")),
            Ok(_) => {}
        }
        match open_in_root(&dir, path, OFlags::RDONLY) {
            Ok(_) => opened += 1,
            Err(e) => failure = Some(format!("confined open after {opened} successes: {e}")),
        }
    }
    // Stop the mounter and clean up before any assertion, so a failure leaves no mount.
    stop.store(true, Ordering::Relaxed);
    let mounts = mounter.join().unwrap();
    fs::remove_dir_all(&base).unwrap();
    assert_eq!(failure, None);
    assert!(
        raced >= 5,
        "openat2 never raced with {mounts} mounts in 20 s ({raced} EAGAINs): the test proved nothing"
    );
}
