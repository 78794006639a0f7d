// Package bench holds paycode's cross-package benchmarks: whole requests
// through the lane handler, the engine, the wallet connector and a
// simulated wallet, in process. Per-package hot paths (codec parse/write,
// identification, connector) have their own benchmarks beside their code.
//
// Run them with:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./bench/
//
// bench/run.sh runs them with the other packages' hot benchmarks against
// bench/baseline.txt and fails on any allocs/op increase (README.md here).
package bench
