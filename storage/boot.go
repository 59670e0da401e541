package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Options configure a durable engine.
type Options struct {
	// BootID names the running instance of the operating system (on Linux,
	// /proc/sys/kernel/random/boot_id). With a BootID and SyncWrites off,
	// writes are not synced: a process crash loses nothing (the kernel's
	// page cache holds every write that returned), and after the operating
	// system itself went down the engine cannot know what it lost, so the
	// next Open with another BootID discards it and opens it empty. The
	// caller (raftkv) then rebuilds it from its snapshot and raft log, which
	// are synced.
	BootID string
	// SyncWrites syncs every Write before it returns. It is forced on when
	// BootID is empty.
	SyncWrites bool
	// Logger reports a discarded engine. Default: discard.
	Logger *slog.Logger
}

// bootFile holds the BootID of the system instance whose unsynced writes
// the engine may hold. It is written (and synced) before the first
// unsynced write of an instance.
const bootFile = "RIOT-BOOT"

// guardBoot runs before the engine in dir is opened. When the engine may
// hold unsynced writes of another system instance (its boot file names
// another boot, or this one is unknown), it discards the engine: the
// directory is renamed away (atomically, so a crash never leaves half an
// engine that looks trusted) and then removed.
func guardBoot(dir string, o Options) error {
	discard := dir + ".discard"
	if err := os.RemoveAll(discard); err != nil {
		return fmt.Errorf("storage: remove %s: %w", discard, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, bootFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a new engine, or one whose every write was synced
	}
	if err != nil {
		return fmt.Errorf("storage: read boot file: %w", err)
	}
	was := strings.TrimSpace(string(b))
	if o.BootID != "" && was == o.BootID {
		return nil // the same system instance: its page cache held every write
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger.Warn("the operating system restarted since this engine's last unsynced write; discarding the engine (it is rebuilt from the raft snapshot and log)",
		"dir", dir, "written_in_boot", was, "boot", o.BootID)
	if err := os.Rename(dir, discard); err != nil {
		return fmt.Errorf("storage: discard engine: %w", err)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.RemoveAll(discard); err != nil {
		return fmt.Errorf("storage: remove %s: %w", discard, err)
	}
	return nil
}

// markBoot records, durably, that the engine in dir (created if missing)
// may from now on hold unsynced writes of boot. It runs before goleveldb
// creates anything in dir, since goleveldb syncs none of its files then.
func markBoot(dir, boot string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("storage: create %s: %w", dir, err)
	}
	path := filepath.Join(dir, bootFile)
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == boot {
		return nil
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("storage: boot file: %w", err)
	}
	_, err = f.WriteString(boot + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("storage: boot file: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("storage: sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("storage: sync dir %s: %w", dir, err)
	}
	return nil
}
