"""The kube client layer shared by every command.

Importing this package is cheap: `kubernetes` is imported only by
`ambientctl.kube.client` and the modules that need a live cluster, which the
CLI loads on first use through `CliContext.kube`.
"""
