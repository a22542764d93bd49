"""The example stacks' Terraform variable validations: each fake value passes, and no value with
an IAM wildcard does (an ARN variable lands in a policy's Resource, where ``*`` or ``?`` would
widen the grant, e.g. ``parameter/*`` to every parameter of the account).

The patterns use only syntax that Python's ``re`` and Terraform's RE2 read alike.
"""

from __future__ import annotations

import re

import pytest

from examples.inputs import INPUTS, Input


def values(variable: Input) -> list[str]:
    return list(variable.example) if variable.is_list else [variable.example]


@pytest.mark.parametrize("variable", INPUTS.values(), ids=list(INPUTS))
def test_the_example_values_pass(variable: Input) -> None:
    assert all(re.search(variable.pattern, value) for value in values(variable))


@pytest.mark.parametrize("variable", INPUTS.values(), ids=list(INPUTS))
@pytest.mark.parametrize("wildcard", ["*", "?"])
def test_no_value_with_a_wildcard_passes(variable: Input, wildcard: str) -> None:
    widened = [value[:i] + wildcard + value[i:] for value in values(variable)
               for i in range(len(value) + 1)]
    widened += [re.sub(r"(parameter/|secret:).*?(-[A-Za-z0-9]{6})?$",
                       rf"\g<1>{wildcard}\g<2>", value) for value in values(variable)
                if re.search(r"parameter/|secret:", value)]  # the whole name a wildcard
    assert [v for v in widened if re.search(variable.pattern, v)] == []
