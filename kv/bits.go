package kv

// Bit commands on strings (BITOP, BITFIELD). Ops 88-95.

var bitOps = map[Op]opDef{}
