"""The Pendo pipeline as code: the spec users edit and the component that builds it.

`pipelines.spec` has no Pulumi runtime dependency (the CLI and unit tests use it alone);
`pipelines.streaming` holds the component resources.
"""

from .spec import DEFAULT_FIELDS, DEFAULT_MAPPINGS, Pipeline, PipelineSpec, Problem, SpecError, load

__all__ = ["DEFAULT_FIELDS", "DEFAULT_MAPPINGS", "Pipeline", "PipelineSpec", "Problem", "SpecError", "load"]
