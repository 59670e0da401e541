package resp

// BITPOS, BITOP, BITFIELD, BITFIELD_RO (bitops.c).

func bitCommands() []*command { return nil }
