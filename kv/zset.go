package kv

// Sorted sets. Ops 48-63.

var zsetOps = map[Op]opDef{}
