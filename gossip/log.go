package gossip

import (
	"bytes"
	"context"
	"log"
	"log/slog"
)

// newStdLogger routes memberlist's "[LEVEL] memberlist: msg" lines into
// slog at the matching level.
func newStdLogger(l *slog.Logger) *log.Logger {
	return log.New(logWriter{l.With("component", "memberlist")}, "", 0)
}

type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	line := bytes.TrimSpace(p)
	lvl := slog.LevelInfo
	for _, x := range []struct {
		prefix string
		lvl    slog.Level
	}{{"[DEBUG]", slog.LevelDebug}, {"[TRACE]", slog.LevelDebug}, {"[INFO]", slog.LevelInfo}, {"[WARN]", slog.LevelWarn}, {"[ERR]", slog.LevelError}, {"[ERROR]", slog.LevelError}} {
		if rest, ok := bytes.CutPrefix(line, []byte(x.prefix)); ok {
			lvl, line = x.lvl, bytes.TrimSpace(rest)
			break
		}
	}
	line = bytes.TrimPrefix(line, []byte("memberlist: "))
	w.l.Log(context.Background(), lvl, string(line))
	return len(p), nil
}
