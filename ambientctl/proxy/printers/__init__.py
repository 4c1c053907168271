"""Pure text renderers for proxy configuration (istioctl's writer packages).

Each function takes the parsed model and an explicit `now`, and returns the
text to print, so golden-file tests can freeze the clock.
"""
