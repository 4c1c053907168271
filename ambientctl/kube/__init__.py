"""The kube client layer shared by every command.

Importing this package is cheap: `kubernetes` is imported only by
`ambientctl.kube.client` and the modules that need a live cluster, which the
CLI loads on first use through `CliContext.kube`. The client is built from a
kubeconfig path, a context, a namespace and a timeout
(`KubeClient.connect`), never from CLI options; modules here import only
`ambientctl.errors` and each other.
"""

# The field manager of every server-side apply and merge patch ambientctl sends.
FIELD_MANAGER = "ambientctl"
# Seconds per request unless --request-timeout says otherwise (the official client has no timeout by default).
DEFAULT_TIMEOUT = 30.0
