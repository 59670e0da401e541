package raftkv

// HoldProposeWindow takes every token of n's group-commit window (n must
// have a ProposeWindow), so that what ProposeBatch queues waits until
// release gives them back.
func (n *Node) HoldProposeWindow() (release func()) {
	w := n.proposer.window
	for range cap(w) {
		w <- struct{}{}
	}
	return func() {
		for range cap(w) {
			<-w
		}
	}
}
