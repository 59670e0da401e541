package kv

// Sets. Ops 36-47.

var setOps = map[Op]opDef{}
