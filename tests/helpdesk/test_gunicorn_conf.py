"""Gunicorn's settings of the web service (docker-compose.yml: --config=python:...)."""

import json
import logging
import logging.config

from helpdesk import gunicorn_conf


def test_gunicorns_own_lines_are_json_objects_on_stdout(capsys):
    root = logging.getLogger()
    root_handlers, root_level = root.handlers[:], root.level
    logging.config.dictConfig(gunicorn_conf.logconfig_dict)
    try:
        logging.getLogger("gunicorn.error").info("Booting worker with pid: %s", 7)
        logging.getLogger("gunicorn.access").info('127.0.0.1 - - "GET /healthz HTTP/1.1" 200 2')
    finally:
        for name in ("gunicorn.error", "gunicorn.access"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
        root.handlers[:], root.level = root_handlers, root_level

    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["logger"], r["level"]) for r in records] == [
        ("gunicorn.error", "INFO"),
        ("gunicorn.access", "INFO"),
    ]
    assert records[0]["message"] == "Booting worker with pid: 7"
    assert set(records[0]) >= {"time", "process"}


def test_the_control_socket_is_somewhere_the_image_user_may_write():
    assert gunicorn_conf.control_socket.startswith("/tmp/")
