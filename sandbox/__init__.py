"""capi-relay sandbox: strict, fault-injecting local stand-ins for the platforms' conversion APIs.

Run it with `python -m sandbox`, or in tests with `sandbox.testing.running_sandbox()` /
`sandbox.testing.sandbox_process()`. See docs/platforms/sandbox.md.
"""

from sandbox.config import DEFAULT_DEVELOPER_TOKEN, DEFAULT_TOKEN, FaultSettings, SandboxConfig
from sandbox.faults import is_rejected

__all__ = ["DEFAULT_DEVELOPER_TOKEN", "DEFAULT_TOKEN", "FaultSettings", "SandboxConfig", "is_rejected"]
