"""Tests of keyrings, key versions and the keys commands."""

from __future__ import annotations

import argparse
import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.errors import KeyringError
from streams.keys import Keyring, KeyVersion, SecretBytes
from streams.keys_cli import register

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def material_texts(ring: Keyring) -> list[str]:
    """Return every form in which key material could leak."""
    texts = []
    for version in ring.versions:
        raw = version.material.reveal()
        texts += [base64.b64encode(raw).decode(), raw.hex(), repr(raw)]
        for subkey in (version._ff1_key, version._pseudonym_key):
            texts += [subkey.reveal().hex(), repr(subkey.reveal())]
    return texts


def test_generate_has_one_active_version() -> None:
    ring = Keyring.generate("pii-main", now=NOW)
    assert ring.active_version == 1
    assert ring.active.version == 1
    assert len(ring.active.material) == 32
    assert ring.active.created == NOW


def test_rotate_returns_new_ring() -> None:
    ring = Keyring.generate("pii-main")
    rotated = ring.rotate()
    assert ring.active_version == 1
    assert rotated.active_version == 2
    assert [v.version for v in rotated.versions] == [1, 2]
    assert rotated.get(1) == ring.get(1)
    assert rotated.get(2).material != rotated.get(1).material


def test_get_missing_version_names_versions() -> None:
    ring = Keyring.generate("pii-main").rotate()
    with pytest.raises(KeyringError, match=r"no version 7; versions present: \[1, 2\]"):
        ring.get(7)


def test_save_load_round_trip(tmp_path: Path) -> None:
    ring = Keyring.generate("pii-main", now=NOW).rotate(now=NOW)
    path = tmp_path / "keys.json"
    ring.save(path)
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    loaded = Keyring.load(path)
    assert loaded == ring
    assert loaded.active.pseudonym(b"x", "c") == ring.active.pseudonym(b"x", "c")


def test_saved_file_format(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    Keyring.generate("pii-main", now=NOW).save(path)
    document = json.loads(path.read_text())
    assert document["key_id"] == "pii-main"
    assert document["active_version"] == 1
    assert document["versions"][0]["created"] == "2026-01-05T08:00:00Z"
    assert len(base64.b64decode(document["versions"][0]["material"])) == 32


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_load_rejects_shared_file(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "keys.json"
    Keyring.generate("pii-main").save(path)
    path.chmod(mode)
    with pytest.raises(KeyringError) as caught:
        Keyring.load(path)
    message = str(caught.value)
    assert f"mode {mode:04o}" in message
    assert f"chmod 600 {path}" in message


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="not found"):
        Keyring.load(tmp_path / "absent.json")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("key_id"), "'key_id' is missing"),
        (lambda d: d.update(active_version="1"), "'active_version' must be"),
        (lambda d: d.update(active_version=3), "active_version 3"),
        (lambda d: d["versions"][0].pop("material"), "'material' is missing"),
        (lambda d: d["versions"][0].update(material="AAAA"), "material must decode"),
        (lambda d: d["versions"][0].update(material="@@"), "material is not valid"),
        (lambda d: d["versions"][0].update(created="yesterday"), "created"),
        (lambda d: d["versions"][0].update(version=0), "version must be 1"),
        (lambda d: d.update(versions=[]), "has no versions"),
    ],
)
def test_load_malformed_names_field(tmp_path: Path, change: object, field: str) -> None:
    ring = Keyring.generate("pii-main")
    document = json.loads(ring.to_json())
    change(document)  # type: ignore[operator]  # the parametrized lambdas take one dict
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(document))
    path.chmod(0o600)
    with pytest.raises(KeyringError) as caught:
        Keyring.load(path)
    assert field in str(caught.value)
    for text in material_texts(ring):
        assert text not in str(caught.value)


def test_load_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text("{not json")
    path.chmod(0o600)
    with pytest.raises(KeyringError, match="not valid JSON"):
        Keyring.load(path)


def test_from_env_json_and_base64() -> None:
    ring = Keyring.generate("pii-main")
    text = ring.to_json()
    encoded = base64.b64encode(text.encode()).decode()
    assert Keyring.from_env("K", environ={"K": text}) == ring
    assert Keyring.from_env("K", environ={"K": encoded}) == ring


def test_from_env_unset() -> None:
    with pytest.raises(KeyringError, match="SEAWALL_KEYS is unset"):
        Keyring.from_env("SEAWALL_KEYS", environ={})


def test_from_env_garbage() -> None:
    with pytest.raises(KeyringError, match="neither JSON nor valid base64"):
        Keyring.from_env("K", environ={"K": "***"})


def test_no_material_in_repr_or_str() -> None:
    ring = Keyring.generate("pii-main").rotate()
    shown = [repr(ring), str(ring), repr(ring.active), str(ring.active)]
    shown += [repr(v.material) for v in ring.versions]
    shown += [str(v.material) for v in ring.versions]
    for text in material_texts(ring):
        for rendered in shown:
            assert text not in rendered
    assert "masked" in repr(ring.active.material)


def test_wrong_material_length_error_hides_bytes() -> None:
    raw = bytes(range(16))
    with pytest.raises(KeyringError) as caught:
        KeyVersion("k", 1, SecretBytes(raw), NOW)
    assert "32 bytes, got 16" in str(caught.value)
    assert raw.hex() not in str(caught.value)


def test_subkeys_differ_per_purpose_and_version() -> None:
    ring = Keyring.generate("pii-main").rotate()
    first, second = ring.get(1), ring.get(2)
    assert first._ff1_key != first._pseudonym_key
    assert first._ff1_key != second._ff1_key


def test_pseudonym_context_separates() -> None:
    key = Keyring.generate("pii-main").active
    assert key.pseudonym(b"a", "record-key") != key.pseudonym(b"a", "subject")
    assert key.pseudonym(b"a", "subject") == key.pseudonym(b"a", "subject")
    assert len(key.pseudonym(b"a", "subject")) == 32


def test_cipher_cache_reuses_instances() -> None:
    key = Keyring.generate("pii-main").active
    assert key.ff1(10) is key.ff1(10)
    assert key.alphabet_ff1("abc") is key.alphabet_ff1("abc")
    for radix in range(2, 100):
        key.ff1(radix)
    assert len(key._ciphers._entries) <= 32


def test_invalid_key_id() -> None:
    with pytest.raises(KeyringError, match="key_id"):
        Keyring.generate("bad id!")


def run_cli(*argv: str) -> int:
    """Parse and run one keys command."""
    parser = argparse.ArgumentParser(prog="seawall")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_cli_generate_and_rotate(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    assert run_cli("keys", "generate", "--out", str(path), "--key-id", "k1") == 0
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert run_cli("keys", "rotate", "--file", str(path)) == 0
    ring = Keyring.load(path)
    assert ring.key_id == "k1"
    assert ring.active_version == 2


def test_cli_generate_refuses_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    assert run_cli("keys", "generate", "--out", str(path)) == 0
    before = path.read_text()
    assert run_cli("keys", "generate", "--out", str(path)) == 1
    assert path.read_text() == before
    assert run_cli("keys", "generate", "--out", str(path), "--force") == 0
    assert path.read_text() != before


def test_cli_rotate_rejects_shared_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    run_cli("keys", "generate", "--out", str(path))
    path.chmod(0o644)
    assert run_cli("keys", "rotate", "--file", str(path)) == 1
