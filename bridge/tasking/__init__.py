"""STAPI tasking (new acquisitions) over the providers' tasking adapters, at ``/tasking/``."""
