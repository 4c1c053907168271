"""Envoy proxies (waypoints, gateways, sidecars): `/config_dump` sections and istioctl's `pc` views of them."""
