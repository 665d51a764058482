"""Real on-disk formats through `load_dataset`'s real code path (torchvision's dataset classes).

Tiny files are written in each official layout: CIFAR pickled batches, SVHN .mat, MNIST-style
IDX (.gz and plain), ImageFolder PNGs, the Tiny-ImageNet val layout. torchvision verifies the MD5
of CIFAR and SVHN files against checksums stored as class attributes (`train_list`, `test_list`,
`meta`, `split_list`); for hand-made files the tests replace ONLY those checksum tables with the
MD5s of the files written here, so the whole path, including torchvision's integrity check, runs.
"""
import gzip, hashlib, pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

import haba_nb.data as hd
from haba_nb.core import ConfigError, DataError
from haba_nb.data import load_dataset

CIFAR10, CIFAR100, SVHN = torchvision.datasets.CIFAR10, torchvision.datasets.CIFAR100, torchvision.datasets.SVHN


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    "No user data leaks in: HABA_DATA unset, a private cache, no Debian Fashion-MNIST unless a test asks."
    monkeypatch.delenv("HABA_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path/"xdg"))
    monkeypatch.setattr(hd, "DEBIAN_FASHION_MNIST", tmp_path/"no-debian")


def md5(p): return hashlib.md5(Path(p).read_bytes()).hexdigest()


# ---------------------------------------------------------------- CIFAR
def write_cifar(root, hundred=False, n_per_batch=6, n_test=5, seed=0):
    "Write a tiny CIFAR-10 (or -100) folder; returns (folder, train images uint8 NCHW, train labels)."
    rng = np.random.default_rng(seed)
    k = 100 if hundred else 10
    folder = Path(root)/("cifar-100-python" if hundred else "cifar-10-batches-py"); folder.mkdir(parents=True)
    key = "fine_labels" if hundred else "labels"
    def batch(n):
        x = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        x[:, 0, 0, 0], x[:, 1, 0, 0], x[:, 2, 0, 0] = 10, 100, 200           # a known pixel per channel
        y = [int(v) for v in rng.integers(0, k, size=n)]
        return x, y
    xs, ys = [], []
    names = ["train"] if hundred else [f"data_batch_{i}" for i in range(1, 6)]
    for nm in names:
        x, y = batch(n_per_batch * (5 if hundred else 1)); xs.append(x); ys += y
        (folder/nm).write_bytes(pickle.dumps({"data": x.reshape(len(x), -1), key: y, "batch_label": nm}, protocol=2))
    xt, yt = batch(n_test)
    (folder/("test" if hundred else "test_batch")).write_bytes(
        pickle.dumps({"data": xt.reshape(len(xt), -1), key: yt}, protocol=2))
    meta = {"fine_label_names": [f"c{i}" for i in range(100)]} if hundred else {"label_names": [f"name{i}" for i in range(10)]}
    (folder/("meta" if hundred else "batches.meta")).write_bytes(pickle.dumps(meta, protocol=2))
    return folder, np.concatenate(xs), np.array(ys)


def trust_cifar(monkeypatch, cls, folder):
    "Point torchvision's checksum tables at the hand-made files (nothing else is patched)."
    monkeypatch.setattr(cls, "train_list", [[f, md5(folder/f)] for f, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[f, md5(folder/f)] for f, _ in cls.test_list])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5(folder/cls.meta["filename"])})


def test_cifar10_real_layout(tmp_path, monkeypatch):
    folder, x, y = write_cifar(tmp_path)
    trust_cifar(monkeypatch, CIFAR10, folder)
    d = load_dataset("cifar10", data_root=tmp_path)
    assert d.x_train.shape == (30, 3, 32, 32) and d.x_test.shape == (5, 3, 32, 32)
    assert d.class_names == [f"name{i}" for i in range(10)]          # read from batches.meta
    assert d.y_train.tolist() == y.tolist() and d.y_train.dtype == torch.int64
    disp = d.denormalize(d.x_train)                                  # back to [0,1]: exact pixels, NCHW order
    assert torch.allclose(disp * 255, torch.from_numpy(x).float(), atol=1e-3)
    assert disp[:, :, 0, 0].mul(255).round().tolist() == [[10, 100, 200]] * 30
    assert d.source == str(folder)


def test_cifar100_real_layout(tmp_path, monkeypatch):
    folder, x, y = write_cifar(tmp_path, hundred=True)
    trust_cifar(monkeypatch, CIFAR100, folder)
    d = load_dataset("cifar100", data_root=tmp_path)
    assert d.num_classes == 100 and d.class_names[:2] == ["c0", "c1"] and d.n_train == 30
    assert d.y_train.tolist() == y.tolist()
    assert torch.allclose(d.denormalize(d.x_train) * 255, torch.from_numpy(x).float(), atol=1e-3)


def test_cifar_md5_mismatch_names_the_file(tmp_path, monkeypatch):
    folder, _, _ = write_cifar(tmp_path)
    trust_cifar(monkeypatch, CIFAR10, folder)
    b3 = folder/"data_batch_3"
    b3.write_bytes(b3.read_bytes()[:100])                            # cut short after the checksums were taken
    with pytest.raises(DataError) as e: load_dataset("cifar10", data_root=tmp_path)
    assert "data_batch_3" in str(e.value) and "MD5" in str(e.value) and "delete" in e.value.fix


def test_cifar_truncated_pickle_names_the_file(tmp_path, monkeypatch):
    folder, _, _ = write_cifar(tmp_path)
    b3 = folder/"data_batch_3"
    b3.write_bytes(b3.read_bytes()[:100])                            # truncated, and its checksum trusted
    trust_cifar(monkeypatch, CIFAR10, folder)
    with pytest.raises(DataError) as e: load_dataset("cifar10", data_root=tmp_path)
    assert "data_batch_3" in str(e.value) and "not a readable CIFAR batch" in str(e.value)
    assert "download" in e.value.fix


def test_cifar_unmodified_checksums_reject_handmade_files(tmp_path):
    "Without touching torchvision's table the real MD5 check runs and rejects files that are not the official ones."
    write_cifar(tmp_path)
    with pytest.raises(DataError, match="MD5"): load_dataset("cifar10", data_root=tmp_path)


# ---------------------------------------------------------------- SVHN
def write_svhn(folder, n_train=12, n_test=7):
    import scipy.io
    folder = Path(folder); folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        X = np.zeros((32, 32, 3, n), np.uint8)                       # SVHN layout: H, W, C, N
        X[:, :, 0, :] = np.arange(32, dtype=np.uint8)[:, None, None] * 8   # red grows down the rows
        X[:, :, 2, :] = 77
        y = (np.arange(n) % 10 + 1).astype(np.uint8)[:, None]        # 1..10, 10 = digit 0
        scipy.io.savemat(folder/f"{split}_32x32.mat", {"X": X, "y": y})
        out[split] = (X, y)
    return out


def trust_svhn(monkeypatch, folder):
    monkeypatch.setattr(SVHN, "split_list", {**SVHN.split_list, **{s: [u, f, md5(Path(folder)/f)] for s, (u, f, _) in SVHN.split_list.items() if s != "extra"}})


def test_svhn_real_layout(tmp_path, monkeypatch):
    write_svhn(tmp_path/"svhn")
    trust_svhn(monkeypatch, tmp_path/"svhn")
    d = load_dataset("svhn", data_root=tmp_path)
    assert d.x_train.shape == (12, 3, 32, 32) and d.x_test.shape == (7, 3, 32, 32)
    assert d.y_train.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]   # label 10 is digit 0
    disp = d.denormalize(d.x_train) * 255
    assert torch.allclose(disp[0, 0, :, 5], torch.arange(32.) * 8, atol=1e-3)   # rows stay rows
    assert torch.allclose(disp[:, 2], torch.full((12, 32, 32), 77.), atol=1e-3)


def test_svhn_flat_folder_and_haba_data(tmp_path, monkeypatch):
    write_svhn(tmp_path/"flat")
    trust_svhn(monkeypatch, tmp_path/"flat")
    monkeypatch.setenv("HABA_DATA", str(tmp_path/"flat"))
    d = load_dataset("svhn")
    assert d.n_train == 12 and d.source == str(tmp_path/"flat")


def test_corrupt_mat(tmp_path, monkeypatch):
    write_svhn(tmp_path/"svhn")
    (tmp_path/"svhn"/"train_32x32.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b"\x00" * 50 + b"garbage")
    trust_svhn(monkeypatch, tmp_path/"svhn")                         # checksum trusted: the .mat reader must fail
    with pytest.raises(DataError) as e: load_dataset("svhn", data_root=tmp_path)
    assert "train_32x32.mat" in str(e.value) and "not a readable SVHN .mat" in str(e.value) and "delete" in e.value.fix


def test_mat_checksum_mismatch(tmp_path, monkeypatch):
    write_svhn(tmp_path/"svhn")
    trust_svhn(monkeypatch, tmp_path/"svhn")
    p = tmp_path/"svhn"/"test_32x32.mat"; p.write_bytes(p.read_bytes()[:-40])
    with pytest.raises(DataError) as e: load_dataset("svhn", data_root=tmp_path)
    assert "test_32x32.mat" in str(e.value) and "MD5" in str(e.value)


# ---------------------------------------------------------------- MNIST / Fashion-MNIST (IDX)
def idx_bytes(a: np.ndarray) -> bytes:
    "An IDX file (uint8): magic 0x0000080N, big-endian dims, raw bytes."
    a = np.ascontiguousarray(a, np.uint8)
    return bytes([0, 0, 8, a.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in a.shape) + a.tobytes()


def write_idx(folder, gz=True, n_train=20, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    folder = Path(folder); folder.mkdir(parents=True, exist_ok=True)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels-idx1-ubyte": np.arange(n_train) % 10,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
              "t10k-labels-idx1-ubyte": (np.arange(n_test) * 3) % 10}
    for n, a in arrays.items():
        if gz: (folder/f"{n}.gz").write_bytes(gzip.compress(idx_bytes(a)))
        else: (folder/n).write_bytes(idx_bytes(a))
    return arrays


@pytest.mark.parametrize("name,sub,gz", [("mnist", "MNIST/raw", True), ("mnist", "MNIST/raw", False),
                                         ("fashionmnist", "FashionMNIST/raw", True), ("fashionmnist", "", True)])
def test_idx_layouts(tmp_path, name, sub, gz):
    arrays = write_idx(tmp_path/sub, gz=gz)
    d = load_dataset(name, data_root=tmp_path)
    assert d.x_train.shape == (20, 1, 28, 28) and d.x_test.shape == (10, 1, 28, 28)
    assert d.y_test.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()
    assert torch.allclose(d.denormalize(d.x_train)[:, 0] * 255, torch.tensor(arrays["train-images-idx3-ubyte"]).float(), atol=1e-3)
    assert d.class_names[0] == ("0" if name == "mnist" else "T-shirt/top") and len(d.class_names) == 10


def test_debian_style_flat_gz_folder(tmp_path, monkeypatch):
    write_idx(tmp_path/"deb")
    monkeypatch.setattr(hd, "DEBIAN_FASHION_MNIST", tmp_path/"deb")
    d = load_dataset("fashionmnist")
    assert d.n_train == 20 and d.source == str(tmp_path/"deb") and d.class_names[0] == "T-shirt/top"


def test_truncated_gz(tmp_path):
    write_idx(tmp_path/"MNIST"/"raw")
    p = tmp_path/"MNIST"/"raw"/"train-images-idx3-ubyte.gz"; p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    with pytest.raises(DataError) as e: load_dataset("mnist", data_root=tmp_path)
    assert "train-images-idx3-ubyte.gz" in str(e.value) and "gzip" in str(e.value) and "delete" in e.value.fix


def test_truncated_plain_idx(tmp_path):
    write_idx(tmp_path/"MNIST"/"raw", gz=False)
    p = tmp_path/"MNIST"/"raw"/"t10k-images-idx3-ubyte"; p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(DataError) as e: load_dataset("mnist", data_root=tmp_path)
    assert "t10k-images-idx3-ubyte" in str(e.value) and "truncated" in str(e.value)


def test_missing_files_lists_everything(tmp_path):
    with pytest.raises(DataError) as e: load_dataset("mnist", data_root=tmp_path/"here")
    msg = str(e.value)
    for folder in (tmp_path/"here"/"MNIST"/"raw", tmp_path/"here", tmp_path/"xdg"/"haba_nb"/"data"):
        assert str(folder) in msg
    for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert f in msg
    assert "download=True" in msg and "HABA_DATA" in msg


def test_missing_fashionmnist_mentions_debian(tmp_path):
    with pytest.raises(DataError) as e: load_dataset("fashionmnist", data_root=tmp_path)
    assert "dataset-fashion-mnist" in str(e.value) and str(tmp_path/"no-debian") in str(e.value)


def test_missing_cifar100_lists_files(tmp_path):
    with pytest.raises(DataError) as e: load_dataset("cifar100", data_root=tmp_path)
    assert str(tmp_path/"cifar-100-python") in str(e.value) and "train, test, meta" in str(e.value)


def test_download_failure_is_a_dataerror(tmp_path, monkeypatch):
    "No network: torchvision's downloader raises; the user sees one DataError (the downloader is the only thing faked)."
    import urllib.error
    def offline(*a, **k): raise urllib.error.URLError("no network")
    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", offline)
    with pytest.raises(DataError) as e: load_dataset("mnist", data_root=tmp_path, download=True)
    assert "downloading 'mnist'" in str(e.value) and "no network" in str(e.value)


def test_a_run_asks_for_the_download(tmp_path, monkeypatch):
    "`-p download True` reaches torchvision's downloader through run_experiment (papermill's strings coerced); offline it is one DataError."
    import urllib.error
    from haba_nb.experiment import experiment_config, run_experiment
    asked = []
    def offline(*a, **k): asked.append(a); raise urllib.error.URLError("no network")
    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", offline)
    monkeypatch.setenv("HABA_DATA", str(tmp_path/"none")); monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path/"cache"))
    c = experiment_config(dataset="mnist", objective="random", ipc=1, download="True", out_dir=str(tmp_path/"run"))
    assert c.download is True
    with pytest.raises(DataError) as e: run_experiment(c, figures=False)
    assert asked and "downloading 'mnist'" in str(e.value); n = len(asked)   # (torchvision tries each mirror)
    with pytest.raises(DataError) as e: run_experiment(experiment_config(dataset="mnist", objective="random", ipc=1, out_dir=str(tmp_path/"r2")), figures=False)
    assert "-p download True" in e.value.fix and len(asked) == n   # without it nothing is fetched, and the fix says how to ask


# ---------------------------------------------------------------- ImageFolder / Tiny-ImageNet
def write_png(p, size, color):
    p.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(p)


def test_imagefolder_size_from_first_image_and_resize(tmp_path):
    root = tmp_path/"imgs"
    for split, n in (("train", 3), ("test", 2)):
        for ci, (cls, col) in enumerate((("cat", (255, 0, 0)), ("dog", (0, 0, 255)))):
            for i in range(n):
                size = (12, 10) if (split, ci, i) == ("train", 0, 0) else (24, 20)   # PIL size is (W, H)
                write_png(root/split/cls/f"{i}.png", size, col)
    d = load_dataset("imagefolder", data_root=root)
    assert d.im_size == (10, 12) and d.x_train.shape == (6, 3, 10, 12) and d.x_test.shape == (4, 3, 10, 12)
    assert d.class_names == ["cat", "dog"] and d.y_train.tolist() == [0, 0, 0, 1, 1, 1]
    disp = d.denormalize(d.x_train)
    assert torch.allclose(disp[0, :, 0, 0], torch.tensor([1., 0, 0]), atol=1e-3)
    assert torch.allclose(disp[-1, :, 5, 5], torch.tensor([0, 0, 1.]), atol=1e-3)
    d16 = load_dataset("imagefolder", data_root=root, im_size=(16, 16), zca=True)   # 768-D: ZCA is cheap here
    assert d16.x_train.shape == (6, 3, 16, 16) and d16.zca is not None
    assert torch.allclose(d16.denormalize(d16.x_test)[:, :, 3, 3], torch.tensor([[1., 0, 0]] * 2 + [[0, 0, 1.]] * 2), atol=1e-2)


def test_imagefolder_errors(tmp_path):
    with pytest.raises(ConfigError, match="data_root"): load_dataset("imagefolder")
    root = tmp_path/"imgs"
    write_png(root/"train"/"a"/"0.png", (4, 4), (1, 2, 3)); write_png(root/"val"/"b"/"0.png", (4, 4), (1, 2, 3))
    with pytest.raises(DataError, match="same class"): load_dataset("imagefolder", data_root=root)
    (root/"val"/"b").rename(root/"val"/"a")
    (root/"train"/"a"/"bad.png").write_bytes(b"\x89PNG trunc")
    with pytest.raises(DataError) as e: load_dataset("imagefolder", data_root=root)
    assert "bad.png" in str(e.value)


def test_tinyimagenet_official_val_layout(tmp_path):
    root = tmp_path/"tiny-imagenet-200"
    wnids = ["n01443537", "n01629819"]
    for k, w in enumerate(wnids):
        for i in range(2): write_png(root/"train"/w/"images"/f"{w}_{i}.JPEG", (64, 64), (k * 200, 50, 50))
    rows = []
    for i in range(3):
        write_png(root/"val"/"images"/f"val_{i}.JPEG", (64, 64), (0, 0, 0)); rows.append(f"val_{i}.JPEG\t{wnids[i % 2]}\t0\t0\t1\t1")
    (root/"val"/"val_annotations.txt").write_text("\n".join(rows) + "\n")
    d = load_dataset("tinyimagenet", data_root=tmp_path)
    assert d.x_train.shape == (4, 3, 64, 64) and d.x_test.shape == (3, 3, 64, 64)
    assert d.class_names == wnids and d.y_test.tolist() == [0, 1, 0] and d.y_train.tolist() == [0, 0, 1, 1]


# ---------------------------------------------------------------- real data
DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (DEBIAN/"train-images-idx3-ubyte.gz").is_file(),
                    reason="Debian package dataset-fashion-mnist not installed (apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist_from_debian(monkeypatch):
    monkeypatch.setattr(hd, "DEBIAN_FASHION_MNIST", DEBIAN)
    d = load_dataset("fashionmnist")
    assert d.source == str(DEBIAN)
    assert (d.n_train, len(d.y_test), d.num_classes, d.channels, d.im_size) == (60000, 10000, 10, 1, (28, 28))
    assert torch.bincount(d.y_train).tolist() == [6000] * 10 and torch.bincount(d.y_test).tolist() == [1000] * 10
    assert abs(d.x_train.mean().item()) < 0.01 and abs(d.x_train.std().item() - 1) < 0.01   # literature constants fit
    x = d.images_of_class(7, 50, torch.Generator().manual_seed(0))
    assert x.shape == (50, 1, 28, 28)
