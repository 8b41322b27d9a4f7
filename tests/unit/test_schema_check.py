"""``seawall schema check`` on files: classifications, errors, exit codes, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.cli import main

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, fields: list[dict[str, object]]) -> Path:
    schema = {"type": "record", "name": "S", "namespace": "c", "fields": fields}
    path = tmp_path / "s.avsc"
    path.write_text(json.dumps(schema), encoding="utf-8")
    return path


def test_clean_schemas_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["schema", "check", str(REPO / "schemas" / "crm")])

    out = capsys.readouterr().out
    assert code == 0
    assert "contacts[].mobile" in out
    assert "0 errors" in out


def test_problems_listed_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path,
        [
            {"name": "note", "type": "string"},
            {"name": "code", "type": "string", "pii": "no_such_type"},
            {"name": "age", "type": "int", "pii": "email"},
            {"name": "mobile", "type": "string", "confluent:tags": ["PHONE"]},
            {"name": "n", "type": "long"},
        ],
    )

    code = main(["schema", "check", "--format", "json", str(path)])

    report = json.loads(capsys.readouterr().out)
    [schema] = report["schemas"]
    rules = {(f["path"], f["rule"], f["severity"]) for f in schema["findings"]}
    classes = {f["path"]: f["classification"] for f in schema["fields"]}
    assert code == 1
    assert ("note", "field.unclassified", "error") in rules
    assert ("code", "tag.rejected", "error") in rules
    assert ("age", "tag.rejected", "error") in rules
    assert ("mobile", "tag.unmapped", "warning") in rules
    assert classes["n"] == "not_text"
    assert classes["mobile"] == "unclassified"


def test_tag_mapping_from_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path, [{"name": "mobile", "type": "string", "confluent:tags": ["PHONE"]}]
    )
    config = tmp_path / "config.yaml"
    (tmp_path / "schemas").mkdir()
    config.write_text(
        "schemas: {directory: schemas}\nkeys: {env: K}\naudit_topic: a\n"
        "dead_letter_topic: d\nroutes: [{name: r, source: s, destination: x}]\n"
        "policy: {tags: {PHONE: {pii_type: cn_mobile, action: mask}}}\n",
        encoding="utf-8",
    )

    code = main(["schema", "check", "--config", str(config), str(path)])

    out = capsys.readouterr().out
    assert code == 0
    assert "cn_mobile" in out
    assert "mask" in out
