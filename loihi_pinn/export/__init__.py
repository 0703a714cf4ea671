"""netx HDF5 export and import, with the model card inside the file."""
from .netx import read_model_card, read_netx, write_netx
from .workflow import export_converted

__all__ = ["export_converted", "read_model_card", "read_netx", "write_netx"]
