"""Invalid scenario files raise ScenarioError with a one-line message.

Every message has the form ``<file>: <field>: <what is wrong>``, except for a
missing file and invalid TOML, where no field can be named.
"""

from __future__ import annotations

import pytest

from spec.scenario import ScenarioError, load

WORKER = '[[goroutine]]\nname = "worker"\nbody = [{ loop = ["compute"] }]\n'

# (case id, file text, field named in the message, text the message contains)
FIELD_ERRORS = [
    ("unknown-top-level-field",
     "gomaxprocs = 1\nspeed = 3\n" + WORKER,
     "speed", "unknown field; allowed fields are"),
    ("unknown-model-field",
     "[model]\nrunq = 4\n" + WORKER,
     "model.runq", "unknown field; allowed fields are"),
    ("unknown-goroutine-field",
     '[[goroutine]]\nname = "worker"\nbodyy = ["compute"]\n',
     "goroutine[0].bodyy", "unknown field; allowed fields are"),
    ("unknown-operation",
     '[[goroutine]]\nname = "worker"\nbody = ["compute", "jump 3"]\n',
     "goroutine[0].body[1]", "unknown operation 'jump'"),
    ("negative-count",
     '[[goroutine]]\nname = "worker"\ncount = -2\nbody = ["compute"]\n',
     "goroutine[0].count", "must be between 1 and 64, got -2"),
    ("zero-gomaxprocs",
     "gomaxprocs = 0\n" + WORKER,
     "gomaxprocs", "must be between 1 and 8, got 0"),
    ("odd-runq-size",
     "[model]\nrunq_size = 5\n" + WORKER,
     "model.runq_size", "must be even"),
    ("go-of-undefined-goroutine",
     '[[goroutine]]\nname = "spawner"\nbody = ["compute", "go nobody"]\n',
     "goroutine[0].body", "no goroutine named 'nobody'"),
    ("op-after-endless-loop",
     '[[goroutine]]\nname = "worker"\nbody = [{ loop = ["compute"] }, "call"]\n',
     "goroutine[0].body[1]", "unreachable"),
    ("op-after-nested-endless-loop",
     '[[goroutine]]\nname = "worker"\n'
     'body = [{ loop = [{ loop = ["compute"] }, "call"], times = 2 }]\n',
     "goroutine[0].body[0].loop[1]", "unreachable"),
    ("op-after-exit",
     '[[goroutine]]\nname = "worker"\nbody = ["exit", "compute"]\n',
     "goroutine[0].body[1]", "unreachable"),
]


def load_error(path) -> str:
    """Load ``path``, expecting ScenarioError; return its message."""
    with pytest.raises(ScenarioError) as info:
        load(path)
    return str(info.value)


@pytest.mark.parametrize("text, field, detail",
                         [case[1:] for case in FIELD_ERRORS],
                         ids=[case[0] for case in FIELD_ERRORS])
def test_field_error_names_file_and_field(tmp_path, text, field, detail):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")

    message = load_error(path)

    assert "\n" not in message
    assert message.startswith(f"{path}: {field}: "), message
    assert detail in message


def test_missing_file_names_file(tmp_path):
    path = tmp_path / "absent.toml"

    message = load_error(path)

    assert "\n" not in message
    assert message.startswith(f"{path}: file not found"), message


@pytest.mark.parametrize("text, line", [
    ("gomaxprocs = = 1\n" + WORKER, 1),
    ('gomaxprocs = 1\nname = "unterminated\n' + WORKER, 2),
], ids=["double-equals", "unterminated-string"])
def test_invalid_toml_names_file_and_line(tmp_path, text, line):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")

    message = load_error(path)

    assert "\n" not in message
    assert message.startswith(f"{path}: invalid TOML: "), message
    assert f"line {line}" in message


def test_valid_file_loads(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text("gomaxprocs = 2\n" + WORKER, encoding="utf-8")

    scenario = load(path)

    assert scenario.gomaxprocs == 2
    assert [g.name for g in scenario.goroutines] == ["worker"]
