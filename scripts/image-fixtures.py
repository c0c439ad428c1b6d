#!/usr/bin/env python3
"""Benchmark inputs for `scripts/bench` (never committed; written into a temp dir).

    image-fixtures.py big OUT.tar [MB]   docker-save archive, one image, 3 gzip layers,
                                         ~5,000 files of varied sizes, MB uncompressed
                                         (default 200); prints the uncompressed layer bytes
    image-fixtures.py many OUT.tar N     docker-save archive of N images sharing one tiny
                                         layer, each with its own config and tag
    image-fixtures.py evict DIR...       drop the page cache of every file under DIR (after
                                         a sync), so the next load writes into recycled memory

Deterministic (fixed seed), so runs compare.
"""
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile


def sha(b):
    return hashlib.sha256(b).hexdigest()


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def pool(rng, size):
    """Half text-like (compresses ~3:1), half random (incompressible), in 64 KiB runs: about
    the mix of a distribution image (binaries, libraries, text)."""
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(2000)]
    out = bytearray()
    while len(out) < size:
        if rng.random() < 0.5:
            out += rng.randbytes(65536)
        else:
            run = bytearray()
            while len(run) < 65536:
                run += rng.choice(words) + (b"\n" if rng.random() < 0.1 else b" ")
            out += run[:65536]
    return bytes(out)


def layer_tar(rng, data, files, index):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = set()
        for n, size in enumerate(files):
            d = f"usr/share/l{index}/d{n % 97}"
            for parent in (f"usr", "usr/share", f"usr/share/l{index}", d):
                if parent not in dirs:
                    info = tarfile.TarInfo(parent)
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                    dirs.add(parent)
            off = rng.randrange(0, len(data) - size) if size < len(data) else 0
            add(tar, f"{d}/f{n}", data[off:off + size])
    return buf.getvalue()


def docker_save(path, images):
    """images: [(config bytes, [layer blob bytes], [tags])]"""
    manifest = []
    written = set()
    with tarfile.open(path, mode="w") as tar:
        for config, layers, tags in images:
            names = []
            for blob in [config] + layers:
                name = f"blobs/sha256/{sha(blob)}"
                if name not in written:
                    add(tar, name, blob)
                    written.add(name)
                names.append(name)
            manifest.append({"Config": names[0], "RepoTags": tags, "Layers": names[1:]})
        add(tar, "manifest.json", json.dumps(manifest).encode())


def config(diff_ids, n=0):
    return json.dumps({
        "architecture": "amd64", "os": "linux",
        "created": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
        "config": {"Env": [f"N={n}"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d}" for d in diff_ids]},
    }, sort_keys=True).encode()


def big(path, mb):
    rng = random.Random(42)
    total = mb * 1_000_000
    data = pool(rng, 8 << 20)
    # Log-normal sizes (most files small, a few large), scaled to the total.
    sizes = [max(16, int(rng.lognormvariate(8.5, 1.6))) for _ in range(5000)]
    scale = total * 0.985 / sum(sizes)  # tar headers and padding make up the rest
    sizes = [min(len(data) - 1, max(1, int(s * scale))) for s in sizes]
    tars = [layer_tar(rng, data, sizes[i::3], i) for i in range(3)]
    layers = [gzip.compress(t, compresslevel=6, mtime=0) for t in tars]
    docker_save(path, [(config([sha(t) for t in tars]), layers, ["bench/big:latest"])])
    print(sum(len(t) for t in tars))


def many(path, n):
    tar = layer_tar(random.Random(1), b"x" * 4096, [100, 200, 300], 0)
    images = [(config([sha(tar)], i), [tar], [f"bench/many{i}:latest"]) for i in range(n)]
    docker_save(path, images)


def evict(tops):
    """A state root that was moved aside keeps its page cache. On the benchmark VM, writing
    into memory the guest has never touched costs a host fault per page, so without this each
    run would be slower than the one before it as fresh memory is used up. Dropping our own
    files' pages (never the rest of the machine's) gives every run recycled memory, as on a
    host that has been up for a while, without deleting anything: deleting inodes makes ext4
    (no journal) skip the recently deleted ones when allocating, which slows the next run."""
    for top in tops:
        for d, _, files in os.walk(top):
            for f in files:
                try:
                    fd = os.open(os.path.join(d, f), os.O_RDONLY | os.O_NOFOLLOW)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)


def busybox(path):
    """The busybox test image (as the tests' Rust helper builds it): Debian's static
    busybox, a symlink per applet, root in passwd/group, CMD ["sh"]."""
    import subprocess
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ["bin", "etc", "tmp"]:
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        with open("/bin/busybox", "rb") as f:
            data = f.read()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
        for a in applets:
            if a == "busybox":
                continue
            info = tarfile.TarInfo(f"bin/{a}")
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, "busybox", 0o777
            tar.addfile(info)
        add(tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        add(tar, "etc/group", b"root:x:0:\n")
    layer = buf.getvalue()
    cfg = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{sha(layer)}"]},
    }, sort_keys=True).encode()
    docker_save(path, [(cfg, [layer], ["busybox:latest"])])


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "evict":
        evict(sys.argv[2:])
    elif kind == "busybox":
        busybox(out)
    elif kind == "big":
        big(out, int(sys.argv[3]) if len(sys.argv) > 3 else 200)
    else:
        many(out, int(sys.argv[3]))
