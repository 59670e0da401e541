package kv

// Lists. Ops 72-87.

var listOps = map[Op]opDef{}
