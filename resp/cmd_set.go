package resp

// Set commands (t_set.c).

func setCommands() []*command { return nil }
