#!/usr/bin/env python3
"""Call a Herald node's RPC server from Python (pyzmq), as docs/PROTOCOL.md describes.

usage: herald_rpc_client.py ENDPOINT CLIENT_KEY_SECRET SERVER_KEY METHOD [PARAMS_JSON]
e.g.   herald_rpc_client.py tcp://127.0.0.1:7001 keys/alice.key_secret keys/source.key \
           tagger.countRates '{"instrument": "tagger", "integration_s": 0.1}'
Prints the result as JSON; exits 1 with the error code and message on an error reply.
"""
import json
import random
import struct
import sys
import time

import zmq
import zmq.auth

HEADER = struct.Struct("<4sBBHQQQq")  # magic, version, type, flags, sequence, request id, epoch, ns
REQUEST, REPLY, ERROR = 1, 2, 3


def header(kind, sequence, request_id, epoch):
    return HEADER.pack(b"HRLD", 1, kind, 0, sequence, request_id, epoch, time.time_ns())


def call(socket, method, params, request_id, epoch, timeout_ms=5000):
    body = json.dumps({"method": method, "params": params, "deadline_ms": timeout_ms}).encode()
    socket.send_multipart([header(REQUEST, request_id, request_id, epoch), body])
    if not socket.poll(timeout_ms):
        raise TimeoutError(f"{method}: no reply within {timeout_ms} ms")
    frames = socket.recv_multipart()
    magic, version, kind, flags, sequence, rid, sender_epoch, stamp = HEADER.unpack(frames[0])
    if magic != b"HRLD" or version != 1 or rid != request_id:
        raise ValueError(f"unexpected reply header {frames[0].hex()}")
    body = json.loads(frames[1])
    if kind == ERROR:
        raise RuntimeError(f"{body['code']}: {body['message']}")
    return body["result"]


def main(argv):
    endpoint, client_secret_file, server_key_file, method = argv[1:5]
    params = json.loads(argv[5]) if len(argv) > 5 else {}
    client_public, client_secret = zmq.auth.load_certificate(client_secret_file)
    server_public, _ = zmq.auth.load_certificate(server_key_file)
    socket = zmq.Context.instance().socket(zmq.DEALER)
    socket.curve_publickey = client_public
    socket.curve_secretkey = client_secret
    socket.curve_serverkey = server_public
    socket.setsockopt(zmq.ROUTING_ID, b"python-client")
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(endpoint)
    epoch = random.getrandbits(63) | 1
    try:
        print(json.dumps(call(socket, method, params, 1, epoch), sort_keys=True))
    except (RuntimeError, TimeoutError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        socket.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
