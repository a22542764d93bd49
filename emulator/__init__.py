"""A local AWS for deploying the example stacks: moto 5.2.5 on 127.0.0.1, extended in-process
where it lacks an API the stacks use (one module per service), plus the account's inputs.

Not shipped in the wheel; the library never imports it. ``python -m emulator.local_deploy``
brings every example up on it (``make local-deploy``); ``tests/deploy/`` proves each one.
"""
