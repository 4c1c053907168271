"""The record of labels ambientctl put on objects it does not own (Services, namespaces).

`ownership.ADDED_LABELS_ANNOTATION` lists what we added, so `delete` removes
exactly that; `REPLACED_LABELS_ANNOTATION` keeps a user's value that
`--overwrite` replaced, so `delete` gives it back. The readers live in
`ownership` (enrolment records its `istio.io/rev` the same way); this module
keeps the waypoint package's names for them.
"""

from __future__ import annotations

from ambientctl.ownership import encode_label_record, read_added_labels, read_replaced_labels

__all__ = ["encode_label_record", "read_added_labels", "read_replaced_labels"]
