"""Pure Python: label configs, task import formats, result shapes. No AWS, no I/O, no web framework."""
