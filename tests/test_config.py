"""Configuration: options registered in one place, defaults as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from oslo_config import cfg
from oslo_middleware import sizelimit

from cool import config
from cool.api import opts as api_opts
from cool.template.parse import Limits


def _conf(*args: str) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    config.register(conf)
    conf(list(args), project="cool", default_config_files=[])
    return conf


def test_config_template_limits_default_to_heat_values() -> None:
    assert config.template_limits(_conf()) == Limits(
        max_size=512 * 1024, max_depth=64, max_nodes=250_000, max_resources=1000
    )


def test_config_template_limits_read_from_a_file(tmp_path: Path) -> None:
    conf_file = tmp_path / "cool.conf"
    conf_file.write_text("[template]\nmax_template_size = 2048\nmax_resources = 5\n")
    limits = config.template_limits(_conf("--config-file", str(conf_file)))
    assert limits.max_size == 2048
    assert limits.max_resources == 5


def test_config_lists_every_option_for_the_sample_generator() -> None:
    listed = {(group.name, opt.name) for group, opts in config.list_opts() for opt in opts}
    assert {
        ("template", "max_template_size"),
        ("template", "max_nesting_depth"),
        ("template", "max_template_nodes"),
        ("template", "max_resources"),
        ("zookeeper", "hosts"),
        ("zookeeper", "root"),
        ("zookeeper", "session_timeout"),
        ("worker", "capacity"),
        ("worker", "parallelism"),
        ("worker", "claim_grace"),
        ("sim", "database"),
        ("sim", "latency"),
        ("sim", "failure_rate"),
    } <= listed


def test_config_worker_settings_follow_the_options(tmp_path: Path) -> None:
    conf_file = tmp_path / "cool.conf"
    conf_file.write_text(
        "[zookeeper]\nsession_timeout = 3\n[worker]\ncapacity = 2\nparallelism = 7\n"
        "[template]\nmax_value_bytes = 4096\n"
    )
    conf = _conf("--config-file", str(conf_file))
    settings = config.worker_settings(conf)
    assert settings.capacity == 2
    assert settings.runner.parallelism == 7
    assert settings.runner.guard_wait_s == 3
    # The worker resolves with the budget the API validated with.
    assert settings.runner.limits.max_value_bytes == 4096
    assert config.zookeeper_settings(conf).session_timeout_s == 3


def _assert_sample_fresh(tmp_path: Path, generator: list[str], config: str, sample: str) -> None:
    """``sample`` is what ``generator --config-file config`` makes from the code now."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    generated = tmp_path / Path(sample).name
    options = ["--config-file", str(repo / config), "--output-file", str(generated)]
    subprocess.run(
        [sys.executable, *generator, *options],
        check=True,
        cwd=repo,
        timeout=60,
    )
    assert generated.read_text() == (repo / sample).read_text(), (
        f"regenerate the sample: the generator with --config-file {config}"
    )


def test_config_sample_is_fresh(tmp_path: Path) -> None:
    """etc/cool.conf.sample is what oslo-config-generator makes from the code now."""
    _assert_sample_fresh(
        tmp_path,
        ["-m", "oslo_config.generator"],
        "etc/oslo-config-generator/cool.conf",
        "etc/cool.conf.sample",
    )


def test_policy_sample_is_fresh(tmp_path: Path) -> None:
    """etc/policy.yaml.sample is what oslopolicy-sample-generator makes from the rules now."""
    _assert_sample_fresh(
        tmp_path,
        [
            "-c",
            "import sys; from oslo_policy.generator import generate_sample; "
            "sys.exit(generate_sample())",
        ],
        "etc/oslo-policy-generator/cool.conf",
        "etc/policy.yaml.sample",
    )


def test_config_body_limit_leaves_room_for_the_largest_template() -> None:
    conf = cfg.ConfigOpts()
    api_opts.register(conf)
    conf([], project="cool", default_config_files=[])
    conf.register_opts(sizelimit.OPTS, group="oslo_middleware")
    assert conf.oslo_middleware.max_request_body_size > 2 * conf.template.max_template_size


def test_config_keeps_the_api_libraries_out_of_a_worker() -> None:
    """cool-worker imports cool.config: keystonemiddleware alone takes ~0.7 s to import."""
    import subprocess
    import sys

    code = "import sys, cool.cmd.worker; print('keystonemiddleware' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_config_bounds_max_total_resources(tmp_path: Path) -> None:
    """A build's resource records all live in ZooKeeper: the total has a ceiling."""
    conf_file = tmp_path / "cool.conf"
    conf_file.write_text("[template]\nmax_total_resources = 10001\n")
    conf = _conf("--config-file", str(conf_file))
    with pytest.raises(ValueError, match="10000"):
        config.template_limits(conf)


def test_idle_connections_outlive_the_poll_period_of_heat_clients() -> None:
    """heatclient's `stack create --wait` polls events every 5 s on one kept-alive
    connection; with idle_timeout at 5 s the server's close raced the client's next
    request, which failed ('Remote end closed connection without response': two CI
    failures of the client tests)."""
    conf = cfg.ConfigOpts()
    api_opts.register(conf)
    conf([], project="cool", default_config_files=[])
    assert conf.api.idle_timeout >= 60
