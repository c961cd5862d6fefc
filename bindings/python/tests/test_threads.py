"""Handles on different threads are independent; each thread sees its own last error."""

import threading

import numpy as np

import btfm


def run_threads(target, count):
    errors = []

    def guarded(index):
        try:
            target(index)
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_concurrent_round_trips_are_exact():
    def work(index):
        rng = np.random.default_rng(index)
        for round_number in range(50):
            data = rng.standard_normal((17, index + 1))
            with btfm.Container(f"thread-{index}") as c:
                c.put("x", data)
                blob = c.to_bytes()
            with btfm.Container.from_bytes(blob, kind=f"thread-{index}") as loaded:
                assert loaded["x"].tobytes() == data.tobytes()

    run_threads(work, 8)


def test_each_thread_gets_its_own_error_message():
    def work(index):
        for _ in range(200):
            if index % 2:
                with btfm.Container("kind-a") as c:
                    blob = c.to_bytes()
                try:
                    btfm.Container.from_bytes(blob, kind=f"kind-{index}")
                except btfm.Error as err:
                    assert err.status_name == "BTFM_E_KIND"
                    assert f"kind-{index}" in err.message
                else:
                    raise AssertionError("wrong kind accepted")
            else:
                with btfm.Container("p") as c:
                    try:
                        c.set_param("fsync", index + 2)
                    except btfm.Error as err:
                        assert err.status_name == "BTFM_E_RANGE"
                        assert f"= {index + 2}" in err.message
                    else:
                        raise AssertionError("out-of-range value accepted")

    run_threads(work, 8)


def test_log_handler_receives_messages_from_other_threads(restore_log_state):
    received = []
    lock = threading.Lock()

    def handler(level, message):
        with lock:
            received.append((threading.current_thread().name, message))

    btfm.set_log_handler(handler)
    btfm.set_log_level("debug")

    def work(index):
        with btfm.Container("log") as c:
            try:
                c.set_param("fsync", 5)
            except btfm.Error:
                pass

    run_threads(work, 4)
    names = {name for name, message in received if "fsync" in message}
    assert len(names) == 4 and threading.current_thread().name not in names
