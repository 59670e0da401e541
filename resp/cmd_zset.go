package resp

// Sorted set commands (t_zset.c).

func zsetCommands() []*command { return nil }
