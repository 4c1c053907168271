"""`x describe pod|service`: one pod's or Service's place in the ambient mesh, from every source at once.

istioctl's `x describe` explains sidecar configuration; in ambient mode the
questions are different: is the pod captured, which ztunnel serves it and does
that ztunnel hold its certificate, which waypoint its traffic goes through and
is it programmed, which policies apply and who enforces them. `model` answers
them from a `MeshState` and a ztunnel's view (pure), `printer` writes the text,
`fetch` reads the cluster and the ztunnel.
"""
