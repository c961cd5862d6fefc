"""Find, load and declare libbtfm: every C function's argtypes/restype in one table.

Search order: the file named by the environment variable BTFM_LIBRARY (an explicit
choice: if it cannot be loaded, nothing else is tried), then a copy of the library inside
this package's folder, then the library folder of the meson install that installed this
package (relative to where the package is now), then the system's library search path.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from ctypes import (POINTER, Structure, c_char_p, c_double, c_int, c_int64, c_long,
                    c_size_t, c_uint, c_void_p)

__all__ = ["lib", "library_path", "MIN_VERSION_NUMBER", "ContainerPtr", "DatasetPtr", "IirPtr",
           "ModelPtr",
           "LOG_FN", "PROGRESS_FN", "MALLOC_FN", "REALLOC_FN", "FREE_FN", "COTHB_STEP_FN"]

#: Oldest library this package works with, in the BTFM_VERSION_NUMBER encoding
#: (MAJOR * 10000 + MINOR * 100 + PATCH).
MIN_VERSION_NUMBER = 10300

ENV_VAR = "BTFM_LIBRARY"


class _Container(Structure):
    """Opaque btfm_container; only pointers to it are ever used."""


ContainerPtr = POINTER(_Container)


class _Dataset(Structure):
    """Opaque btfm_dataset; only pointers to it are ever used."""


DatasetPtr = POINTER(_Dataset)


class _Aligner(Structure):
    """Opaque btfm_aligner; only pointers to it are ever used."""


AlignerPtr = POINTER(_Aligner)


class _Model(Structure):
    """Opaque btfm_model; only pointers to it are ever used."""


ModelPtr = POINTER(_Model)


class _Iir(Structure):
    """Opaque btfm_iir; only pointers to it are ever used."""


IirPtr = POINTER(_Iir)

LOG_FN = ctypes.CFUNCTYPE(None, c_int, c_char_p, c_void_p)
MALLOC_FN = ctypes.CFUNCTYPE(c_void_p, c_size_t, c_void_p)
REALLOC_FN = ctypes.CFUNCTYPE(c_void_p, c_void_p, c_size_t, c_void_p)
FREE_FN = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)
# btfm_progress_fn (progress.h): (stage, fraction, user) -> non-zero to cancel
PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_char_p, c_double, c_void_p)
# btfm_cothb_step_fn (cothb.h)
COTHB_STEP_FN = ctypes.CFUNCTYPE(c_int, c_int, c_int64, c_int64, POINTER(c_double), c_int, c_void_p)
# btfm_cothb_episode_fn (cothb.h): (controller, problem, reward out, user) -> status
COTHB_EPISODE_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_int64, POINTER(c_double), c_void_p)

_p_int = POINTER(c_int)
_p_float = POINTER(ctypes.c_float)
_p_double = POINTER(c_double)
_p_float = POINTER(ctypes.c_float)
_p_size = POINTER(c_size_t)
_p_int64 = POINTER(c_int64)
_p_str = POINTER(c_char_p)
_p_void = POINTER(c_void_p)
_p_container = POINTER(ContainerPtr)

# name: (restype, argtypes). Statuses (btfm_status) are C ints.
_SIGNATURES = {
    # version.h
    "btfm_version_number": (c_uint, []),
    "btfm_version_string": (c_char_p, []),
    "btfm_capabilities": (c_char_p, []),
    "btfm_has_capability": (c_int, [c_char_p]),
    # status.h
    "btfm_status_name": (c_char_p, [c_int]),
    "btfm_status_str": (c_char_p, [c_int]),
    "btfm_last_error": (c_char_p, []),
    "btfm_last_error_status": (c_int, []),
    "btfm_clear_error": (None, []),
    # alloc.h
    "btfm_set_allocator": (c_int, [MALLOC_FN, REALLOC_FN, FREE_FN, c_void_p]),
    "btfm_live_allocations": (c_long, []),
    # log.h
    "btfm_set_log_callback": (None, [LOG_FN, c_void_p]),
    "btfm_set_log_level": (c_int, [c_int]),
    "btfm_get_log_level": (c_int, []),
    "btfm_log_level_name": (c_char_p, [c_int]),
    # param.h
    "btfm_object_kind_name": (c_char_p, [c_int]),
    "btfm_param_type_name": (c_char_p, [c_int]),
    "btfm_param_count": (c_int, [c_int]),
    "btfm_param_info": (c_int, [c_int, c_int, _p_str, _p_int, _p_double, _p_double,
                                _p_double]),
    "btfm_param_description": (c_char_p, [c_int, c_int]),
    "btfm_param_find": (c_int, [c_int, c_char_p, _p_int]),
    # container.h
    "btfm_container_format_version": (c_int, []),
    "btfm_dtype_size": (c_size_t, [c_int]),
    "btfm_dtype_name": (c_char_p, [c_int]),
    "btfm_container_new": (c_int, [_p_container, c_char_p]),
    "btfm_container_free": (None, [ContainerPtr]),
    "btfm_container_set_param": (c_int, [ContainerPtr, c_int, c_double]),
    "btfm_container_get_param": (c_int, [ContainerPtr, c_int, _p_double]),
    "btfm_container_put": (c_int, [ContainerPtr, c_char_p, c_int, c_int, _p_int64,
                                   c_void_p]),
    "btfm_container_put_text": (c_int, [ContainerPtr, c_char_p, c_char_p]),
    "btfm_container_save": (c_int, [ContainerPtr, c_char_p]),
    "btfm_container_serialized_size": (c_int, [ContainerPtr, _p_size]),
    "btfm_container_save_buffer": (c_int, [ContainerPtr, c_void_p, c_size_t, _p_size]),
    "btfm_container_load": (c_int, [_p_container, c_char_p, c_char_p]),
    "btfm_container_load_buffer": (c_int, [_p_container, c_void_p, c_size_t, c_char_p]),
    "btfm_container_kind": (c_char_p, [ContainerPtr]),
    "btfm_container_count": (c_int, [ContainerPtr]),
    "btfm_container_find": (c_int, [ContainerPtr, c_char_p, _p_int]),
    "btfm_container_array_info": (c_int, [ContainerPtr, c_int, _p_str, _p_int, _p_int,
                                          _p_int64]),
    "btfm_container_array_data": (c_int, [ContainerPtr, c_int, _p_void, _p_size]),
    "btfm_container_get": (c_int, [ContainerPtr, c_char_p, c_int, c_size_t, c_void_p]),
    "btfm_container_get_text": (c_int, [ContainerPtr, c_char_p, c_char_p, c_size_t,
                                        _p_size]),
    # dataset.h
    "btfm_format_name": (c_char_p, [c_int]),
    "btfm_channel_type_name": (c_char_p, [c_int]),
    "btfm_channel_type_from_name": (c_int, [c_char_p]),
    "btfm_dataset_open": (c_int, [POINTER(DatasetPtr), c_char_p, c_int, c_uint]),
    "btfm_dataset_free": (None, [DatasetPtr]),
    "btfm_dataset_format": (c_int, [DatasetPtr]),
    "btfm_dataset_n_times": (c_int64, [DatasetPtr]),
    "btfm_dataset_n_channels": (c_int, [DatasetPtr]),
    "btfm_dataset_sfreq": (c_double, [DatasetPtr]),
    "btfm_dataset_start_time": (c_int, [DatasetPtr, _p_double]),
    "btfm_dataset_subject": (c_char_p, [DatasetPtr]),
    "btfm_dataset_recording": (c_char_p, [DatasetPtr]),
    "btfm_dataset_channel_name": (c_char_p, [DatasetPtr, c_int]),
    "btfm_dataset_channel_unit": (c_char_p, [DatasetPtr, c_int]),
    "btfm_dataset_channel_type": (c_int, [DatasetPtr, c_int]),
    "btfm_dataset_set_channel_type": (c_int, [DatasetPtr, c_int, c_int]),
    "btfm_dataset_channel_rate": (c_double, [DatasetPtr, c_int]),
    "btfm_dataset_channel_n_samples": (c_int64, [DatasetPtr, c_int]),
    "btfm_dataset_channel_bad": (c_int, [DatasetPtr, c_int]),
    "btfm_dataset_set_channel_bad": (c_int, [DatasetPtr, c_int, c_int]),
    "btfm_dataset_find_channel": (c_int, [DatasetPtr, c_char_p, _p_int]),
    "btfm_dataset_read": (c_int, [DatasetPtr, c_int64, c_int64, _p_int, c_int, _p_float]),
    "btfm_dataset_read_native": (c_int, [DatasetPtr, c_int, c_int64, c_int64, _p_float]),
    "btfm_dataset_n_events": (c_int64, [DatasetPtr]),
    "btfm_dataset_event": (c_int, [DatasetPtr, c_int64, _p_double, _p_double, _p_str,
                                   _p_str, _p_int]),
    "btfm_dataset_n_records": (c_int64, [DatasetPtr]),
    "btfm_dataset_record": (c_int, [DatasetPtr, c_int64, _p_double, _p_int64]),
    "btfm_dataset_save": (c_int, [DatasetPtr, c_char_p, c_int, c_uint]),
    "btfm_dataset_anonymize": (c_int, [DatasetPtr]),
    "btfm_dataset_from_array": (c_int, [POINTER(DatasetPtr), _p_float, c_int64, c_int, c_double,
                                        DatasetPtr]),
    "btfm_dataset_set_channel_name": (c_int, [DatasetPtr, c_int, c_char_p]),
    "btfm_dataset_set_channel_unit": (c_int, [DatasetPtr, c_int, c_char_p]),
    "btfm_dataset_add_event": (c_int, [DatasetPtr, c_double, c_double, c_char_p, c_char_p,
                                       c_int]),
    # volume.h
    "btfm_mask_kind_name": (c_char_p, [c_int]),
    "btfm_dataset_volume_shape": (c_int, [DatasetPtr, _p_int64]),
    "btfm_dataset_volume_affine": (c_int, [DatasetPtr, _p_double]),
    "btfm_dataset_volume_zooms": (c_int, [DatasetPtr, _p_double]),
    "btfm_dataset_mask_kind": (c_int, [DatasetPtr]),
    "btfm_dataset_channel_voxels": (c_int, [DatasetPtr, _p_int64]),
    "btfm_dataset_mask_image": (c_int, [DatasetPtr, c_char_p]),
    "btfm_dataset_mask_voxels": (c_int, [DatasetPtr, POINTER(ctypes.c_uint8), c_int64]),
    "btfm_dataset_mask_compute": (c_int, [DatasetPtr, c_int, c_double]),
    "btfm_dataset_mask_labels": (c_int, [DatasetPtr, c_char_p]),
    # table.h (the handle as c_void_p; btfm/table.py)
    "btfm_table_read": (c_int, [_p_void, c_char_p]),
    "btfm_table_parse": (c_int, [_p_void, c_char_p, c_size_t, c_char_p]),
    "btfm_table_new": (c_int, [_p_void, _p_str, c_int]),
    "btfm_table_free": (None, [c_void_p]),
    "btfm_table_n_rows": (c_int64, [c_void_p]),
    "btfm_table_n_columns": (c_int, [c_void_p]),
    "btfm_table_column_name": (c_char_p, [c_void_p, c_int]),
    "btfm_table_find_column": (c_int, [c_void_p, c_char_p, _p_int]),
    "btfm_table_cell": (c_char_p, [c_void_p, c_int64, c_int]),
    "btfm_table_is_na": (c_int, [c_void_p, c_int64, c_int]),
    "btfm_table_column_numbers": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_table_add_row": (c_int, [c_void_p, _p_str]),
    "btfm_table_add_column": (c_int, [c_void_p, c_char_p, c_char_p]),
    "btfm_table_set_cell": (c_int, [c_void_p, c_int64, c_int, c_char_p]),
    "btfm_table_save": (c_int, [c_void_p, c_char_p]),
    # bids.h (the handles as c_void_p; btfm/bids.py)
    "btfm_bids_open": (c_int, [_p_void, c_char_p, c_uint]),
    "btfm_bids_free": (None, [c_void_p]),
    "btfm_bids_root": (c_char_p, [c_void_p]),
    "btfm_bids_description": (c_char_p, [c_void_p]),
    "btfm_bids_n_recordings": (c_int64, [c_void_p]),
    "btfm_bids_recording_path": (c_char_p, [c_void_p, c_int64]),
    "btfm_bids_recording_n_entities": (c_int, [c_void_p, c_int64]),
    "btfm_bids_recording_entity_at": (c_int, [c_void_p, c_int64, c_int, _p_str, _p_str]),
    "btfm_bids_recording_entity": (c_char_p, [c_void_p, c_int64, c_char_p]),
    "btfm_bids_query": (c_int, [c_void_p, c_char_p, _p_int64, c_int64, _p_int64]),
    "btfm_bids_n_values": (c_int64, [c_void_p, c_char_p]),
    "btfm_bids_value": (c_char_p, [c_void_p, c_char_p, c_int64]),
    "btfm_bids_n_skipped": (c_int64, [c_void_p]),
    "btfm_bids_skipped": (c_int, [c_void_p, c_int64, _p_str, _p_str]),
    "btfm_bids_recording_metadata": (c_int, [c_void_p, c_int64, _p_str]),
    "btfm_bids_open_recording": (c_int, [c_void_p, c_int64, POINTER(DatasetPtr)]),
    "btfm_bids_apply_sidecars": (c_int, [c_void_p, c_int64, DatasetPtr]),
    "btfm_bids_participants": (c_int, [c_void_p, _p_void]),
    "btfm_bids_participant_row": (c_int, [c_void_p, c_int64, _p_int64]),
    "btfm_bids_scans": (c_int, [c_void_p, c_int64, _p_void, _p_int64]),
    "btfm_bids_read_table": (c_int, [c_void_p, c_int64, _p_void]),
    "btfm_dataset_metadata": (c_char_p, [DatasetPtr]),
    "btfm_dataset_set_metadata": (c_int, [DatasetPtr, c_char_p]),
    "btfm_dataset_meta_numbers": (c_int, [DatasetPtr, c_char_p, _p_double, c_int64, _p_int64]),
    "btfm_dataset_meta_string": (c_int, [DatasetPtr, c_char_p, _p_str]),
    "btfm_dataset_events_table": (c_int, [DatasetPtr, _p_void]),
    "btfm_bids_writer_new": (c_int, [_p_void, c_char_p, c_char_p]),
    "btfm_bids_writer_free": (None, [c_void_p]),
    "btfm_bids_writer_add": (c_int, [c_void_p, DatasetPtr, c_char_p, c_int, c_char_p, c_void_p]),
    "btfm_bids_writer_set_participants": (c_int, [c_void_p, c_void_p]),
    "btfm_bids_writer_finish": (c_int, [c_void_p]),
    # signal.h (btfm/signal.py)
    "btfm_filter_kind_name": (c_char_p, [c_int]),
    "btfm_fir_window_name": (c_char_p, [c_int]),
    "btfm_pad_name": (c_char_p, [c_int]),
    "btfm_butter_n_sections": (c_int, [c_int, c_int]),
    "btfm_butter": (c_int, [c_int, c_int, c_double, c_double, c_double, _p_double, c_size_t]),
    "btfm_iirnotch": (c_int, [c_double, c_double, c_double, _p_double]),
    "btfm_sosfilt_zi": (c_int, [_p_double, c_int, _p_double]),
    "btfm_sosfilt": (c_int, [_p_double, c_int, _p_float, c_int64, c_int, _p_double, c_uint,
                             _p_float]),
    "btfm_sosfiltfilt": (c_int, [_p_double, c_int, _p_float, c_int64, c_int, c_int, c_int64,
                                 c_uint, _p_float]),
    "btfm_iir_new": (c_int, [POINTER(IirPtr), _p_double, c_int, c_int]),
    "btfm_iir_free": (None, [IirPtr]),
    "btfm_iir_reset": (c_int, [IirPtr, _p_float]),
    "btfm_iir_process": (c_int, [IirPtr, _p_float, c_int64, c_uint, _p_float]),
    "btfm_iir_state": (c_int, [IirPtr, _p_double, c_size_t]),
    "btfm_iir_n_sections": (c_int, [IirPtr]),
    "btfm_iir_n_channels": (c_int, [IirPtr]),
    "btfm_firwin": (c_int, [c_int, c_int, c_double, c_double, c_int, c_double, c_double,
                            _p_double]),
    "btfm_resample_poly_len": (c_int64, [c_int64, c_int, c_int]),
    "btfm_resample_poly": (c_int, [_p_float, c_int64, c_int, c_int, c_int, c_uint, _p_float]),
    "btfm_detrend": (c_int, [_p_float, c_int64, c_int, c_int, c_uint, _p_float]),
    "btfm_rereference": (c_int, [_p_float, c_int64, c_int, _p_int, c_int, _p_int, c_int,
                                 c_uint, _p_float]),
    "btfm_interpolate_bads": (c_int, [_p_float, c_int64, c_int, _p_double,
                                      POINTER(ctypes.c_ubyte), c_int, c_uint, _p_float]),
    "btfm_epochs_n_times": (c_int64, [c_double, c_double, c_double]),
    "btfm_epochs": (c_int, [_p_float, c_int64, c_int, c_double, _p_int64, c_int64, c_double,
                            c_double, c_double, c_double, _p_double, c_uint, _p_float,
                            _p_int64, POINTER(ctypes.c_ubyte), _p_int]),
    "btfm_dataset_reject_limits": (c_int, [DatasetPtr, c_char_p, _p_double]),
    "btfm_dataset_filter": (c_int, [DatasetPtr, _p_double, c_int, c_uint, _p_float]),
    "btfm_dataset_filtered": (c_int, [POINTER(DatasetPtr), DatasetPtr, _p_double, c_int,
                                      c_uint]),
    "btfm_dataset_epochs": (c_int, [DatasetPtr, _p_int64, c_int64, c_double, c_double,
                                    c_double, c_double, c_char_p, c_uint, _p_float, _p_int64,
                                    POINTER(ctypes.c_ubyte), _p_int]),
    # cothb.h (the handle as c_void_p; btfm/cothb.py)
    "btfm_cothb_action_name": (c_char_p, [c_int]),
    "btfm_cothb_signal_name": (c_char_p, [c_int]),
    "btfm_cothb_status_name": (c_char_p, [c_int]),
    "btfm_cothb_decision_name": (c_char_p, [c_int]),
    "btfm_cothb_signal_count": (c_int, []),
    "btfm_cothb_node_bytes": (c_size_t, []),
    "btfm_cothb_new": (c_int, [_p_void]),
    "btfm_cothb_free": (None, [c_void_p]),
    "btfm_cothb_set_param": (c_int, [c_void_p, c_int, c_double]),
    "btfm_cothb_get_param": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_cothb_next": (c_int, [c_void_p, _p_int, _p_int64, _p_int64]),
    "btfm_cothb_add_node": (c_int, [c_void_p, c_int64, _p_int64]),
    "btfm_cothb_observe": (c_int, [c_void_p, c_int64, _p_double, c_int]),
    "btfm_cothb_run": (c_int, [c_void_p, COTHB_STEP_FN, _p_int, _p_int64, c_void_p]),
    "btfm_cothb_node_count": (c_int64, [c_void_p]),
    "btfm_cothb_node_info": (c_int, [c_void_p, c_int64, _p_int64, _p_int, _p_int, _p_int,
                                     _p_int]),
    "btfm_cothb_reliability": (c_int, [c_void_p, c_int64, _p_double]),
    "btfm_cothb_posterior": (c_int, [c_void_p, c_int64, _p_double, _p_double]),
    "btfm_cothb_progress": (c_int, [c_void_p, _p_int64, _p_int64, _p_double]),
    "btfm_cothb_calibrate": (c_int, [c_void_p, _p_double, c_int, c_int, _p_int, c_double]),
    "btfm_cothb_policy": (c_int, [c_void_p, c_int, _p_double, c_int, _p_double]),
    "btfm_cothb_trace_jsonl": (c_int, [c_void_p, c_char_p, c_size_t, _p_size]),
    "btfm_cothb_save": (c_int, [c_void_p, c_char_p]),
    "btfm_cothb_save_buffer": (c_int, [c_void_p, c_void_p, c_size_t, _p_size]),
    "btfm_cothb_load": (c_int, [_p_void, c_char_p]),
    "btfm_cothb_load_buffer": (c_int, [_p_void, c_void_p, c_size_t]),
    # aligner.h (btfm/align.py)
    "btfm_align_method_name": (c_char_p, [c_int]),
    "btfm_aligner_new": (c_int, [POINTER(AlignerPtr), c_int]),
    "btfm_aligner_free": (None, [AlignerPtr]),
    "btfm_aligner_set_param": (c_int, [AlignerPtr, c_int, c_double]),
    "btfm_aligner_get_param": (c_int, [AlignerPtr, c_int, _p_double]),
    "btfm_aligner_method": (c_int, [AlignerPtr]),
    "btfm_aligner_add_subject": (c_int, [AlignerPtr, _p_float, c_int64, c_int64]),
    "btfm_aligner_fit": (c_int, [AlignerPtr]),
    "btfm_aligner_is_fitted": (c_int, [AlignerPtr]),
    "btfm_aligner_n_subjects": (c_int, [AlignerPtr, _p_int]),
    "btfm_aligner_n_times": (c_int, [AlignerPtr, _p_int64]),
    "btfm_aligner_n_components": (c_int, [AlignerPtr, _p_int64]),
    "btfm_aligner_subject_features": (c_int, [AlignerPtr, c_int, _p_int64]),
    "btfm_aligner_fit_info": (c_int, [AlignerPtr, _p_int, _p_double]),
    "btfm_aligner_common": (c_int, [AlignerPtr, _p_float, c_size_t]),
    "btfm_aligner_transform": (c_int, [AlignerPtr, c_int, _p_float, c_int64, c_int64,
                                       _p_float]),
    "btfm_aligner_inverse_transform": (c_int, [AlignerPtr, c_int, _p_float, c_int64, c_int64,
                                               _p_float]),
    "btfm_aligner_save": (c_int, [AlignerPtr, c_char_p]),
    "btfm_aligner_save_buffer": (c_int, [AlignerPtr, c_void_p, c_size_t, _p_size]),
    "btfm_aligner_load": (c_int, [POINTER(AlignerPtr), c_char_p]),
    "btfm_aligner_load_buffer": (c_int, [POINTER(AlignerPtr), c_void_p, c_size_t]),
    "btfm_align_segment_matching": (c_int, [_p_float, c_int, c_int64, c_int64, c_int64,
                                            _p_double]),
    "btfm_align_isc": (c_int, [_p_float, c_int, c_int64, c_int64, c_int, _p_double]),
    "btfm_align_classification": (c_int, [_p_float, _p_int, c_int, c_int64, c_int64,
                                          _p_double]),
    # glm.h (the handle as c_void_p; btfm/glm.py)
    "btfm_glm_clean": (c_int, [_p_float, c_int64, c_int64, c_double, c_int, c_int, c_double,
                               c_double, _p_float, c_int64, c_int, _p_float]),
    "btfm_glm_cosine_drift": (c_int, [c_int64, c_double, c_double, _p_double, c_size_t,
                                      _p_int64]),
    "btfm_glm_hrf": (c_int, [c_int, c_double, c_int, c_double, c_double, _p_double, c_size_t,
                             _p_int64]),
    "btfm_glm_hrf_columns": (c_int, [c_int]),
    "btfm_glm_event_regressors": (c_int, [_p_double, _p_double, _p_double, c_int64, c_double,
                                          c_int64, c_double, c_int, _p_double]),
    "btfm_glm_drift": (c_int, [c_int64, c_double, c_double, c_int, c_double, _p_double,
                               c_size_t, _p_int64]),
    "btfm_glm_design_matrix": (c_int, [_p_double, _p_double, _p_double, _p_int, c_int64, c_int,
                                       c_double, c_int64, c_double, c_int, c_int, c_double,
                                       _p_double, c_size_t, _p_int64]),
    "btfm_glm_noise_name": (c_char_p, [c_int]),
    "btfm_glm_new": (c_int, [_p_void, _p_double, c_int64, c_int64, c_int]),
    "btfm_glm_free": (None, [c_void_p]),
    "btfm_glm_fit": (c_int, [c_void_p, _p_float, c_int64, c_int64]),
    "btfm_glm_dims": (c_int, [c_void_p, _p_int64, _p_int64, _p_int64]),
    "btfm_glm_betas": (c_int, [c_void_p, _p_float, c_size_t]),
    "btfm_glm_residual_variance": (c_int, [c_void_p, _p_float, c_size_t]),
    "btfm_glm_ar1": (c_int, [c_void_p, _p_float, c_size_t]),
    "btfm_glm_contrast": (c_int, [c_void_p, _p_double, c_int64, _p_float, _p_float, _p_float]),
    "btfm_glm_lsa": (c_int, [_p_float, c_int64, c_int64, _p_double, c_int64, _p_double, c_int64,
                             _p_float]),
    "btfm_glm_lss": (c_int, [_p_float, c_int64, c_int64, _p_double, _p_int, c_int64, _p_double,
                             c_int64, _p_float]),
    # spectrum.h (btfm/spectrum.py; the FFT plan as c_void_p)
    "btfm_fft_new": (c_int, [_p_void, c_int64]),
    "btfm_fft_free": (None, [c_void_p]),
    "btfm_fft_length": (c_int64, [c_void_p]),
    "btfm_fft_rfft": (c_int, [c_void_p, _p_double, _p_double]),
    "btfm_fft_irfft": (c_int, [c_void_p, _p_double, _p_double]),
    "btfm_fft_rfft_f32": (c_int, [c_void_p, _p_float, _p_float]),
    "btfm_fft_irfft_f32": (c_int, [c_void_p, _p_float, _p_float]),
    "btfm_window_name": (c_char_p, [c_int]),
    "btfm_welch": (c_int, [_p_float, c_int64, c_int, c_double, c_int, c_int64, c_int64, c_int64,
                           c_int, c_int, c_int, c_uint, _p_double, _p_double]),
    "btfm_fir_output_length": (c_int64, [c_int64, c_int64, c_int]),
    "btfm_fir_apply": (c_int, [_p_float, c_int64, c_int, _p_double, c_int64, c_int, c_uint,
                               _p_float]),
    "btfm_fir_zero_phase": (c_int, [_p_float, c_int64, c_int, _p_double, c_int64, c_uint,
                                    _p_float]),
    "btfm_dpss": (c_int, [c_int64, c_double, c_int, c_int, _p_double, _p_double]),
    "btfm_psd_multitaper": (c_int, [_p_float, c_int64, c_int, c_double, c_double, c_int, c_uint,
                                    _p_int, _p_double, _p_double]),
    "btfm_band_name": (c_char_p, [c_int]),
    "btfm_band_edges": (c_int, [c_int, _p_double, _p_double]),
    "btfm_band_power": (c_int, [_p_double, _p_double, c_int64, c_int, _p_double, c_int, c_uint,
                                _p_double]),
    "btfm_erp_mean_amplitude": (c_int, [_p_float, c_int64, c_int64, c_int, c_double, c_double,
                                        c_double, c_double, c_uint, _p_double]),
    "btfm_erp_peak": (c_int, [_p_float, c_int64, c_int64, c_int, c_double, c_double, c_double,
                              c_double, c_int, c_uint, _p_double, _p_double]),
    # Release 1.3: one section a layer, in dependency order; entries go at the end of their
    # layer's section.
    # progress.h
    "btfm_set_thread_progress": (None, [PROGRESS_FN, c_void_p]),
    "btfm_get_thread_progress": (PROGRESS_FN, [_p_void]),
    # core: build and runtime facts
    "btfm_runtime_info": (c_int, [ctypes.c_char_p, c_size_t, _p_size]),
    "btfm_set_blas_thread_control": (c_int, [c_int]),
    "btfm_get_blas_thread_control": (c_int, []),

    # core: counts named by the rule of doc/layout.md
    "btfm_container_n_arrays": (c_int, [ContainerPtr]),
    "btfm_object_n_params": (c_int, [c_int]),

    # core: typed table cells
    "btfm_table_cell_number": (c_int, [c_void_p, c_int64, c_int, _p_double]),
    "btfm_table_column_is_numeric": (c_int, [c_void_p, c_int]),

    # dense

    # io
    "btfm_dataset_channel_position": (c_int, [DatasetPtr, c_int, _p_double]),
    "btfm_dataset_set_channel_position": (c_int, [DatasetPtr, c_int, _p_double]),
    "btfm_dataset_coordinate_frame": (c_char_p, [DatasetPtr]),
    "btfm_dataset_set_coordinate_frame": (c_int, [DatasetPtr, c_char_p]),
    "btfm_dataset_nirs_channel": (c_int, [DatasetPtr, c_int, _p_int, _p_int, _p_double,
                                          _p_double, _p_double]),
    "btfm_dataset_set_nirs_channel": (c_int, [DatasetPtr, c_int, c_int, c_int, c_double,
                                              _p_double, _p_double]),
    "btfm_dataset_meta_length": (c_int, [DatasetPtr, c_char_p, _p_int64]),
    "btfm_dataset_meta_bool": (c_int, [DatasetPtr, c_char_p, _p_int]),
    "btfm_dataset_select_events": (c_int, [DatasetPtr, c_char_p, _p_int64, c_int64, _p_int64]),
    "btfm_voxel_order_name": (c_char_p, [c_int]),
    "btfm_dataset_set_voxel_order": (c_int, [DatasetPtr, c_int]),
    "btfm_dataset_voxel_order": (c_int, [DatasetPtr]),
    "btfm_dataset_sync": (c_int, [DatasetPtr, DatasetPtr, _p_double, _p_double, _p_double,
                                  _p_int64]),
    "btfm_dataset_import_events": (c_int, [DatasetPtr, DatasetPtr, c_char_p, c_double,
                                           c_double, _p_int64]),

    # io: formats

    # bids
    "btfm_bids_writer_keep_identity": (c_int, [c_void_p, c_int]),

    # signal
    "btfm_fir_design": (c_int, [_p_double, c_int, c_int, c_double, c_double, c_int, c_double,
                                c_double]),
    "btfm_epochs_plan_new": (c_int, [_p_void]),
    "btfm_epochs_plan_free": (None, [c_void_p]),
    "btfm_epochs_plan_set_param": (c_int, [c_void_p, c_int, c_double]),
    "btfm_epochs_plan_get_param": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_epochs_plan_set_reject": (c_int, [c_void_p, _p_double, c_int]),
    "btfm_epochs_plan_set_reject_spec": (c_int, [c_void_p, c_char_p]),
    "btfm_epochs_plan_n_times": (c_int64, [c_void_p, c_double]),
    "btfm_epochs_plan_run": (c_int, [c_void_p, _p_float, _p_int64, POINTER(ctypes.c_ubyte),
                                     _p_int, _p_float, c_int64, c_int, c_double, _p_int64,
                                     c_int64]),
    "btfm_epochs_plan_run_dataset": (c_int, [c_void_p, _p_float, _p_int64,
                                             POINTER(ctypes.c_ubyte), _p_int, DatasetPtr,
                                             _p_int64, c_int64]),
    "btfm_fnirs_optical_density": (c_int, [_p_float, c_int64, c_int, c_uint, _p_float]),
    "btfm_fnirs_extinction": (c_int, [c_double, _p_double, _p_double]),
    "btfm_fnirs_beer_lambert": (c_int, [_p_float, c_int64, c_int, _p_int, _p_double, _p_double,
                                        c_int, c_double, c_uint, _p_float]),
    "btfm_fnirs_short_channel_regression": (c_int, [_p_float, c_int64, c_int, _p_int, c_uint,
                                                    _p_float]),
    "btfm_dataset_nirs_distances": (c_int, [DatasetPtr, _p_double]),
    "btfm_dataset_short_channels": (c_int, [DatasetPtr, c_double, POINTER(ctypes.c_ubyte)]),
    "btfm_dataset_optical_density": (c_int, [POINTER(DatasetPtr), DatasetPtr]),
    "btfm_dataset_beer_lambert": (c_int, [POINTER(DatasetPtr), DatasetPtr, c_double]),
    "btfm_dataset_short_channel_regression": (c_int, [POINTER(DatasetPtr), DatasetPtr, c_double]),

    # spectrum
    "btfm_welch_plan_new": (c_int, [_p_void]),
    "btfm_welch_plan_free": (None, [c_void_p]),
    "btfm_welch_plan_set_param": (c_int, [c_void_p, c_int, c_double]),
    "btfm_welch_plan_get_param": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_welch_plan_n_freqs": (c_int64, [c_void_p, c_int64]),
    "btfm_welch_plan_run": (c_int, [c_void_p, _p_double, _p_double, _p_float, c_int64, c_int,
                                    c_double]),
    "btfm_fft_rfft_rows": (c_int, [c_void_p, _p_double, c_int64, _p_double]),
    "btfm_fft_irfft_rows": (c_int, [c_void_p, _p_double, c_int64, _p_double]),
    "btfm_fnirs_scalp_coupling_index": (c_int, [_p_float, c_int64, c_int, _p_int, c_double,
                                                _p_double, c_uint, _p_double]),
    "btfm_dataset_scalp_coupling_index": (c_int, [DatasetPtr, _p_double, _p_double]),

    # fmri
    "btfm_glm_design_plan_new": (c_int, [_p_void]),
    "btfm_glm_design_plan_free": (None, [c_void_p]),
    "btfm_glm_design_plan_set_param": (c_int, [c_void_p, c_int, c_double]),
    "btfm_glm_design_plan_get_param": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_glm_design_plan_run": (c_int, [c_void_p, _p_double, c_size_t, _p_int64, _p_double,
                                         _p_double, _p_double, _p_int, c_int64, c_int,
                                         c_int64]),
    "btfm_glm_clean_plan_new": (c_int, [_p_void]),
    "btfm_glm_clean_plan_free": (None, [c_void_p]),
    "btfm_glm_clean_plan_set_param": (c_int, [c_void_p, c_int, c_double]),
    "btfm_glm_clean_plan_get_param": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_glm_clean_plan_run": (c_int, [c_void_p, _p_float, _p_float, c_int64, c_int64,
                                        _p_float, c_int64]),
    "btfm_glm_set_progress": (c_int, [c_void_p, PROGRESS_FN, c_void_p]),

    # sim
    "btfm_sim_new": (c_int, [_p_void, c_int]),
    "btfm_sim_free": (None, [c_void_p]),
    "btfm_sim_kind": (c_int, [c_void_p]),
    "btfm_sim_set_param": (c_int, [c_void_p, c_int, c_double]),
    "btfm_sim_get_param": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_sim_set_progress": (c_int, [c_void_p, PROGRESS_FN, c_void_p]),
    "btfm_sim_rating_session": (c_int, [c_void_p, c_char_p]),
    "btfm_sim_shared_response": (c_int, [c_void_p, c_char_p]),

    # align
    "btfm_aligner_fit_change": (c_int, [AlignerPtr, _p_double]),
    "btfm_align_segment_matching_z": (c_int, [_p_float, c_int, c_int64, c_int64, c_int64,
                                              c_int, _p_double]),
    "btfm_aligner_set_progress": (c_int, [AlignerPtr, PROGRESS_FN, c_void_p]),
    "btfm_aligner_fit_history": (c_int, [AlignerPtr, _p_double, c_size_t, _p_int]),

    # model
    "btfm_model_type_name": (c_char_p, [c_int]),
    "btfm_model_score_name": (c_char_p, [c_int]),
    "btfm_model_ties_name": (c_char_p, [c_int]),
    "btfm_model_new": (c_int, [POINTER(ModelPtr), c_int]),
    "btfm_model_free": (None, [ModelPtr]),
    "btfm_model_set_param": (c_int, [ModelPtr, c_int, c_double]),
    "btfm_model_get_param": (c_int, [ModelPtr, c_int, _p_double]),
    "btfm_model_get_type": (c_int, [ModelPtr]),
    "btfm_model_set_progress": (c_int, [ModelPtr, PROGRESS_FN, c_void_p]),
    "btfm_model_set_alphas": (c_int, [ModelPtr, _p_double, c_int]),
    "btfm_model_n_alphas": (c_int, [ModelPtr]),
    "btfm_model_alphas": (c_int, [ModelPtr, _p_double, c_size_t]),
    "btfm_model_set_sample_weight": (c_int, [ModelPtr, _p_double, c_int64]),
    "btfm_model_set_groups": (c_int, [ModelPtr, _p_int64, c_int64]),
    "btfm_model_set_folds": (c_int, [ModelPtr, POINTER(ctypes.c_int32), c_int64]),
    "btfm_model_set_bands": (c_int, [ModelPtr, POINTER(ctypes.c_int32), c_int64]),
    "btfm_model_set_band_weights": (c_int, [ModelPtr, _p_double, c_int, c_int]),
    "btfm_model_set_delays": (c_int, [ModelPtr, POINTER(ctypes.c_int32), c_int]),
    "btfm_model_fit": (c_int, [ModelPtr, _p_float, c_int64, c_int64, _p_float, c_int64]),
    "btfm_model_fit_classes": (c_int, [ModelPtr, _p_float, c_int64, c_int64,
                                       POINTER(ctypes.c_int32)]),
    "btfm_model_fit_pairs": (c_int, [ModelPtr, _p_float, c_int64, c_int64, _p_int64, _p_float,
                                     c_int64]),
    "btfm_model_is_fitted": (c_int, [ModelPtr]),
    "btfm_model_dims": (c_int, [ModelPtr, _p_int64, _p_int64, _p_int64]),
    "btfm_model_n_classes": (c_int, [ModelPtr]),
    "btfm_model_coef": (c_int, [ModelPtr, _p_float, c_size_t]),
    "btfm_model_intercept": (c_int, [ModelPtr, _p_double, c_size_t]),
    "btfm_model_alpha": (c_int, [ModelPtr, _p_double, c_size_t]),
    "btfm_model_cv_scores": (c_int, [ModelPtr, _p_double, c_size_t]),
    "btfm_model_band_weights": (c_int, [ModelPtr, _p_double, c_size_t]),
    "btfm_model_tie_parameter": (c_int, [ModelPtr, _p_double]),
    "btfm_model_predict": (c_int, [ModelPtr, _p_float, _p_float, c_int64, c_int64]),
    "btfm_model_predict_proba": (c_int, [ModelPtr, _p_float, _p_float, c_int64, c_int64]),
    "btfm_model_predict_std": (c_int, [ModelPtr, _p_float, _p_float, c_int64, c_int64]),
    "btfm_model_predict_pairs": (c_int, [ModelPtr, _p_double, _p_float, c_int64, c_int64,
                                         _p_int64, c_int64]),
    "btfm_model_score_columns": (c_int, [_p_double, c_int, _p_float, _p_float, c_int64,
                                         c_int64]),
    "btfm_model_score": (c_int, [ModelPtr, _p_double, c_int, _p_float, _p_float, c_int64,
                                 c_int64, c_int64]),
    "btfm_model_score_split": (c_int, [ModelPtr, _p_double, _p_float, _p_float, c_int64, c_int64,
                                       c_int64]),
    "btfm_model_save": (c_int, [ModelPtr, c_char_p]),
    "btfm_model_save_buffer": (c_int, [ModelPtr, c_void_p, c_size_t, _p_size]),
    "btfm_model_load": (c_int, [POINTER(ModelPtr), c_char_p]),
    "btfm_model_load_buffer": (c_int, [POINTER(ModelPtr), c_void_p, c_size_t]),
    "btfm_model_set_aligner": (c_int, [ModelPtr, AlignerPtr, c_int]),
    "btfm_model_cross_predict": (c_int, [ModelPtr, _p_float, _p_float, c_int64, c_int64, _p_float,
                                         c_int64, c_int]),
    "btfm_model_permutation_test": (c_int, [ModelPtr, _p_double, _p_double, _p_double, _p_float,
                                            c_int64, c_int64, _p_float, c_int, c_int]),
    "btfm_model_synthesize": (c_int, [ModelPtr, _p_float, _p_float, c_int64, c_int64, c_int,
                                      ctypes.c_uint64]),
    "btfm_model_synthesize_dataset": (c_int, [ModelPtr, POINTER(DatasetPtr), _p_float, c_int64,
                                              c_int64, c_int, ctypes.c_uint64, c_double,
                                              DatasetPtr]),
    "btfm_steering_direction": (c_int, [_p_float, _p_double, c_int, _p_float, c_int64, c_int64,
                                        POINTER(ctypes.c_int32), c_int]),
    "btfm_noise_ceiling_split_half": (c_int, [_p_double, _p_float, c_int, c_int64, c_int64, c_int,
                                              ctypes.c_uint64]),
    "btfm_noise_ceiling_ccnorm": (c_int, [_p_double, _p_double, _p_float, c_int, c_int64, c_int64,
                                          _p_float]),
    "btfm_rdm_name": (c_char_p, [c_int]),
    "btfm_rdm_comparison_name": (c_char_p, [c_int]),
    "btfm_rdm_size": (c_int64, [c_int64]),
    "btfm_rdm": (c_int, [_p_double, c_int, _p_float, c_int, c_int64, c_int64, _p_double]),
    "btfm_rdm_compare": (c_int, [_p_double, c_int, _p_double, _p_double, c_int64]),
    "btfm_rdm_noise_ceiling": (c_int, [_p_double, _p_double, c_int, _p_double, c_int, c_int64]),

    # reward (handles as c_void_p; btfm/reward.py)
    "btfm_reward_mode_name": (c_char_p, [c_int]),
    "btfm_reward_output_name": (c_char_p, [c_int]),
    "btfm_reward_head_new": (c_int, [_p_void, c_int]),
    "btfm_reward_head_free": (None, [c_void_p]),
    "btfm_reward_head_set_param": (c_int, [c_void_p, c_int, c_double]),
    "btfm_reward_head_get_param": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_reward_head_set_progress": (c_int, [c_void_p, PROGRESS_FN, c_void_p]),
    "btfm_reward_head_set_ratings": (c_int, [c_void_p, _p_float, _p_float, c_int64]),
    "btfm_reward_head_set_pairs": (c_int, [c_void_p, _p_int64, _p_float, c_int64]),
    "btfm_reward_head_set_items": (c_int, [c_void_p, _p_int64, c_int64]),
    "btfm_reward_head_set_roles": (c_int, [c_void_p, POINTER(ctypes.c_int32), c_int64]),
    "btfm_reward_head_set_feature_config": (c_int, [c_void_p, c_char_p]),
    "btfm_reward_head_fit": (c_int, [c_void_p, _p_float, c_int64, c_int64, _p_int64]),
    "btfm_reward_head_is_fitted": (c_int, [c_void_p]),
    "btfm_reward_head_n_features": (c_int64, [c_void_p]),
    "btfm_reward_head_summary": (c_int, [c_void_p, _p_double, _p_double, _p_double, _p_double]),
    "btfm_reward_head_weights": (c_int, [c_void_p, _p_float, c_size_t, _p_double]),
    "btfm_reward_head_check_config": (c_int, [c_void_p, c_char_p]),
    "btfm_reward_head_predict": (c_int, [c_void_p, _p_float, c_size_t, _p_float, c_int64,
                                         c_int64, _p_int64, _p_float]),
    "btfm_reward_metrics": (c_int, [_p_double, c_size_t, _p_int64, _p_float, _p_float,
                                    _p_float, _p_int64, c_int64]),
    "btfm_reward_head_save": (c_int, [c_void_p, c_char_p]),
    "btfm_reward_head_save_buffer": (c_int, [c_void_p, c_void_p, c_size_t, _p_size]),
    "btfm_reward_head_load": (c_int, [_p_void, c_char_p]),
    "btfm_reward_head_load_buffer": (c_int, [_p_void, c_void_p, c_size_t]),
    "btfm_reward_features_new": (c_int, [_p_void]),
    "btfm_reward_features_free": (None, [c_void_p]),
    "btfm_reward_features_set_param": (c_int, [c_void_p, c_int, c_double]),
    "btfm_reward_features_get_param": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_reward_features_set_progress": (c_int, [c_void_p, PROGRESS_FN, c_void_p]),
    "btfm_reward_features_set_events": (c_int, [c_void_p, c_char_p, c_char_p]),
    "btfm_reward_features_set_aligner": (c_int, [c_void_p, AlignerPtr, c_int]),
    "btfm_reward_features_compute": (c_int, [c_void_p, DatasetPtr]),
    "btfm_reward_features_n_rows": (c_int64, [c_void_p]),
    "btfm_reward_features_n_features": (c_int64, [c_void_p]),
    "btfm_reward_features_matrix": (c_int, [c_void_p, _p_float, c_size_t]),
    "btfm_reward_features_epochs": (c_int, [c_void_p, _p_float, c_size_t, _p_int64, _p_int]),
    "btfm_reward_features_events": (c_int, [c_void_p, _p_int64, c_size_t]),
    "btfm_reward_features_roles": (c_int, [c_void_p, POINTER(ctypes.c_int32), c_size_t]),
    "btfm_reward_features_name": (c_char_p, [c_void_p, c_int64]),
    "btfm_reward_features_config": (c_char_p, [c_void_p]),
    "btfm_reward_features_column": (c_int, [c_void_p, DatasetPtr, c_char_p, _p_double,
                                            c_size_t]),
    "btfm_reward_pair_scores": (c_int, [_p_float, c_size_t, c_int64, _p_int64, _p_float,
                                        c_int64, c_double]),
    "btfm_reward_encoder_fit": (c_int, [ModelPtr, _p_double, c_size_t, _p_float, c_int64,
                                        c_int64, _p_int64, _p_float, c_int64, c_int64,
                                        _p_int64, c_int]),

    # cothb
    "btfm_cothb_last_action": (c_int, [c_void_p, _p_int, _p_int64, _p_int64]),
    "btfm_cothb_calibration_name": (c_char_p, [c_int]),
    "btfm_cothb_calibrate_reliability": (c_int, [c_void_p, c_int, _p_double, _p_int, c_int64]),
    "btfm_cothb_reliability_of_score": (c_int, [c_void_p, c_double, _p_double]),
    "btfm_cothb_observe_score": (c_int, [c_void_p, c_int64, c_int, c_double]),
    "btfm_cothb_quality_name": (c_char_p, [c_int]),
    "btfm_cothb_quality_count": (c_int, []),
    "btfm_cothb_signal_quality": (c_int, [_p_double, _p_int, c_int64, c_int, c_int, _p_double,
                                          c_int]),
    "btfm_cothb_n_nodes": (c_int64, [c_void_p]),
    "btfm_cothb_n_signals": (c_int, []),
    "btfm_cothb_reset": (c_int, [c_void_p]),
    "btfm_cothb_set_answer": (c_int, [c_void_p, c_int64, c_int64]),
    "btfm_cothb_answer": (c_int, [c_void_p, _p_int64, _p_int64, _p_double]),
    "btfm_cothb_n_answers": (c_int64, [c_void_p]),
    "btfm_cothb_answer_info": (c_int, [c_void_p, c_int64, _p_int64, _p_int64, _p_double,
                                       _p_int64]),
    "btfm_cothb_node_strategy": (c_int, [c_void_p, c_int64, _p_int64]),
    "btfm_cothb_n_strategies": (c_int64, [c_void_p]),
    "btfm_cothb_strategy_info": (c_int, [c_void_p, c_int64, _p_double, _p_int]),
    "btfm_cothb_tuning_name": (c_char_p, [c_int]),
    "btfm_cothb_tuner_new": (c_int, [_p_void]),
    "btfm_cothb_tuner_free": (None, [c_void_p]),
    "btfm_cothb_tuner_set_param": (c_int, [c_void_p, c_int, c_double]),
    "btfm_cothb_tuner_get_param": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_cothb_tuner_set_progress": (c_int, [c_void_p, PROGRESS_FN, c_void_p]),
    "btfm_cothb_tuner_add_knob": (c_int, [c_void_p, c_int, _p_double, c_int]),
    "btfm_cothb_tuner_run": (c_int, [c_void_p, c_void_p, COTHB_EPISODE_FN, c_void_p]),
    "btfm_cothb_tuner_result": (c_int, [c_void_p, _p_double, c_int]),
    "btfm_cothb_tuner_n_knobs": (c_int, [c_void_p]),
    "btfm_cothb_tuner_knob": (c_int, [c_void_p, c_int, _p_int, _p_double]),
    "btfm_cothb_tuner_apply": (c_int, [c_void_p, c_void_p]),
    "btfm_cothb_calibrate_features": (c_int, [c_void_p, _p_float, c_int64, c_int64,
                                              POINTER(ctypes.c_int32),
                                              c_double]),
    "btfm_cothb_reliability_of_features": (c_int, [c_void_p, _p_double, _p_float, c_int64]),
    "btfm_cothb_observe_features": (c_int, [c_void_p, c_int64, c_int, _p_float, c_int64]),
    "btfm_cothb_n_features": (c_int64, [c_void_p]),
    "btfm_cothb_feature_weights": (c_int, [c_void_p, _p_double, c_size_t, _p_double,
                                           _p_double]),

    # stream
    "btfm_iir_reset_channel": (c_int, [IirPtr, c_int, _p_float]),
    "btfm_stream_index_name": (c_char_p, [c_int]),
    "btfm_stream_new": (c_int, [_p_void]),
    "btfm_stream_free": (None, [c_void_p]),
    "btfm_stream_set_param": (c_int, [c_void_p, c_int, c_double]),
    "btfm_stream_get_param": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_stream_set_picks": (c_int, [c_void_p, _p_int, c_int]),
    "btfm_stream_set_channel_names": (c_int, [c_void_p, _p_str, c_int]),
    "btfm_stream_set_bands": (c_int, [c_void_p, _p_double, c_int]),
    "btfm_stream_set_erp_windows": (c_int, [c_void_p, _p_double, c_int]),
    "btfm_stream_set_role": (c_int, [c_void_p, c_int, _p_int, c_int]),
    "btfm_stream_set_reward_head": (c_int, [c_void_p, c_void_p]),
    "btfm_stream_configure": (c_int, [c_void_p]),
    "btfm_stream_n_columns": (c_int, [c_void_p]),
    "btfm_stream_column_name": (c_char_p, [c_void_p, c_int]),
    "btfm_stream_find_column": (c_int, [c_void_p, c_char_p]),
    "btfm_stream_push": (c_int, [c_void_p, _p_float, c_int64, c_int, _p_double]),
    "btfm_stream_push_marker": (c_int, [c_void_p, c_double, c_int, c_char_p]),
    "btfm_stream_pull": (c_int, [c_void_p, _p_double, c_size_t, POINTER(c_size_t)]),
    "btfm_stream_n_dropped": (c_int64, [c_void_p]),
    "btfm_stream_n_samples": (c_int64, [c_void_p]),
    "btfm_stream_set_calibration": (c_int, [c_void_p, c_int]),
    "btfm_stream_reset": (c_int, [c_void_p]),
    "btfm_stream_push_marker_sample": (c_int, [c_void_p, c_int64, c_int, c_char_p]),

    # corpus (handles as c_void_p; btfm/corpus.py)
    "btfm_corpus_builder_new": (c_int, [_p_void]),
    "btfm_corpus_builder_free": (None, [c_void_p]),
    "btfm_corpus_builder_set_param": (c_int, [c_void_p, c_int, c_double]),
    "btfm_corpus_builder_get_param": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_corpus_builder_set_key": (c_int, [c_void_p, c_void_p, c_size_t]),
    "btfm_corpus_builder_set_text": (c_int, [c_void_p, c_char_p, c_char_p]),
    "btfm_corpus_builder_set_progress": (c_int, [c_void_p, PROGRESS_FN, c_void_p]),
    "btfm_corpus_builder_add_file": (c_int, [c_void_p, c_char_p]),
    "btfm_corpus_builder_plan": (c_int, [c_void_p, c_char_p, c_char_p, _p_int64]),
    "btfm_corpus_builder_build_one": (c_int, [c_void_p, c_int64, _p_int]),
    "btfm_corpus_merge": (c_int, [c_char_p]),
    "btfm_corpus_build": (c_int, [c_void_p, c_char_p, c_char_p, _p_int64, _p_int64]),
    "btfm_loader_new": (c_int, [_p_void, c_char_p]),
    "btfm_loader_free": (None, [c_void_p]),
    "btfm_loader_set_param": (c_int, [c_void_p, c_int, c_double]),
    "btfm_loader_get_param": (c_int, [c_void_p, c_int, _p_double]),
    "btfm_loader_set_events": (c_int, [c_void_p, c_char_p]),
    "btfm_loader_n_recordings": (c_int64, [c_void_p]),
    "btfm_loader_sfreq": (c_double, [c_void_p]),
    "btfm_loader_recording": (c_int, [c_void_p, c_int64, _p_str, _p_int64, _p_int]),
    "btfm_loader_n_channels": (c_int, [c_void_p]),
    "btfm_loader_window_len": (c_int64, [c_void_p]),
    "btfm_loader_n_channel_names": (c_int, [c_void_p]),
    "btfm_loader_channel_name": (c_char_p, [c_void_p, c_int]),
    "btfm_loader_n_labels": (c_int, [c_void_p]),
    "btfm_loader_label": (c_char_p, [c_void_p, c_int]),
    "btfm_loader_count": (c_int, [c_void_p, c_int, _p_int64, _p_int64]),
    "btfm_loader_n_batches": (c_int, [c_void_p, _p_int64, _p_int64]),
    "btfm_loader_epoch_order": (c_int, [c_void_p, c_int64, _p_int64, c_int64]),
    "btfm_loader_next": (c_int, [c_void_p, _p_void]),
    "btfm_loader_state": (c_int, [c_void_p, _p_int64, _p_int64]),
    "btfm_loader_set_state": (c_int, [c_void_p, c_int64, c_int64]),
    "btfm_batch_size": (c_int64, [c_void_p]),
    "btfm_batch_data": (_p_float, [c_void_p]),
    "btfm_batch_labels": (POINTER(ctypes.c_int32), [c_void_p]),
    "btfm_batch_mask": (POINTER(ctypes.c_uint8), [c_void_p]),
    "btfm_batch_window_ids": (_p_int64, [c_void_p]),
    "btfm_batch_recordings": (POINTER(ctypes.c_int32), [c_void_p]),
    "btfm_batch_starts": (_p_int64, [c_void_p]),
    "btfm_batch_channel_ids": (POINTER(ctypes.c_int32), [c_void_p]),
    "btfm_batch_positions": (_p_float, [c_void_p]),

    # mpi (btfm/mpi.h; MPI_Comm as Open MPI's pointer handle; btfm/align.py)
    "btfm_aligner_fit_mpi": (c_int, [AlignerPtr, c_void_p]),
    "btfm_aligner_gather_mpi": (c_int, [AlignerPtr, c_int, c_void_p]),
    "btfm_model_fit_mpi": (c_int, [ModelPtr, _p_float, c_int64, c_int64, _p_float, c_int64,
                                   c_void_p]),
    "btfm_model_cv_scores_mpi": (c_int, [ModelPtr, _p_double, c_size_t, c_void_p]),
    "btfm_corpus_build_mpi": (c_int, [c_void_p, c_char_p, c_char_p, _p_int64, _p_int64,
                                      c_void_p]),
}


def _package_file_names():
    """File names the library has on this platform, most specific first."""
    if sys.platform == "darwin":
        return ["libbtfm.1.dylib", "libbtfm.dylib"]
    if sys.platform.startswith("win") or sys.platform == "cygwin":
        return ["btfm-1.dll", "libbtfm-1.dll", "btfm.dll"]
    return ["libbtfm.so.1"]


def _candidates():
    """Yield (where, path) pairs in search order; `where` explains the source."""
    env_path = os.environ.get(ENV_VAR)
    if env_path:
        yield f"${ENV_VAR}", env_path
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for name in _package_file_names():
        yield "package folder", os.path.join(here, name)
    try:
        from . import _install_paths  # only in a package installed by libbtfm's meson
    except ImportError:
        _install_paths = None
    if _install_paths is not None:
        relative = os.path.relpath(_install_paths.LIBDIR, _install_paths.PACKAGE_DIR)
        for name in _package_file_names():
            yield "installed beside the package", os.path.normpath(os.path.join(here, relative, name))
    found = ctypes.util.find_library("btfm")
    if found:
        yield "ctypes.util.find_library('btfm')", found
    for name in _package_file_names():
        yield "system search path", name


def _load():
    tried = []
    seen = set()
    for where, path in _candidates():
        if path in seen:
            continue
        seen.add(path)
        if where in ("package folder", "installed beside the package") and not os.path.exists(path):
            tried.append(f"  {where}: {path}: no such file")
            continue
        if os.sep in path:  # a file, not a name for the dynamic loader to look up
            path = os.path.abspath(path)
        try:
            return ctypes.CDLL(path), path
        except OSError as exc:
            tried.append(f"  {where}: {path}: {exc}")
    hint = (f"Set {ENV_VAR} to the full path of libbtfm.so.1 (e.g. build/lib/libbtfm.so.1"
            " in a meson build folder), or install libbtfm.")
    raise ImportError("btfm: cannot load the libbtfm shared library. Tried:\n"
                      + "\n".join(tried) + "\n" + hint)


def _declare(handle, path):
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            func = getattr(handle, name)
        except AttributeError:
            raise ImportError(f"btfm: {path} has no function {name}: it is not libbtfm, "
                              "or a version older than this package supports") from None
        func.restype = restype
        func.argtypes = argtypes


def _check_version(handle, path):
    try:
        number_fn = handle.btfm_version_number
        string_fn = handle.btfm_version_string
    except AttributeError:
        raise ImportError(f"btfm: {path} has no btfm_version_number(): it is not "
                          "libbtfm") from None
    number_fn.restype, number_fn.argtypes = c_uint, []
    string_fn.restype, string_fn.argtypes = c_char_p, []
    number = number_fn()
    if number < MIN_VERSION_NUMBER:
        text = (string_fn() or b"?").decode("utf-8", "replace")
        need = "%d.%d.%d" % (MIN_VERSION_NUMBER // 10000, MIN_VERSION_NUMBER // 100 % 100,
                             MIN_VERSION_NUMBER % 100)
        raise ImportError(f"btfm: {path} is libbtfm {text} (version number {number}), "
                          f"but this package needs libbtfm {need} or newer "
                          f"(version number {MIN_VERSION_NUMBER}); install a newer "
                          f"library or point {ENV_VAR} at one")


#: The CDLL and where it came from: an absolute path, or the bare name the dynamic
#: loader resolved (system search path).
lib, library_path = _load()
_check_version(lib, library_path)
_declare(lib, library_path)
