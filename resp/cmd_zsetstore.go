package resp

// Sorted set combinations (t_zset.c zunionInterDiffGenericCommand).

func zsetStoreCommands() []*command { return nil }
