import json
import re
from importlib import resources

import pytest

from agentchat.core.errors import ConfigError
from agentchat.core.messages import Usage
from agentchat.core.pricing import Price, cost, price_for, price_table


def test_shipped_table_is_dated_and_well_formed() -> None:
    raw = json.loads(resources.files("agentchat").joinpath("data/prices.json").read_text("utf-8"))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw["updated"])
    assert raw["source"]
    table = price_table()
    assert table.updated == raw["updated"]
    for model, price in table.prices.items():
        assert price.input >= 0 and price.output >= price.input, model
        assert price.cached_input is None or price.cached_input <= price.input, model
    # a snapshot is never also a separate entry, or the two could disagree
    assert not set(table.aliases) & set(table.prices)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o", Price(2.5, 10.0, 1.25)),
        ("gpt-4o-mini", Price(0.15, 0.6, 0.075)),
        ("o3-pro", Price(20.0, 80.0, None)),
        # Anthropic: a cache read is the cached price; writes 1.25x input (5 minutes), 2x (1 hour)
        ("claude-sonnet-4-5", Price(3.0, 15.0, 0.3, 3.75, 6.0)),
        ("claude-opus-4-5", Price(5.0, 25.0, 0.5, 6.25, 10.0)),
        ("claude-sonnet-5-5", Price(2.0, 10.0, 0.1, 2.5, 4.0)),
    ],
)
def test_listed_models_have_the_reference_prices(model: str, expected: Price) -> None:
    assert price_for(model) == expected


def test_listed_snapshot_is_billed_as_its_alias() -> None:
    assert price_for("gpt-4o-2024-08-06") == price_for("gpt-4o")
    assert price_for("claude-sonnet-4-5-20250929") == price_for("claude-sonnet-4-5")
    assert price_for("claude-4-sonnet-20250514") == price_for("claude-sonnet-4-0")


def test_a_snapshot_with_its_own_price_keeps_it() -> None:
    assert price_for("gpt-4o-2024-05-13") == Price(5.0, 15.0, None)


@pytest.mark.parametrize(
    "model",
    ["gpt-4o-2023-01-01", "claude-sonnet-4-5-20990101", "llama3.2", "qwen3:8b", "gpt-4o-mini-tts", "GPT-4O"],
)
def test_unknown_models_have_no_guessed_price(model: str) -> None:
    assert price_for(model) is None
    assert cost(model, Usage(input_tokens=10, output_tokens=10)) is None


def test_config_prices_a_local_model() -> None:
    overrides = {"llama3.2": {"input": 0, "output": 0}}
    assert price_for("llama3.2", overrides) == Price(0.0, 0.0, None)
    assert cost("llama3.2", Usage(input_tokens=500, output_tokens=20), overrides) == 0.0


def test_config_overrides_one_field_of_a_listed_price() -> None:
    overrides = {"gpt-4o": {"cached_input": 2.0}}
    assert price_for("gpt-4o", overrides) == Price(2.5, 10.0, 2.0)
    # the alias's override also applies to its listed snapshots ...
    assert price_for("gpt-4o-2024-11-20", overrides) == Price(2.5, 10.0, 2.0)
    # ... but a snapshot's own override wins
    own = overrides | {"gpt-4o-2024-11-20": {"input": 1.0}}
    assert price_for("gpt-4o-2024-11-20", own) == Price(1.0, 10.0, 1.25)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mine": {"input": 1.0}}, "needs both input and output"),
        ({"mine": {"input": -1, "output": 1}}, "non-negative"),
        ({"mine": {"input": "cheap", "output": 1}}, "non-negative"),
        ({"mine": {"input": True, "output": 1}}, "non-negative"),
        ({"mine": {"inptu": 1, "output": 1}}, "inptu"),
        ({"mine": 3}, "must be a table"),
    ],
)
def test_bad_overrides_are_config_errors(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        price_for("mine", overrides)


def test_cost_bills_cached_tokens_at_the_cached_rate() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, cached_tokens=400_000)
    # 600k * 2.50 + 400k * 1.25 + 100k * 10.00 per million
    assert cost("gpt-4o", usage) == pytest.approx(1.5 + 0.5 + 1.0)


def test_cost_without_a_cached_price_bills_cached_tokens_as_input() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=0, cached_tokens=400_000)
    assert cost("o3-pro", usage) == pytest.approx(20.0)


def test_reasoning_tokens_are_not_counted_twice() -> None:
    plain = Usage(input_tokens=100, output_tokens=5_000)
    reasoning = Usage(input_tokens=100, output_tokens=5_000, reasoning_tokens=4_000)
    assert cost("o3", reasoning) == cost("o3", plain) == pytest.approx((100 * 2.0 + 5_000 * 8.0) / 1e6)


def test_cost_is_unknown_without_token_counts() -> None:
    assert cost("gpt-4o", Usage(input_tokens=None, output_tokens=10)) is None
    assert cost("gpt-4o", Usage(input_tokens=10, output_tokens=None)) is None
    # an unreported cached count is no reason to give up
    assert cost("gpt-4o", Usage(input_tokens=1_000_000, output_tokens=0)) == pytest.approx(2.5)
