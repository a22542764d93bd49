"""The emulator process: moto's ThreadedMotoServer on 127.0.0.1, a free port, a log file."""

from __future__ import annotations

import logging
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3

ACCOUNT_ID = "123456789012"  # moto's default account: every ARN the emulator builds has it
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
LOGGERS = ("werkzeug", "moto", "emulator")


def extend_moto() -> None:
    """Add what moto 5.2.5 lacks for the example stacks (idempotent, before the first request)."""
    from emulator import (
        applicationautoscaling,
        awslambda,
        cloudfront,
        cloudtrail,
        ecs,
        elasticache,
        rds,
        sqs,
    )

    for module in (applicationautoscaling, awslambda, cloudfront, cloudtrail, ecs, elasticache,
                   rds, sqs):
        module.extend()


class Emulator:
    """A running moto server with the extensions; ``endpoint`` is ``http://127.0.0.1:PORT``.

    Requests, and the tracebacks of any request moto fails, go to ``log_path``.
    """

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.endpoint = ""
        self._server = None
        self._handler: logging.Handler | None = None

    def start(self) -> Emulator:
        """Extend moto, open the log, listen on a free loopback port."""
        from moto.server import ThreadedMotoServer

        extend_moto()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._handler = logging.FileHandler(self.log_path)
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        for name in LOGGERS:
            logger = logging.getLogger(name)
            logger.addHandler(self._handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False  # the file only: not into pytest's captured logs
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        """Stop listening and close the log."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._handler is not None:
            for name in LOGGERS:
                logging.getLogger(name).removeHandler(self._handler)
                logging.getLogger(name).propagate = True
            self._handler.close()
            self._handler = None

    def reset(self) -> None:
        """Forget every resource (moto's own reset endpoint)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=30).close()

    def client(self, service: str, region: str) -> Any:
        """A boto3 client for ``service`` in ``region`` talking to this emulator."""
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint,
                            **CREDENTIALS)

    def log_tail(self, lines: int = 80) -> str:
        """The end of the log, for a failure message."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
