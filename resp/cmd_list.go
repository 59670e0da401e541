package resp

// List commands (t_list.c).

func listCommands() []*command { return nil }
