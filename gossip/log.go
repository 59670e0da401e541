package gossip

import (
	"bytes"
	"context"
	"log"
	"log/slog"
)

// newStdLogger routes memberlist's "[LEVEL] memberlist: msg" lines into
// slog at the matching level, and calls suspect with the name of a member
// whose probe got no ack (the only place memberlist tells of suspicion).
func newStdLogger(l *slog.Logger, suspect func(id string)) *log.Logger {
	return log.New(logWriter{l.With("component", "memberlist"), suspect}, "", 0)
}

type logWriter struct {
	l       *slog.Logger
	suspect func(id string)
}

// suspectPrefix and suspectSuffix are how memberlist v0.6.0 logs that this node suspects a
// member: "Suspect <name> has failed, no acks received".
var suspectPrefix, suspectSuffix = []byte("Suspect "), []byte(" has failed, no acks received")

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
	if name, ok := bytes.CutPrefix(line, suspectPrefix); ok && w.suspect != nil {
		if name, ok := bytes.CutSuffix(name, suspectSuffix); ok {
			w.suspect(string(name))
		}
	}
	w.l.Log(context.Background(), lvl, string(line))
	return len(p), nil
}
