// Package jepsen tests Riot the way Jepsen tests databases: real
// riot-server processes, each in its own network namespace, driven by
// go-redis clients while a nemesis kills, pauses, partitions, slows and
// reconfigures them; the recorded history is then checked for
// linearizability with porcupine, and the healed cluster for convergence
// and durability.
//
// The harness is this package's non-test code:
//
//   - netns.go: a private network (10.77.X.0/24): a bridge in a "switch"
//     namespace, one namespace per host, the test process on the root
//     namespace's side of a veth; partitions are iptables DROP rules inside
//     the host namespaces, slow links are tc qdiscs.
//   - server.go: one riot-server process started with `ip netns exec`.
//   - cluster.go: a cluster of servers formed with --bootstrap-expect and
//     gossip, with leader and health queries.
//   - nemesis.go: the faults, a seeded schedule of them.
//   - workload.go: register and counter workers recording a history.
//   - bank.go: the bank workload (MULTI/EXEC transfers between accounts,
//     reads of every balance, in generations of fresh accounts), its
//     porcupine model and its checker.
//   - collections.go: hash counters and sorted set scores, in a share of
//     the workers' turns.
//   - queue.go: lists used as FIFO queues (RPUSH of unique values, LPOP),
//     their porcupine model and their checker.
//   - checker.go: porcupine models, final-state checks, failure artifacts.
//   - run.go: one test run, from an empty cluster to a Report.
//
// Everything needs root (network namespaces, iptables, tc). The tests skip
// with the reason when they cannot get it. See docs/testing.md.
package jepsen
