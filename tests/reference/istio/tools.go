//go:build tools

// Package tools pins the two Istio commands this wrapper builds: istioctl and
// istiod's pilot-discovery. Imported only so `go mod tidy` records their deps.
package tools

import (
	_ "istio.io/istio/istioctl/cmd/istioctl"
	_ "istio.io/istio/pilot/cmd/pilot-discovery"
)
