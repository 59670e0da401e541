package resp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Reference: https://redis.io/docs/latest/develop/interact/transactions/
// Every error text and reply below is what redis-server 7.0 answers (see
// also the transaction sequences of the differential test).
func TestMultiRaw(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ts := startServer(t, nil)
			c := dialRaw(t, ts)
			null, nullArray := "$-1\r\n", "*-1\r\n"
			if proto == 3 {
				c.send(mbulk("HELLO", "3"))
				if _, err := c.reply(); err != nil {
					t.Fatalf("HELLO 3: %v", err)
				}
				null, nullArray = "_\r\n", "_\r\n"
			}
			rt := func(want string, args ...string) {
				t.Helper()
				c.roundTrip(mbulk(args...), want)
			}
			const queued = "+QUEUED\r\n"
			rt("-ERR EXEC without MULTI\r\n", "EXEC")
			rt("-ERR DISCARD without MULTI\r\n", "DISCARD")
			rt("+OK\r\n", "UNWATCH")
			rt("-ERR wrong number of arguments for 'watch' command\r\n", "WATCH")

			// Writes and reads, evaluated in the entry, in order.
			rt("+OK\r\n", "MULTI")
			rt("-ERR MULTI calls can not be nested\r\n", "MULTI")
			rt("-ERR WATCH inside MULTI is not allowed\r\n", "WATCH", "a")
			rt(queued, "SET", "a", "1")
			rt(queued, "INCR", "a")
			rt(queued, "GET", "a")
			rt(queued, "MGET", "a", "nokey")
			rt(queued, "EXISTS", "a", "nokey", "a")
			rt(queued, "TTL", "a")
			rt(queued, "STRLEN", "a")
			rt(queued, "TYPE", "a")
			rt(queued, "GET", "nokey")
			rt(queued, "PING")
			rt(queued, "ECHO", "hi")
			rt(queued, "UNWATCH")
			rt("*12\r\n+OK\r\n:2\r\n$1\r\n2\r\n*2\r\n$1\r\n2\r\n"+null+":2\r\n:-1\r\n:1\r\n+string\r\n"+null+"+PONG\r\n$2\r\nhi\r\n+OK\r\n", "EXEC")

			// Runtime errors are per command; the others apply.
			rt("+OK\r\n", "MULTI")
			rt(queued, "SET", "a", "x")
			rt(queued, "INCR", "a")
			rt(queued, "SET", "b", "1", "FOO")
			rt(queued, "SET", "c", "1", "EX", "0")
			rt(queued, "APPEND", "a", "y")
			rt(queued, "GET", "a")
			rt("*6\r\n+OK\r\n-ERR value is not an integer or out of range\r\n-ERR syntax error\r\n-ERR invalid expire time in 'set' command\r\n:2\r\n$2\r\nxy\r\n", "EXEC")
			rt(null, "GET", "b")

			// Queuing errors abort EXEC.
			rt("+OK\r\n", "MULTI")
			rt(queued, "SET", "a", "never")
			rt("-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n", "FOO", "bar")
			rt("-ERR wrong number of arguments for 'get' command\r\n", "GET")
			rt("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
			rt("$2\r\nxy\r\n", "GET", "a")
			rt("-ERR EXEC without MULTI\r\n", "EXEC")
			for _, refused := range [][]string{{"RAFT.STATE"}, {"RAFT.SNAPSHOT"}} {
				rt("+OK\r\n", "MULTI")
				rt("-ERR Command not allowed inside a transaction\r\n", refused...)
				rt("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
			}
			// A node-to-node command is refused to a client, in MULTI too.
			rt("+OK\r\n", "MULTI")
			rt("-"+errNodeOnly("riot.readindex")+"\r\n", "RIOT.READINDEX")
			rt("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
			for _, scan := range [][]string{{"KEYS", "*"}, {"SCAN", "0"}, {"DBSIZE"}, {"RANDOMKEY"}} {
				rt("+OK\r\n", "MULTI")
				rt("-ERR "+scan[0]+" is not supported inside MULTI: riot runs a transaction as one log entry, whose reads must name their keys\r\n", scan...)
				rt("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
			}
			rt("+OK\r\n", "MULTI")
			rt("-ERR wrong number of arguments for 'multi' command\r\n", "MULTI", "x")
			rt("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
			rt("+OK\r\n", "MULTI")
			rt("-ERR wrong number of arguments for 'discard' command\r\n", "DISCARD", "x")
			rt("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
			rt("+OK\r\n", "MULTI")
			rt(queued, "SET", "a", "never")
			rt("-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n", "EXEC", "x")
			rt("-ERR EXEC without MULTI\r\n", "EXEC")

			// Empty transaction; DISCARD.
			rt("+OK\r\n", "MULTI")
			rt("*0\r\n", "EXEC")
			rt("+OK\r\n", "MULTI")
			rt(queued, "SET", "a", "discarded")
			rt("+OK\r\n", "DISCARD")
			rt("$2\r\nxy\r\n", "GET", "a")

			// WATCH: the connection's own write invalidates, UNWATCH and
			// EXEC forget, a failed conditional write does not count.
			rt("+OK\r\n", "WATCH", "a", "a", "nokey")
			rt("+OK\r\n", "SET", "a", "3")
			rt("+OK\r\n", "MULTI")
			rt(queued, "SET", "a", "4")
			rt(nullArray, "EXEC")
			rt("$1\r\n3\r\n", "GET", "a")
			rt("+OK\r\n", "WATCH", "nokey")
			rt("+OK\r\n", "SET", "nokey", "1")
			rt(":1\r\n", "DEL", "nokey")
			rt("+OK\r\n", "MULTI")
			rt(queued, "SET", "a", "4")
			rt(nullArray, "EXEC") // created and deleted again: modified
			rt("+OK\r\n", "WATCH", "nokey")
			rt(":0\r\n", "DEL", "nokey")
			rt("+OK\r\n", "MULTI")
			rt(queued, "GET", "a")
			rt("*1\r\n$1\r\n3\r\n", "EXEC") // deleting nothing is no modification
			rt("+OK\r\n", "WATCH", "a")
			rt("+OK\r\n", "UNWATCH")
			rt("+OK\r\n", "SET", "a", "5")
			rt("+OK\r\n", "MULTI")
			rt(queued, "GET", "a")
			rt("*1\r\n$1\r\n5\r\n", "EXEC")
			rt("+OK\r\n", "WATCH", "a")
			rt(null, "SET", "a", "6", "NX")
			rt("+OK\r\n", "MULTI")
			rt(queued, "INCR", "a")
			rt("*1\r\n:6\r\n", "EXEC")
			rt("+OK\r\n", "WATCH", "a")
			rt("+OK\r\n", "MULTI")
			rt(queued, "PING")
			rt("+OK\r\n", "DISCARD")
			rt("+OK\r\n", "SET", "a", "7") // DISCARD dropped the watch
			rt("+OK\r\n", "MULTI")
			rt(queued, "GET", "a")
			rt("*1\r\n$1\r\n7\r\n", "EXEC")

			// Another connection's writes, deletes, renames and expiry
			// changes invalidate.
			other := dialRaw(t, ts)
			for _, change := range [][]string{
				{"SET", "a", "7"}, {"DEL", "a"}, {"SET", "a", "8"}, {"PEXPIRE", "a", "100000"},
				{"PERSIST", "a"}, {"RENAME", "a", "z"}, {"SET", "nokey", "1"}, {"FLUSHALL"},
			} {
				if change[0] == "RENAME" || change[0] == "FLUSHALL" {
					other.roundTrip(mbulk("SET", "a", "9"), "+OK\r\n")
				}
				rt("+OK\r\n", "WATCH", "a", "nokey")
				other.send(mbulk(change...))
				if _, err := other.reply(); err != nil {
					t.Fatalf("%q: %v", change, err)
				}
				rt("+OK\r\n", "MULTI")
				rt(queued, "SET", "x", "1")
				c.send(mbulk("EXEC"))
				if got, err := c.reply(); err != nil || string(got) != nullArray {
					t.Errorf("EXEC after another connection sent %q: %q, %v; want %q", change, got, err, nullArray)
				}
				other.roundTrip(mbulk("DEL", "nokey"), ":"+strconv.FormatInt(boolInt(change[0] == "SET" && change[1] == "nokey"), 10)+"\r\n")
			}
			rt(null, "GET", "x")
		})
	}
}

// TestMultiGoRedis drives transactions the way go-redis users do:
// TxPipelined, and Watch with optimistic retries.
func TestMultiGoRedis(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)

		cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "k", "10", 0)
			p.IncrBy(ctx, "k", 5)
			p.Get(ctx, "k")
			p.Expire(ctx, "k", 100*time.Second)
			p.TTL(ctx, "k")
			p.Get(ctx, "missing")
			return nil
		})
		if !errors.Is(err, redis.Nil) { // the last GET's nil
			t.Fatalf("TxPipelined: %v", err)
		}
		var got []string
		for _, c := range cmds {
			got = append(got, strings.TrimPrefix(c.String(), c.Name()+" "))
		}
		want := []string{"k 10: OK", "k 5: 15", "k: 15", "k 100: true", "k: 1m40s", "missing: redis: nil"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("TxPipelined replies:\n got %q\nwant %q", got, want)
		}

		// A runtime error is that command's; the others apply.
		cmds, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "s", "text", 0)
			p.Incr(ctx, "s")
			p.Set(ctx, "t", "1", 0)
			return nil
		})
		wantErr(t, "TxPipelined with INCR of a string", err, "ERR value is not an integer or out of range")
		if len(cmds) != 3 || cmds[0].Err() != nil || cmds[2].Err() != nil {
			t.Errorf("TxPipelined with a runtime error: %v", cmds)
		}
		wantVal(t, "GET t", replyText(rdb.Get(ctx, "t").Result()), nil, "1")

		// A queuing error aborts everything.
		_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "u", "1", 0)
			p.Do(ctx, "NOSUCHCOMMAND")
			return nil
		})
		wantErr(t, "TxPipelined with an unknown command", err, "EXECABORT Transaction discarded because of previous errors.")
		wantVal(t, "GET u", replyText(rdb.Get(ctx, "u").Result()), nil, "(nil)")

		// Watch: a change between WATCH and EXEC fails the transaction.
		err = rdb.Watch(ctx, func(tx *redis.Tx) error {
			n, err := tx.Get(ctx, "k").Int()
			if err != nil {
				return err
			}
			mustSet(ctx, t, rdb, "k", "100") // another connection
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "k", strconv.Itoa(n+1), 0)
				return nil
			})
			return err
		}, "k")
		if !errors.Is(err, redis.TxFailedErr) {
			t.Errorf("Watch with a concurrent change: %v, want %v", err, redis.TxFailedErr)
		}
		wantVal(t, "GET k", replyText(rdb.Get(ctx, "k").Result()), nil, "100")

		// Optimistic increments from many clients: exact.
		const workers, each = 4, 15
		incr := func(key string) error {
			for {
				err := rdb.Watch(ctx, func(tx *redis.Tx) error {
					n, err := tx.Get(ctx, key).Int()
					if err != nil && !errors.Is(err, redis.Nil) {
						return err
					}
					_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, key, strconv.Itoa(n+1), 0)
						return nil
					})
					return err
				}, key)
				if !errors.Is(err, redis.TxFailedErr) {
					return err
				}
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					if err := incr("counter"); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("optimistic increment: %v", err)
		}
		wantVal(t, "GET counter", replyText(rdb.Get(ctx, "counter").Result()), nil, strconv.Itoa(workers*each))
	})
}

// TestMultiPipelinedWithWrites: a transaction in the middle of a pipeline
// of plain writes sees the writes before it, and the reads after it see
// the transaction.
func TestMultiPipelinedWithWrites(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts)
	req := mbulk("SET", "p", "1") + mbulk("INCR", "p") + mbulk("MULTI") + mbulk("INCR", "p") + mbulk("GET", "p") +
		mbulk("EXEC") + mbulk("INCR", "p") + mbulk("GET", "p")
	c.roundTrip(req, "+OK\r\n", ":2\r\n", "+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "*2\r\n:3\r\n$1\r\n3\r\n", ":4\r\n", "$1\r\n4\r\n")
}
