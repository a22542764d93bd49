"""Lambda: layers from other accounts, ``LoggingConfig``, and event source mappings on aliases.

moto 5.2.5 looks a layer ARN up in the function's own account, so a public layer (Bref's, in
account 873528684822) is never found; AWS resolves it in the account the ARN names. moto also
drops ``LoggingConfig``; AWS stores it and returns it, with ``Text`` format and the function's
``/aws/lambda/<name>`` group by default. An event source mapping created on an alias
(``name:live``) answers the alias ARN in AWS; moto answers the version the alias points at.
"""

from __future__ import annotations

from typing import Any


def _logging_config(function: Any, given: dict[str, Any] | None) -> dict[str, Any]:
    config = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.function_name}"}
    return {**config, **(given or {})}


def extend() -> None:
    """Patch moto's Lambda backend and function model once."""
    from moto.awslambda.models import LambdaBackend, LambdaFunction, lambda_backends

    if getattr(LambdaFunction, "_emulator_extended", False):
        return
    original_init = LambdaFunction.__init__
    original_configuration = LambdaFunction.get_configuration
    original_update = LambdaFunction.update_configuration

    def init(self: LambdaFunction, account_id: str, spec: dict[str, Any], region: str,
             version: str | int = 1) -> None:
        original_init(self, account_id, spec, region, version)
        self.emulator_logging_config = _logging_config(self, spec.get("LoggingConfig"))

    def get_configuration(self: LambdaFunction, on_create: bool = False) -> dict[str, Any]:
        config = original_configuration(self, on_create)
        config["LoggingConfig"] = getattr(self, "emulator_logging_config",
                                          _logging_config(self, None))
        return config

    def update_configuration(self: LambdaFunction, updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in updates:
            self.emulator_logging_config = _logging_config(self, updates["LoggingConfig"])
        return original_update(self, updates)

    def layers_versions_by_arn(self: LambdaBackend, arn: str) -> Any:
        account, region = arn.split(":")[4], arn.split(":")[3]
        owner = lambda_backends[account][region] if account != self.account_id else self
        return owner._layers.get_layer_version_by_arn(arn)

    original_mapping = LambdaBackend.create_event_source_mapping

    def create_event_source_mapping(self: LambdaBackend, spec: dict[str, Any]) -> Any:
        requested = spec.get("FunctionName", "")
        mapping = original_mapping(self, spec)
        qualifier = requested.split(":")[-1] if requested.count(":") in (1, 7) else None
        if qualifier:
            unqualified = ":".join(mapping.function_arn.split(":")[:7])
            mapping.function_arn = f"{unqualified}:{qualifier}"
        return mapping

    LambdaBackend.create_event_source_mapping = create_event_source_mapping
    LambdaFunction.__init__ = init
    LambdaFunction.get_configuration = get_configuration
    LambdaFunction.update_configuration = update_configuration
    LambdaBackend.layers_versions_by_arn = layers_versions_by_arn
    LambdaFunction._emulator_extended = True
