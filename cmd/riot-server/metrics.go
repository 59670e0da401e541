package main

import (
	"io/fs"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
)

// dataDirCollector reports the bytes DATA_DIR holds (engine with its
// journal, raft log, snapshots), walked on every scrape: a few hundred
// files at most.
func dataDirCollector(dir string) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "riot_data_dir_bytes",
		Help: "Bytes of the files in the data directory: storage engine (journal included), raft log and snapshots.",
	}, func() float64 { return float64(dirSize(dir)) })
}

// dirSize sums the sizes of the regular files under dir, skipping what it
// cannot read (files come and go during compactions).
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
