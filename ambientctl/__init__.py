"""ambientctl: istioctl's habits for Istio's ambient mesh, in Python."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """`ambientctl.__version__`, read lazily so importing the package stays cheap."""
    if name == "__version__":
        from ambientctl.versions import client_version

        return client_version()
    raise AttributeError(name)
