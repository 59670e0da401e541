"""redis-py smoke test against a running riot-server.

Usage: python3 redispy_smoke.py HOST PORT

Every check is an assert; the script exits non-zero on the first failure
(with a traceback) and prints "redis-py smoke: ok (N checks)" when all pass.
"""
import sys
import time

import redis

checks = 0


def check(cond, what):
    global checks
    checks += 1
    assert cond, what


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    r = redis.Redis(host=host, port=port, socket_timeout=15, decode_responses=True)

    check(r.ping() is True, "PING")
    check(r.set("py:k", "hello") is True, "SET")
    check(r.get("py:k") == "hello", "GET")
    check(r.get("py:missing") is None, "GET of a missing key is None")
    check(r.set("py:k", "other", nx=True) is None, "SET NX on an existing key is None")

    check(r.incr("py:n") == 1, "INCR of a new key")
    check(r.incr("py:n", 41) == 42, "INCRBY")
    check(r.decr("py:n") == 41, "DECR")
    try:
        r.incr("py:k")
        check(False, "INCR of a non-integer must fail")
    except redis.ResponseError as e:
        check(str(e) == "value is not an integer or out of range", "INCR error text: %r" % str(e))

    check(r.ttl("py:k") == -1, "TTL without a deadline")
    check(r.ttl("py:missing") == -2, "TTL of a missing key")
    check(r.expire("py:k", 100) is True, "EXPIRE")
    ttl = r.ttl("py:k")
    check(98 <= ttl <= 100, "TTL after EXPIRE 100: %r" % ttl)
    pttl = r.pttl("py:k")
    check(98000 <= pttl <= 100000, "PTTL after EXPIRE 100: %r" % pttl)
    check(r.persist("py:k") is True, "PERSIST")
    check(r.ttl("py:k") == -1, "TTL after PERSIST")
    check(r.set("py:short", "x", px=300) is True, "SET PX 300")
    deadline = time.time() + 10
    while r.exists("py:short") and time.time() < deadline:
        time.sleep(0.05)
    check(not r.exists("py:short"), "a key with PX 300 is gone after its deadline")

    check(r.mset({"py:a": "1", "py:b": "2", "py:c": "3"}) is True, "MSET")
    check(r.mget("py:a", "py:missing", "py:c") == ["1", None, "3"], "MGET")

    # A pipeline without MULTI/EXEC: replies in order, errors in place.
    p = r.pipeline(transaction=False)
    for i in range(200):
        p.set("py:p:%03d" % i, i)
    p.incr("py:p:000")
    p.get("py:p:199")
    p.incr("py:k")
    p.delete("py:a", "py:b")
    res = p.execute(raise_on_error=False)
    check(res[:200] == [True] * 200, "pipelined SETs")
    check(res[200] == 1 and res[201] == "199", "pipelined INCR and GET: %r" % res[200:202])
    check(isinstance(res[202], redis.ResponseError), "pipelined error in place: %r" % res[202])
    check(res[203] == 2, "pipelined DEL")

    # SCAN: every key exactly once, whatever COUNT; MATCH.
    p = r.pipeline(transaction=False)
    for i in range(1000):
        p.set("py:scan:%04d" % i, "v")
    p.execute()
    for count in (7, 100, 1000):
        keys = list(r.scan_iter(match="py:scan:*", count=count))
        check(len(keys) == 1000 and len(set(keys)) == 1000, "scan_iter count=%d: %d keys, %d distinct" % (count, len(keys), len(set(keys))))
    check(sorted(r.scan_iter(match="py:scan:000?")) == ["py:scan:%04d" % i for i in range(10)], "scan_iter MATCH py:scan:000?")
    check(r.dbsize() == len(list(r.scan_iter(count=50))), "DBSIZE equals the keys SCAN returns")

    # Commands redis-py parses itself.
    check(r.execute_command("LCS", "py:a", "py:missing") == "", "LCS of missing keys")
    r.set("py:x", "ohmytext")
    r.set("py:y", "mynewtext")
    check(r.execute_command("LCS", "py:x", "py:y") == "mytext", "LCS")
    clients = r.client_list()
    check(any(c["id"] == str(r.client_id()) for c in clients), "CLIENT LIST has this connection: %r" % clients)
    check(r.config_get("proto-max-bulk-len") != {}, "CONFIG GET")
    check(r.config_set("save", "") is True, "CONFIG SET save '' (riot's value)")
    check(r.type("py:x") == "string", "TYPE")
    check(r.delete("py:x", "py:y", "py:missing") == 2, "DEL")
    check(r.exists("py:x") == 0, "EXISTS after DEL")

    print("redis-py %s smoke: ok (%d checks)" % (redis.__version__, checks))


if __name__ == "__main__":
    main()
