# Serves FastAPI's example (bench/fastapi/main.py) with uvicorn, one worker,
# for the bench's reference row: the Python counterpart of bench/server.mjs.
# Run as a child of the bench driver, which talks to it over stdin and stdout
# (one JSON object a line), never over HTTP, so that control traffic never
# counts as load: `reset` and `read` bracket a measurement, `close` shuts the
# server down and reports counts. Its first line says it is ready, and where.
#
# Usage: python3 bench/fastapi/serve.py   (from the directory log.txt goes to)
#
# CPU time is getrusage(RUSAGE_SELF), user + system, all threads (the
# threadpool that runs the sync task included): what process.cpuUsage()
# reports for the Node servers. Tasks are counted by wrapping the example's
# task function, a lock and an increment; requests by uvicorn itself.
import json
import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fastapi  # noqa: E402
import starlette  # noqa: E402
import uvicorn  # noqa: E402

import main  # noqa: E402  (the example)


def importable(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False


# What uvicorn's "auto" would pick; named, so that the report says what ran.
LOOP = "uvloop" if importable("uvloop") else "asyncio"
HTTP = "httptools" if importable("httptools") else "h11"

# ---- counting the example's tasks ------------------------------------------------

tasks_run = 0
count_lock = threading.Lock()
write_notification = main.write_notification


def counted_write_notification(*args, **kwargs):
    global tasks_run
    try:
        return write_notification(*args, **kwargs)
    finally:
        with count_lock:
            tasks_run += 1


# The route looks the task up in the module's globals when it runs.
main.write_notification = counted_write_notification

# ---- the server --------------------------------------------------------------------

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
config = uvicorn.Config(
    main.app,
    workers=1,
    loop=LOOP,
    http=HTTP,
    lifespan="on",
    # Off, as a production server would have it; Nest logs no requests either.
    access_log=False,
    log_level="warning",
)
server = uvicorn.Server(config)

# ---- the control channel -----------------------------------------------------------

out_lock = threading.Lock()


def send(message):
    with out_lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def cpu_micros():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime * 1e6), round(usage.ru_stime * 1e6)


def requests():
    return server.server_state.total_requests


def idle():
    """Waits until every request served so far has run its task, or 10 s have passed (the count check then fails)."""
    deadline = time.monotonic() + 10
    while tasks_run < requests() and time.monotonic() < deadline:
        time.sleep(0.002)


mark = {"user": 0, "system": 0, "requests": 0, "tasks_run": 0}
close_id = None


def reset():
    idle()
    user, system = cpu_micros()
    mark.update(user=user, system=system, requests=requests(), tasks_run=tasks_run)
    return {}


def read():
    idle()
    user, system = cpu_micros()
    return {
        "cpuMicros": (user - mark["user"]) + (system - mark["system"]),
        "systemMicros": system - mark["system"],
        "requests": requests() - mark["requests"],
        "tasksRun": tasks_run - mark["tasks_run"],
    }


def control():
    global close_id
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.01)
    send(
        {
            "ready": True,
            "port": sock.getsockname()[1],
            "pid": os.getpid(),
            "versions": {
                "python": sys.version.split()[0],
                "fastapi": fastapi.__version__,
                "starlette": starlette.__version__,
                "uvicorn": uvicorn.__version__,
                "loop": LOOP,
                "http": HTTP,
            },
        }
    )
    for line in sys.stdin:
        request = json.loads(line)
        command = request["command"]
        try:
            if command == "close":
                # Uvicorn's graceful shutdown; the main thread replies once it is over.
                close_id = request["id"]
                server.should_exit = True
                return
            reply = {"reset": reset, "read": read}[command]()
            send({"id": request["id"], **reply})
        except Exception as error:  # noqa: BLE001
            send({"id": request["id"], "error": repr(error)})
    # stdin closed: the driver is gone, and nothing will ever close this server.
    os._exit(3)


threading.Thread(target=control, daemon=True).start()
server.run(sockets=[sock])
idle()
if close_id is None:
    sys.exit("bench/fastapi/serve.py: uvicorn stopped without being told to")
send({"id": close_id, "requests": requests(), "tasksRun": tasks_run, "tasksPerRequest": 1})
