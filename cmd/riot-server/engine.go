package main

import (
	"log/slog"
	"os"
	"strings"

	"github.com/riotkv/riot/storage"
)

// bootIDPath names the running instance of Linux; it changes with every
// boot.
const bootIDPath = "/proc/sys/kernel/random/boot_id"

// engineOptions decides whether engine writes are synced. They need not
// be when the boot ID is known: see storage.Options.
func engineOptions(o options, logger *slog.Logger) storage.Options {
	so := storage.Options{SyncWrites: o.engineSync, BootID: o.bootID, Logger: logger.With("component", "storage")}
	if so.BootID == "" {
		if b, err := os.ReadFile(bootIDPath); err == nil {
			so.BootID = strings.TrimSpace(string(b))
		}
	}
	if so.BootID == "" && !so.SyncWrites {
		logger.Info("no boot ID (" + bootIDPath + "); every engine write is synced")
		so.SyncWrites = true
	}
	return so
}
