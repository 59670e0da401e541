package resp

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestDatabases: a node with --databases 4: SELECT and MOVE refuse 4, the
// selected database shows in CLIENT LIST and CONFIG GET databases, INFO
// keyspace lists every non-empty database, FLUSHDB empties the selected
// one only. The behaviour itself is compared with redis-server by
// TestDifferentialRedis.
// Reference: https://redis.io/docs/latest/commands/select/, move/,
// swapdb/, info/
func TestDatabases(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Databases = 4 })
	forEachProto(t, func(t *testing.T, proto int) {
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		conn := rdb.Conn()
		defer conn.Close()
		if err := conn.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "SELECT 4", conn.Do(ctx, "SELECT", "4").Err(), "ERR DB index is out of range")
		wantErr(t, "MOVE k 4", conn.Do(ctx, "MOVE", "k", "4").Err(), "ERR DB index is out of range")
		wantErr(t, "MOVE k 0", conn.Do(ctx, "MOVE", "k", "0").Err(), "ERR source and destination objects are the same")
		wantErr(t, "SWAPDB 0 4", conn.Do(ctx, "SWAPDB", "0", "4").Err(), "ERR DB index is out of range")
		wantErr(t, "SWAPDB x 1", conn.Do(ctx, "SWAPDB", "x", "1").Err(), "ERR invalid first DB index")
		mustSet(ctx, t, conn, "a", "0")
		if err := conn.Set(ctx, "e", "0", 100000000000).Err(); err != nil {
			t.Fatal(err)
		}
		n, err := conn.Do(ctx, "MOVE", "a", "3").Int()
		wantVal(t, "MOVE a 3", n, err, 1)
		v, err := conn.Do(ctx, "SELECT", "3").Text()
		wantVal(t, "SELECT 3", v, err, "OK")
		got, err := conn.Get(ctx, "a").Result()
		wantVal(t, "GET a in db 3", got, err, "0")
		cfg, err := conn.ConfigGet(ctx, "databases").Result()
		wantVal(t, "CONFIG GET databases", cfg["databases"], err, "4")
		line, err := conn.Do(ctx, "CLIENT", "INFO").Text()
		if err != nil || !strings.Contains(line, " db=3 ") {
			t.Errorf("CLIENT INFO = %q, %v; want db=3", line, err)
		}
		info, err := conn.Info(ctx, "keyspace").Result()
		if err != nil || !strings.Contains(info, "db0:keys=1,expires=1,avg_ttl=0") || !strings.Contains(info, "db3:keys=1,expires=0,avg_ttl=0") {
			t.Errorf("INFO keyspace = %q, %v; want db0 and db3", info, err)
		}
		if err := conn.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		k, err := conn.DBSize(ctx).Result()
		wantVal(t, "DBSIZE of db 3 after FLUSHDB", k, err, int64(0))
		k, err = rdb.DBSize(ctx).Result() // another connection: db 0
		wantVal(t, "DBSIZE of db 0", k, err, int64(1))
		// A transaction whose commands run in two databases.
		cmds, err := conn.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "t", "3", 0)
			p.Select(ctx, 1)
			p.Set(ctx, "t", "1", 0)
			p.Get(ctx, "t")
			return nil
		})
		if err != nil || cmds[3].(*redis.StringCmd).Val() != "1" {
			t.Fatalf("MULTI over two databases: %v, %v", cmds, err)
		}
		got, err = conn.Get(ctx, "t").Result() // SELECT 1 stays after EXEC
		wantVal(t, "GET t in db 1", got, err, "1")
		conn.Select(ctx, 3)
		got, err = conn.Get(ctx, "t").Result()
		wantVal(t, "GET t in db 3", got, err, "3")
	})
}
