"""Clip -> tensor front ends: they live in :mod:`harness.data.frontends` (shared with `tinyhil bench`, so the
firmware sees what the model saw in training); re-exported here."""

from harness.data.frontends import LogMelFrontEnd, RawFrontEnd, hz_to_mel, mel_matrix  # noqa: F401
