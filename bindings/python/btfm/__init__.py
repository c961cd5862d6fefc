"""btfm: Python interface to libbtfm (brain recordings to training signals for
foundation models), over ctypes.

The shared library is found through the environment variable BTFM_LIBRARY, then a
libbtfm.so.1 inside this package's folder, then the library folder of the meson install
that installed this package, then the system's library path; importing
fails with an ImportError listing every place tried, or naming the version found when it
is older than this package needs.

    >>> import btfm
    >>> btfm.version()                      # the loaded library's version
    '1.3.0'
    >>> with btfm.Container("demo") as c:
    ...     c.put("weights", [[1.0, 2.0], [3.0, 4.0]])
    ...     blob = c.to_bytes()

Every failing library call raises btfm.Error, which carries `.status`, `.status_name`
(e.g. "BTFM_E_FORMAT") and the library's message. numpy is optional: see btfm.Container.
"""

from ._lib import MIN_VERSION_NUMBER, library_path
from ._errors import Error, NotFoundError, Status, STATUS_NAMES, check
from ._version import (capabilities, get_blas_thread_control, has_capability,
                       live_allocations, runtime_info, set_blas_thread_control, version,
                       version_number)
from ._params import ParamInfo, ParamsMixin, ParamsView, object_kinds, param_info
from ._log import (get_log_level, log_levels, log_to_logging, set_log_handler,
                   set_log_level)
from ._arrays import DTYPES, ShapedArray
from ._container import ArrayInfo, Container, container_format_version
from .dataset import (CHANNEL_TYPES, FORMATS, Channel, Dataset, Event, NirsGeometry, Record, Sync,
                      channel_type_from_name, channel_type_name, format_name, from_array, open)
from .cothb import (CALIBRATIONS, COTHB_ACTIONS, COTHB_DECISIONS, COTHB_SIGNALS, Action, CoTHB,
                    CoTHBTuner, Answer, Strategy,
                    NodeInfo, signal_quality)
from .align import ALIGN_METHODS, Aligner, classification, isc, segment_matching
from .table import Table, parse_table, read_table
from . import bids
from . import signal
from . import glm
from . import spectrum
from . import model
from . import sim
from . import reward
from .reward import RewardHead, RewardFeatures
from . import fnirs
from . import stream
from .stream import Stream
from . import corpus
from . import plot

# btfm.open and btfm.signal stay out of __all__: `from btfm import *` must not replace the
# built-in open() nor the standard library's signal module in the importer's namespace.

__version__ = "1.3.0"

__all__ = [
    "ArrayInfo", "Container", "DTYPES", "Error", "MIN_VERSION_NUMBER", "NotFoundError",
    "ParamInfo", "ParamsMixin", "ParamsView", "STATUS_NAMES", "ShapedArray", "Status",
    "capabilities", "check", "container_format_version", "get_log_level",
    "has_capability", "library_path", "live_allocations", "log_levels", "log_to_logging",
    "runtime_info", "set_blas_thread_control", "get_blas_thread_control",
    "object_kinds", "param_info", "set_log_handler", "set_log_level", "version",
    "version_number", "__version__",
    "CHANNEL_TYPES", "Channel", "Dataset", "Event", "FORMATS", "NirsGeometry", "Record", "Sync",
    "channel_type_from_name", "channel_type_name", "format_name", "from_array",
    "Action", "CALIBRATIONS", "COTHB_ACTIONS", "COTHB_DECISIONS", "COTHB_SIGNALS", "CoTHB",
    "CoTHBTuner", "Answer", "Strategy",
    "NodeInfo", "signal_quality",
    "ALIGN_METHODS", "Aligner", "classification", "isc", "segment_matching",
    "Table", "parse_table", "read_table",
    "bids",
    "glm",
    "spectrum",
    "model",
    "sim",
    "reward", "RewardHead", "RewardFeatures",
    "fnirs",
    "stream", "Stream",
    "corpus",
    "plot",
]
