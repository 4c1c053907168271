"""The one object every command receives: global flags, consoles, the kube client.

It is built once by the root callback from the global options and stored in
`typer.Context.obj`. The kube client is created lazily on first use, so
commands that need no cluster never import the `kubernetes` package.
"""

from __future__ import annotations

import os
import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from ambientctl.kube import DEFAULT_TIMEOUT
from ambientctl.names import validate_namespace

if TYPE_CHECKING:
    from rich.console import Console

    from ambientctl.kube.client import KubeClient

DEFAULT_ISTIO_NAMESPACE = "istio-system"


def no_color_requested(flag: bool) -> bool:
    """--no-color, or NO_COLOR set to anything (the no-color.org convention)."""
    return flag or bool(os.environ.get("NO_COLOR"))


class GlobalOptions(NamedTuple):
    """The root flags, exactly as the user gave them."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    istio_namespace: str = DEFAULT_ISTIO_NAMESPACE
    request_timeout: float = DEFAULT_TIMEOUT
    debug: bool = False
    no_color: bool = False
    impersonate_user: str | None = None  # --as
    impersonate_groups: tuple[str, ...] = ()  # --as-group (repeatable)
    impersonate_uid: str | None = None  # --as-uid


class CliContext:
    """Per-invocation state shared by every command (istioctl's cli.Context).

    Not a dataclass: every command, and every read of a dump, loads this module (see proxy/model.py).
    """

    def __init__(self, options: GlobalOptions | None = None, _kube: Any = None) -> None:
        self.options = options if options is not None else GlobalOptions()
        self._kube = _kube

    @cached_property
    def out(self) -> Console:
        """Console for data: stdout, never wrapped, colour only on a terminal."""
        return self._console(sys.stdout)

    @cached_property
    def err(self) -> Console:
        """Console for progress, warnings and errors: stderr."""
        return self._console(sys.stderr)

    def _console(self, stream: Any) -> Console:
        from rich.console import Console

        return Console(file=stream, no_color=self.options.no_color, highlight=False, soft_wrap=True)

    @property
    def interactive(self) -> bool:
        """True when stderr is a terminal: only then show live progress."""
        return self.err.is_terminal

    @property
    def kube(self) -> KubeClient:
        """The kube client, built on first use from the global flags (kubeconfig, context, -n, timeout, --as)."""
        if self._kube is None:
            from ambientctl.kube.client import KubeClient

            if not self.options.debug:  # urllib3 logs each retry as a WARNING on stderr
                import logging

                logging.getLogger("urllib3").setLevel(logging.ERROR)
            options = self.options
            namespace = validate_namespace(options.namespace, "-n/--namespace") if options.namespace else None
            self._kube = KubeClient.connect(options.kubeconfig, options.context, namespace=namespace,
                                            timeout=options.request_timeout,
                                            impersonate_user=options.impersonate_user,
                                            impersonate_groups=options.impersonate_groups,
                                            impersonate_uid=options.impersonate_uid)
        return self._kube

    @property
    def namespace(self) -> str:
        """-n if given, else the kubeconfig context's namespace, else `default` (checked: it goes into URLs)."""
        if self.options.namespace:
            return validate_namespace(self.options.namespace, "-n/--namespace")
        if self._kube is not None:
            return validate_namespace(self._kube.default_namespace, "the kubeconfig context's namespace")
        from ambientctl.kube.config import context_namespace

        return validate_namespace(context_namespace(self.options.kubeconfig, self.options.context),
                                  "the kubeconfig context's namespace")

    @property
    def istio_namespace(self) -> str:
        return self.options.istio_namespace

    @property
    def istio_namespace_override(self) -> str | None:
        """-i only when the user changed it, so `-f` files and `--set` can still set the namespace of a render."""
        namespace = self.options.istio_namespace
        return namespace if namespace and namespace != DEFAULT_ISTIO_NAMESPACE else None

    def warn(self, message: str) -> None:
        """A warning on stderr, never on stdout."""
        if not self._plain_err(f"! {message}"):
            self.err.print(f"[yellow]![/yellow] {message}", markup=True)

    def info(self, message: str) -> None:
        """Progress text on stderr."""
        if not self._plain_err(message):
            self.err.print(message, markup=False)

    def _plain_err(self, line: str) -> bool:
        """Write one line to stderr without rich when there is nothing to style (no colour: a pipe, a file).

        Why: rich's print costs ~0.3 ms a line, and `uninstall` on a 1,000-namespace mesh warns
        once per enrolled namespace; the text is the same (soft wrap, no colour).
        """
        console = self.err
        if console.color_system is not None or console.is_terminal:
            return False
        console.file.write(line + "\n")
        return True
