package kv

// Sorted set combinations (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE). Ops 64-71.

var zsetStoreOps = map[Op]opDef{}
